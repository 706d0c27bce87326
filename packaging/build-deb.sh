#!/bin/sh
# Builds the Debian package, with the binary, the man page, the bash, zsh
# and fish completions (generated here from the binary's own flags) and
# the copyright file. Prints the .deb's path on its last line.
#
#   cargo install cargo-deb --locked   # once
#   packaging/build-deb.sh
set -eu
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked --bin mountsnoop >&2
# Under target/release, where cargo-deb looks for built files wherever
# CARGO_TARGET_DIR points.
out=$target/release/completions
mkdir -p "$out"
bin=$target/release/mountsnoop
"$bin" --completions bash >"$out/mountsnoop"
"$bin" --completions zsh >"$out/_mountsnoop"
"$bin" --completions fish >"$out/mountsnoop.fish"
cargo deb --no-build --locked --output "$target/debian" | tail -n 1
