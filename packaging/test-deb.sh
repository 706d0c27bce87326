#!/bin/sh
# Installs a built mountsnoop .deb, checks that everything is where a
# user looks for it, then removes and purges it and checks that nothing
# is left. Needs root (dpkg). Usage: packaging/test-deb.sh FILE.deb
set -eu
deb=$1
fail() {
    echo "test-deb: $*" >&2
    exit 1
}
if dpkg-query -W -f='${Status}' mountsnoop 2>/dev/null | grep -q "ok installed"; then
    fail "mountsnoop is already installed on this machine: not touching it"
fi
# Only the tool itself, never the test workload.
bins=$(dpkg-deb -c "$deb" | awk '{print $6}' | grep '^\./usr/bin/.' || true)
[ "$bins" = ./usr/bin/mountsnoop ] || fail "binaries in the package: $bins"

dpkg -i "$deb" >/dev/null
trap 'dpkg --purge mountsnoop >/dev/null 2>&1 || true' EXIT
files=$(dpkg -L mountsnoop)

[ "$(command -v mountsnoop)" = /usr/bin/mountsnoop ] || fail "mountsnoop is not on PATH"
version=$(dpkg-query -W -f='${Version}' mountsnoop)
[ "$(mountsnoop -V)" = "mountsnoop ${version%-*}" ] || fail "mountsnoop -V says $(mountsnoop -V)"
page=$(man -w mountsnoop)
[ "$page" = /usr/share/man/man8/mountsnoop.8.gz ] || fail "man -w mountsnoop: $page"
MANPAGER=cat MANWIDTH=80 man mountsnoop 2>/dev/null | grep -q "^SYNOPSIS" \
    || fail "man mountsnoop does not render"
for f in /usr/share/bash-completion/completions/mountsnoop \
    /usr/share/zsh/vendor-completions/_mountsnoop \
    /usr/share/fish/vendor_completions.d/mountsnoop.fish; do
    grep -q -- "metrics" "$f" || fail "$f is missing or lacks --metrics"
done
bash -n /usr/share/bash-completion/completions/mountsnoop
grep -q "^License: GPL-2.0-only" /usr/share/doc/mountsnoop/copyright || fail "no copyright"

dpkg -r mountsnoop >/dev/null
[ ! -e /usr/bin/mountsnoop ] || fail "dpkg -r left /usr/bin/mountsnoop"
# Without conffiles, removing leaves nothing to purge; purge if it does.
if [ "$(dpkg-query -W -f='${db:Status-Status}' mountsnoop 2>/dev/null)" = config-files ]; then
    dpkg --purge mountsnoop >/dev/null
fi
trap - EXIT
if dpkg-query -W -f='${Status}' mountsnoop 2>/dev/null | grep -q "installed"; then
    fail "still known to dpkg after purge"
fi
for f in $files; do
    if [ -f "$f" ]; then fail "$f left behind"; fi
done
echo "deb: $(basename "$deb") installed, checked, removed and purged"
