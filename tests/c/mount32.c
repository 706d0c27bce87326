/*
 * mount32 - every mount-family call made by a 32-bit process: i386 on
 * x86_64, or 32-bit ARM (AArch32, EABI) on arm64.
 *
 * Why: on x86_64 and arm64 the per-call syscall tracepoints do not fire
 * for 32-bit calls, and the 32-bit numbers differ from the 64-bit ones
 * (mount is 21, not 165 or 40; "umount" (oldumount, one argument) exists
 * only on i386: 32-bit ARM's EABI has none). This program gives the
 * tests a 32-bit process whose calls, and their results, are known in
 * advance. It must be built for a 32-bit target (see build.sh): -m32 on
 * x86_64, arm-linux-gnueabihf-gcc for ARM; it refuses to build otherwise.
 *
 * Every mount-family call goes through syscall() with the number the
 * target's own headers give (SYS_*), so the arguments are exactly the
 * ones below. BASE is the
 * private tmpfs from testns.h. In order, with the expected results:
 *
 *   mount("none", BASE/a, "tmpfs", MS_NOSUID|MS_NODEV, "size=1m") = 0
 *   mount(BASE/a, BASE/b, NULL, MS_BIND, NULL) = 0
 *   mount(NULL, BASE/b, NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL) = 0
 *   umount(BASE/b) = 0                                [i386 only, nr 22]
 *   umount2(BASE/a, MNT_DETACH) = 0
 *   mount("none", BASE/a, "bogusfs", 0, NULL) = -1 ENODEV
 *   umount2(BASE/a, 0) = -1 EINVAL
 *   umount(BASE/a) = -1 EINVAL                        [i386 only, nr 22]
 *   fsopen("bogusfs", FSOPEN_CLOEXEC) = -1 ENODEV
 *   fsopen("tmpfs", FSOPEN_CLOEXEC) = FS
 *   fsconfig(FS, FSCONFIG_SET_STRING, "size", "2m", 0) = 0
 *   fsconfig(FS, FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0
 *   fsmount(FS, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV) = M
 *   fsmount(-1, 0, 0) = -1 EBADF
 *   move_mount(M, "", AT_FDCWD, BASE/c, MOVE_MOUNT_F_EMPTY_PATH) = 0
 *   move_mount(-1, "", AT_FDCWD, BASE/d, MOVE_MOUNT_F_EMPTY_PATH) = -1 EBADF
 *   open_tree(AT_FDCWD, BASE/c, OPEN_TREE_CLONE) = T
 *   move_mount(T, "", AT_FDCWD, BASE/d, MOVE_MOUNT_F_EMPTY_PATH) = 0
 *   open_tree(AT_FDCWD, BASE/nonexistent, 0) = -1 ENOENT
 *   fspick(AT_FDCWD, BASE/c, 0) = P
 *   fsconfig(P, FSCONFIG_SET_BINARY, "size", "ab\0c\n\377", 6) = -1 EINVAL
 *   fspick(AT_FDCWD, BASE/a, 0) = -1 EINVAL   (not the root of a mount)
 *   mount_setattr(AT_FDCWD, BASE/c, 0, {attr_set=MOUNT_ATTR_RDONLY,
 *                 attr_clr=0, propagation=0, userns_fd=0}, 32) = 0
 *   mount_setattr(AT_FDCWD, BASE/c, 0, <same struct>, 8) = -1 EINVAL
 *   open_tree_attr(AT_FDCWD, BASE/c, OPEN_TREE_CLONE,
 *                  {attr_set=MOUNT_ATTR_NOEXEC, ...}, 32) = fd or -1 ENOSYS
 *   pivot_root("/nonexistent-a", "/nonexistent-b") = -1 ENOENT
 *   then, in a forked child (the second pid on the "pids" line), the way a
 *   container runtime does it, in a mount namespace of its own:
 *     mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL) = 0
 *     mount("none", BASE/r, "tmpfs", 0, "size=1m") = 0
 *     pivot_root(BASE/r, BASE/r/old) = 0
 *     umount2("/old", MNT_DETACH) = 0
 *   and, back in the parent, the clean-up:
 *     umount2(BASE/d, MNT_DETACH) = 0
 *     umount2(BASE/c, MNT_DETACH) = 0
 *     umount2(BASE, MNT_DETACH) = 0
 *
 * The set-up calls of testns.h (unshare, making / private, mounting BASE)
 * come first, from the parent, also as 32-bit calls. On ARM, without
 * umount, BASE/b stays mounted until BASE is detached at the end.
 *
 * stdout: "pids PARENT CHILD". Exit status: see testns.h.
 */
#include "testns.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#if !defined(__i386__) && !defined(__arm__)
#error "mount32 must be built for i386 (-m32) or 32-bit ARM: it makes 32-bit system calls"
#endif

/*
 * The numbers are the target's (i386: pivot_root 217; ARM: 218). Calls
 * newer than the C library's headers have the number every architecture
 * has shared since Linux 5.1 (asm-generic's unified table).
 */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#define SYS_fspick 433
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif

/* struct mount_attr, version 0: four u64, 32 bytes on every ABI. */
struct attr0 {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};
_Static_assert(sizeof(struct attr0) == 32, "struct mount_attr is 32 bytes");

/* A container-style pivot_root in a namespace of its own; returns 0 when
 * every step did what it should. Runs in a forked child. */
static int pivot_child(const char *newroot, const char *put_old)
{
    unexpected = 0; /* count this child's calls only */
    if (unshare(CLONE_NEWNS) != 0) {
        fprintf(stderr, "%s: pivot child: unshare: %s\n", prog_name, strerror(errno));
        return EXIT_SETUP;
    }
    want_ok("mount(NULL, \"/\", MS_REC|MS_PRIVATE) in pivot child",
            kret(syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)));
    want_ok("mount tmpfs on new root",
            kret(syscall(SYS_mount, "none", newroot, "tmpfs", 0, "size=1m")));
    if (mkdir(put_old, 0755) != 0) {
        fprintf(stderr, "%s: pivot child: mkdir %s: %s\n", prog_name, put_old,
                strerror(errno));
        return EXIT_SETUP;
    }
    want_ok("pivot_root(new root, put_old)",
            kret(syscall(SYS_pivot_root, newroot, put_old)));
    if (chdir("/") != 0) {
        unexpected++;
        fprintf(stderr, "%s: pivot child: chdir /: %s\n", prog_name, strerror(errno));
    }
    want_ok("umount2(\"/old\", MNT_DETACH)",
            kret(syscall(SYS_umount2, "/old", MNT_DETACH)));
    return scenario_status();
}

int main(void)
{
    static const char binary[6] = { 'a', 'b', '\0', 'c', '\n', '\377' };
    struct attr0 attr;
    char *a, *b, *c, *d, *r, *r_old, *missing;
    long fs, m, t, p, tattr, setattr;
    pid_t child;
    int status;

    prog_name = "mount32";
    enter_private_tmpfs();
    a = at("a");
    b = at("b");
    c = at("c");
    d = at("d");
    r = at("r");
    r_old = at("r/old");
    missing = at("nonexistent");
    make_dir(a);
    make_dir(b);
    make_dir(c);
    make_dir(d);
    make_dir(r);

    /* The classic calls. */
    want_ok("mount tmpfs on a",
            kret(syscall(SYS_mount, "none", a, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")));
    want_ok("bind mount a on b",
            kret(syscall(SYS_mount, a, b, NULL, MS_BIND, NULL)));
    want_ok("remount b read-only",
            kret(syscall(SYS_mount, NULL, b, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL)));
#ifdef SYS_umount
    want_ok("umount(b)", kret(syscall(SYS_umount, b)));
#endif
    want_ok("umount2(a, MNT_DETACH)", kret(syscall(SYS_umount2, a, MNT_DETACH)));
    want_err("mount bogusfs on a",
             kret(syscall(SYS_mount, "none", a, "bogusfs", 0, NULL)), ENODEV);
    want_err("umount2(a, 0) of a non-mount", kret(syscall(SYS_umount2, a, 0)), EINVAL);
#ifdef SYS_umount
    want_err("umount(a) of a non-mount", kret(syscall(SYS_umount, a)), EINVAL);
#endif

    /* The new mount API, a whole chain. */
    want_err("fsopen(\"bogusfs\")",
             kret(syscall(SYS_fsopen, "bogusfs", FSOPEN_CLOEXEC)), ENODEV);
    fs = want_ok("fsopen(\"tmpfs\")", kret(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC)));
    want_ok("fsconfig SET_STRING size",
            kret(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "2m", 0)));
    want_ok("fsconfig CMD_CREATE",
            kret(syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)));
    m = want_ok("fsmount",
                kret(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                             MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)));
    want_err("fsmount(-1)", kret(syscall(SYS_fsmount, -1, 0, 0)), EBADF);
    want_ok("move_mount onto c",
            kret(syscall(SYS_move_mount, m, "", AT_FDCWD, c, MOVE_MOUNT_F_EMPTY_PATH)));
    want_err("move_mount(-1) onto d",
             kret(syscall(SYS_move_mount, -1, "", AT_FDCWD, d, MOVE_MOUNT_F_EMPTY_PATH)),
             EBADF);
    t = want_ok("open_tree clone of c",
                kret(syscall(SYS_open_tree, AT_FDCWD, c, OPEN_TREE_CLONE)));
    want_ok("move_mount clone onto d",
            kret(syscall(SYS_move_mount, t, "", AT_FDCWD, d, MOVE_MOUNT_F_EMPTY_PATH)));
    want_err("open_tree of a missing path",
             kret(syscall(SYS_open_tree, AT_FDCWD, missing, 0)), ENOENT);
    p = want_ok("fspick c", kret(syscall(SYS_fspick, AT_FDCWD, c, 0)));
    want_err("fsconfig SET_BINARY size",
             kret(syscall(SYS_fsconfig, p, FSCONFIG_SET_BINARY, "size", binary,
                          sizeof(binary))),
             EINVAL);
    want_err("fspick a (not a mount root)", kret(syscall(SYS_fspick, AT_FDCWD, a, 0)),
             EINVAL);
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = MOUNT_ATTR_RDONLY;
    /* Linux 5.12 and later; older kernels answer ENOSYS to both. */
    setattr = want_ok_or("mount_setattr c read-only",
                         kret(syscall(SYS_mount_setattr, AT_FDCWD, c, 0, &attr, sizeof(attr))),
                         ENOSYS);
    want_err("mount_setattr with size 8",
             kret(syscall(SYS_mount_setattr, AT_FDCWD, c, 0, &attr, 8)),
             setattr == -ENOSYS ? ENOSYS : EINVAL);
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = MOUNT_ATTR_NOEXEC;
    tattr = want_ok_or("open_tree_attr clone of c",
                       kret(syscall(SYS_open_tree_attr, AT_FDCWD, c, OPEN_TREE_CLONE,
                                    &attr, sizeof(attr))),
                       ENOSYS);

    /* pivot_root: one that fails, one that works (in a child). */
    want_err("pivot_root of missing paths",
             kret(syscall(SYS_pivot_root, "/nonexistent-a", "/nonexistent-b")), ENOENT);
    fflush(stdout);
    fflush(stderr);
    child = fork();
    if (child < 0)
        setup_fail("fork");
    if (child == 0)
        _exit(pivot_child(r, r_old));
    if (waitpid(child, &status, 0) != child)
        setup_fail("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unexpected++;
        fprintf(stderr, "%s: pivot_root child failed (status 0x%x)\n", prog_name, status);
    }

    /* Clean up. */
    if (tattr >= 0)
        close((int)tattr);
    if (p >= 0)
        close((int)p);
    if (t >= 0)
        close((int)t);
    if (m >= 0)
        close((int)m);
    if (fs >= 0)
        close((int)fs);
    want_ok("umount2(d, MNT_DETACH)", kret(syscall(SYS_umount2, d, MNT_DETACH)));
    want_ok("umount2(c, MNT_DETACH)", kret(syscall(SYS_umount2, c, MNT_DETACH)));
    leave_private_tmpfs();

    printf("pids %d %d\n", (int)getpid(), (int)child);
    return scenario_status();
}
