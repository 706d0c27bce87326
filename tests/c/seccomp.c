/*
 * seccomp - mount-family calls that a seccomp filter refuses, traps, kills
 * or hands to a user-space supervisor.
 *
 * Why: a call refused by seccomp (or answered by a USER_NOTIF supervisor)
 * never reaches the syscall's own code, so the per-call sys_enter_*
 * tracepoints do not fire for it, while sys_exit_* still does, with the
 * filter's result. A tracer must still report these calls, with their
 * real arguments and the result the process saw. This program makes such
 * calls with known arguments and known results.
 *
 * Usage: seccomp errno|errno32|trap|kill|notif|notif-continue|storm N
 *
 * The process sets up the private tmpfs BASE (testns.h; those mounts are
 * made before any filter exists) and the directory BASE/a, then forks. The CHILD sets
 * PR_SET_NO_NEW_PRIVS, installs a classic-BPF filter (written by hand:
 * anything that is not an x86_64 call (an i386 call, in errno32) is
 * allowed; the listed calls get the mode's action; everything else is
 * allowed) and makes the calls
 * below. The parent supervises (notif modes), waits, and cleans up, so
 * the clean-up is never refused and BASE is always removed. Only the
 * child's calls are the scenario: stdout is one line, "pids CHILD".
 *
 *   errno   mount, umount2, fsopen, move_mount -> SECCOMP_RET_ERRNO(EACCES)
 *             mount("none", BASE/a, "tmpfs", MS_NOSUID, "size=1m") = -1 EACCES
 *             umount2(BASE/a, 0) = -1 EACCES
 *             fsopen("tmpfs", FSOPEN_CLOEXEC) = -1 EACCES
 *             move_mount(-1, "", AT_FDCWD, BASE/a, MOVE_MOUNT_F_EMPTY_PATH)
 *                                                      = -1 EACCES
 *   errno32 i386 mount, umount2, umount (through int $0x80, strings below
 *             4 GiB) -> SECCOMP_RET_ERRNO(EACCES); the filter matches
 *             AUDIT_ARCH_I386:
 *             mount("none", BASE/a, "tmpfs", MS_NOSUID, "size=1m") = -1 EACCES
 *             umount2(BASE/a, 0) = -1 EACCES
 *             umount(BASE/a) = -1 EACCES
 *   trap    mount -> SECCOMP_RET_TRAP; a SIGSYS handler records the call
 *             and returns; the call then returns its own number:
 *             mount("none", BASE/a, "tmpfs", MS_NOSUID, "size=1m") = 165
 *   kill    mount -> SECCOMP_RET_KILL_PROCESS; the child is killed by
 *             SIGSYS inside (no core dump: RLIMIT_CORE 0, not dumpable):
 *             mount("none", BASE/a, "tmpfs", MS_NOSUID, "size=1m")
 *             (the process never sees a result; strace shows "= 165" and
 *             "+++ killed by SIGSYS +++")
 *             Exit 0 if the child died of SIGSYS, else 1.
 *   notif   mount, umount2, fsopen -> SECCOMP_RET_USER_NOTIF. The filter
 *             is installed with SECCOMP_FILTER_FLAG_NEW_LISTENER; the child
 *             passes the listener to the parent over a unix socket
 *             (SCM_RIGHTS); the parent answers:
 *             mount("none", BASE/a, "tmpfs", 0, "size=1m") = -1 EPERM
 *             umount2(BASE/a, 0) = 0        (emulated: nothing unmounted)
 *             fsopen("tmpfs", 0) = -1 ENODEV
 *   notif-continue   as notif, but the parent answers every call with
 *             SECCOMP_USER_NOTIF_FLAG_CONTINUE, so the calls really run:
 *             mount(...) = 0, umount2(...) = 0, fsopen(...) = FD
 *   storm N  the errno filter, then N times
 *             mount("none", BASE/a, "tmpfs", MS_NOSUID, "size=1m") = -1 EACCES
 *
 * Exit status: see testns.h (kill mode: see above).
 */
#include "testns.h"
#include "int80.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef __x86_64__
#error "seccomp is an x86_64 program: its filter matches x86_64 syscall numbers"
#endif

/* The x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
enum {
    NR64_MOUNT = 165,
    NR64_UMOUNT2 = 166,
    NR64_MOVE_MOUNT = 429,
    NR64_FSOPEN = 430,
};
_Static_assert(SYS_mount == NR64_MOUNT, "x86_64 mount");
_Static_assert(SYS_umount2 == NR64_UMOUNT2, "x86_64 umount2");
_Static_assert(SYS_move_mount == NR64_MOVE_MOUNT, "x86_64 move_mount");
_Static_assert(SYS_fsopen == NR64_FSOPEN, "x86_64 fsopen");

#define MAX_NRS 8
#define NOTIF_TIMEOUT_MS 20000

/*
 * [0]      A = arch
 * [1]      A == arch (AUDIT_ARCH_X86_64, or AUDIT_ARCH_I386) ? next : allow
 * [2]      A = nr
 * [3+i]    A == nrs[i] ? action : next
 * [3+n]    allow
 * [4+n]    action
 */
static long install_arch_filter(uint32_t arch, const int *nrs, int n, uint32_t action,
                                unsigned int flags)
{
    struct sock_filter f[MAX_NRS + 5];
    struct sock_fprog prog;
    int i, len = 0;

    f[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                            offsetof(struct seccomp_data, arch));
    f[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0,
                                            (uint8_t)(n + 1));
    f[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                            offsetof(struct seccomp_data, nr));
    for (i = 0; i < n; i++)
        f[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nrs[i],
                                                (uint8_t)(n - i), 0);
    f[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action);

    prog.len = (unsigned short)len;
    prog.filter = f;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        setup_fail("prctl(PR_SET_NO_NEW_PRIVS)");
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static long install_filter(const int *nrs, int n, uint32_t action, unsigned int flags)
{
    return install_arch_filter(AUDIT_ARCH_X86_64, nrs, n, action, flags);
}

static void install_or_fail(const int *nrs, int n, uint32_t action)
{
    if (install_filter(nrs, n, action, 0) != 0)
        setup_fail("installing the seccomp filter");
}

static const int errno_nrs[] = { NR64_MOUNT, NR64_UMOUNT2, NR64_FSOPEN, NR64_MOVE_MOUNT };
static const int mount_only[] = { NR64_MOUNT };
static const int notif_nrs[] = { NR64_MOUNT, NR64_UMOUNT2, NR64_FSOPEN };

static long refused_mount(const char *a)
{
    return kret(syscall(NR64_MOUNT, "none", a, "tmpfs", MS_NOSUID, "size=1m"));
}

static int child_errno(void)
{
    char *a = at("a");

    install_or_fail(errno_nrs, 4, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA));
    want_err("mount", refused_mount(a), EACCES);
    want_err("umount2", kret(syscall(NR64_UMOUNT2, a, 0)), EACCES);
    want_err("fsopen", kret(syscall(NR64_FSOPEN, "tmpfs", FSOPEN_CLOEXEC)), EACCES);
    want_err("move_mount",
             kret(syscall(NR64_MOVE_MOUNT, -1, "", AT_FDCWD, a, MOVE_MOUNT_F_EMPTY_PATH)),
             EACCES);
    return scenario_status();
}

/* The i386 calls through int $0x80: seccomp sees them as AUDIT_ARCH_I386
 * with the i386 numbers, and the per-call tracepoints never do. */
static const int errno32_nrs[] = { NR32_MOUNT, NR32_UMOUNT2, NR32_UMOUNT };

static int child_errno32(void)
{
    uint32_t none, a, tmpfs, size;

    map_low_mem();
    none = low_str("none");
    a = low_str(at("a"));
    tmpfs = low_str("tmpfs");
    size = low_str("size=1m");
    if (install_arch_filter(AUDIT_ARCH_I386, errno32_nrs, 3,
                            SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA), 0) != 0)
        setup_fail("installing the seccomp filter");
    want_err("int80 mount", int80(NR32_MOUNT, none, a, tmpfs, MS_NOSUID, size), EACCES);
    want_err("int80 umount2", int80(NR32_UMOUNT2, a, 0, 0, 0, 0), EACCES);
    want_err("int80 umount", int80(NR32_UMOUNT, a, 0, 0, 0, 0), EACCES);
    return scenario_status();
}

static int child_storm(unsigned long n)
{
    char *a = at("a");
    unsigned long i, wrong = 0;
    long first_wrong = 0;

    install_or_fail(errno_nrs, 4, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA));
    for (i = 0; i < n; i++) {
        long r = refused_mount(a);

        if (r != -EACCES && wrong++ == 0)
            first_wrong = r;
    }
    if (wrong) {
        fprintf(stderr, "%s: unexpected: %lu of %lu mounts did not fail with EACCES "
                "(first: %ld)\n", prog_name, wrong, n, first_wrong);
        return EXIT_UNEXPECTED;
    }
    return 0;
}

static volatile sig_atomic_t trap_count, trap_syscall, trap_code;
static volatile uint32_t trap_arch;

static void on_sigsys(int sig, siginfo_t *info, void *ctx)
{
    (void)sig;
    (void)ctx;
    trap_count++;
    trap_syscall = info->si_syscall;
    trap_code = info->si_code;
    trap_arch = info->si_arch;
}

static int child_trap(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0)
        setup_fail("sigaction(SIGSYS)");
    install_or_fail(mount_only, 1, SECCOMP_RET_TRAP);
    /* After the handler returns, the call returns its own number. */
    want_val("trapped mount", refused_mount(at("a")), NR64_MOUNT);
    if (trap_count != 1 || trap_syscall != NR64_MOUNT || trap_code != 1 /* SYS_SECCOMP */ ||
        trap_arch != AUDIT_ARCH_X86_64) {
        unexpected++;
        fprintf(stderr, "%s: unexpected SIGSYS: count %d, si_syscall %d, si_code %d, "
                "si_arch 0x%x\n", prog_name, (int)trap_count, (int)trap_syscall,
                (int)trap_code, (unsigned)trap_arch);
    }
    return scenario_status();
}

static int child_kill(void)
{
    struct rlimit no_core = { 0, 0 };

    /* Dying of SIGSYS would dump core otherwise. */
    if (setrlimit(RLIMIT_CORE, &no_core) != 0)
        setup_fail("setrlimit(RLIMIT_CORE)");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        setup_fail("prctl(PR_SET_DUMPABLE)");
    install_or_fail(mount_only, 1, SECCOMP_RET_KILL_PROCESS);
    refused_mount(at("a"));
    fprintf(stderr, "%s: unexpected: the killing mount returned\n", prog_name);
    return EXIT_UNEXPECTED;
}

static int send_fd(int sock, int fd)
{
    char byte = 'L';
    struct iovec iov = { &byte, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg;
    struct cmsghdr *cm;

    memset(&u, 0, sizeof(u));
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof(u.buf);
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = { &byte, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg;
    struct cmsghdr *cm;
    int fd;

    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof(u.buf);
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    cm = CMSG_FIRSTHDR(&msg);
    if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
        cm->cmsg_len != CMSG_LEN(sizeof(int))) {
        errno = EPROTO;
        return -1;
    }
    memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return fd;
}

static int child_notif(int sock, int cont)
{
    char *a = at("a");
    long listener;

    listener = install_filter(notif_nrs, 3, SECCOMP_RET_USER_NOTIF,
                              SECCOMP_FILTER_FLAG_NEW_LISTENER);
    if (listener < 0)
        setup_fail("installing the seccomp filter with a listener");
    if (send_fd(sock, (int)listener) != 0)
        setup_fail("sending the listener");
    /* Only the supervisor holds it now: if it goes away, our calls fail
     * with ENOSYS instead of waiting forever. */
    close((int)listener);
    close(sock);

    if (cont) {
        want_ok("mount", kret(syscall(NR64_MOUNT, "none", a, "tmpfs", 0, "size=1m")));
        want_ok("umount2", kret(syscall(NR64_UMOUNT2, a, 0)));
        want_ok("fsopen", kret(syscall(NR64_FSOPEN, "tmpfs", 0)));
    } else {
        want_err("mount", kret(syscall(NR64_MOUNT, "none", a, "tmpfs", 0, "size=1m")), EPERM);
        want_val("umount2", kret(syscall(NR64_UMOUNT2, a, 0)), 0);
        want_err("fsopen", kret(syscall(NR64_FSOPEN, "tmpfs", 0)), ENODEV);
    }
    return scenario_status();
}

/* Answers the child's three calls, in order. Returns 0, or the exit
 * status to use. */
static int supervise(int listener, int cont)
{
    static const struct {
        int nr;
        int error;
    } plan[] = {
        { NR64_MOUNT, -EPERM },
        { NR64_UMOUNT2, 0 },
        { NR64_FSOPEN, -ENODEV },
    };
    size_t i;
    int status = 0;

    for (i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        struct pollfd pfd = { listener, POLLIN, 0 };
        int r = poll(&pfd, 1, NOTIF_TIMEOUT_MS);

        if (r <= 0 || !(pfd.revents & POLLIN)) {
            fprintf(stderr, "%s: supervisor: no call #%zu from the child (%s)\n", prog_name,
                    i + 1, r == 0 ? "timeout" : r < 0 ? strerror(errno) : "hang-up");
            return EXIT_UNEXPECTED;
        }
        memset(&req, 0, sizeof(req));
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
            fprintf(stderr, "%s: supervisor: SECCOMP_IOCTL_NOTIF_RECV: %s\n", prog_name,
                    strerror(errno));
            return EXIT_UNEXPECTED;
        }
        memset(&resp, 0, sizeof(resp));
        resp.id = req.id;
        if (req.data.nr != plan[i].nr || req.data.arch != AUDIT_ARCH_X86_64) {
            fprintf(stderr, "%s: supervisor: call #%zu is nr %d arch 0x%x, expected nr %d\n",
                    prog_name, i + 1, req.data.nr, req.data.arch, plan[i].nr);
            status = EXIT_UNEXPECTED;
            resp.error = -ENOSYS;
        } else if (cont) {
            resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        } else {
            resp.error = plan[i].error;
            resp.val = 0;
        }
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0) {
            fprintf(stderr, "%s: supervisor: SECCOMP_IOCTL_NOTIF_SEND: %s\n", prog_name,
                    strerror(errno));
            return EXIT_UNEXPECTED;
        }
    }
    return status;
}

static int verbose_child_status(pid_t child, int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "%s: child %d died of signal %d\n", prog_name, (int)child,
            WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return EXIT_UNEXPECTED;
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
    fprintf(stderr, "usage: seccomp errno|errno32|trap|kill|notif|notif-continue|storm N\n");
    exit(EXIT_SETUP);
}

int main(int argc, char **argv)
{
    enum { ERRNO, ERRNO32, TRAP, KILL, NOTIF, NOTIF_CONTINUE, STORM } mode;
    unsigned long storm_n = 0;
    int sv[2] = { -1, -1 };
    int listener = -1, sup_status = 0, status, code;
    pid_t child;

    prog_name = "seccomp";
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "errno") == 0 && argc == 2)
        mode = ERRNO;
    else if (strcmp(argv[1], "errno32") == 0 && argc == 2)
        mode = ERRNO32;
    else if (strcmp(argv[1], "trap") == 0 && argc == 2)
        mode = TRAP;
    else if (strcmp(argv[1], "kill") == 0 && argc == 2)
        mode = KILL;
    else if (strcmp(argv[1], "notif") == 0 && argc == 2)
        mode = NOTIF;
    else if (strcmp(argv[1], "notif-continue") == 0 && argc == 2)
        mode = NOTIF_CONTINUE;
    else if (strcmp(argv[1], "storm") == 0 && argc == 3) {
        char *end;

        errno = 0;
        storm_n = strtoul(argv[2], &end, 10);
        if (errno != 0 || end == argv[2] || *end != '\0' || argv[2][0] == '-')
            usage();
        mode = STORM;
    } else
        usage();

    enter_private_tmpfs();
    make_dir(at("a"));
    if ((mode == NOTIF || mode == NOTIF_CONTINUE) &&
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        leave_private_tmpfs();
        setup_fail("socketpair");
    }
    fflush(stdout);
    fflush(stderr);
    child = fork();
    if (child < 0) {
        leave_private_tmpfs();
        setup_fail("fork");
    }
    if (child == 0) {
        switch (mode) {
        case ERRNO: _exit(child_errno());
        case ERRNO32: _exit(child_errno32());
        case TRAP: _exit(child_trap());
        case KILL: _exit(child_kill());
        case NOTIF: close(sv[0]); _exit(child_notif(sv[1], 0));
        case NOTIF_CONTINUE: close(sv[0]); _exit(child_notif(sv[1], 1));
        case STORM: _exit(child_storm(storm_n));
        }
        _exit(EXIT_SETUP);
    }

    if (mode == NOTIF || mode == NOTIF_CONTINUE) {
        close(sv[1]);
        listener = recv_fd(sv[0]);
        if (listener < 0) {
            fprintf(stderr, "%s: supervisor: receiving the listener: %s\n", prog_name,
                    strerror(errno));
            sup_status = EXIT_SETUP;
        } else {
            sup_status = supervise(listener, mode == NOTIF_CONTINUE);
        }
        close(sv[0]);
    }
    if (waitpid(child, &status, 0) != child) {
        leave_private_tmpfs();
        setup_fail("waitpid");
    }
    /*
     * The listener lives as long as the supervised process, as a real
     * supervisor's does (LXD, sysbox): closing it sooner would race with
     * the answered call's return.
     */
    if (listener >= 0)
        close(listener);
    leave_private_tmpfs();
    printf("pids %d\n", (int)child);
    fflush(stdout);

    if (mode == KILL) {
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
            return 0;
        fprintf(stderr, "%s: child was not killed by SIGSYS (status 0x%x)\n", prog_name,
                status);
        return 1;
    }
    code = verbose_child_status(child, status);
    if (code == 0)
        code = sup_status;
    return code;
}
