/* Fragmentation: 128 MiB of 2 KiB blocks, every other one freed. Each free chunk lies between two live ones and is
 * smaller than a page, so neither coalescing nor malloc_trim can return it: half the heap is free and resident.
 * Commands: "burst MiB" -> "OK". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char line[256];
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    unsigned long mib;
    if (sscanf(line, "burst %lu", &mib) == 1) {
      size_t n = mib * 1024 * 1024 / 2048;
      void **blocks = malloc(n * sizeof *blocks);
      for (size_t i = 0; i < n; i++) { blocks[i] = malloc(2048); memset(blocks[i], 8, 2048); }
      for (size_t i = 0; i < n; i += 2) { free(blocks[i]); blocks[i] = NULL; }
      printf("OK\n"); /* the odd blocks stay live for the life of the process */
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
