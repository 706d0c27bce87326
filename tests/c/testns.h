/*
 * testns.h - shared by the C workload programs in tests/c/.
 *
 * Every program runs its scenario in a private mount namespace on a fresh
 * tmpfs under /tmp, exactly like tests/workload/ns.rs, so that nothing it
 * mounts can leak onto the host and a test can tell its calls apart.
 *
 * Conventions (documented once here, relied on by the tests):
 *   - stdout carries exactly one line, "pids PID...", written at the end:
 *     the pids whose mount-family calls make up the scenario.
 *   - stderr carries diagnostics only.
 *   - exit 0: the scenario ran and every call returned what it should
 *     (including the calls that fail on purpose);
 *     exit 2: setting up failed (the scenario did not run);
 *     exit 3: the scenario ran, but some call returned something else than
 *     expected (each one is named on stderr), so the kernel behaves
 *     differently from what a test would assume.
 *     The seccomp program's "kill" mode exits 1 instead when the child was
 *     not killed by SIGSYS (see seccomp.c).
 */
#ifndef MOUNTSNOOP_TESTNS_H
#define MOUNTSNOOP_TESTNS_H

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Needs glibc >= 2.36, which has the new mount API constants. */
#ifndef FSOPEN_CLOEXEC
#error "glibc >= 2.36 is needed (sys/mount.h without the new mount API constants)"
#endif

#define EXIT_SETUP 2
#define EXIT_UNEXPECTED 3

static const char *prog_name = "mountsnoop-test";
static char base_dir[] = "/tmp/mountsnoop-test.XXXXXX";
static int unexpected;

static void setup_fail(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void setup_fail(const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    fprintf(stderr, "%s: setup failed: ", prog_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", strerror(saved));
    exit(EXIT_SETUP);
}

/* BASE/name in a buffer that lives as long as the program. */
__attribute__((unused)) static char *at(const char *name)
{
    char *p;

    if (asprintf(&p, "%s/%s", base_dir, name) < 0) {
        errno = ENOMEM;
        setup_fail("asprintf");
    }
    return p;
}

__attribute__((unused)) static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0)
        setup_fail("mkdir %s", path);
}

static void enter_private_tmpfs(void)
{
    if (unshare(CLONE_NEWNS) != 0)
        setup_fail("unshare(CLONE_NEWNS)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        setup_fail("making / private");
    if (mkdtemp(base_dir) == NULL)
        setup_fail("mkdtemp");
    if (mount("mountsnoop-test", base_dir, "tmpfs", 0, "size=16m") != 0) {
        int saved = errno;

        rmdir(base_dir);
        errno = saved;
        setup_fail("mounting tmpfs on %s", base_dir);
    }
}

/* Errors are ignored: the namespace, and what is mounted in it, dies with
 * the process anyway; only the directory would be left behind. */
static void leave_private_tmpfs(void)
{
    umount2(base_dir, MNT_DETACH);
    rmdir(base_dir);
}

/* A syscall() result as the kernel returned it: -errno on failure.
 * errno is read before anything else can change it. */
__attribute__((unused)) static long kret(long r)
{
    return r < 0 ? -(long)errno : r;
}

static const char *errname(long neg)
{
    switch (-neg) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENOSYS: return "ENOSYS";
    case ENOTDIR: return "ENOTDIR";
    default: return "E?";
    }
}

static void report(const char *what, long got, const char *want)
{
    unexpected++;
    if (got < 0 && got > -4096)
        fprintf(stderr, "%s: unexpected: %s = -1 %s (%s), expected %s\n",
                prog_name, what, errname(got), strerror((int)-got), want);
    else
        fprintf(stderr, "%s: unexpected: %s = %ld, expected %s\n",
                prog_name, what, got, want);
}

/* The call must succeed (any value >= 0); returns the value. */
__attribute__((unused)) static long want_ok(const char *what, long got)
{
    if (got < 0)
        report(what, got, "success");
    return got;
}

/* The call must return exactly this value (>= 0). */
__attribute__((unused)) static long want_val(const char *what, long got, long val)
{
    if (got != val) {
        char buf[64];

        snprintf(buf, sizeof(buf), "%ld", val);
        report(what, got, buf);
    }
    return got;
}

/* The call must fail with this errno (given positive). */
__attribute__((unused)) static long want_err(const char *what, long got, int err)
{
    if (got != -err) {
        char buf[64];

        snprintf(buf, sizeof(buf), "-1 %s", errname(-err));
        report(what, got, buf);
    }
    return got;
}

/* The call must succeed, or fail with this errno (e.g. ENOSYS on a kernel
 * that predates the call). */
__attribute__((unused)) static long want_ok_or(const char *what, long got, int err)
{
    if (got < 0 && got != -err) {
        char buf[64];

        snprintf(buf, sizeof(buf), "success or -1 %s", errname(-err));
        report(what, got, buf);
    }
    return got;
}

static int scenario_status(void)
{
    return unexpected ? EXIT_UNEXPECTED : 0;
}

#endif
