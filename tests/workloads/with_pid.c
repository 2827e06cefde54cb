/*
 * with_pid PID PROGRAM [ARG...]: runs PROGRAM as process PID (clone3 with set_tid), so a test can hand a PID that
 * another process had to a new one without racing every other process of the machine for it. Waits for it and exits
 * with its status (128 + the signal when killed); the child is killed if this process dies first.
 * Prints "ERR ..." and exits 1 when the PID cannot be had (taken, or no CAP_CHECKPOINT_RESTORE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: with_pid PID PROGRAM [ARG...]\n");
        return 2;
    }

    pid_t want = (pid_t)atoi(argv[1]);
    pid_t parent = getpid();
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.exit_signal = SIGCHLD;
    args.set_tid = (uint64_t)(uintptr_t)&want;
    args.set_tid_size = 1;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) {
        printf("ERR clone3 with set_tid %d: %s\n", (int)want, strerror(errno));
        fflush(stdout);
        return 1;
    }

    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(128 + SIGKILL);
        }

        execv(argv[2], argv + 2);
        _exit(127);
    }

    int status;
    while (waitpid((pid_t)pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return 1;
        }
    }

    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
