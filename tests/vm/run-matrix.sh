#!/bin/bash
# CO-RE test matrix: boots Debian's own kernels in QEMU (TCG, no KVM
# needed) and runs the static mountsnoop against the test workload in
# each of them. See "Kernel test matrix" in README.md.
#
# Usage: tests/vm/run-matrix.sh [PACKAGE-REGEX...]
#
# With no argument, the newest package matching each of
#   ^linux-image-5\.10\.0-[0-9]+-amd64-unsigned$         (Debian 11, oldest)
#   ^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$          (Debian 12)
#   ^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$    (Debian 12, 6.12)
# is chosen with apt-cache and fetched with apt-get download; nothing is
# installed on the host. Environment:
#   MOUNTSNOOP_VM_CACHE    downloads, unpacked kernels, logs
#                          (default ~/.cache/mountsnoop-vm)
#   MOUNTSNOOP_VM_TIMEOUT  seconds one VM may take (default 120)
#   MOUNTSNOOP_VM_BIN      directory with prebuilt static mountsnoop and
#                          mountsnoop-test-workload (a workspace package
#                          of its own; default: build both with
#                          tests/vm/build-static.sh)
#   MOUNTSNOOP_VM_SMP      guest CPUs (default 1)
#
# Host needs: qemu-system-x86 busybox-static cpio zstd, and what
# build-static.sh needs. Exit status 0 only if every kernel printed
# "MOUNTSNOOP-VM-RESULT: PASS".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${MOUNTSNOOP_VM_CACHE:-$HOME/.cache/mountsnoop-vm}
timeout_s=${MOUNTSNOOP_VM_TIMEOUT:-120}
smp=${MOUNTSNOOP_VM_SMP:-1}

if (($# > 0)); then
    patterns=("$@")
else
    patterns=(
        '^linux-image-5\.10\.0-[0-9]+-amd64-unsigned$'
        '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$'
        '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$'
    )
fi

say() { echo "run-matrix: $*" >&2; }
die() {
    say "error: $*"
    exit 2
}

# --- host tools -----------------------------------------------------------

missing=()
for tool in qemu-system-x86_64 cpio dpkg-deb apt-get apt-cache readelf timeout gzip zstd; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    die "missing ${missing[*]}; on Debian: apt-get install qemu-system-x86 busybox-static cpio zstd binutils"
fi
busybox=$(command -v busybox || true)
[[ -n $busybox ]] || die "no busybox; on Debian: apt-get install busybox-static"
if readelf -d "$busybox" 2>/dev/null | grep -q NEEDED; then
    die "$busybox is dynamically linked; the guest needs a static one: apt-get install busybox-static"
fi

# is_static FILE: an executable that needs no shared library.
is_static() {
    readelf -h "$1" >/dev/null 2>&1 && ! readelf -d "$1" 2>/dev/null | grep -q NEEDED
}

# --- binaries -------------------------------------------------------------

if [[ -n ${MOUNTSNOOP_VM_BIN:-} ]]; then
    bin=$MOUNTSNOOP_VM_BIN
else
    say "building static binaries (tests/vm/build-static.sh)"
    bin=$("$here/build-static.sh" | tail -n 1)
fi
for b in mountsnoop mountsnoop-test-workload; do
    [[ -x $bin/$b ]] || die "no $bin/$b"
    is_static "$bin/$b" || die "$bin/$b is not a static executable (build it with tests/vm/build-static.sh)"
done

# --- kernels: a private apt state, so the host's sources stay untouched ---

mkdir -p "$cache"/{apt/empty.d,apt/lists/partial,apt/cache/archives/partial,debs,kernels,logs}
cat >"$cache/apt/sources.list" <<'EOF'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bullseye-security main
EOF
apt_opts=(
    -o "Dir::Etc::SourceList=$cache/apt/sources.list"
    -o "Dir::Etc::SourceParts=$cache/apt/empty.d"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=$cache/apt/empty.d"
    -o "Dir::State::Lists=$cache/apt/lists"
    -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$cache/apt/cache"
    -o "APT::Get::List-Cleanup=false"
)
# As root apt drops to the _apt user, who cannot write into $HOME/.cache.
if ((EUID == 0)); then
    apt_opts+=(-o "APT::Sandbox::User=root")
fi

say "updating the package lists of bookworm{,-updates,-backports,-security} and bullseye{,-security} in $cache/apt"
if ! apt-get "${apt_opts[@]}" -qq update >"$cache/logs/apt-update.log" 2>&1; then
    if compgen -G "$cache/apt/lists/*_Packages*" >/dev/null; then
        say "warning: apt-get update failed (see $cache/logs/apt-update.log); using the cached lists"
    else
        cat "$cache/logs/apt-update.log" >&2
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

# fetch_kernel REGEX: prints "PACKAGE VERSION DIR" for the newest package
# whose name matches, with DIR holding vmlinux and config.
fetch_kernel() {
    local regex=$1 pkg ver deb dir tmp
    pkg=$(apt-cache "${apt_opts[@]}" search --names-only "$regex" | cut -d' ' -f1 | sort -V | tail -n 1)
    [[ -n $pkg ]] || die "no package matches $regex"
    ver=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$pkg" | sed -n 's/^Version: //p' | head -n 1)
    [[ -n $ver ]] || die "no version of $pkg"
    dir=$cache/kernels/${pkg}_$ver
    if [[ ! -s $dir/vmlinux ]]; then
        deb=$cache/debs/${pkg}_${ver}_amd64.deb
        if [[ ! -s $deb ]]; then
            say "downloading $pkg $ver"
            (cd "$cache/debs" && apt-get "${apt_opts[@]}" -qq download "$pkg=$ver") >&2 ||
                die "apt-get download $pkg=$ver failed"
            [[ -s $deb ]] || die "apt-get download left no $deb"
        fi
        say "unpacking $pkg $ver"
        tmp=$(mktemp -d "$cache/kernels/tmp.XXXXXX")
        dpkg-deb -x "$deb" "$tmp/root"
        extract_vmlinux "$tmp"/root/boot/vmlinuz-* "$tmp/vmlinux" ||
            die "found no compressed ELF kernel in $deb"
        cp "$tmp"/root/boot/config-* "$tmp/config"
        rm -rf "$tmp/root" "$dir"
        mv "$tmp" "$dir"
    fi
    echo "$pkg $ver $dir"
}

# --- the guest ------------------------------------------------------------

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc/mountsnoop-vm}
cp "$busybox" "$root/bin/busybox"
cp "$bin/mountsnoop" "$bin/mountsnoop-test-workload" "$here/guest-check.sh" "$root/bin/"
cp "$here"/expected-*.txt "$root/etc/mountsnoop-vm/"
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
    read -r pkg ver dir <<<"$kernel"
    log=$cache/logs/$pkg.log
    say "=== $pkg $ver ($(grep -E '^CONFIG_(DEBUG_INFO_BTF|FTRACE_SYSCALLS)=' "$dir/config" | tr '\n' ' '))"
    start=$(date +%s.%N)
    rc=0
    timeout -k 10 "$timeout_s" qemu-system-x86_64 \
        -accel tcg -m 512 -smp "$smp" -nographic -no-reboot \
        -kernel "$dir/vmlinux" -initrd "$work/initramfs.cpio.gz" \
        -append "console=ttyS0 rdinit=/init panic=-1 loglevel=4" \
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

echo "mountsnoop VM matrix ($(uname -m), QEMU TCG, $smp CPU):"
printf '  %s\n' "${results[@]}"
if ((failed)); then
    echo "RESULT: FAIL"
    exit 1
fi
echo "RESULT: PASS"
