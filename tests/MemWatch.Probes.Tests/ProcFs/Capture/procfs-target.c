/* Subject process for the procfs fixtures (see capture-procfs.sh).
 * Usage: procfs-target [--comm NAME] [--threads N] [--zombie]
 * Allocates and touches a few heap blocks of mixed sizes (main thread and each extra thread, so glibc
 * creates arenas), optionally leaves a zombie child, optionally renames itself with PR_SET_NAME
 * (/proc/PID/comm is writable only by the process itself), prints "READY <pid> <zombie-pid>", then waits. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static pthread_barrier_t ready;

static void touch_blocks(int seed)
{
    static const size_t sizes[] = { 64, 4096, 100000, 300000, 2u << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *p = malloc(sizes[i]);
        if (p == NULL) { perror("malloc"); exit(1); }
        memset(p, seed + (int)i, sizes[i]);
    }
}

static void *worker(void *arg)
{
    touch_blocks((int)(long)arg);
    pthread_barrier_wait(&ready);
    for (;;) pause();
    return NULL;
}

int main(int argc, char **argv)
{
    const char *comm = NULL;
    int threads = 0, zombie = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--comm") == 0 && i + 1 < argc) comm = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--zombie") == 0) zombie = 1;
        else { fprintf(stderr, "bad argument %s\n", argv[i]); return 2; }
    }

    touch_blocks(1);
    pthread_barrier_init(&ready, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, (void *)(long)(i + 2)) != 0) { perror("pthread_create"); return 1; }
    }
    pthread_barrier_wait(&ready);

    pid_t child = 0;
    if (zombie) {
        child = fork();
        if (child == 0) _exit(0);  /* never reaped: stays a zombie while we live */
    }
    if (comm != NULL && prctl(PR_SET_NAME, comm, 0, 0, 0) != 0) { perror("prctl"); return 1; }

    printf("READY %d %d\n", (int)getpid(), (int)child);
    fflush(stdout);
    for (;;) pause();
}
