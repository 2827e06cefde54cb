/* Target for the unwinder and safe-point tests (tests/MemWatch.IntegrationTests/Unwinding).
 * Each thread parks in a known place and reports its tid:
 *   deep      15 recursive frames, then nanosleep          sleeper   nanosleep from a noinline function
 *   condvar   pthread_cond_wait (futex)                    epoll     epoll_wait on an empty set
 *   reader    read() on a pipe nobody writes               signal    nanosleep inside a SIGUSR1 handler (rt_sigframe)
 *   setstack  nanosleep on a pthread_attr_setstack stack malloc'd from the heap; reports the block it was given
 *   stats     malloc_stats() blocked writing to a full stderr pipe (holds main_arena's lock)
 *   coro      nanosleep on a swapcontext coroutine stack malloc'd from the heap (not a thread's own stack)
 *   dliter    nanosleep in a dl_iterate_phdr callback (dl_load_write_lock held)
 *   listlock  returned from _IO_list_lock() and sleeping: owns list_all_lock with no stdio frame on its stack
 * Argument "churn": main only (single-threaded), malloc/free in a loop after READY. "fork": only main and deep; main forks in a loop (fork()+waitpid). "flush": only "flush", in
 * fflush(NULL) blocked writing a FILE on a full pipe (list_all_lock held). "allocstats": only "allocstats", in
 * jemalloc's malloc_stats_print or tcmalloc's tc_malloc_stats (whichever is linked) blocked on the full stderr.
 * The READY line gives "name=tid" pairs and, for each thread, pthread_getattr_np's stack as name_lo/name_size
 * (measured inside the thread itself). Commands: "quit". */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <ucontext.h>
#include <unistd.h>
#include <link.h>

#define MAXT 16
static const char *names[MAXT];
static volatile int tids[MAXT];
static volatile unsigned long stack_lo[MAXT], stack_size[MAXT];
static int nthreads;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile long sink;
static unsigned long setstack_block, setstack_block_size;

static void report(int i)
{
    pthread_attr_t a;
    void *lo;
    size_t size;
    pthread_getattr_np(pthread_self(), &a);
    pthread_attr_getstack(&a, &lo, &size);
    pthread_attr_destroy(&a);
    stack_lo[i] = (unsigned long)lo;
    stack_size[i] = size;
    __atomic_store_n(&tids[i], (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
}

static volatile int wake_up;
static void sleep_forever(void)
{
    while (!wake_up) {
        struct timespec ts = { 1000, 0 };
        nanosleep(&ts, NULL);
    }
}

__attribute__((noinline)) static long recurse(int depth, int i)
{
    volatile char pad[32 + depth];
    pad[0] = (char)depth;
    if (depth == 0) {
        report(i);
        sleep_forever();
        return 0;
    }
    long r = recurse(depth - 1, i) + pad[0];
    sink += r;
    return r;
}

__attribute__((noinline)) static void park_in_sleep(int i) { report(i); sleep_forever(); }

static void *t_deep(void *p) { recurse(15, (int)(long)p); return NULL; }
static void *t_sleeper(void *p) { park_in_sleep((int)(long)p); return NULL; }

static void *t_condvar(void *p)
{
    report((int)(long)p);
    pthread_mutex_lock(&mu);
    for (;;) pthread_cond_wait(&cv, &mu);
    return NULL;
}

static void *t_epoll(void *p)
{
    report((int)(long)p);
    int ep = epoll_create1(0);
    struct epoll_event ev;
    for (;;) epoll_wait(ep, &ev, 1, -1);
    return NULL;
}

static void *t_reader(void *p)
{
    int fds[2];
    char c;
    if (pipe(fds) != 0) abort();
    report((int)(long)p);
    for (;;) read(fds[0], &c, 1);
    return NULL;
}

static volatile int signal_index;
__attribute__((noinline)) static void on_usr1(int sig)
{
    (void)sig;
    report(signal_index);
    sleep_forever();
}

static void *t_signal(void *p)
{
    (void)p;
    for (;;) pause();
    return NULL;
}

static void *t_setstack(void *p) { park_in_sleep((int)(long)p); return NULL; }

static void *t_stats(void *p)
{
    report((int)(long)p);
    malloc_stats(); /* blocks in write() on the full stderr pipe, holding main_arena.mutex */
    sleep_forever();
    return NULL;
}

static int coro_index;
static ucontext_t coro_ctx, coro_back;
static void coro_main(void) { park_in_sleep(coro_index); }
static void *t_coro(void *p)
{
    coro_index = (int)(long)p;
    size_t size = 64 * 1024;
    void *mem = malloc(size);
    getcontext(&coro_ctx);
    coro_ctx.uc_stack.ss_sp = mem;
    coro_ctx.uc_stack.ss_size = size;
    coro_ctx.uc_link = &coro_back;
    makecontext(&coro_ctx, coro_main, 0);
    swapcontext(&coro_back, &coro_ctx);
    return NULL;
}

static int dliter_index;
static int dliter_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)info; (void)size; (void)data;
    park_in_sleep(dliter_index);
    return 1;
}
static void *t_dliter(void *p) { dliter_index = (int)(long)p; dl_iterate_phdr(dliter_cb, NULL); return NULL; }

extern void _IO_list_lock(void);
static void *t_listlock(void *p) { _IO_list_lock(); park_in_sleep((int)(long)p); return NULL; }

static void *t_flush(void *p)
{
    int fds[2];
    if (pipe(fds) != 0) abort();
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    char block[4096];
    memset(block, 'y', sizeof block);
    while (write(fds[1], block, sizeof block) > 0) {
    }
    while (write(fds[1], block, 1) > 0) {
    }
    fcntl(fds[1], F_SETFL, 0);
    FILE *f = fdopen(fds[1], "w");
    fputs("pending", f);
    report((int)(long)p);
    fflush(NULL); /* _IO_flush_all: list_all_lock held while write() blocks */
    sleep_forever();
    return NULL;
}

extern void malloc_stats_print(void (*)(void *, const char *), void *, const char *) __attribute__((weak));
extern void tc_malloc_stats(void) __attribute__((weak));
static void *t_allocstats(void *p)
{
    report((int)(long)p);
    if (malloc_stats_print) malloc_stats_print(NULL, NULL, NULL);
    else if (tc_malloc_stats) tc_malloc_stats();
    sleep_forever();
    return NULL;
}

static int add(const char *name, void *(*fn)(void *), pthread_attr_t *attr)
{
    pthread_t t;
    int i = nthreads++;
    names[i] = name;
    if (pthread_create(&t, attr, fn, (void *)(long)i) != 0) abort();
    while (__atomic_load_n(&tids[i], __ATOMIC_SEQ_CST) == 0) usleep(1000);
    return i;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    int forking = strcmp(mode, "fork") == 0;
    int all = strcmp(mode, "all") == 0;
    /* Static stdio buffers: once "stats" holds main_arena's lock, main must never call malloc. */
    static char outbuf[8192], inbuf[4096];
    setvbuf(stdout, outbuf, _IOLBF, sizeof outbuf);
    setvbuf(stdin, inbuf, _IOLBF, sizeof inbuf);

    /* stderr becomes a pipe that nobody reads, filled to the brim. */
    int errp[2];
    if (pipe(errp) != 0) abort();
    fcntl(errp[1], F_SETFL, O_NONBLOCK);
    char block[4096];
    memset(block, 'x', sizeof block);
    while (write(errp[1], block, sizeof block) > 0) {
    }
    while (write(errp[1], block, 1) > 0) {
    }
    fcntl(errp[1], F_SETFL, 0);
    dup2(errp[1], 2);

    for (int k = 0; k < 64; k++) sink += (long)malloc(100 + k); /* a non-trivial heap */
    tids[nthreads] = (int)getpid();
    names[nthreads++] = "main";
    report(0);

    if (all || forking) add("deep", t_deep, NULL);
    if (all) {
        add("sleeper", t_sleeper, NULL);
        add("condvar", t_condvar, NULL);
        add("epoll", t_epoll, NULL);
        add("reader", t_reader, NULL);

        /* Under the mmap threshold, so the block (and the thread's rsp) is inside [heap]. */
        size_t size = 96 * 1024;
        void *block_mem = malloc(size);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstack(&attr, block_mem, size);
        add("setstack", t_setstack, &attr);
        setstack_block = (unsigned long)block_mem;
        setstack_block_size = size;

        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sigaction(SIGUSR1, &sa, NULL);
        pthread_t st;
        int si = nthreads++;
        names[si] = "signal";
        signal_index = si; /* before the thread exists: the signal may come before it has run at all */
        pthread_create(&st, NULL, t_signal, (void *)(long)si);
        usleep(20000);
        pthread_kill(st, SIGUSR1);
        while (__atomic_load_n(&tids[si], __ATOMIC_SEQ_CST) == 0) usleep(1000);

        add("coro", t_coro, NULL);
        add("dliter", t_dliter, NULL);
        add("listlock", t_listlock, NULL);
        add("stats", t_stats, NULL); /* last: from here on main_arena's lock is held */
    }
    if (forking) {
        /* 64 MiB of touched memory makes each fork copy 16k page-table entries, so a stop often lands inside it.
         * Touched before READY: a test that stops main back to back from READY on could otherwise catch it in this
         * memset every time (one CI run saw 3,000 stops there and none in fork). */
        size_t big = 64u << 20;
        char *touched = malloc(big);
        memset(touched, 1, big);
        sink += (long)touched;
    }
    if (strcmp(mode, "flush") == 0) add("flush", t_flush, NULL);
    if (strcmp(mode, "allocstats") == 0) add("allocstats", t_allocstats, NULL);

    printf("READY setstack_block=0x%lx setstack_block_size=%lu", setstack_block, setstack_block_size);
    for (int i = 0; i < nthreads; i++)
        printf(" %s=%d %s_lo=0x%lx %s_size=%lu", names[i], tids[i], names[i], stack_lo[i], names[i], stack_size[i]);
    printf("\n");

    if (strcmp(mode, "churn") == 0) {
        void *slots[64] = { 0 };
        for (unsigned long n = 0;; n++) {
            unsigned k = (unsigned)(n * 2654435761u) % 64;
            free(slots[k]);
            slots[k] = malloc(16 + (n % 4000));
        }
    }

    if (forking) {
        /* The main thread forks in a loop; the protocol is served by nobody: the test only stops and reads it. */
        for (;;) {
            pid_t c = fork();
            if (c == 0) _exit(0);
            if (c > 0) waitpid(c, NULL, 0);
        }
    }

    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "quit", 4) == 0) break;
        printf("OK\n");
    }
    return 0;
}
