/* Allocates blocks of known sizes and reports the bytes it holds live, for checking introspected in-use bytes.
 * Commands: "alloc N" (N blocks of 4000-8000 bytes), "freehalf", "live" -> "OK live=<requested bytes> blocks=<n>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void **blocks; static size_t *sizes; static size_t count, cap, live;

int main(void) {
  char line[256];
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("READY\n");
  while (fgets(line, sizeof line, stdin)) {
    unsigned long n;
    if (sscanf(line, "alloc %lu", &n) == 1) {
      for (unsigned long i = 0; i < n; i++) {
        if (count == cap) { cap = cap ? cap * 2 : 1024; blocks = realloc(blocks, cap * sizeof *blocks); sizes = realloc(sizes, cap * sizeof *sizes); }
        size_t s = 4000 + (size_t)(rand() % 4001);
        blocks[count] = malloc(s); memset(blocks[count], 1, s); sizes[count++] = s; live += s;
      }
      printf("OK live=%zu blocks=%zu\n", live, count);
    } else if (strncmp(line, "freehalf", 8) == 0) {
      for (size_t i = 0; i < count; i += 2) if (blocks[i]) { free(blocks[i]); blocks[i] = NULL; live -= sizes[i]; }
      printf("OK live=%zu\n", live);
    } else if (strncmp(line, "live", 4) == 0) {
      printf("OK live=%zu blocks=%zu\n", live, count);
    } else {
      printf("ERR unknown command\n");
    }
  }
  return 0;
}
