/* Target for the ptrace remote-call engine tests (tests/MemWatch.IntegrationTests/Injection).
 * Threads: "vec" keeps known values in ymm8-15 and rbx/r8/r9/r12-r15 across a raw nanosleep syscall and
 * counts rounds where any came back different; "pauser" sits in pause(); "sleeper" in 1 s nanosleeps,
 * counting EINTR; "blocker" sits in pause() called from blocker() (its return address is on the stack).
 * Functions meant to be called remotely: add, slow_call, fault_call, clobber_vectors, scribble_below.
 * Protocol: READY line with addresses and thread ids, then one answer line per stdin command. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile long slow_started, slow_done, usr1_count, usr1_in_call, rt_count, segv_count;
static volatile long vec_rounds, vec_bad, sleeper_eintr, sleeper_rounds;
static volatile int vec_tid, pauser_tid, sleeper_tid, blocker_tid;

__attribute__((noinline, used)) long add(long a, long b) { return a + b; }

__attribute__((noinline, used)) long clobber_vectors(long value);

/* Sleeps ms milliseconds (through EINTR) after clobbering the vector registers. */
__attribute__((noinline, used)) long slow_call(long ms)
{
    clobber_vectors(ms);
    __atomic_add_fetch(&slow_started, 1, __ATOMIC_SEQ_CST);
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
    __atomic_add_fetch(&slow_done, 1, __ATOMIC_SEQ_CST);
    return ms * 2;
}

__attribute__((noinline, used)) long fault_call(long address) { return *(volatile long *)address; }

/* Overwrites every vector register the vec thread checks, to prove the engine restores them. */
/* Clobbers the vector registers, then writes n bytes of 0xa5 just below p: a callee that writes below the buffer it
 * was given (the remote-call frame's fpstate and ucontext lie there). Returns n. */
__attribute__((noinline, used)) long scribble_below(unsigned char *p, long n)
{
    clobber_vectors(n);
    for (long i = 1; i <= n; i++)
        ((volatile unsigned char *)p)[-i] = 0xa5;
    return n;
}

__attribute__((noinline, used)) long clobber_vectors(long value)
{
    __asm__ volatile("vmovq %0, %%xmm0\n\t"
                     "vpbroadcastq %%xmm0, %%ymm0\n\t"
                     "vmovdqa %%ymm0, %%ymm8\n\tvmovdqa %%ymm0, %%ymm9\n\tvmovdqa %%ymm0, %%ymm10\n\t"
                     "vmovdqa %%ymm0, %%ymm11\n\tvmovdqa %%ymm0, %%ymm12\n\tvmovdqa %%ymm0, %%ymm13\n\t"
                     "vmovdqa %%ymm0, %%ymm14\n\tvmovdqa %%ymm0, %%ymm15\n\t"
                     :
                     : "r"(value)
                     : "xmm0", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    return value + 1;
}

struct vecbox {
    unsigned char in[256];
    unsigned char out[256];
    long gin[7];
    long gout[7];
    struct timespec ts;
};

static void *vec_main(void *arg)
{
    (void)arg;
    static struct vecbox b;
    vec_tid = gettid();
    for (long round = 1;; round++) {
        for (int i = 0; i < 256; i++)
            b.in[i] = (unsigned char)(round * 31 + i * 7);
        for (int i = 0; i < 7; i++)
            b.gin[i] = round * 1000003L + i * 0x0101010101L;
        memset(b.out, 0, sizeof b.out);
        memset(b.gout, 0, sizeof b.gout);
        b.ts.tv_sec = 0;
        b.ts.tv_nsec = 20 * 1000000L;
        __asm__ volatile(
            "vmovdqu 0(%0), %%ymm8\n\tvmovdqu 32(%0), %%ymm9\n\tvmovdqu 64(%0), %%ymm10\n\tvmovdqu 96(%0), %%ymm11\n\t"
            "vmovdqu 128(%0), %%ymm12\n\tvmovdqu 160(%0), %%ymm13\n\tvmovdqu 192(%0), %%ymm14\n\tvmovdqu 224(%0), %%ymm15\n\t"
            "mov 512(%0), %%rbx\n\tmov 520(%0), %%r12\n\tmov 528(%0), %%r13\n\tmov 536(%0), %%r14\n\t"
            "mov 544(%0), %%r15\n\tmov 552(%0), %%r8\n\tmov 560(%0), %%r9\n\t"
            "mov $35, %%eax\n\tlea 624(%0), %%rdi\n\txor %%esi, %%esi\n\tsyscall\n\t"
            "vmovdqu %%ymm8, 256(%0)\n\tvmovdqu %%ymm9, 288(%0)\n\tvmovdqu %%ymm10, 320(%0)\n\tvmovdqu %%ymm11, 352(%0)\n\t"
            "vmovdqu %%ymm12, 384(%0)\n\tvmovdqu %%ymm13, 416(%0)\n\tvmovdqu %%ymm14, 448(%0)\n\tvmovdqu %%ymm15, 480(%0)\n\t"
            "mov %%rbx, 568(%0)\n\tmov %%r12, 576(%0)\n\tmov %%r13, 584(%0)\n\tmov %%r14, 592(%0)\n\t"
            "mov %%r15, 600(%0)\n\tmov %%r8, 608(%0)\n\tmov %%r9, 616(%0)\n\t"
            :
            : "r"(&b)
            : "rax", "rdi", "rsi", "rcx", "r11", "rbx", "r12", "r13", "r14", "r15", "r8", "r9", "memory",
              "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
        if (memcmp(b.in, b.out, 256) != 0 || memcmp(b.gin, b.gout, sizeof b.gin) != 0)
            __atomic_add_fetch(&vec_bad, 1, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&vec_rounds, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void *pauser_main(void *arg)
{
    (void)arg;
    pauser_tid = gettid();
    for (;;)
        pause();
    return NULL;
}

static void *sleeper_main(void *arg)
{
    (void)arg;
    sleeper_tid = gettid();
    for (;;) {
        struct timespec ts = { 1, 0 };
        if (nanosleep(&ts, NULL) == -1 && errno == EINTR)
            __atomic_add_fetch(&sleeper_eintr, 1, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&sleeper_rounds, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

__attribute__((noinline, used)) void blocker(void)
{
    for (;;)
        pause();
}

static void *blocker_main(void *arg)
{
    (void)arg;
    blocker_tid = gettid();
    blocker();
    return NULL;
}

static void on_usr1(int sig)
{
    (void)sig;
    __atomic_add_fetch(&usr1_count, 1, __ATOMIC_SEQ_CST);
    if (slow_started > slow_done)
        __atomic_add_fetch(&usr1_in_call, 1, __ATOMIC_SEQ_CST);
}

static void on_rt(int sig)
{
    (void)sig;
    __atomic_add_fetch(&rt_count, 1, __ATOMIC_SEQ_CST);
    if (slow_started > slow_done)
        __atomic_add_fetch(&usr1_in_call, 1, __ATOMIC_SEQ_CST);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si; (void)uc;
    __atomic_add_fetch(&segv_count, 1, __ATOMIC_SEQ_CST);
}

/* The FILEs linked in stdio's list (stdin, stdout, stderr and any opened since), each checked to be readable. */
extern FILE *_IO_list_all;
static long open_files(void)
{
    long n = 0;
    for (FILE *f = _IO_list_all; f && n < 1000; f = f->_chain)
        n++;
    return n;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_rt;
    sigaction(SIGRTMIN, &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGSEGV, &sa, NULL);

    pthread_t t;
    pthread_create(&t, NULL, vec_main, NULL);
    pthread_create(&t, NULL, pauser_main, NULL);
    pthread_create(&t, NULL, sleeper_main, NULL);
    pthread_create(&t, NULL, blocker_main, NULL);
    while (!vec_tid || !pauser_tid || !sleeper_tid || !blocker_tid)
        usleep(1000);
    usleep(20000);

    printf("READY add=%p slow_call=%p fault_call=%p clobber_vectors=%p scribble_below=%p blocker=%p getpid=%p strlen=%p "
           "vec=%d pauser=%d sleeper=%d blocker_tid=%d\n",
           (void *)add, (void *)slow_call, (void *)fault_call, (void *)clobber_vectors, (void *)scribble_below, (void *)blocker,
           (void *)getpid, (void *)strlen, vec_tid, pauser_tid, sleeper_tid, blocker_tid);
    fflush(stdout);

    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "stats", 5) == 0) {
            printf("OK vec_rounds=%ld vec_bad=%ld slow_started=%ld slow_done=%ld usr1=%ld usr1_in_call=%ld rt=%ld segv=%ld sleeper_eintr=%ld sleeper_rounds=%ld files=%ld\n",
                   vec_rounds, vec_bad, slow_started, slow_done, usr1_count, usr1_in_call, rt_count, segv_count, sleeper_eintr, sleeper_rounds, open_files());
        } else if (strncmp(line, "exit", 4) == 0) {
            printf("OK exiting\n");
            fflush(stdout);
            exit(0);
        } else {
            printf("ERR unknown command\n");
        }
        fflush(stdout);
    }
    return 0;
}
