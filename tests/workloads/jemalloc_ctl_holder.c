/* A jemalloc process one of whose threads holds jemalloc's ctl_mtx for good, for the daemon's quarantine test
 * (tests/MemWatch.Daemon.Tests/Daemon/QuarantineTests). Thread "holder" creates an arena with mallctl("arenas.create")
 * and extent hooks whose alloc hook never returns: jemalloc 5.3 calls it from inside arenas.create (for the new
 * arena's own memory) with ctl_mtx held, which every later statistics refresh (mallctl "epoch") and purge
 * ("arena.<i>.purge") takes first. The holder's own stack is inside jemalloc, so no remote call may use it; a call on
 * any other thread waits for ctl_mtx past its timeout, in a callee that is not lock-step.
 * Three more threads sleep in 10 ms nanosleeps: candidates for the call besides the main thread (in fgets).
 * Link with -ljemalloc. READY once the holder is inside its hook. "stats" answers holder_in=. */
#define _GNU_SOURCE
#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLEEPERS 3

static volatile long holder_in;

static void *stuck_alloc(extent_hooks_t *hooks, void *addr, size_t size, size_t alignment, bool *zero, bool *commit,
                         unsigned arena_ind)
{
    (void)hooks; (void)addr; (void)size; (void)alignment; (void)zero; (void)commit; (void)arena_ind;
    holder_in = 1;
    for (;;)
        pause();
    return NULL;
}

static extent_hooks_t stuck_hooks = { .alloc = stuck_alloc };

static void *holder(void *arg)
{
    (void)arg;
    extent_hooks_t *hooks = &stuck_hooks;
    unsigned ind;
    size_t len = sizeof ind;
    mallctl("arenas.create", &ind, &len, &hooks, sizeof hooks);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec t = { 0, 10 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t;
    for (int i = 0; i < SLEEPERS; i++)
        pthread_create(&t, NULL, sleeper, NULL);
    pthread_create(&t, NULL, holder, NULL);
    while (!holder_in)
        usleep(1000);
    printf("READY holder_in=%ld\n", holder_in);
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "stats", 5) == 0)
            printf("OK holder_in=%ld\n", holder_in);
        else
            printf("ERR unknown command\n");
    }
    return 0;
}
