/* Region-model workload: allocates memory in ways whose placement in /proc/PID/maps is known.
 *
 * Protocol (see Support/Workload.cs): prints "READY <pid>", then one "OK ..." / "ERR ..." line per command:
 *   threads N BYTES BLOCK   start N threads; each mallocs BYTES in BLOCK-sized blocks (touched), then blocks on a pipe.
 *                           Answers "OK <tid> <tid> ..." once all threads hold their memory.
 *   heap BYTES BLOCK        the main thread mallocs BYTES in BLOCK-sized blocks (touched); answers "OK <sbrk(0)>".
 *   big BYTES               one malloc(BYTES), touched; answers "OK <address of the user pointer>".
 *   stop                    answers "OK" (lets a harness SIGSTOP the process in a known state).
 * EOF on stdin exits.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int g_release[2];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_ready;

struct job {
    size_t bytes;
    size_t block;
    pid_t tid;
};

static void **hold(size_t bytes, size_t block)
{
    size_t n = bytes / block;
    void **blocks = malloc((n + 1) * sizeof(void *));
    for (size_t i = 0; i < n; i++) {
        blocks[i] = malloc(block);
        memset(blocks[i], 0x5a, block);
    }
    blocks[n] = NULL;
    return blocks;
}

static void *worker(void *arg)
{
    struct job *j = arg;
    j->tid = (pid_t)syscall(SYS_gettid);
    void **blocks = hold(j->bytes, j->block);
    pthread_mutex_lock(&g_lock);
    g_ready++;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    char c;
    /* Blocks in read(2): /proc/PID/task/TID/syscall then reports this thread's stack pointer. */
    while (read(g_release[0], &c, 1) < 0) {
    }
    return blocks;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pipe(g_release) != 0) {
        return 1;
    }
    printf("READY %d\n", getpid());
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        unsigned long a = 0, b = 0, c = 0;
        if (sscanf(line, "threads %lu %lu %lu", &a, &b, &c) == 3 && c > 0) {
            struct job *jobs = calloc(a, sizeof *jobs);
            pthread_mutex_lock(&g_lock);
            int target = g_ready + (int)a;
            pthread_mutex_unlock(&g_lock);
            for (unsigned long i = 0; i < a; i++) {
                pthread_t t;
                jobs[i].bytes = b;
                jobs[i].block = c;
                if (pthread_create(&t, NULL, worker, &jobs[i]) != 0) {
                    printf("ERR pthread_create\n");
                    break;
                }
            }
            pthread_mutex_lock(&g_lock);
            while (g_ready < target) {
                pthread_cond_wait(&g_cond, &g_lock);
            }
            pthread_mutex_unlock(&g_lock);
            printf("OK");
            for (unsigned long i = 0; i < a; i++) {
                printf(" %d", jobs[i].tid);
            }
            printf("\n");
        } else if (sscanf(line, "heap %lu %lu", &a, &b) == 2 && b > 0) {
            hold(a, b);
            printf("OK %p\n", sbrk(0));
        } else if (sscanf(line, "big %lu", &a) == 1) {
            void *p = malloc(a);
            memset(p, 0x5a, a);
            printf("OK %p\n", p);
        } else if (strncmp(line, "stop", 4) == 0) {
            printf("OK\n");
        } else {
            printf("ERR unknown command\n");
        }
    }
    return 0;
}
