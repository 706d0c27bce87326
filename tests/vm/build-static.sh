#!/bin/bash
# Builds mountsnoop and mountsnoop-test-workload as fully static
# executables (glibc linked in too), with libbpf, libelf and zlib from
# the `static` feature. Needs what the ordinary build needs (clang,
# pkg-config, libelf-dev, zlib1g-dev: these hold libelf.a and libz.a).
#
# Prints the directory that holds the two binaries on its last line.
set -euo pipefail

cd "$(dirname "$0")/../.."
target=x86_64-unknown-linux-gnu

# libbpf-sys links libelf.a and libz.a from LIBBPF_SYS_LIBRARY_PATH,
# which .cargo/config.toml sets; say what to install if they are absent.
for lib in libelf.a libz.a; do
    found=
    IFS=: read -ra dirs <<<"${LIBBPF_SYS_LIBRARY_PATH:-/usr/lib/x86_64-linux-gnu:/usr/lib64:/usr/lib}"
    for d in "${dirs[@]}"; do
        if [[ -f $d/$lib ]]; then found=1; fi
    done
    if [[ -z $found ]]; then
        echo "build-static: no $lib; on Debian: apt-get install libelf-dev zlib1g-dev" >&2
        exit 1
    fi
done

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
