/* A leak hidden under heavy churn: a working set of 20000 blocks of 64 B to 4 KiB is replaced at random all the time
 * (free + malloc of a new random size), and one block in 50 replaced is leaked instead of freed. The churning thread
 * builds the working set itself before READY, so blocks do not migrate from the main arena to its own (that would add
 * retention). Commands: "start" starts the churn -> "OK". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 20000

static void *slots[SLOTS];

static size_t random_size(unsigned *seed) { return 64 + (size_t)(rand_r(seed) % 4033); }

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t built = PTHREAD_COND_INITIALIZER;
static int ready, go;

static void *churn(void *arg) {
  (void)arg;
  unsigned seed = 42;
  for (int i = 0; i < SLOTS; i++) { size_t s = random_size(&seed); slots[i] = malloc(s); memset(slots[i], 2, s); }
  pthread_mutex_lock(&lock);
  ready = 1;
  pthread_cond_broadcast(&built);
  while (!go) pthread_cond_wait(&built, &lock);
  pthread_mutex_unlock(&lock);
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
  pthread_t t;
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_create(&t, NULL, churn, NULL);
  pthread_mutex_lock(&lock);
  while (!ready) pthread_cond_wait(&built, &lock);
  pthread_mutex_unlock(&lock);
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "start", 5) == 0) {
      pthread_mutex_lock(&lock);
      go = 1;
      pthread_cond_broadcast(&built);
      pthread_mutex_unlock(&lock);
      printf("OK\n");
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
