/* Growth in mapped files: a thread appends to a file and reads the new part through a shared mapping of the whole
 * file, so the file's page-cache pages become part of the process's RSS (RssFile).
 * Argument: the file path (created, removed at exit of the test). Commands: "start" -> "OK". */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX (512L * 1024 * 1024)
#define STEP (64 * 1024)

static int fd;
static volatile unsigned char *map;
static volatile unsigned long sum;

static void *grow(void *arg) {
  (void)arg;
  static char chunk[STEP];
  memset(chunk, 'x', sizeof chunk);
  struct timespec tick = {0, 10 * 1000 * 1000};
  for (long off = 0; off + STEP <= MAX; off += STEP) {
    if (pwrite(fd, chunk, STEP, off) != STEP) break;
    for (long p = off; p < off + STEP; p += 4096) sum += map[p];
    nanosleep(&tick, NULL); /* about 6 MiB/s */
  }
  return NULL;
}

int main(int argc, char **argv) {
  char line[256];
  if (argc < 2) { fprintf(stderr, "usage: file_growth PATH\n"); return 2; }
  fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, MAX) != 0) { perror(argv[1]); return 1; }
  map = mmap(NULL, MAX, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) { perror("mmap"); return 1; }
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "start", 5) == 0) {
      pthread_t t;
      pthread_create(&t, NULL, grow, NULL);
      printf("OK\n");
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
