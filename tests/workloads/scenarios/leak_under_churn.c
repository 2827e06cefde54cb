/* A leak hidden under heavy churn: a working set of 20000 blocks of 64 B to 4 KiB is replaced at random all the time
 * (free + malloc of a new random size), and one block in 50 replaced is leaked instead of freed.
 * Setup: the working set. Commands: "start" -> "OK". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 20000

static void *slots[SLOTS];

static size_t random_size(unsigned *seed) { return 64 + (size_t)(rand_r(seed) % 4033); }

static void *churn(void *arg) {
  (void)arg;
  unsigned seed = 42;
  struct timespec tick = {0, 1000 * 1000};
  for (unsigned long n = 0;; n++) {
    int i = rand_r(&seed) % SLOTS;
    if (n % 50 != 0) free(slots[i]); /* else: leaked */
    size_t s = random_size(&seed);
    slots[i] = malloc(s);
    memset(slots[i], 2, s);
    if (n % 200 == 0) nanosleep(&tick, NULL);
  }
  return NULL;
}

int main(void) {
  char line[256];
  unsigned seed = 7;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 0; i < SLOTS; i++) { size_t s = random_size(&seed); slots[i] = malloc(s); memset(slots[i], 2, s); }
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "start", 5) == 0) {
      pthread_t t;
      pthread_create(&t, NULL, churn, NULL);
      printf("OK\n");
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
