/* Seed 004: a pool of 2 MiB blocks. Each starts mmapped (above the 128 KiB default threshold); freeing one raises
 * glibc's dynamic mmap threshold to 2 MiB, so the pool's next blocks come from the heap. When the pool frees them
 * under a live block, the heap keeps them.
 * Setup: 40 blocks of 2 MiB (mmapped), touched. Commands: "free" frees the pool (munmap) -> "OK";
 * "refill" allocates 40 blocks again (now from the heap), touches them, allocates a small pin, frees the 40 -> "OK". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCKS 40
#define BLOCK (2 * 1024 * 1024)

static void *pool[BLOCKS];

static void fill(void) {
  for (int i = 0; i < BLOCKS; i++) { pool[i] = malloc(BLOCK); memset(pool[i], 5, BLOCK); }
}

int main(void) {
  char line[256];
  void *pin = NULL;
  setvbuf(stdout, NULL, _IOLBF, 0);
  fill();
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "free", 4) == 0) {
      for (int i = 0; i < BLOCKS; i++) { free(pool[i]); pool[i] = NULL; }
      printf("OK\n");
    } else if (strncmp(line, "refill", 6) == 0) {
      fill();
      pin = malloc(100 * 1024);
      memset(pin, 1, 100 * 1024);
      for (int i = 0; i < BLOCKS; i++) { free(pool[i]); pool[i] = NULL; }
      printf("OK pin=%p\n", pin);
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
