/* Throughput target for bench/attribution-overhead. Usage: attribution_target MODE WARMUP_S MEASURE_S [LEAK_MIB_S]
 *   malloc  one thread replaces blocks of a 4096-slot working set with malloc/free of 16 B to 4 KiB, writing each
 *   leak    the same, and keeps LEAK_MIB_S MiB per second (default 10) in 64 KiB blocks it touches and never frees
 * Runs WARMUP_S seconds, then counts malloc/free pairs for MEASURE_S seconds and prints "ops_per_s N ops_per_cpu_s M":
 * per second of wall time, and per second of its own CPU time (user + system, CLOCK_PROCESS_CPUTIME_ID), which what
 * a tool costs the target in its own context (perf samples are written there) moves and other load on the machine
 * does not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 4096
#define LEAK_BLOCK (64 * 1024)

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void) { return clock_seconds(CLOCK_MONOTONIC); }

__attribute__((noinline)) static void *leak_block(void)
{
    char *p = malloc(LEAK_BLOCK);
    for (size_t i = 0; i < LEAK_BLOCK; i += 4096)
        p[i] = (char)i;
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int leak = strcmp(argv[1], "leak") == 0;
    double warmup = atof(argv[2]), measure = atof(argv[3]);
    double leak_mib_s = argc > 4 ? atof(argv[4]) : 10;
    static void *slots[SLOTS];
    unsigned seed = 7;
    double start = now(), begin = start + warmup, end = begin + measure;
    long ops = 0, leaked = 0;
    int counting = 0;
    double cpu_begin = 0;
    void *volatile keep = NULL;
    for (unsigned long n = 0;; n++) {
        unsigned i = rand_r(&seed) % SLOTS;
        free(slots[i]);
        size_t size = 16 + rand_r(&seed) % 4080;
        char *p = malloc(size);
        p[0] = p[size - 1] = (char)n;
        slots[i] = p;
        if ((n & 1023) == 0) {
            double t = now();
            if (leak) {
                long due = (long)((t - start) * leak_mib_s * 1024 * 1024 / LEAK_BLOCK);
                while (leaked < due) {
                    keep = leak_block();
                    leaked++;
                }
            }
            if (t >= end)
                break;
            if (!counting && t >= begin)
                cpu_begin = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
            counting = t >= begin;
        }
        ops += counting;
    }
    (void)keep;
    double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_begin;
    printf("ops_per_s %.0f ops_per_cpu_s %.0f\n", ops / measure, ops / cpu);
    return 0;
}
