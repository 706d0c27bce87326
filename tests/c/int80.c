/*
 * int80 - a 64-bit program that makes 32-bit mount calls with int $0x80.
 *
 * Why: a 64-bit process can enter the kernel through the i386 gate
 * (int $0x80); the kernel then runs the i386 syscall table (mount is 21,
 * not 165) on 32-bit register values, while the process itself is 64-bit.
 * A tracer must decide "32-bit call" per call, not per process, and must
 * read the pointers as 32-bit values. Since only the low 32 bits of each
 * register are passed, every string lives in memory below 4 GiB
 * (mmap with MAP_32BIT).
 *
 * Calls, in order, all through int $0x80, with the expected results
 * (BASE is the private tmpfs from testns.h, set up with ordinary 64-bit
 * calls first):
 *
 *   mount("none", BASE/x, "tmpfs", 0, "size=1m") = 0        [nr 21]
 *   umount2(BASE/x, 0) = 0                                  [nr 52]
 *   mount("none", BASE/x, "tmpfs", 0, "size=1m") = 0        [nr 21]
 *   umount(BASE/x) = 0                                      [nr 22, oldumount]
 *   mount("none", BASE/x, "bogusfs", 0, NULL) = -1 ENODEV   [nr 21]
 *
 * stdout: "pids PID". Exit status: see testns.h.
 */
#include "testns.h"

#include <stdint.h>
#include <sys/mman.h>

#ifndef __x86_64__
#error "int80 is an x86_64 program"
#endif

enum {
    NR32_MOUNT = 21,
    NR32_UMOUNT = 22,
    NR32_UMOUNT2 = 52,
};

/* The kernel returns -errno in eax; r8-r11 are not preserved across
 * int $0x80 from 64-bit mode on every kernel, so they are clobbered. */
static long int80(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4,
                  uint32_t a5)
{
    uint32_t ret;

    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5)
                     : "r8", "r9", "r10", "r11", "memory", "cc");
    return (long)(int32_t)ret;
}

static char *low_mem;
static size_t low_used;

/* A copy of s in memory below 4 GiB, as a 32-bit pointer. */
static uint32_t low_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = low_mem + low_used;

    if (low_used + n > 4096) {
        errno = ENOMEM;
        setup_fail("low memory full");
    }
    memcpy(p, s, n);
    low_used += n;
    return (uint32_t)(uintptr_t)p;
}

int main(void)
{
    uint32_t none, tmpfs, bogusfs, size, x;

    prog_name = "int80";
    enter_private_tmpfs();
    make_dir(at("x"));

    low_mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low_mem == MAP_FAILED) {
        leave_private_tmpfs();
        setup_fail("mmap(MAP_32BIT)");
    }
    if ((uint64_t)(uintptr_t)low_mem + 4096 > (uint64_t)1 << 32) {
        leave_private_tmpfs();
        errno = ERANGE;
        setup_fail("MAP_32BIT memory at %p is not below 4 GiB", (void *)low_mem);
    }
    none = low_str("none");
    tmpfs = low_str("tmpfs");
    bogusfs = low_str("bogusfs");
    size = low_str("size=1m");
    x = low_str(at("x"));

    want_ok("int80 mount tmpfs on x", int80(NR32_MOUNT, none, x, tmpfs, 0, size));
    want_ok("int80 umount2(x, 0)", int80(NR32_UMOUNT2, x, 0, 0, 0, 0));
    want_ok("int80 mount tmpfs on x again", int80(NR32_MOUNT, none, x, tmpfs, 0, size));
    want_ok("int80 umount(x)", int80(NR32_UMOUNT, x, 0, 0, 0, 0));
    want_err("int80 mount bogusfs on x", int80(NR32_MOUNT, none, x, bogusfs, 0, 0), ENODEV);

    leave_private_tmpfs();
    printf("pids %d\n", (int)getpid());
    return scenario_status();
}
