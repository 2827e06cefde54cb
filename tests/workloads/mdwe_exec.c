/*
 * mdwe_exec: runs a command under the kernel's memory-deny-write-execute (prctl PR_SET_MDWE, Linux 6.3+), which
 * systemd's MemoryDenyWriteExecute=yes applies (or emulates with seccomp): no mapping may become executable after it
 * was made, and none may be writable and executable at once. Inherited across fork and execve.
 *   mdwe_exec COMMAND [ARGS...]
 * Exit 125: the kernel lacks PR_SET_MDWE, or it did not refuse a test mprotect(PROT_EXEC) after setting it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#endif
#ifndef PR_MDWE_REFUSE_EXEC_GAIN
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: mdwe_exec COMMAND [ARGS...]\n");
        return 2;
    }
    if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0) {
        fprintf(stderr, "mdwe_exec: prctl(PR_SET_MDWE): %s\n", strerror(errno));
        return 125;
    }
    /* Prove the kernel enforces it before trusting a command's success under it. */
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED || mprotect(page, 4096, PROT_READ | PROT_EXEC) == 0) {
        fprintf(stderr, "mdwe_exec: mprotect(PROT_EXEC) was not refused under PR_SET_MDWE\n");
        return 125;
    }
    munmap(page, 4096);
    execvp(argv[1], argv + 1);
    fprintf(stderr, "mdwe_exec: %s: %s\n", argv[1], strerror(errno));
    return 127;
}
