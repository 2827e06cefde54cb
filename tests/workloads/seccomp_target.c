/* Seccomp-confined target for the injection engine (tests/MemWatch.IntegrationTests/Injection/SeccompTests).
 * Mode (argv[1]):
 *   strict-process  the main thread enters SECCOMP_MODE_STRICT after start-up (it only reads stdin and writes stdout)
 *   strict-thread   one worker thread enters strict mode and reads a pipe a feeder thread writes every 10 ms
 *   errno           libseccomp allow-list, default ERRNO(EPERM), on every thread (TSYNC)
 *   errno-nomadvise the same without madvise
 *   kill            libseccomp allow-list, default KILL_PROCESS
 * Threads: "sleeper" in 20 ms nanosleeps counting failures (EPERM, EINTR) and early returns; "churn" doing
 * checksummed malloc/free; "strict" (strict-thread mode). "stats" answers sleeper_r= sleeper_s= sleeper_e= churn_r=
 * churn_bad= strict_r=. Single-line protocol over stdin/stdout with static stdio buffers (no allocation after start). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile long sleeper_r, sleeper_s, sleeper_e, churn_r, churn_bad, strict_r;
static volatile int sleeper_tid, churn_tid, strict_tid;
static int feed[2];
static char out_buf[4096], in_buf[4096];

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *sleeper(void *arg)
{
    (void)arg;
    sleeper_tid = (int)syscall(SYS_gettid);
    for (;;) {
        struct timespec ts = { 0, 20000000L };
        long t0 = now_ns();
        long r = syscall(SYS_nanosleep, &ts, NULL);
        if (r != 0)
            sleeper_s++;
        else if (now_ns() - t0 < 20000000L)
            sleeper_e++;
        sleeper_r++;
    }
    return NULL;
}

static void *churn(void *arg)
{
    (void)arg;
    churn_tid = (int)syscall(SYS_gettid);
    unsigned seed = 7;
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
        sizes[i] = 16 + rand_r(&seed) % 4096;
        blocks[i] = malloc(sizes[i]);
        memset(blocks[i], (unsigned char)(i + sizes[i]), sizes[i]);
        churn_r++;
        if (churn_r % 1000 == 0) {
            struct timespec ts = { 0, 1000000L };
            syscall(SYS_nanosleep, &ts, NULL);
        }
    }
    return NULL;
}

static void *strict_reader(void *arg)
{
    (void)arg;
    strict_tid = (int)syscall(SYS_gettid);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
        return NULL;
    char c;
    for (;;)
        if (syscall(SYS_read, feed[0], &c, 1) == 1)
            strict_r++;
}

static void *feeder(void *arg)
{
    (void)arg;
    for (;;) {
        (void)!write(feed[1], "x", 1);
        usleep(10000);
    }
    return NULL;
}

static int load_filter(uint32_t default_action, int with_madvise)
{
    scmp_filter_ctx ctx = seccomp_init(default_action);
    if (!ctx)
        return -1;
    int allowed[] = { SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(futex),
                      SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
                      SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(brk),
                      SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(sched_yield), SCMP_SYS(prctl), SCMP_SYS(getrandom),
                      SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(clock_gettime) };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0))
            return -1;
    if (with_madvise && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(madvise), 0))
        return -1;
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) || seccomp_load(ctx))
        return -1;
    seccomp_release(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "errno";
    setvbuf(stdout, out_buf, _IOLBF, sizeof out_buf);
    setvbuf(stdin, in_buf, _IOFBF, sizeof in_buf);
    if (pipe(feed))
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    pthread_create(&t, NULL, churn, NULL);
    if (strcmp(mode, "strict-thread") == 0) {
        pthread_create(&t, NULL, strict_reader, NULL);
        pthread_create(&t, NULL, feeder, NULL);
        while (!strict_tid)
            usleep(1000);
    }
    while (!sleeper_tid || !churn_tid)
        usleep(1000);

    int rc = 0;
    if (strcmp(mode, "errno") == 0)
        rc = load_filter(SCMP_ACT_ERRNO(EPERM), 1);
    else if (strcmp(mode, "errno-nomadvise") == 0)
        rc = load_filter(SCMP_ACT_ERRNO(EPERM), 0);
    else if (strcmp(mode, "kill") == 0)
        rc = load_filter(SCMP_ACT_KILL_PROCESS, 1);
    if (rc) {
        printf("FAILED to load the filter\n");
        return 1;
    }

    printf("READY sleeper=%d churn=%d strict=%d\n", sleeper_tid, churn_tid, strict_tid);
    if (strcmp(mode, "strict-process") == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
        return 1;

    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "stats", 5) == 0)
            printf("sleeper_r=%ld sleeper_s=%ld sleeper_e=%ld churn_r=%ld churn_bad=%ld strict_r=%ld\n", sleeper_r, sleeper_s,
                   sleeper_e, churn_r, churn_bad, strict_r);
        else
            printf("unknown\n");
    }
    syscall(SYS_exit_group, 0);
    return 0;
}
