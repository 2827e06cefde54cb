/* Threads that hold allocator locks, or stand where a call frame must not go, for the injection engine
 * (tests/MemWatch.IntegrationTests/Injection/LockHolderTests). Mode (argv[1]):
 *   fork          the main thread forks in a loop (the child exits at once): glibc's fork holds every arena lock and
 *                 the stdio list lock across _Fork
 *   malloc-stats  thread "holder" calls malloc_stats() with stderr on a full pipe: it blocks in write holding main_arena
 *   malloc-stack  thread "coroutine" runs on a stack malloc'd from the heap (pthread_attr_setstack), with a checked
 *                 canary chunk allocated just below it
 *   signal-storm  SIGALRM every millisecond (setitimer), its handler touching memory (a checked ring); only the main
 *                 thread takes it (the others block it)
 *   exec N        the main thread re-executes the program every 20 ms (generation N+1), so calls meet an exec
 *   churn-all     the main thread and three more threads churn too (commands answered by a reader thread): a call
 *                 pinned to any of them meets a thread inside malloc or free most of the time
 * Always: "sleeper" in 10 ms nanosleeps counting failures and early returns; "churn" doing checksummed malloc/free.
 * "stats" answers forks= sleeper_r= sleeper_s= sleeper_e= churn_r= churn_bad= canary_bad= holder_in=. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_BYTES (96 * 1024)
#define CANARY_BYTES 4096

static volatile long alarms, ring_bad, generation;
static volatile unsigned char ring[256];
static volatile long forks, sleeper_r, sleeper_s, sleeper_e, churn_r, churn_bad, holder_in;
static volatile int sleeper_tid, churn_tid, holder_tid, coroutine_tid;
static unsigned char *canary;
static char out_buf[4096], in_buf[4096]; /* stdio must not malloc while main_arena is held */

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void on_alarm(int sig)
{
    (void)sig;
    long n = alarms++;
    for (int i = 0; i < 256; i++) {
        if (n > 0 && ring[i] != (unsigned char)(n - 1 + i))
            ring_bad++;
        ring[i] = (unsigned char)(n + i);
    }
}

static void *sleeper(void *arg)
{
    (void)arg;
    sleeper_tid = (int)syscall(SYS_gettid);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL);
    for (;;) {
        struct timespec ts = { 0, 10000000L };
        long t0 = now_ns();
        if (nanosleep(&ts, NULL) != 0)
            sleeper_s++;
        else if (now_ns() - t0 < 10000000L)
            sleeper_e++;
        sleeper_r++;
    }
    return NULL;
}

static void *churn(void *arg)
{
    (void)arg;
    churn_tid = (int)syscall(SYS_gettid);
    sigset_t alrm; /* SIGALRM is the main thread's alone: its handler never runs twice at once */
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL);
    unsigned seed = 11;
    unsigned char *blocks[64] = { 0 };
    size_t sizes[64];
    for (;;) {
        int i = rand_r(&seed) % 64;
        if (blocks[i]) {
            for (size_t j = 0; j < sizes[i]; j++)
                if (blocks[i][j] != (unsigned char)(i + sizes[i]))
                    churn_bad++;
            free(blocks[i]);
        }
        sizes[i] = 16 + rand_r(&seed) % 2048;
        blocks[i] = malloc(sizes[i]);
        memset(blocks[i], (unsigned char)(i + sizes[i]), sizes[i]);
        if (++churn_r % 500 == 0)
            usleep(1000);
    }
    return NULL;
}

static void *holder(void *arg)
{
    (void)arg;
    holder_tid = (int)syscall(SYS_gettid);
    int p[2];
    if (pipe(p))
        return NULL;
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    char fill[4096];
    memset(fill, 'x', sizeof fill);
    while (write(p[1], fill, sizeof fill) > 0) {
    }
    fcntl(p[1], F_SETFL, 0);
    dup2(p[1], 2);
    holder_in = 1;
    malloc_stats(); /* blocks in write(2) inside, holding main_arena's lock */
    holder_in = 2;
    return NULL;
}

static void *coroutine(void *arg)
{
    (void)arg;
    coroutine_tid = (int)syscall(SYS_gettid);
    for (;;) {
        struct timespec ts = { 0, 10000000L };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static long canary_bad(void)
{
    long bad = 0;
    if (canary)
        for (int i = 0; i < CANARY_BYTES; i++)
            bad += canary[i] != (unsigned char)(0xa5 ^ i);
    return bad;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "fork";
    setvbuf(stdout, out_buf, _IOLBF, sizeof out_buf);
    setvbuf(stdin, in_buf, _IOFBF, sizeof in_buf);
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_create(&t, NULL, churn, NULL);
    if (strcmp(mode, "malloc-stats") == 0) {
        pthread_create(&t, NULL, holder, NULL);
        while (holder_in == 0)
            usleep(1000);
        usleep(20000);
    } else if (strcmp(mode, "malloc-stack") == 0) {
        canary = malloc(CANARY_BYTES);
        void *stack = malloc(STACK_BYTES);
        for (int i = 0; i < CANARY_BYTES; i++)
            canary[i] = (unsigned char)(0xa5 ^ i);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstack(&attr, stack, STACK_BYTES);
        pthread_create(&t, &attr, coroutine, NULL);
        while (!coroutine_tid)
            usleep(1000);
    }
    while (!sleeper_tid || !churn_tid)
        usleep(1000);
    if (strcmp(mode, "signal-storm") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval every_ms = { { 0, 1000 }, { 0, 1000 } };
        setitimer(ITIMER_REAL, &every_ms, NULL);
    }
    if (strcmp(mode, "exec") == 0) {
        generation = argc > 2 ? atol(argv[2]) : 0;
        if (generation > 0) {
            /* A later image: no READY line, just run and exec again. */
            usleep(20000);
            char next[32];
            snprintf(next, sizeof next, "%ld", generation + 1);
            execl("/proc/self/exe", argv[0], "exec", next, (char *)NULL);
            return 1;
        }
    }

    printf("READY main=%d sleeper=%d churn=%d holder=%d coroutine=%d\n", getpid(), sleeper_tid, churn_tid, holder_tid, coroutine_tid);
    if (strcmp(mode, "exec") == 0) {
        usleep(20000);
        execl("/proc/self/exe", argv[0], "exec", "1", (char *)NULL);
        return 1;
    }
    if (strcmp(mode, "churn-all") == 0) {
        for (int i = 0; i < 3; i++)
            pthread_create(&t, NULL, churn, NULL);
        pthread_t reader;
        extern void *command_loop(void *);
        pthread_create(&reader, NULL, command_loop, NULL);
        churn(NULL);
    }
    if (strcmp(mode, "fork") == 0) {
        /* Commands are answered by a thread, since main forks. */
        pthread_t reader;
        extern void *command_loop(void *);
        pthread_create(&reader, NULL, command_loop, NULL);
        for (;;) {
            pid_t child = fork();
            if (child == 0)
                _exit(0);
            if (child > 0)
                waitpid(child, NULL, 0);
            forks++;
        }
    }
    extern void *command_loop(void *);
    command_loop(NULL);
    return 0;
}

void *command_loop(void *arg)
{
    (void)arg;
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "stats", 5) == 0)
            printf("forks=%ld sleeper_r=%ld sleeper_s=%ld sleeper_e=%ld churn_r=%ld churn_bad=%ld canary_bad=%ld holder_in=%ld alarms=%ld ring_bad=%ld\n",
                   forks, sleeper_r, sleeper_s, sleeper_e, churn_r, churn_bad, canary_bad(), holder_in, alarms, ring_bad);
        else
            printf("unknown\n");
    }
    _exit(0);
}
