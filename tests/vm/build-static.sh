#!/bin/bash
# Builds mountsnoop and mountsnoop-test-workload as fully static
# executables (glibc linked in too), with libbpf, libelf and zlib from
# the `static` feature. Needs clang, pkg-config, libelf-dev, zlib1g-dev.
#
# Prints the directory that holds the two binaries on its last line.
set -euo pipefail

cd "$(dirname "$0")/../.."
target=x86_64-unknown-linux-gnu

# libbpf-sys links libelf.a and libz.a but does not search for them:
# point it at the directory pkg-config knows (/usr/lib/x86_64-linux-gnu
# on Debian).
if [[ -z ${LIBBPF_SYS_LIBRARY_PATH:-} ]]; then
    LIBBPF_SYS_LIBRARY_PATH=$(pkg-config --variable=libdir libelf) || {
        echo "build-static: pkg-config finds no libelf: apt-get install libelf-dev zlib1g-dev pkg-config" >&2
        exit 1
    }
    export LIBBPF_SYS_LIBRARY_PATH
fi

# An explicit --target keeps RUSTFLAGS off build scripts and proc macros
# (which cannot be static) and puts the result in target/$target, apart
# from the ordinary target/release.
RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --features static --target "$target" --bins >&2

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
