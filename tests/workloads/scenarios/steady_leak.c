/* A real leak: a thread allocates and touches 1 KiB blocks at a steady rate and never frees them.
 * Argument: KiB per second (default 4096). Commands: "start" -> "OK". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long kib_per_second;

static void *leaker(void *arg) {
  (void)arg;
  struct timespec tick = {0, 10 * 1000 * 1000};
  for (;;) {
    for (long i = 0; i < kib_per_second / 100; i++) { char *p = malloc(1024); memset(p, 9, 1024); }
    nanosleep(&tick, NULL);
  }
  return NULL;
}

int main(int argc, char **argv) {
  char line[256];
  kib_per_second = argc > 1 ? atol(argv[1]) : 4096;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "start", 5) == 0) {
      pthread_t t;
      pthread_create(&t, NULL, leaker, NULL);
      printf("OK\n");
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
