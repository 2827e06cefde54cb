/* Allocates and touches anonymous memory on command, for the cgroup tests.
 * Protocol: prints READY, then per stdin line answers one line.
 *   alloc N   malloc N MiB and write every page (charged to the memory cgroup); OK allocated=<total MiB>
 *   freeall   free everything allocated so far; OK
 * A cgroup limit below the total makes the kernel OOM-kill the process during "alloc". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BLOCKS 4096

int main(void)
{
    static char *blocks[MAX_BLOCKS];
    int count = 0;
    long total_mib = 0;
    char line[256];
    long page = sysconf(_SC_PAGESIZE);

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("READY pid=%d\n", (int)getpid());
    while (fgets(line, sizeof line, stdin)) {
        long n;
        if (sscanf(line, "alloc %ld", &n) == 1 && n > 0) {
            for (long i = 0; i < n; i++) {
                if (count == MAX_BLOCKS) {
                    printf("ERR too many blocks\n");
                    goto next;
                }
                char *p = malloc(1 << 20);
                if (!p) {
                    printf("ERR malloc failed\n");
                    goto next;
                }
                for (long off = 0; off < (1 << 20); off += page)
                    p[off] = (char)(off | 1);
                blocks[count++] = p;
                total_mib++;
            }
            printf("OK allocated=%ld\n", total_mib);
        } else if (strncmp(line, "freeall", 7) == 0) {
            while (count > 0)
                free(blocks[--count]);
            total_mib = 0;
            printf("OK\n");
        } else {
            printf("ERR unknown command\n");
        }
    next:;
    }
    return 0;
}
