/* A stable working set with churn: 60000 slots of 256 B to 2 KiB, each replaced over and over by a block of the same
 * size, so freed chunks are reused at once and nothing grows. One thread builds the working set and churns it (had
 * the main thread built it, the churning thread would move it into its own arena: that is seed 000, not stable).
 * Setup: the churning thread builds the working set and starts churning before READY. Commands: "ping" -> "OK". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 60000

static void *slots[SLOTS];
static size_t sizes[SLOTS];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t built = PTHREAD_COND_INITIALIZER;
static int ready;

static void *churn(void *arg) {
  (void)arg;
  for (int i = 0; i < SLOTS; i++) { sizes[i] = (size_t)256 << (i % 4); slots[i] = malloc(sizes[i]); memset(slots[i], 4, sizes[i]); }
  pthread_mutex_lock(&lock);
  ready = 1;
  pthread_cond_signal(&built);
  pthread_mutex_unlock(&lock);
  unsigned seed = 42;
  struct timespec tick = {0, 1000 * 1000};
  for (unsigned long n = 0;; n++) {
    int i = rand_r(&seed) % SLOTS;
    free(slots[i]);
    slots[i] = malloc(sizes[i]);
    memset(slots[i], 4, sizes[i]);
    if (n % 200 == 0) nanosleep(&tick, NULL);
  }
  return NULL;
}

int main(void) {
  char line[256];
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_t t;
  pthread_create(&t, NULL, churn, NULL);
  pthread_mutex_lock(&lock);
  while (!ready) pthread_cond_wait(&built, &lock);
  pthread_mutex_unlock(&lock);
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "ping", 4) == 0) {
      printf("OK\n");
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
