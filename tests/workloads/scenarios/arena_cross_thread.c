/* Seed 000: producer threads allocate in their own glibc arenas, a consumer thread frees the blocks (cross-thread
 * free returns each block to the arena it came from) except one in 64, which stays live (a long-lived message), so
 * the free space is held between live blocks and no arena heap can shrink. The producers then exit; their arenas
 * stay, full of free memory no other thread uses.
 * Commands: "burst" -> "OK"; runs 8 producers of 12 MiB each, alive at the same time so each gets its own arena. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCERS 8
#define BLOCK 4096
#define BLOCKS_PER_PRODUCER 3072

static void *blocks[PRODUCERS][BLOCKS_PER_PRODUCER];
static pthread_barrier_t allocated, freed;

static void *producer(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < BLOCKS_PER_PRODUCER; i++) { blocks[id][i] = malloc(BLOCK); memset(blocks[id][i], 1, BLOCK); }
  pthread_barrier_wait(&allocated);
  pthread_barrier_wait(&freed); /* stay alive until the consumer has freed, so no arena is reused meanwhile */
  return NULL;
}

int main(void) {
  char line[256];
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "burst", 5) == 0) {
      pthread_t t[PRODUCERS];
      pthread_barrier_init(&allocated, NULL, PRODUCERS + 1);
      pthread_barrier_init(&freed, NULL, PRODUCERS + 1);
      for (long i = 0; i < PRODUCERS; i++) pthread_create(&t[i], NULL, producer, (void *)i);
      pthread_barrier_wait(&allocated);
      for (int p = 0; p < PRODUCERS; p++)
        for (int i = 0; i < BLOCKS_PER_PRODUCER; i++) if (i % 64 != 63) free(blocks[p][i]);
      pthread_barrier_wait(&freed);
      for (int i = 0; i < PRODUCERS; i++) pthread_join(t[i], NULL);
      printf("OK\n");
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
