#!/bin/sh
# Builds the C workload programs of tests/c/ into OUTDIR.
#
# Usage: tests/c/build.sh OUTDIR
#        tests/c/build.sh --armhf OUTDIR
#
# --armhf builds only mount32, for 32-bit ARM (EABI, hard float), for the
# arm64 QEMU matrix (tests/vm/run-matrix.sh --arch aarch64), which runs it
# in an arm64 guest. It needs the cross compiler:
#   apt-get install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
# (which, like the aarch64 one, does not go with gcc-multilib).
#
# Debian 12 packages needed (exactly these; NOT gcc-multilib, which
# conflicts with the aarch64 cross compilers):
#   apt-get install gcc libc6-dev libc6-dev-i386 lib32gcc-12-dev
# (libc6-dev-i386 depends on libc6-dev; it is listed because the 64-bit
# programs need it on its own.)
#
# Without gcc-multilib, gcc -m32 has no <asm/...> headers of its own: the
# x86_64 ones in /usr/include/x86_64-linux-gnu are shared by both ABIs
# (they switch on __i386__), so they are added with -isystem. The i386
# crt files and libc.a come from libc6-dev-i386 (/usr/lib32), libgcc from
# lib32gcc-12-dev (/usr/lib/gcc/x86_64-linux-gnu/12/32); gcc finds both on
# its own. Everything is linked statically, so the programs need no
# 32-bit loader at run time.
#
# Programs: mount32 (-m32), int80, seccomp. See the comment at the top of
# each .c file for what it does; testns.h for the stdout/exit conventions.
set -eu

fail() {
    echo "tests/c/build.sh: $*" >&2
    exit 1
}

armhf=
if [ "${1:-}" = --armhf ]; then
    armhf=1
    shift
fi
[ $# -eq 1 ] || fail "usage: $0 [--armhf] OUTDIR"
out=$1
src=$(cd "$(dirname "$0")" && pwd)

if [ -n "$armhf" ]; then
    cc=${CC:-arm-linux-gnueabihf-gcc}
    command -v "$cc" >/dev/null 2>&1 ||
        fail "$cc not found: apt-get install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross"
    mkdir -p "$out" || fail "cannot create $out"
    # Static: the arm64 guest has no 32-bit loader or libc.
    "$cc" -O2 -g -Wall -Wextra -static -o "$out/mount32" "$src/mount32.c" ||
        fail "building mount32 for armhf failed: apt-get install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross"
    exit 0
fi
cc=${CC:-gcc}
cflags="-O2 -g -Wall -Wextra -static"

command -v "$cc" >/dev/null 2>&1 || fail "$cc not found: apt-get install gcc"
mkdir -p "$out" || fail "cannot create $out"

multiarch=$("$cc" -print-multiarch 2>/dev/null) || multiarch=
[ -n "$multiarch" ] || multiarch=x86_64-linux-gnu
asm_inc=/usr/include/$multiarch
[ -d "$asm_inc/asm" ] || fail "$asm_inc/asm missing: apt-get install linux-libc-dev libc6-dev"

build64() {
    name=$1
    "$cc" $cflags -o "$out/$name" "$src/$name.c" ||
        fail "building $name (64-bit) failed: apt-get install gcc libc6-dev"
}

build32() {
    name=$1
    [ -f /usr/lib32/libc.a ] ||
        fail "building $name needs /usr/lib32/libc.a: apt-get install libc6-dev-i386"
    "$cc" -m32 -isystem "$asm_inc" $cflags -o "$out/$name" "$src/$name.c" ||
        fail "building $name (32-bit, -m32) failed: apt-get install libc6-dev-i386 lib32gcc-12-dev (not gcc-multilib)"
}

build32 mount32
build64 int80
build64 seccomp
