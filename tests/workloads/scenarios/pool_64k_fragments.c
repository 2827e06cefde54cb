/* Seed 004's other half: a pool hands out 64 KiB blocks that live long, while 100 KiB requests (above the pool's block
 * size, so straight from malloc, and below the 128 KiB mmap threshold, so from the heap) come and go between them.
 * When the 100 KiB buffers are freed, each leaves a 100 KiB hole between two live pool blocks: free, resident, too
 * small for a later 128 KiB request, and never at the top.
 * Commands: "burst MiB" allocates that much as pairs (100 KiB buffer, 64 KiB pool block), frees the buffers -> "OK". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER (100 * 1024)
#define POOL_BLOCK (64 * 1024)

int main(void) {
  char line[256];
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    unsigned long mib;
    if (sscanf(line, "burst %lu", &mib) == 1) {
      size_t n = mib * 1024 * 1024 / (BUFFER + POOL_BLOCK);
      void **buffers = malloc(n * sizeof *buffers);
      for (size_t i = 0; i < n; i++) {
        buffers[i] = malloc(BUFFER);
        memset(buffers[i], 1, BUFFER);
        void *pool = malloc(POOL_BLOCK); /* kept for the life of the process */
        memset(pool, 2, POOL_BLOCK);
      }
      for (size_t i = 0; i < n; i++) free(buffers[i]);
      free(buffers);
      printf("OK\n");
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
