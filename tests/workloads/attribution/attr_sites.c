/* Attribution corpus: allocation paths with known sites, one of which leaks (or none, in "churn-only").
 * Usage: attr_sites MODE [LEAK_KIB_S]; prints READY, runs until stdin reaches EOF.
 *   paths       one thread: parse_request (512 B, freed), render_page (4 KiB, freed), cache_insert (16 KiB, kept)
 *   churn       cache_insert leaks while churn_buffers maps, touches and unmaps 256 KiB blocks (mmap threshold fixed
 *               at 128 KiB, so every block is a fresh mmap that faults) and parse_request churns the heap
 *   thread      the leak is in a worker thread (worker_main -> stash_result); main churns as in "churn"
 *   library     the leak is in libattrleak.so (lib_remember, built with -DWITH_LIB); main churns as in "churn"
 *   churn-only  churn_buffers and parse_request only: every byte is given back
 * Leaking paths keep 16 KiB blocks, LEAK_KIB_S KiB per second of CLOCK_MONOTONIC time (default 2048). Each leaked block
 * is larger than every churned heap block: a freed block smaller than the leak's cannot hold it, so the leak is what
 * takes fresh pages (docs/attribution.md, "what it cannot see", has the case where that is not so). */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef WITH_LIB
void *lib_remember(size_t size);
#endif

#define LEAK_BLOCK (16 * 1024)

static long leak_kib_s = 2048;
static volatile int stop;
static void *volatile sink;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void touch(char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 512)
        p[i] = (char)i;
}

__attribute__((noinline)) static void parse_request(void)
{
    char *p = malloc(512);
    touch(p, 512);
    sink = p;
    free(p);
}

__attribute__((noinline)) static void render_page(void)
{
    char *p = malloc(4096);
    touch(p, 4096);
    sink = p;
    free(p);
}

__attribute__((noinline)) static void churn_buffers(void)
{
    char *p = malloc(256 * 1024);
    touch(p, 256 * 1024);
    sink = p;
    free(p);
}

__attribute__((noinline)) static void cache_insert(void)
{
    char *p = malloc(LEAK_BLOCK);
    touch(p, LEAK_BLOCK);
    sink = p; /* never freed */
}

__attribute__((noinline)) static void stash_result(void)
{
    char *p = malloc(LEAK_BLOCK);
    touch(p, LEAK_BLOCK);
    sink = p; /* never freed */
}

/* Calls leak() as often as needed so that leak_kib_s KiB per second are kept, LEAK_BLOCK bytes per call. */
static void paced(double start, long *done, void (*leak)(void))
{
    long due = (long)((now_seconds() - start) * leak_kib_s * 1024 / LEAK_BLOCK);
    while (*done < due) {
        leak();
        (*done)++;
    }
}

#ifdef WITH_LIB
static void lib_leak(void) { sink = lib_remember(LEAK_BLOCK); }
#endif

__attribute__((noinline)) static void *worker_main(void *arg)
{
    (void)arg;
    double start = now_seconds();
    long done = 0;
    while (!stop) {
        paced(start, &done, stash_result);
        usleep(2000);
    }
    return NULL;
}

static void *run(void *arg)
{
    const char *mode = arg;
    int churn = strcmp(mode, "paths") != 0;
    void (*leak)(void) = NULL;
    if (strcmp(mode, "paths") == 0 || strcmp(mode, "churn") == 0)
        leak = cache_insert;
#ifdef WITH_LIB
    if (strcmp(mode, "library") == 0)
        leak = lib_leak;
#endif
    double start = now_seconds();
    long done = 0;
    for (unsigned long n = 0; !stop; n++) {
        parse_request();
        if (!churn)
            render_page();
        else if (n % 4 == 0)
            churn_buffers();
        if (leak)
            paced(start, &done, leak);
        if (n % 64 == 0)
            usleep(1000);
    }
    return NULL;
}

static void *read_stdin(void *arg)
{
    (void)arg;
    char line[256];
    while (fgets(line, sizeof line, stdin))
        printf("ERR unknown command\n");
    exit(0);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "paths";
    if (argc > 2)
        leak_kib_s = atol(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    pthread_t reader, worker;
    if (strcmp(mode, "thread") == 0)
        pthread_create(&worker, NULL, worker_main, NULL);
    printf("READY pid=%d\n", (int)getpid());
    pthread_create(&reader, NULL, read_stdin, NULL);
    run((void *)mode); /* on the main thread */
    return 0;
}
