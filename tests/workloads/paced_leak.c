/* Leaks anonymous memory at a steady wall-clock rate, for the end-to-end OOM alert test.
 * Protocol: prints READY, then per stdin line answers one line.
 *   alloc N        malloc and touch N MiB at once (a base that is never freed); OK allocated_kib=<total>
 *   leak KIB_S     start a thread that mallocs and touches 64 KiB blocks so that the total grows by KIB_S KiB per
 *                  second of CLOCK_MONOTONIC time (it catches up after being descheduled, so the rate holds on a
 *                  loaded machine); OK
 * Nothing is ever freed: under a memory cgroup limit the kernel's OOM killer ends the process. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (64 * 1024)

static long page_size;
static volatile long allocated_kib;
static long rate_kib_s;

static int touch_block(void)
{
    char *p = malloc(BLOCK);
    if (!p)
        return -1;
    for (long off = 0; off < BLOCK; off += page_size)
        p[off] = (char)(off | 1);
    __atomic_add_fetch(&allocated_kib, BLOCK / 1024, __ATOMIC_RELAXED);
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *leak_thread(void *arg)
{
    (void)arg;
    double start = now_seconds();
    long base = __atomic_load_n(&allocated_kib, __ATOMIC_RELAXED);
    for (;;) {
        long due = base + (long)((now_seconds() - start) * rate_kib_s);
        while (__atomic_load_n(&allocated_kib, __ATOMIC_RELAXED) < due)
            if (touch_block() != 0)
                break;
        usleep(50 * 1000);
    }
    return NULL;
}

int main(void)
{
    char line[256];
    pthread_t thread;
    int leaking = 0;

    page_size = sysconf(_SC_PAGESIZE);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("READY pid=%d\n", (int)getpid());
    while (fgets(line, sizeof line, stdin)) {
        long n;
        if (sscanf(line, "alloc %ld", &n) == 1 && n > 0) {
            for (long i = 0; i < n * (1024 * 1024 / BLOCK); i++)
                if (touch_block() != 0) {
                    printf("ERR malloc failed\n");
                    goto next;
                }
            printf("OK allocated_kib=%ld\n", __atomic_load_n(&allocated_kib, __ATOMIC_RELAXED));
        } else if (sscanf(line, "leak %ld", &n) == 1 && n > 0 && !leaking) {
            rate_kib_s = n;
            if (pthread_create(&thread, NULL, leak_thread, NULL) != 0) {
                printf("ERR pthread_create failed\n");
                goto next;
            }
            leaking = 1;
            printf("OK\n");
        } else {
            printf("ERR unknown command\n");
        }
    next:;
    }
    return 0;
}
