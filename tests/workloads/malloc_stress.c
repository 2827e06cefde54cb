/* Four threads hammer malloc/free/realloc of random sizes (16 B to 256 KiB, so tcache, fastbins, bins and mmapped
 * chunks all churn, in several arenas) over blocks whose contents carry a checksum. Every block is verified before it
 * is freed or resized, and each thread sweeps all its live blocks now and then: a mismatch prints CORRUPT on stderr
 * and exits 3 (glibc's own heap checks abort instead).
 * Commands: "status" -> "OK ops=<total operations> corrupt=0 live=<blocks>"; "check" -> verifies every live block
 * of every thread (under each thread's lock) -> "OK verified=<blocks>"; "corrupt" flips one word of a live block and
 * sweeps, so that a test can see the detector fire (exit 3); "trim" runs malloc_trim(0) in the main thread while the
 * others keep hammering -> "OK trim_us=<how long it ran> returned=<0|1>" (the native cost, to compare with an injected
 * one). EOF stops the threads, verifies, frees, exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define SLOTS 2048

struct block { uint64_t size, seed, sum; uint64_t words[]; };

struct worker {
  pthread_t thread;
  pthread_mutex_t lock;
  struct block *slots[SLOTS];
  uint64_t rng;
  volatile uint64_t ops;
  size_t live;
};

static struct worker workers[THREADS];
static volatile int stopping;

static uint64_t next(uint64_t *s) { uint64_t x = *s; x ^= x << 13; x ^= x >> 7; x ^= x << 17; return *s = x; }

static size_t random_size(uint64_t *rng) {
  uint64_t r = next(rng) % 1000;
  if (r < 800) return 16 + next(rng) % 496;            /* tcache / fastbins / small bins */
  if (r < 990) return 512 + next(rng) % (16 * 1024);   /* small and large bins */
  return 128 * 1024 + next(rng) % (128 * 1024);        /* above the mmap threshold */
}

static size_t words_of(uint64_t size) { return (size - sizeof(struct block)) / 8; }

static void fill(struct block *b, uint64_t size, uint64_t seed) {
  b->size = size; b->seed = seed;
  uint64_t sum = 0, n = words_of(size);
  for (uint64_t i = 0; i < n; i++) { b->words[i] = seed * (i + 1) ^ 0x9e3779b97f4a7c15ULL; sum += b->words[i] * (i | 1); }
  b->sum = sum;
}

static void verify(const struct block *b, uint64_t expected_size, int tid, const char *when) {
  uint64_t sum = 0, n = words_of(expected_size), bad = 0;
  if (b->size != expected_size) bad = 1;
  for (uint64_t i = 0; !bad && i < n; i++) {
    if (b->words[i] != (b->seed * (i + 1) ^ 0x9e3779b97f4a7c15ULL)) bad = 1;
    sum += b->words[i] * (i | 1);
  }
  if (bad || sum != b->sum) {
    fprintf(stderr, "CORRUPT thread %d block %p size %lu (header %lu) %s\n", tid, (const void *)b,
            (unsigned long)expected_size, (unsigned long)b->size, when);
    fflush(stderr);
    _exit(3);
  }
}

static size_t sweep(struct worker *w, int tid) {
  size_t n = 0;
  for (int i = 0; i < SLOTS; i++) if (w->slots[i]) { verify(w->slots[i], w->slots[i]->size, tid, "in a sweep"); n++; }
  return n;
}

static void *hammer(void *arg) {
  int tid = (int)(intptr_t)arg;
  struct worker *w = &workers[tid];
  while (!stopping) {
    pthread_mutex_lock(&w->lock);
    for (int k = 0; k < 256; k++) {
      int slot = (int)(next(&w->rng) % SLOTS);
      struct block *b = w->slots[slot];
      uint64_t size = sizeof(struct block) + random_size(&w->rng);
      if (b) verify(b, b->size, tid, "before free/realloc");
      if (b && next(&w->rng) % 4 == 0) {
        uint64_t old_seed = b->seed, old_words = words_of(b->size);
        b = realloc(b, size);
        if (!b) { fprintf(stderr, "realloc failed\n"); _exit(4); }
        /* realloc keeps the contents up to the smaller size: check that prefix before refilling */
        uint64_t keep = old_words < words_of(size) ? old_words : words_of(size);
        for (uint64_t i = 0; i < keep; i++)
          if (b->words[i] != (old_seed * (i + 1) ^ 0x9e3779b97f4a7c15ULL)) {
            fprintf(stderr, "CORRUPT thread %d block %p lost its contents in realloc\n", tid, (void *)b);
            fflush(stderr);
            _exit(3);
          }
        fill(b, size, next(&w->rng));
      } else {
        if (b) { free(b); w->live--; }
        b = malloc(size);
        if (!b) { fprintf(stderr, "malloc failed\n"); _exit(4); }
        fill(b, size, next(&w->rng));
        w->live++;
      }
      w->slots[slot] = b;
      w->ops++;
    }
    if (w->ops % (1 << 16) < 256) sweep(w, tid);
    pthread_mutex_unlock(&w->lock);
    usleep(50); /* leave CPU to the test on a small shared machine; the threads still churn the heap constantly */
  }
  return NULL;
}

int main(void) {
  char line[256];
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 0; i < THREADS; i++) {
    workers[i].rng = 0x1234567ULL * (uint64_t)(i + 1) + (uint64_t)getpid();
    pthread_mutex_init(&workers[i].lock, NULL);
    pthread_create(&workers[i].thread, NULL, hammer, (void *)(intptr_t)i);
  }
  printf("READY threads=%d\n", THREADS);
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "status", 6) == 0) {
      unsigned long ops = 0, live = 0;
      for (int i = 0; i < THREADS; i++) { ops += workers[i].ops; live += workers[i].live; }
      printf("OK ops=%lu corrupt=0 live=%lu\n", ops, live);
    } else if (strncmp(line, "check", 5) == 0) {
      size_t n = 0;
      for (int i = 0; i < THREADS; i++) { pthread_mutex_lock(&workers[i].lock); n += sweep(&workers[i], i); pthread_mutex_unlock(&workers[i].lock); }
      printf("OK verified=%zu\n", n);
    } else if (strncmp(line, "trim", 4) == 0) {
      struct timespec a, b;
      clock_gettime(CLOCK_MONOTONIC, &a);
      int r = malloc_trim(0);
      clock_gettime(CLOCK_MONOTONIC, &b);
      printf("OK trim_us=%ld returned=%d\n", (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000, r);
    } else if (strncmp(line, "corrupt", 7) == 0) {
      pthread_mutex_lock(&workers[0].lock);
      for (int j = 0; j < SLOTS; j++)
        if (workers[0].slots[j] && words_of(workers[0].slots[j]->size) > 0) { workers[0].slots[j]->words[0] ^= 1; break; }
      sweep(&workers[0], 0);
      pthread_mutex_unlock(&workers[0].lock);
      printf("ERR no corruption detected\n");
    } else {
      printf("ERR unknown command\n");
    }
  }
  stopping = 1;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(workers[i].thread, NULL);
    sweep(&workers[i], i);
    for (int j = 0; j < SLOTS; j++) free(workers[i].slots[j]);
  }
  return 0;
}
