/* Many-mappings workload: one anonymous region of N pages whose protections alternate page by page
 * (rw-p, r--p, rw-p, ...), so the kernel cannot merge them: N mappings. The rw pages are touched.
 * Usage: many_mappings N. Protocol (Support/Workload.cs): "READY <pid> <N>", then "OK" to any line; EOF exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long n = argc > 1 ? atol(argv[1]) : 60000;
    long page = sysconf(_SC_PAGESIZE);
    char *base = mmap(NULL, (size_t)n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        printf("ERR mmap\n");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        if (i % 2 == 0) {
            memset(base + i * page, 0x5a, 64);
        } else if (mprotect(base + i * page, page, PROT_READ) != 0) {
            printf("ERR mprotect at page %ld\n", i);
            return 1;
        }
    }
    printf("READY %d %ld\n", getpid(), n);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        printf("OK\n");
    }
    return 0;
}
