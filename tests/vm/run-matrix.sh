#!/bin/bash
# CO-RE test matrix: boots Debian's own kernels in QEMU (TCG, no KVM
# needed) and runs the static mountsnoop against the test workload in
# each of them. See "Kernel test matrix" in README.md.
#
# Usage: tests/vm/run-matrix.sh [--arch x86_64|aarch64] [PACKAGE-REGEX...]
#
# --arch (default x86_64) is the guest's architecture; it need not be
# the host's. With no regex, the newest package matching each of
#   x86_64:
#   ^linux-image-5\.10\.0-[0-9]+-amd64-unsigned$         (Debian 11, oldest)
#   ^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$          (Debian 12)
#   ^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$    (Debian 12, 6.12)
#   aarch64:
#   ^linux-image-6\.1\.0-[0-9]+-arm64-unsigned$          (Debian 12)
#   ^linux-image-6\.12\.[0-9]+\+deb12-arm64-unsigned$    (Debian 12, 6.12)
# is chosen with apt-cache and fetched with apt-get download; nothing is
# installed on the host. The guests also run mount32 (tests/c) built for
# their 32-bit ABI, i386 or 32-bit ARM (armhf), whose calls must be seen
# as "abi":"i386" or "abi":"arm" and printed as the host prints the i386
# build's; the aarch64 guests' busybox is Debian's arm64 busybox-static,
# fetched the same way. Environment:
#   MOUNTSNOOP_VM_CACHE    downloads, unpacked kernels, logs
#                          (default ~/.cache/mountsnoop-vm)
#   MOUNTSNOOP_VM_TIMEOUT  seconds one VM may take (default 120; 300 for
#                          aarch64, whose whole CPU is emulated)
#   MOUNTSNOOP_VM_BIN      directory with prebuilt static mountsnoop and
#                          mountsnoop-test-workload for the guest's
#                          architecture (a workspace package of its own;
#                          default: build both with tests/vm/build-static.sh
#                          for the guest's target), and for aarch64
#                          optionally mount32 (default: tests/c/build.sh
#                          --armhf)
#   MOUNTSNOOP_VM_SMP      guest CPUs (default 1)
#
# Host needs: qemu-system-x86 busybox-static cpio zstd, and what
# build-static.sh needs; for aarch64 also qemu-system-arm and the cross
# compilers (gcc-aarch64-linux-gnu libc6-dev-arm64-cross libelf-dev:arm64
# zlib1g-dev:arm64 gcc-arm-linux-gnueabihf libc6-dev-armhf-cross).
# Exit status 0 only if every kernel printed "MOUNTSNOOP-VM-RESULT: PASS".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${MOUNTSNOOP_VM_CACHE:-$HOME/.cache/mountsnoop-vm}
smp=${MOUNTSNOOP_VM_SMP:-1}

say() { echo "run-matrix: $*" >&2; }
die() {
    say "error: $*"
    exit 2
}

arch=x86_64
if [[ ${1:-} == --arch ]]; then
    (($# >= 2)) || die "--arch needs x86_64 or aarch64"
    arch=$2
    shift 2
elif [[ ${1:-} == --arch=* ]]; then
    arch=${1#--arch=}
    shift
fi
case $arch in
x86_64 | amd64)
    arch=x86_64 deb_arch=amd64 qemu=qemu-system-x86_64 qemu_pkg=qemu-system-x86
    ;;
aarch64 | arm64)
    arch=aarch64 deb_arch=arm64 qemu=qemu-system-aarch64 qemu_pkg=qemu-system-arm
    ;;
*) die "unknown --arch $arch (x86_64 or aarch64)" ;;
esac
target=$arch-unknown-linux-gnu
# An aarch64 guest takes 20 to 50 s on a loaded 2-core host.
if [[ $arch == aarch64 ]]; then
    timeout_s=${MOUNTSNOOP_VM_TIMEOUT:-300}
else
    timeout_s=${MOUNTSNOOP_VM_TIMEOUT:-120}
fi

if (($# > 0)); then
    patterns=("$@")
elif [[ $arch == x86_64 ]]; then
    patterns=(
        '^linux-image-5\.10\.0-[0-9]+-amd64-unsigned$'
        '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$'
        '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$'
    )
else
    patterns=(
        '^linux-image-6\.1\.0-[0-9]+-arm64-unsigned$'
        '^linux-image-6\.12\.[0-9]+\+deb12-arm64-unsigned$'
    )
fi

# --- host tools -----------------------------------------------------------

missing=()
for tool in "$qemu" cpio dpkg-deb apt-get apt-cache readelf timeout gzip zstd; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    die "missing ${missing[*]}; on Debian: apt-get install $qemu_pkg busybox-static cpio zstd binutils"
fi

# is_static FILE: an executable that needs no shared library.
is_static() {
    readelf -h "$1" >/dev/null 2>&1 && ! readelf -d "$1" 2>/dev/null | grep -q NEEDED
}

# machine FILE: the ELF machine readelf names (e.g. "AArch64", "ARM").
machine() {
    readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p'
}
case $arch in
x86_64) want_machine='Advanced Micro Devices X86-64' ;;
aarch64) want_machine=AArch64 ;;
esac

# --- binaries -------------------------------------------------------------

if [[ -n ${MOUNTSNOOP_VM_BIN:-} ]]; then
    bin=$MOUNTSNOOP_VM_BIN
else
    say "building static binaries (tests/vm/build-static.sh $target)"
    bin=$("$here/build-static.sh" "$target" | tail -n 1)
fi
for b in mountsnoop mountsnoop-test-workload; do
    [[ -x $bin/$b ]] || die "no $bin/$b"
    is_static "$bin/$b" || die "$bin/$b is not a static executable (build it with tests/vm/build-static.sh $target)"
    [[ $(machine "$bin/$b") == "$want_machine" ]] ||
        die "$bin/$b is for $(machine "$bin/$b"), not $arch (build it with tests/vm/build-static.sh $target)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The 32-bit program, static: i386 for the x86-64 guests, 32-bit ARM for
# the arm64 ones. Its calls prove the 32-bit hooks on each kernel.
mount32=
if [[ -x $bin/mount32 ]]; then
    mount32=$bin/mount32
elif [[ $arch == aarch64 ]]; then
    say "building mount32 for 32-bit ARM (tests/c/build.sh --armhf)"
    "$here/../c/build.sh" --armhf "$work/c" >&2 || die "tests/c/build.sh --armhf failed"
    mount32=$work/c/mount32
else
    say "building mount32 for i386 (tests/c/build.sh)"
    "$here/../c/build.sh" "$work/c" >&2 || die "tests/c/build.sh failed"
    mount32=$work/c/mount32
fi
want32=ARM
[[ $arch == aarch64 ]] || want32="Intel 80386"
is_static "$mount32" && [[ $(machine "$mount32") == "$want32" ]] ||
    die "$mount32 is not a static $want32 executable (tests/c/build.sh)"

# --- kernels: a private apt state, so the host's sources stay untouched ---

# One apt state per architecture: apt-cache must see only the guest's.
apt_dir=$cache/apt
if [[ $deb_arch != amd64 ]]; then apt_dir=$cache/apt-$deb_arch; fi
mkdir -p "$apt_dir"/{empty.d,lists/partial,cache/archives/partial} "$cache"/{debs,kernels,logs}
cat >"$apt_dir/sources.list" <<'EOF'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bullseye-security main
EOF
apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=$apt_dir/empty.d"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=$apt_dir/empty.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Get::List-Cleanup=false"
    -o "APT::Architecture=$deb_arch"
    -o "APT::Architectures::=$deb_arch"
)
# As root apt drops to the _apt user, who cannot write into $HOME/.cache.
if ((EUID == 0)); then
    apt_opts+=(-o "APT::Sandbox::User=root")
fi

say "updating the $deb_arch package lists of bookworm{,-updates,-backports,-security} and bullseye{,-security} in $apt_dir"
if ! apt-get "${apt_opts[@]}" -qq update >"$cache/logs/apt-update-$deb_arch.log" 2>&1; then
    if compgen -G "$apt_dir/lists/*_Packages*" >/dev/null; then
        say "warning: apt-get update failed (see $cache/logs/apt-update-$deb_arch.log); using the cached lists"
    else
        cat "$cache/logs/apt-update-$deb_arch.log" >&2
        die "apt-get update failed and there are no cached package lists"
    fi
fi

# extract_vmlinux BZIMAGE OUT: finds the compressed kernel inside the
# bzImage and decompresses it to its ELF vmlinux, as the kernel's
# scripts/extract-vmlinux does: try every place a known magic occurs
# until the result is an ELF file.
extract_vmlinux() {
    local in=$1 out=$2 entry magic cmd off
    for entry in \
        '\x28\xb5\x2f\xfd|zstd -dcq' \
        '\xfd\x37\x7a\x58\x5a\x00|xz -dcq' \
        '\x1f\x8b\x08|gzip -dcq' \
        '\x02\x21\x4c\x18|lz4 -dcq' \
        '\x89\x4c\x5a\x4f|lzop -dcq' \
        '\x5d\x00\x00\x00|xz -dcq --format=lzma' \
        'BZh|bzip2 -dcq'; do
        magic=${entry%%|*}
        cmd=${entry#*|}
        command -v "${cmd%% *}" >/dev/null || continue
        for off in $(LC_ALL=C grep -aboP "$magic" "$in" | cut -d: -f1 || true); do
            # The decompressor complains about the bytes after the
            # payload; what counts is whether an ELF came out.
            tail -c "+$((off + 1))" "$in" | $cmd >"$out" 2>/dev/null || true
            if [[ $(head -c 4 "$out" | od -An -c | tr -d ' ') == '177ELF' ]]; then
                return 0
            fi
        done
    done
    rm -f "$out"
    return 1
}

# arm64_image IN OUT: the raw arm64 Image that qemu -kernel boots, from
# what a Debian arm64 package ships as vmlinuz: the raw Image itself
# ("ARM\x64" at 0x38), a gzip'd one, or an EFI zboot image ("zimg" at 4;
# the compressed payload's offset and size at 8 and 12, the compression's
# name at 24).
arm64_image() {
    local in=$1 out=$2 off size comp
    if [[ $(od -An -c -j 56 -N 3 "$in" | tr -d ' ') == ARM ]]; then
        cp "$in" "$out"
    elif [[ $(od -An -tx1 -N 2 "$in" | tr -d ' ') == 1f8b ]]; then
        gzip -dc "$in" >"$out"
    elif [[ $(od -An -c -j 4 -N 4 "$in" | tr -d ' ') == zimg ]]; then
        off=$(od -An -tu4 -j 8 -N 4 "$in" | tr -d ' ')
        size=$(od -An -tu4 -j 12 -N 4 "$in" | tr -d ' ')
        comp=$(dd if="$in" bs=1 skip=24 count=32 status=none | tr -d '\0')
        case $comp in
        gzip) tail -c "+$((off + 1))" "$in" | head -c "$size" | gzip -dc >"$out" ;;
        zstd) tail -c "+$((off + 1))" "$in" | head -c "$size" | zstd -dcq >"$out" ;;
        *) return 1 ;;
        esac
    else
        return 1
    fi
    [[ $(od -An -c -j 56 -N 3 "$out" | tr -d ' ') == ARM ]]
}

# fetch_deb PACKAGE VERSION: the .deb's path, downloaded if not cached.
fetch_deb() {
    local pkg=$1 ver=$2 deb
    # apt-get download escapes the version's ':' as %3a.
    deb=$cache/debs/${pkg}_${ver//:/%3a}_$deb_arch.deb
    if [[ ! -s $deb ]]; then
        say "downloading $pkg $ver ($deb_arch)"
        (cd "$cache/debs" && apt-get "${apt_opts[@]}" -qq download "$pkg:$deb_arch=$ver") >&2 ||
            die "apt-get download $pkg:$deb_arch=$ver failed"
        [[ -s $deb ]] || die "apt-get download left no $deb"
    fi
    echo "$deb"
}

# newest_version PACKAGE: its newest version in the lists.
newest_version() {
    apt-cache "${apt_opts[@]}" show --no-all-versions "$1" | sed -n 's/^Version: //p' | head -n 1
}

# fetch_kernel REGEX: prints "PACKAGE VERSION DIR" for the newest package
# whose name matches, with DIR holding the kernel qemu boots (vmlinux for
# x86_64, Image for aarch64) and its config.
fetch_kernel() {
    local regex=$1 pkg ver deb dir tmp kfile
    pkg=$(apt-cache "${apt_opts[@]}" search --names-only "$regex" | cut -d' ' -f1 | sort -V | tail -n 1)
    [[ -n $pkg ]] || die "no package matches $regex"
    ver=$(newest_version "$pkg")
    [[ -n $ver ]] || die "no version of $pkg"
    dir=$cache/kernels/${pkg}_$ver
    kfile=vmlinux
    if [[ $arch == aarch64 ]]; then kfile=Image; fi
    if [[ ! -s $dir/$kfile ]]; then
        deb=$(fetch_deb "$pkg" "$ver")
        say "unpacking $pkg $ver"
        tmp=$(mktemp -d "$cache/kernels/tmp.XXXXXX")
        dpkg-deb -x "$deb" "$tmp/root"
        if [[ $arch == aarch64 ]]; then
            arm64_image "$tmp"/root/boot/vmlinuz-* "$tmp/Image" ||
                die "found no arm64 Image (raw, gzip or EFI zboot) in $deb"
        else
            extract_vmlinux "$tmp"/root/boot/vmlinuz-* "$tmp/vmlinux" ||
                die "found no compressed ELF kernel in $deb"
        fi
        cp "$tmp"/root/boot/config-* "$tmp/config"
        rm -rf "$tmp/root" "$dir"
        mv "$tmp" "$dir"
    fi
    echo "$pkg $ver $dir/$kfile"
}

# The guest's busybox: the host's for x86_64 guests (it must be static),
# Debian's arm64 busybox-static for aarch64 ones.
if [[ $arch == "$(uname -m)" ]]; then
    busybox=$(command -v busybox || true)
    [[ -n $busybox ]] || die "no busybox; on Debian: apt-get install busybox-static"
else
    ver=$(newest_version busybox-static)
    [[ -n $ver ]] || die "no busybox-static in the $deb_arch lists"
    busybox=$cache/busybox-$deb_arch-$ver/bin/busybox
    if [[ ! -x $busybox ]]; then
        deb=$(fetch_deb busybox-static "$ver")
        rm -rf "$cache/busybox-$deb_arch-$ver"
        dpkg-deb -x "$deb" "$cache/busybox-$deb_arch-$ver"
    fi
fi
[[ -x $busybox ]] || die "no $busybox"
is_static "$busybox" || die "$busybox is dynamically linked; the guest needs a static one: apt-get install busybox-static"
[[ $(machine "$busybox") == "$want_machine" ]] || die "$busybox is for $(machine "$busybox"), not $arch"

# --- the guest ------------------------------------------------------------

root=$work/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc/mountsnoop-vm}
cp "$busybox" "$root/bin/busybox"
cp "$bin/mountsnoop" "$bin/mountsnoop-test-workload" "$here/guest-check.sh" "$root/bin/"
cp "$here"/expected-*.txt "$root/etc/mountsnoop-vm/"
if [[ -n $mount32 ]]; then cp "$mount32" "$root/bin/mount32"; fi
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing || echo "mountsnoop-vm: note: could not mount tracefs"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# Keep kernel messages from splitting the lines the host looks for.
echo 1 >/proc/sys/kernel/printk
sh /bin/guest-check.sh /bin /etc/mountsnoop-vm /tmp/mountsnoop-vm
echo "mountsnoop-vm: powering off"
poweroff -f
EOF
chmod 755 "$root/init" "$root/bin/guest-check.sh"
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1) >"$work/initramfs.cpio.gz"

# --- run ------------------------------------------------------------------

results=()
failed=0
for regex in "${patterns[@]}"; do
    kernel=$(fetch_kernel "$regex") || exit 2
    read -r pkg ver kernel_file <<<"$kernel"
    log=$cache/logs/$pkg.log
    say "=== $pkg $ver ($(grep -E '^CONFIG_(DEBUG_INFO_BTF|FTRACE_SYSCALLS|COMPAT)=' "$(dirname "$kernel_file")/config" | tr '\n' ' '))"
    if [[ $arch == aarch64 ]]; then
        # pauth-impdef: QEMU's own pointer-authentication algorithm,
        # much faster under TCG than the architected one.
        machine_args=(-machine virt -cpu max,pauth-impdef=on)
        console=ttyAMA0
    else
        machine_args=()
        console=ttyS0
    fi
    start=$(date +%s.%N)
    rc=0
    timeout -k 10 "$timeout_s" "$qemu" "${machine_args[@]}" \
        -accel tcg -m 512 -smp "$smp" -nographic -no-reboot \
        -kernel "$kernel_file" -initrd "$work/initramfs.cpio.gz" \
        -append "console=$console rdinit=/init panic=-1 loglevel=4" \
        </dev/null >"$log" 2>&1 || rc=$?
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    tr -d '\r' <"$log" | grep -a '^mountsnoop-vm: ' | sed "s/^/  [${pkg#linux-image-}] /" >&2 || true
    marker=$(tr -d '\r' <"$log" | grep -ao 'MOUNTSNOOP-VM-RESULT: .*' | tail -n 1 || true)
    if ((rc == 124 || rc == 137)); then
        verdict="FAIL timeout after ${timeout_s} s"
    elif [[ -z $marker ]]; then
        verdict="FAIL no result line (qemu exit status $rc)"
    else
        verdict=${marker#MOUNTSNOOP-VM-RESULT: }
    fi
    if [[ $verdict != PASS ]]; then
        failed=1
        say "last lines of $log:"
        tr -d '\r' <"$log" | tail -n 40 | sed 's/^/  | /' >&2
    fi
    say "$pkg $ver: $verdict in $secs s"
    results+=("$(printf '%-45s %-22s %6s s  %s' "$pkg" "$ver" "$secs" "$verdict")")
done

echo "mountsnoop VM matrix ($arch guests on $(uname -m), QEMU TCG, $smp CPU):"
printf '  %s\n' "${results[@]}"
if ((failed)); then
    echo "RESULT: FAIL"
    exit 1
fi
echo "RESULT: PASS"
