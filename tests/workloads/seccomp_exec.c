/*
 * seccomp_exec: runs a command under a seccomp filter, as systemd does for a unit with SystemCallFilter= (or any of
 * MemoryDenyWriteExecute=, RestrictNamespaces=, LockPersonality=, SystemCallArchitectures=, which install one too).
 * The filter allows everything but acct(2), refused with EPERM, so that the command runs as usual; what matters is
 * that the kernel now counts the command as filtered (Seccomp: 2), which changes what ptrace lets it do.
 *   seccomp_exec COMMAND [ARGS...]
 * Exit 125: the filter could not be installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: seccomp_exec COMMAND [ARGS...]\n");
        return 2;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(acct), 0) != 0 || seccomp_load(ctx) != 0) {
        fprintf(stderr, "seccomp_exec: the filter could not be installed\n");
        return 125;
    }
    seccomp_release(ctx);
    execvp(argv[1], argv + 1);
    fprintf(stderr, "seccomp_exec: %s: %s\n", argv[1], strerror(errno));
    return 127;
}
