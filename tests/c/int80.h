/*
 * int80.h - 32-bit calls from a 64-bit program: int $0x80, and strings
 * in memory below 4 GiB for its 32-bit pointer arguments. Used by int80.c
 * and by seccomp.c (refused 32-bit calls). Include after testns.h.
 */
#ifndef MOUNTSNOOP_INT80_H
#define MOUNTSNOOP_INT80_H

#include <stdint.h>
#include <sys/mman.h>

/* The i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl). */
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

/* One page below 4 GiB (MAP_32BIT) for low_str; called inside the
 * private tmpfs, which it leaves on failure. */
static void map_low_mem(void)
{
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
}

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

#endif
