#!/bin/bash
# Builds mountsnoop and mountsnoop-test-workload as fully static
# executables (glibc linked in too), with libbpf, libelf and zlib from
# the `static` feature.
#
# Usage: tests/vm/build-static.sh [TARGET]
#
# TARGET is x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu
# (default: this machine's). Natively, it needs what the ordinary build
# needs (clang, pkg-config, libelf-dev, zlib1g-dev: these hold libelf.a
# and libz.a). Cross-building aarch64 on an x86_64 Debian or Ubuntu
# host also needs (README, "Building"):
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
#       libelf-dev:arm64 zlib1g-dev:arm64
#   rustup target add aarch64-unknown-linux-gnu
#
# Prints the directory that holds the two binaries on its last line.
set -euo pipefail

cd "$(dirname "$0")/../.."
target=${1:-$(uname -m)-unknown-linux-gnu}
case $target in
x86_64-unknown-linux-gnu) multiarch=x86_64-linux-gnu deb_arch=amd64 ;;
aarch64-unknown-linux-gnu) multiarch=aarch64-linux-gnu deb_arch=arm64 ;;
*)
    echo "build-static: unsupported target $target (x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu)" >&2
    exit 1
    ;;
esac
cross=
if [[ $target != "$(uname -m)-unknown-linux-gnu" ]]; then cross=1; fi

# libbpf-sys links libelf.a and libz.a from the target's
# LIBBPF_SYS_LIBRARY_PATH_<target>, which .cargo/config.toml sets; say
# what to install if they are absent.
var=LIBBPF_SYS_LIBRARY_PATH_${target//-/_}
for lib in libelf.a libz.a; do
    found=
    IFS=: read -ra dirs <<<"${!var:-/usr/lib/$multiarch:/usr/lib64:/usr/lib}"
    for d in "${dirs[@]}"; do
        if [[ -f $d/$lib ]]; then found=1; fi
    done
    if [[ -z $found ]]; then
        if [[ -n $cross ]]; then
            echo "build-static: no $lib for $target; on Debian: dpkg --add-architecture $deb_arch; apt-get update; apt-get install libelf-dev:$deb_arch zlib1g-dev:$deb_arch" >&2
        else
            echo "build-static: no $lib; on Debian: apt-get install libelf-dev zlib1g-dev" >&2
        fi
        exit 1
    fi
done
if [[ -n $cross ]] && ! command -v "$multiarch-gcc" >/dev/null; then
    echo "build-static: no $multiarch-gcc; on Debian: apt-get install gcc-$multiarch libc6-dev-$deb_arch-cross" >&2
    exit 1
fi
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
    echo "build-static: the Rust standard library for $target is missing: rustup target add $target" >&2
    exit 1
fi

# An explicit --target keeps RUSTFLAGS off build scripts and proc macros
# (which cannot be static) and puts the result in target/$target, apart
# from the ordinary target/release. --workspace: the workload is a
# package of its own (tests/workload).
RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --workspace --features mountsnoop/static \
    --target "$target" --bins >&2

dir=target/$target/release
for bin in mountsnoop mountsnoop-test-workload; do
    # A static-pie has a dynamic section, but no NEEDED entry.
    if readelf -d "$dir/$bin" | grep -q NEEDED; then
        echo "build-static: $dir/$bin is not static:" >&2
        ldd "$dir/$bin" >&2
        exit 1
    fi
done
echo "$PWD/$dir"
