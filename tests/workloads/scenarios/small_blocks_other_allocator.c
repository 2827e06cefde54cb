/* Retention in jemalloc or tcmalloc (built with -ljemalloc, or run under LD_PRELOAD=libtcmalloc_minimal.so.4):
 * a burst of 4 KiB blocks, all freed, then idle. jemalloc keeps the freed pages dirty until decay runs, which needs
 * the process to call into jemalloc (no background thread by default); tcmalloc keeps free spans in its page heap.
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
      size_t n = mib * 1024 * 1024 / 4096;
      void **blocks = calloc(n, sizeof *blocks);
      for (size_t i = 0; i < n; i++) { blocks[i] = malloc(4096); memset(blocks[i], 6, 4096); }
      for (size_t i = 0; i < n; i++) free(blocks[i]);
      free(blocks);
      printf("OK\n");
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
