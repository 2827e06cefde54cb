/* Adversarial target for the injection engine (tests/MemWatch.IntegrationTests/Injection/BlockingSyscallTests):
 * one thread per blocking system call, each issuing it in a loop through checked_syscall, which loads known values
 * into rbx, rbp, r12-r15 and xmm0-15 and checks them, and the six argument registers, after the call. A thread
 * counts rounds, spurious returns (an error or a result its call cannot give here: the untimed calls have no one to
 * wake them), early returns (a timed call back before its timeout) and register changes.
 * Protocol: READY line with each thread's name=tid; "stats" answers name_r= name_s= name_e= name_b= name_err= for
 * every thread; "quit" removes the semaphore set and exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#define CANARY(n) "0x5a5a" #n "00c0ffee" #n
#define CHK_ARG(off, reg) "cmp " #off "(%r11), %" reg "\n\tsetne %al\n\tmovzbq %al, %rax\n\tadd %rax, %rcx\n\t"
#define CHK_GPR(reg, n) "movabs $" CANARY(n) ", %rax\n\tcmp %rax, %" reg "\n\tsetne %al\n\tmovzbq %al, %rax\n\tadd %rax, %rcx\n\t"
#define SET_GPR(reg, n) "movabs $" CANARY(n) ", %" reg "\n\t"
#define SET_XMM(x, n) "movabs $" CANARY(n) ", %rcx\n\tmovq %rcx, %xmm" #x "\n\t"
#define CHK_XMM(x, n) "movq %xmm" #x ", %r11\n\tmovabs $" CANARY(n) ", %rax\n\tcmp %rax, %r11\n\tsetne %al\n\tmovzbq %al, %rax\n\tadd %rax, %rcx\n\t"

/* long checked_syscall(long nr, const long args[6], long *bad). With CFI, as a compiler would emit it: MemWatch's
 * safe-point rule unwinds the whole stack and refuses a thread stopped in code it cannot unwind. */
long checked_syscall(long nr, const long *args, long *bad);
#define PUSH(reg, off) "push %" reg "\n\t.cfi_adjust_cfa_offset 8\n\t.cfi_offset %" reg ", " #off "\n\t"
#define POP(reg) "pop %" reg "\n\t.cfi_adjust_cfa_offset -8\n\t.cfi_restore %" reg "\n\t"
__asm__(".text\n\t.globl checked_syscall\n\t.type checked_syscall,@function\nchecked_syscall:\n\t.cfi_startproc\n\t"
        PUSH("rbx", -16) PUSH("rbp", -24) PUSH("r12", -32) PUSH("r13", -40) PUSH("r14", -48) PUSH("r15", -56)
        "push %rdx\n\t.cfi_adjust_cfa_offset 8\n\tpush %rsi\n\t.cfi_adjust_cfa_offset 8\n\t"
        "mov %rdi, %rax\n\tmov %rsi, %r11\n\t"
        "mov 0(%r11), %rdi\n\tmov 8(%r11), %rsi\n\tmov 16(%r11), %rdx\n\t"
        "mov 24(%r11), %r10\n\tmov 32(%r11), %r8\n\tmov 40(%r11), %r9\n\t"
        SET_GPR("rbx", 11) SET_GPR("rbp", 12) SET_GPR("r12", 13) SET_GPR("r13", 14) SET_GPR("r14", 15) SET_GPR("r15", 16)
        SET_XMM(0, 20) SET_XMM(1, 21) SET_XMM(2, 22) SET_XMM(3, 23) SET_XMM(4, 24) SET_XMM(5, 25) SET_XMM(6, 26) SET_XMM(7, 27)
        SET_XMM(8, 28) SET_XMM(9, 29) SET_XMM(10, 30) SET_XMM(11, 31) SET_XMM(12, 32) SET_XMM(13, 33) SET_XMM(14, 34) SET_XMM(15, 35)
        "syscall\n\t"
        "push %rax\n\t.cfi_adjust_cfa_offset 8\n\txor %ecx, %ecx\n\tmov 8(%rsp), %r11\n\t"
        CHK_ARG(0, "rdi") CHK_ARG(8, "rsi") CHK_ARG(16, "rdx") CHK_ARG(24, "r10") CHK_ARG(32, "r8") CHK_ARG(40, "r9")
        CHK_GPR("rbx", 11) CHK_GPR("rbp", 12) CHK_GPR("r12", 13) CHK_GPR("r13", 14) CHK_GPR("r14", 15) CHK_GPR("r15", 16)
        CHK_XMM(0, 20) CHK_XMM(1, 21) CHK_XMM(2, 22) CHK_XMM(3, 23) CHK_XMM(4, 24) CHK_XMM(5, 25) CHK_XMM(6, 26) CHK_XMM(7, 27)
        CHK_XMM(8, 28) CHK_XMM(9, 29) CHK_XMM(10, 30) CHK_XMM(11, 31) CHK_XMM(12, 32) CHK_XMM(13, 33) CHK_XMM(14, 34) CHK_XMM(15, 35)
        "mov 16(%rsp), %r11\n\tadd %rcx, (%r11)\n\t"
        "pop %rax\n\t.cfi_adjust_cfa_offset -8\n\tadd $16, %rsp\n\t.cfi_adjust_cfa_offset -16\n\t"
        POP("r15") POP("r14") POP("r13") POP("r12") POP("rbp") POP("rbx") "ret\n\t.cfi_endproc\n\t"
        ".size checked_syscall, .-checked_syscall\n");

#define TIMED_MS 100

struct waiter {
    const char *name;
    long nr;
    int timed;         /* 1: must return `expected` after >= TIMED_MS; 0: must never return */
    long expected;
    long args[6];
    void (*prepare)(struct waiter *w);
    volatile long rounds, spurious, early, bad, last_error;
    volatile int tid;
    struct timespec ts;
    struct timeval tv;
    fd_set fds;
    struct pollfd pfd;
    unsigned long long sigset;
    int no_mask;       /* ppoll/epoll_pwait with a NULL mask: the thread's own mask stays (kernel set_user_sigmask) */
};

static int pipe_fds[2], sock_pair[2], listener, epfd, sem_id;
static int futex_word;

static void prep_ts(struct waiter *w) { w->ts.tv_sec = 0; w->ts.tv_nsec = TIMED_MS * 1000000L; }
static void prep_select(struct waiter *w)
{
    FD_ZERO(&w->fds);
    FD_SET(pipe_fds[0], &w->fds);
    w->tv.tv_sec = 0;
    w->tv.tv_usec = TIMED_MS * 1000;
}
static void prep_ppoll(struct waiter *w)
{
    prep_ts(w);
    w->pfd.fd = pipe_fds[0];
    w->pfd.events = POLLIN;
}

static struct waiter waiters[] = {
    { "epoll_wait", SYS_epoll_wait, 0, 0 },
    { "epoll_pwait", SYS_epoll_pwait, 0, 0 },
    { "epoll_pwait_nomask", SYS_epoll_pwait, 0, 0, .no_mask = 1 },
    { "sigtimedwait", SYS_rt_sigtimedwait, 0, 0 },
    { "nanosleep", SYS_nanosleep, 1, 0, .prepare = prep_ts },
    { "clock_nanosleep", SYS_clock_nanosleep, 1, 0, .prepare = prep_ts },
    { "poll", SYS_poll, 1, 0 },
    { "ppoll", SYS_ppoll, 1, 0, .prepare = prep_ppoll },
    { "select", SYS_select, 1, 0, .prepare = prep_select },
    { "read", SYS_read, 0, 0 },
    { "futex", SYS_futex, 0, 0 },
    { "futex_timed", SYS_futex, 1, -ETIMEDOUT, .prepare = prep_ts },
    { "pause", SYS_pause, 0, 0 },
    { "semop", SYS_semop, 0, 0 },
    { "accept", SYS_accept, 0, 0 },
    { "recvmsg", SYS_recvmsg, 0, 0 },
};
#define NWAITERS (sizeof waiters / sizeof waiters[0])

static struct epoll_event events[4];
static struct sembuf sem_down = { 0, -1, 0 };
static struct msghdr msg;
static char msg_buf[16];
static struct iovec msg_iov = { msg_buf, sizeof msg_buf };
static char read_buf[16];
static struct pollfd poll_fd;

static void setup_args(struct waiter *w)
{
    long *a = w->args;
    switch (w->nr) {
    case SYS_epoll_wait: a[0] = epfd; a[1] = (long)events; a[2] = 4; a[3] = -1; break;
    case SYS_epoll_pwait: a[0] = epfd; a[1] = (long)events; a[2] = 4; a[3] = -1; a[4] = w->no_mask ? 0 : (long)&w->sigset; a[5] = 8; break;
    case SYS_rt_sigtimedwait: w->sigset = 1ULL << (SIGUSR2 - 1); a[0] = (long)&w->sigset; a[1] = 0; a[2] = 0; a[3] = 8; break;
    case SYS_nanosleep: a[0] = (long)&w->ts; a[1] = 0; break;
    case SYS_clock_nanosleep: a[0] = CLOCK_MONOTONIC; a[1] = 0; a[2] = (long)&w->ts; a[3] = 0; break;
    case SYS_poll: poll_fd.fd = pipe_fds[0]; poll_fd.events = POLLIN; a[0] = (long)&poll_fd; a[1] = 1; a[2] = TIMED_MS; break;
    case SYS_ppoll: a[0] = (long)&w->pfd; a[1] = 1; a[2] = (long)&w->ts; a[3] = (long)&w->sigset; a[4] = 8; break;
    case SYS_select: a[0] = pipe_fds[0] + 1; a[1] = (long)&w->fds; a[2] = 0; a[3] = 0; a[4] = (long)&w->tv; break;
    case SYS_read: a[0] = pipe_fds[0]; a[1] = (long)read_buf; a[2] = sizeof read_buf; break;
    case SYS_futex: a[0] = (long)&futex_word; a[1] = FUTEX_WAIT_PRIVATE; a[2] = 0; a[3] = w->timed ? (long)&w->ts : 0; break;
    case SYS_pause: break;
    case SYS_semop: a[0] = sem_id; a[1] = (long)&sem_down; a[2] = 1; break;
    case SYS_accept: a[0] = listener; a[1] = 0; a[2] = 0; break;
    case SYS_recvmsg: msg.msg_iov = &msg_iov; msg.msg_iovlen = 1; a[0] = sock_pair[1]; a[1] = (long)&msg; a[2] = 0; break;
    }
}

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->tid = (int)syscall(SYS_gettid);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, NULL);
    for (;;) {
        if (w->prepare)
            w->prepare(w);
        setup_args(w);
        long bad = 0;
        long t0 = now_ns();
        long r = checked_syscall(w->nr, w->args, &bad);
        long elapsed = now_ns() - t0;
        if (bad)
            __atomic_add_fetch(&w->bad, bad, __ATOMIC_SEQ_CST);
        if (!w->timed || r != w->expected) {
            __atomic_add_fetch(&w->spurious, 1, __ATOMIC_SEQ_CST);
            w->last_error = r;
        } else if (elapsed < TIMED_MS * 1000000L) {
            __atomic_add_fetch(&w->early, 1, __ATOMIC_SEQ_CST);
        }
        __atomic_add_fetch(&w->rounds, 1, __ATOMIC_SEQ_CST);
        if (!w->timed && w->spurious > 1000)
            pause(); /* a broken engine must not make the thread spin */
    }
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pipe(pipe_fds) || socketpair(AF_UNIX, SOCK_STREAM, 0, sock_pair))
        return 1;
    epfd = epoll_create1(0);
    listener = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "memwatch-blocking-%d", getpid());
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 1))
        return 1;
    sem_id = semget(IPC_PRIVATE, 1, 0600);
    if (sem_id < 0)
        return 1;

    for (size_t i = 0; i < NWAITERS; i++) {
        pthread_t t;
        pthread_create(&t, NULL, waiter_main, &waiters[i]);
    }
    for (size_t i = 0; i < NWAITERS; i++)
        while (!waiters[i].tid)
            usleep(1000);
    usleep(50000);

    printf("READY");
    for (size_t i = 0; i < NWAITERS; i++)
        printf(" %s=%d", waiters[i].name, waiters[i].tid);
    printf("\n");

    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "stats", 5) == 0) {
            for (size_t i = 0; i < NWAITERS; i++) {
                struct waiter *w = &waiters[i];
                printf("%s%s_r=%ld %s_s=%ld %s_e=%ld %s_b=%ld %s_err=%ld", i ? " " : "", w->name, w->rounds, w->name,
                       w->spurious, w->name, w->early, w->name, w->bad, w->name, w->last_error);
            }
            printf("\n");
        } else if (strncmp(line, "quit", 4) == 0) {
            printf("bye\n");
            break;
        } else {
            printf("unknown\n");
        }
    }
    semctl(sem_id, 0, IPC_RMID);
    return 0;
}
