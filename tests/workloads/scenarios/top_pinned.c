/* Seed 003 ("memory standing guard"): many blocks freed, one small block allocated after them stays live, so the
 * free space below it cannot reach the top chunk and the heap cannot shrink.
 * Commands: "burst MiB" allocates that much in 8 KiB blocks, one 64-byte pin, frees the blocks -> "OK". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char line[256];
  void *pin = NULL;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    unsigned long mib;
    if (sscanf(line, "burst %lu", &mib) == 1) {
      size_t n = mib * 1024 * 1024 / 8192;
      void **blocks = calloc(n, sizeof *blocks);
      for (size_t i = 0; i < n; i++) { blocks[i] = malloc(8192); memset(blocks[i], 3, 8192); }
      pin = malloc(64);
      memset(pin, 1, 64);
      for (size_t i = 0; i < n; i++) free(blocks[i]);
      free(blocks);
      printf("OK pin=%p\n", pin);
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
