/*
 * mount32 - every mount-family call made by a 32-bit (ia32) process.
 *
 * Why: on x86_64 the per-call syscall tracepoints do not fire for 32-bit
 * calls, and the i386 numbers differ from the x86_64 ones (mount is 21,
 * not 165; "umount" (oldumount, one argument) exists only there). This
 * program gives the integration tests a 32-bit process whose calls, and
 * their results, are known in advance. It must be built with -m32 (see
 * build.sh); it refuses to build otherwise.
 *
 * Every mount-family call goes through syscall() with the i386 number
 * written out, so the arguments are exactly the ones below. BASE is the
 * private tmpfs from testns.h. In order, with the expected results:
 *
 *   mount("none", BASE/a, "tmpfs", MS_NOSUID|MS_NODEV, "size=1m") = 0
 *   mount(BASE/a, BASE/b, NULL, MS_BIND, NULL) = 0
 *   mount(NULL, BASE/b, NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL) = 0
 *   umount(BASE/b) = 0                                      [nr 22]
 *   umount2(BASE/a, MNT_DETACH) = 0
 *   mount("none", BASE/a, "bogusfs", 0, NULL) = -1 ENODEV
 *   umount2(BASE/a, 0) = -1 EINVAL
 *   umount(BASE/a) = -1 EINVAL                              [nr 22]
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
 * come first, from the parent, also as 32-bit calls.
 *
 * stdout: "pids PARENT CHILD". Exit status: see testns.h.
 */
#include "testns.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef __i386__
#error "mount32 must be built with -m32: it makes i386 system calls"
#endif

/* The i386 syscall numbers (arch/x86/entry/syscalls/syscall_32.tbl). */
enum {
    NR32_MOUNT = 21,
    NR32_UMOUNT = 22, /* oldumount: one argument */
    NR32_UMOUNT2 = 52,
    NR32_PIVOT_ROOT = 217,
    NR32_OPEN_TREE = 428,
    NR32_MOVE_MOUNT = 429,
    NR32_FSOPEN = 430,
    NR32_FSCONFIG = 431,
    NR32_FSMOUNT = 432,
    NR32_FSPICK = 433,
    NR32_MOUNT_SETATTR = 442,
    NR32_OPEN_TREE_ATTR = 467,
};

/* Where the headers know a number, it must agree with the table above. */
_Static_assert(SYS_mount == NR32_MOUNT, "i386 mount");
_Static_assert(SYS_umount == NR32_UMOUNT, "i386 umount");
_Static_assert(SYS_umount2 == NR32_UMOUNT2, "i386 umount2");
_Static_assert(SYS_pivot_root == NR32_PIVOT_ROOT, "i386 pivot_root");
#ifdef SYS_open_tree
_Static_assert(SYS_open_tree == NR32_OPEN_TREE, "i386 open_tree");
_Static_assert(SYS_move_mount == NR32_MOVE_MOUNT, "i386 move_mount");
_Static_assert(SYS_fsopen == NR32_FSOPEN, "i386 fsopen");
_Static_assert(SYS_fsconfig == NR32_FSCONFIG, "i386 fsconfig");
_Static_assert(SYS_fsmount == NR32_FSMOUNT, "i386 fsmount");
_Static_assert(SYS_fspick == NR32_FSPICK, "i386 fspick");
#endif
#ifdef SYS_mount_setattr
_Static_assert(SYS_mount_setattr == NR32_MOUNT_SETATTR, "i386 mount_setattr");
#endif
#ifdef SYS_open_tree_attr
_Static_assert(SYS_open_tree_attr == NR32_OPEN_TREE_ATTR, "i386 open_tree_attr");
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
            kret(syscall(NR32_MOUNT, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)));
    want_ok("mount tmpfs on new root",
            kret(syscall(NR32_MOUNT, "none", newroot, "tmpfs", 0, "size=1m")));
    if (mkdir(put_old, 0755) != 0) {
        fprintf(stderr, "%s: pivot child: mkdir %s: %s\n", prog_name, put_old,
                strerror(errno));
        return EXIT_SETUP;
    }
    want_ok("pivot_root(new root, put_old)",
            kret(syscall(NR32_PIVOT_ROOT, newroot, put_old)));
    if (chdir("/") != 0) {
        unexpected++;
        fprintf(stderr, "%s: pivot child: chdir /: %s\n", prog_name, strerror(errno));
    }
    want_ok("umount2(\"/old\", MNT_DETACH)",
            kret(syscall(NR32_UMOUNT2, "/old", MNT_DETACH)));
    return scenario_status();
}

int main(void)
{
    static const char binary[6] = { 'a', 'b', '\0', 'c', '\n', '\377' };
    struct attr0 attr;
    char *a, *b, *c, *d, *r, *r_old, *missing;
    long fs, m, t, p, tattr;
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
            kret(syscall(NR32_MOUNT, "none", a, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")));
    want_ok("bind mount a on b",
            kret(syscall(NR32_MOUNT, a, b, NULL, MS_BIND, NULL)));
    want_ok("remount b read-only",
            kret(syscall(NR32_MOUNT, NULL, b, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL)));
    want_ok("umount(b)", kret(syscall(NR32_UMOUNT, b)));
    want_ok("umount2(a, MNT_DETACH)", kret(syscall(NR32_UMOUNT2, a, MNT_DETACH)));
    want_err("mount bogusfs on a",
             kret(syscall(NR32_MOUNT, "none", a, "bogusfs", 0, NULL)), ENODEV);
    want_err("umount2(a, 0) of a non-mount", kret(syscall(NR32_UMOUNT2, a, 0)), EINVAL);
    want_err("umount(a) of a non-mount", kret(syscall(NR32_UMOUNT, a)), EINVAL);

    /* The new mount API, a whole chain. */
    want_err("fsopen(\"bogusfs\")",
             kret(syscall(NR32_FSOPEN, "bogusfs", FSOPEN_CLOEXEC)), ENODEV);
    fs = want_ok("fsopen(\"tmpfs\")", kret(syscall(NR32_FSOPEN, "tmpfs", FSOPEN_CLOEXEC)));
    want_ok("fsconfig SET_STRING size",
            kret(syscall(NR32_FSCONFIG, fs, FSCONFIG_SET_STRING, "size", "2m", 0)));
    want_ok("fsconfig CMD_CREATE",
            kret(syscall(NR32_FSCONFIG, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)));
    m = want_ok("fsmount",
                kret(syscall(NR32_FSMOUNT, fs, FSMOUNT_CLOEXEC,
                             MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)));
    want_err("fsmount(-1)", kret(syscall(NR32_FSMOUNT, -1, 0, 0)), EBADF);
    want_ok("move_mount onto c",
            kret(syscall(NR32_MOVE_MOUNT, m, "", AT_FDCWD, c, MOVE_MOUNT_F_EMPTY_PATH)));
    want_err("move_mount(-1) onto d",
             kret(syscall(NR32_MOVE_MOUNT, -1, "", AT_FDCWD, d, MOVE_MOUNT_F_EMPTY_PATH)),
             EBADF);
    t = want_ok("open_tree clone of c",
                kret(syscall(NR32_OPEN_TREE, AT_FDCWD, c, OPEN_TREE_CLONE)));
    want_ok("move_mount clone onto d",
            kret(syscall(NR32_MOVE_MOUNT, t, "", AT_FDCWD, d, MOVE_MOUNT_F_EMPTY_PATH)));
    want_err("open_tree of a missing path",
             kret(syscall(NR32_OPEN_TREE, AT_FDCWD, missing, 0)), ENOENT);
    p = want_ok("fspick c", kret(syscall(NR32_FSPICK, AT_FDCWD, c, 0)));
    want_err("fsconfig SET_BINARY size",
             kret(syscall(NR32_FSCONFIG, p, FSCONFIG_SET_BINARY, "size", binary,
                          sizeof(binary))),
             EINVAL);
    want_err("fspick a (not a mount root)", kret(syscall(NR32_FSPICK, AT_FDCWD, a, 0)),
             EINVAL);
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = MOUNT_ATTR_RDONLY;
    want_ok("mount_setattr c read-only",
            kret(syscall(NR32_MOUNT_SETATTR, AT_FDCWD, c, 0, &attr, sizeof(attr))));
    want_err("mount_setattr with size 8",
             kret(syscall(NR32_MOUNT_SETATTR, AT_FDCWD, c, 0, &attr, 8)), EINVAL);
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = MOUNT_ATTR_NOEXEC;
    tattr = want_ok_or("open_tree_attr clone of c",
                       kret(syscall(NR32_OPEN_TREE_ATTR, AT_FDCWD, c, OPEN_TREE_CLONE,
                                    &attr, sizeof(attr))),
                       ENOSYS);

    /* pivot_root: one that fails, one that works (in a child). */
    want_err("pivot_root of missing paths",
             kret(syscall(NR32_PIVOT_ROOT, "/nonexistent-a", "/nonexistent-b")), ENOENT);
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
    want_ok("umount2(d, MNT_DETACH)", kret(syscall(NR32_UMOUNT2, d, MNT_DETACH)));
    want_ok("umount2(c, MNT_DETACH)", kret(syscall(NR32_UMOUNT2, c, MNT_DETACH)));
    leave_private_tmpfs();

    printf("pids %d %d\n", (int)getpid(), (int)child);
    return scenario_status();
}
