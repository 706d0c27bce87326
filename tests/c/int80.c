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
#include "int80.h"

#ifndef __x86_64__
#error "int80 is an x86_64 program"
#endif

int main(void)
{
    uint32_t none, tmpfs, bogusfs, size, x;

    prog_name = "int80";
    enter_private_tmpfs();
    make_dir(at("x"));

    map_low_mem();
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
