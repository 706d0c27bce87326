#!/bin/sh
# Builds the container image FROM scratch with podman, offline: the
# static binary from tests/vm/build-static.sh is the whole build context.
# Prints the image's name on its last line.
set -eu
cd "$(dirname "$0")/.."
bin_dir=$(tests/vm/build-static.sh | tail -n 1)
context=${CARGO_TARGET_DIR:-target}/image
rm -rf "$context"
mkdir -p "$context"
cp "$bin_dir/mountsnoop" "$context/"
version=$("$context/mountsnoop" -V | cut -d' ' -f2)
image=localhost/mountsnoop:$version
# PODMAN="sudo podman" when the image is to be run by root.
${PODMAN:-podman} build --network=none --pull=never -q -f Containerfile \
    -t "$image" -t localhost/mountsnoop:latest "$context" >&2
echo "$image"
