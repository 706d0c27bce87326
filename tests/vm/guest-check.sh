#!/bin/sh
# The check run-matrix.sh runs inside each VM (busybox sh, as root).
# It also runs on any host with root and BPF, which is how to try it out
# or regenerate an expected file without booting anything:
#
#   cargo build --release --workspace   # mountsnoop and the workload
#   sudo tests/vm/guest-check.sh target/release tests/vm /tmp/out
#
# Usage: guest-check.sh BIN_DIR DATA_DIR WORK_DIR
#   BIN_DIR   holds mountsnoop and mountsnoop-test-workload, and
#             optionally mount32 (tests/c/mount32.c built for the 32-bit
#             ABI of this machine: armhf in the arm64 matrix)
#   DATA_DIR  holds expected-<scenario>.txt
#   WORK_DIR  scratch directory for captured output
#
# Prints progress lines starting with "mountsnoop-vm:" and, last, exactly
# one line "MOUNTSNOOP-VM-RESULT: PASS" or "MOUNTSNOOP-VM-RESULT: FAIL <why>".
# The expected files hold the CALL column of every line the workload's
# process made, with its temporary directory replaced by BASE, in any
# order (threads interleave).

set -u
BIN=${1:-/bin}
DATA=${2:-/etc/mountsnoop-vm}
WORK=${3:-/tmp/mountsnoop-vm}
MS=$BIN/mountsnoop
WL=$BIN/mountsnoop-test-workload
SNOOP=

say() { echo "mountsnoop-vm: $*"; }

fail() {
    if [ -n "$SNOOP" ]; then kill -INT "$SNOOP" 2>/dev/null; fi
    echo "MOUNTSNOOP-VM-RESULT: FAIL $*"
    exit 1
}

# start_snoop NAME ARGS...: starts mountsnoop with stdout and stderr in
# WORK/NAME.out and WORK/NAME.err and waits for its "Tracing" line.
start_snoop() {
    name=$1
    shift
    "$MS" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    SNOOP=$!
    tries=0
    until grep -qs '^Tracing' "$WORK/$name.err"; do
        if ! kill -0 "$SNOOP" 2>/dev/null; then
            wait "$SNOOP"
            rc=$?
            SNOOP=
            grep -v '^libbpf: ' "$WORK/$name.err" | tail -n 20 | sed 's/^/mountsnoop-vm: stderr: /'
            fail "mountsnoop $* exited with status $rc before it was ready"
        fi
        tries=$((tries + 1))
        # 120 s: loading under QEMU's TCG is slow.
        [ "$tries" -lt 1200 ] || fail "mountsnoop $* not ready after 120 s"
        sleep 0.1
    done
}

# stop_snoop: SIGINT, as a user's Ctrl-C; mountsnoop must exit 0.
stop_snoop() {
    kill -INT "$SNOOP"
    wait "$SNOOP"
    rc=$?
    SNOOP=
    [ "$rc" -eq 0 ] || fail "mountsnoop exited with status $rc after SIGINT"
}

# calls_of PID FILE: the CALL column of PID's lines, normalized.
calls_of() {
    awk -v pid="$1" '$2 == pid' "$2" |
        sed -E 's/^[^ ]+ +[0-9]+ +[0-9]+ +[0-9]+ +//; s#/tmp/mountsnoop-test\.[A-Za-z0-9]{6}#BASE#g'
}

# expect SCENARIO LABEL PATTERN: some call of SCENARIO matches PATTERN
# (a grep -E regex).
expect() {
    grep -q -E -e "$3" "$WORK/$1.calls" || fail "$1: no line for $2 (pattern: $3)"
    say "ok   $1: $2"
}

# args_only: each call without its result (` = 0`, ` = -1 ENOENT (...)`);
# a result never holds a quote, so the last `) = ` with none after it is
# where the result starts. A user-space address (an argument strace too
# shows as a pointer) moves with ASLR: it becomes ADDR. A call's first
# argument, when a number, is an fd that an earlier call returned, so it
# follows that call's result (5.10's fsmount refuses MOUNT_ATTR_NOSYMFOLLOW,
# and the workload goes on with -1): it becomes FD.
args_only() {
    sed -E 's/\) = [^"]*$/)/; s/([(] |, |[(])0x[0-9a-f]{10,}([,)])/\1ADDR\2/g; s/^([a-z_0-9]+)\(-?[0-9]+, /\1(FD, /'
}

# compare SCENARIO [args]: the calls equal DATA/expected-SCENARIO.txt, as
# sets of lines with their counts. With "args", only the calls' arguments
# are compared (results may differ with the kernel; arguments may not),
# and calls this kernel cannot trace (-v) are left out of the expected.
compare() {
    exp=$DATA/expected-$1.txt
    [ -f "$exp" ] || fail "$1: no $exp"
    if [ "${2:-}" = args ]; then
        missing=$(sed -n 's/^mountsnoop: \([a-z_0-9]*\) not traced.*/\1/p' "$WORK/verbose.err" | paste -sd'|' -)
        [ -n "$missing" ] || missing='^$'
        args_only <"$exp" | grep -v -E "^($missing)\(" | sort >"$WORK/$1.expected.sorted"
        args_only <"$WORK/$1.calls" | sort >"$WORK/$1.calls.sorted"
    else
        sort "$exp" >"$WORK/$1.expected.sorted"
        sort "$WORK/$1.calls" >"$WORK/$1.calls.sorted"
    fi
    if ! cmp -s "$WORK/$1.expected.sorted" "$WORK/$1.calls.sorted"; then
        diff -u "$WORK/$1.expected.sorted" "$WORK/$1.calls.sorted" | cut -c1-300 | sed 's/^/mountsnoop-vm: diff: /'
        fail "$1: lines differ from $(basename "$exp") (diff above: - expected, + seen)"
    fi
    say "ok   $1: all $(wc -l <"$WORK/$1.calls") lines equal $(basename "$exp")"
}

mkdir -p "$WORK" || fail "cannot create $WORK"
say "kernel $(uname -r)"
[ -x "$MS" ] || fail "no $MS"
[ -x "$WL" ] || fail "no $WL"

# Which calls this kernel lacks, as mountsnoop -v reports them.
start_snoop verbose -v
stop_snoop
grep ' not traced' "$WORK/verbose.err" | sed 's/^/mountsnoop-vm: -v: /'
say "-v: $(grep -c ' not traced' "$WORK/verbose.err") call(s) left out on $(uname -r)"
# Each call left out must really lack its tracepoint.
# shellcheck disable=SC2013 # one tracepoint name per word
for tp in $(grep ' not traced' "$WORK/verbose.err" | sed -n 's/.*syscalls\/sys_enter_\([a-z0-9_]*\).*/\1/p'); do
    if [ -d "/sys/kernel/tracing/events/syscalls/sys_enter_$tp" ]; then
        fail "-v says sys_enter_$tp is missing, but tracefs has it"
    fi
done

# A kernel without BTF must get a clear error, not a crash: hide
# /sys/kernel/btf in a private mount namespace.
# shellcheck disable=SC2016 # $0 is for the inner shell
unshare -m --propagation private sh -c \
    'mount -t tmpfs none /sys/kernel/btf && exec "$0"' "$MS" >"$WORK/nobtf.out" 2>"$WORK/nobtf.err"
rc=$?
sed 's/^/mountsnoop-vm: no BTF: /' "$WORK/nobtf.err"
[ "$rc" -eq 1 ] || fail "without BTF mountsnoop exited with status $rc, not 1"
grep -q 'CONFIG_DEBUG_INFO_BTF' "$WORK/nobtf.err" || fail "without BTF the error does not name CONFIG_DEBUG_INFO_BTF"
say "ok   no BTF: status 1 and a clear error"

start_snoop trace
"$WL" core >"$WORK/core.wl" 2>&1 &
core_pid=$!
wait "$core_pid" || fail "workload core failed: $(cat "$WORK/core.wl")"

# The new mount API, leniently: an older kernel answers some calls
# differently (or lacks them), which changes the results, not the tracing.
# Serially, so that fd numbers, which are arguments too, do not depend on
# how threads interleave.
MOUNTSNOOP_WORKLOAD_LENIENT=1 MOUNTSNOOP_WORKLOAD_SERIAL=1 "$WL" mount-api >"$WORK/mount-api.wl" 2>&1 &
api_pid=$!
wait "$api_pid" || fail "workload mount-api failed: $(cat "$WORK/mount-api.wl")"
have_api=1
stop_snoop
grep -v '^Tracing' "$WORK/trace.err" | grep -q . &&
    grep -v '^Tracing' "$WORK/trace.err" | sed 's/^/mountsnoop-vm: stderr: /'
grep -q 'Lost' "$WORK/trace.err" && fail "mountsnoop lost events"

calls_of "$core_pid" "$WORK/trace.out" >"$WORK/core.calls"
say "core: $(wc -l <"$WORK/core.calls") lines from pid $core_pid"
expect core "mount tmpfs with flags and data" \
    '^mount\("none", "BASE/a", "tmpfs", MS_NOSUID\|MS_NODEV, "size=1m"\) = 0$'
expect core "bind mount" '^mount\("BASE/a", "BASE/b", NULL, MS_MGC_VAL\|MS_BIND, NULL\) = 0$'
expect core "read-only remount" '^mount\(NULL, "BASE/b", NULL, MS_RDONLY\|MS_REMOUNT\|MS_BIND, NULL\) = 0$'
expect core "propagation change" '^mount\(NULL, "BASE/a", NULL, MS_REC\|MS_PRIVATE, NULL\) = 0$'
expect core "umount2 MNT_DETACH" '^umount2\("BASE/b", MNT_DETACH\) = 0$'
expect core "ENODEV failure" '^mount\("none", "BASE/b", "bogusfs", 0, NULL\) = -1 ENODEV \(No such device\)$'
expect core "EINVAL failure" '^umount2\("BASE/b", 0\) = -1 EINVAL \(Invalid argument\)$'
expect core "escaped odd name" '^mount\("none", "BASE/odd\\n\\"name\\377", "tmpfs", 0, NULL\) = 0$'
compare core

if [ "$have_api" = 1 ]; then
    calls_of "$api_pid" "$WORK/trace.out" >"$WORK/mount-api.calls"
    say "mount-api: $(wc -l <"$WORK/mount-api.calls") lines from pid $api_pid"
    for call in fsopen fsconfig fsmount move_mount; do
        expect mount-api "$call" "^$call\\(.*\\) = "
    done
    compare mount-api args

    # -y: the same calls, each fd followed by what it refers to, resolved
    # in the kernel (its own walk of dentries and mounts, CO-RE on every
    # kernel of the matrix). Without the <...> the lines are the plain
    # run's; with them, the new API's fds say what they are.
    start_snoop trace-y -y
    MOUNTSNOOP_WORKLOAD_LENIENT=1 MOUNTSNOOP_WORKLOAD_SERIAL=1 "$WL" mount-api >"$WORK/mount-api-y.wl" 2>&1 &
    api_y_pid=$!
    wait "$api_y_pid" || fail "workload mount-api (-y) failed: $(cat "$WORK/mount-api-y.wl")"
    stop_snoop
    grep -q 'Lost' "$WORK/trace-y.err" && fail "mountsnoop -y lost events"
    calls_of "$api_y_pid" "$WORK/trace-y.out" >"$WORK/mount-api-y.calls"
    say "mount-api -y: $(wc -l <"$WORK/mount-api-y.calls") lines from pid $api_y_pid"
    expect mount-api-y "fsopen returns an fscontext" \
        '^fsopen\("tmpfs", FSOPEN_CLOEXEC\) = [0-9]+<anon_inode:\[fscontext\]>$'
    expect mount-api-y "fsconfig on the fscontext" '^fsconfig\([0-9]+<anon_inode:\[fscontext\]>, FSCONFIG_SET_STRING, "size", '
    expect mount-api-y "fsmount returns a detached mount" '^fsmount\([0-9]+<anon_inode:\[fscontext\]>, .*\) = [0-9]+</>$'
    expect mount-api-y "move_mount from it" '^move_mount\([0-9]+</>, "", '
    expect mount-api-y "AT_FDCWD as the cwd" 'AT_FDCWD</[^>]*>, "BASE/'
    sed -E 's/<[^>]*>(\(deleted\))?//g' "$WORK/mount-api-y.calls" >"$WORK/mount-api.calls"
    compare mount-api args
fi

# --mounts: no kernel of the matrix has fanotify mount notifications
# (Linux 6.15), so the records are built from the calls, and -v says so.
start_snoop trace-mounts --mounts -v
"$WL" core >"$WORK/core-mounts.wl" 2>&1 &
core_mounts_pid=$!
wait "$core_mounts_pid" || fail "workload core (--mounts) failed: $(cat "$WORK/core-mounts.wl")"
stop_snoop
calls_of "$core_mounts_pid" "$WORK/trace-mounts.out" >"$WORK/core-mounts.lines"
if grep -q -- 'the mount records are built from the calls traced' "$WORK/trace-mounts.err"; then
    source="built from the calls, as -v says"
    for line in '+ BASE/a tmpfs none rw,nosuid,nodev,size=1m' '= BASE/b - BASE/a bind' \
        '~ BASE/b - - ro' '- BASE/b - - -'; do
        grep -q -x -F -e "$line" "$WORK/core-mounts.lines" ||
            fail "--mounts: no line '$line' (lines: $(head -c 600 "$WORK/core-mounts.lines"))"
    done
else
    # A host of Linux 6.15 or later: the kernel's own reports, which
    # suite::tables checks; here only that -v names them.
    grep -q -- 'fanotify FAN_REPORT_MNT' "$WORK/trace-mounts.err" ||
        fail "--mounts: -v names neither source of the records"
    source="the kernel's reports, as -v says"
fi
say "ok   core --mounts: $(wc -l <"$WORK/core-mounts.lines") lines, $source"

# --json: each path made absolute and the caller's cgroup, read by the
# kernel side (kernfs_node's parent was renamed in 6.15: CO-RE picks).
start_snoop trace-json --json
"$WL" core >"$WORK/core-json.wl" 2>&1 &
core_json_pid=$!
wait "$core_json_pid" || fail "workload core (--json) failed: $(cat "$WORK/core-json.wl")"
stop_snoop
grep "\"pid\":$core_json_pid," "$WORK/trace-json.out" >"$WORK/core-json.lines"
[ "$(wc -l <"$WORK/core-json.lines")" -eq "$(wc -l <"$WORK/core.calls")" ] ||
    fail "core --json: $(wc -l <"$WORK/core-json.lines") lines, not $(wc -l <"$WORK/core.calls")"
grep -q '"paths":{"target":"/tmp/mountsnoop-test\.[A-Za-z0-9]*/a"}' "$WORK/core-json.lines" ||
    fail "core --json: no umount2 target made absolute"
grep -q '"cgroup":"/[^"]*","container":null' "$WORK/core-json.lines" ||
    fail "core --json: no cgroup path"
say "ok   core --json: paths made absolute, cgroup read"

# A 32-bit program (AArch32 on arm64): every call seen, with the 32-bit
# ABI, and printed as the x86_64 host printed the i386 build of the same
# program (expected-mount32.txt; 32-bit ARM has no one-argument umount,
# so those lines are left out there), with the whole text: arguments and
# results. A pointer the program passes (a stack address) moves with
# ASLR: it becomes ADDR.
if [ -x "$BIN/mount32" ]; then
    case $(uname -m) in
    aarch64) abi=arm no_umount=1 ;;
    *) abi=i386 no_umount= ;;
    esac
    norm32() {
        sed -E 's/([(] |, )0x[0-9a-f]{6,8}([,)])/\1ADDR\2/g'
    }
    exp=$DATA/expected-mount32.txt
    [ -f "$exp" ] || fail "mount32: no $exp"
    # Left out: the calls this kernel cannot trace (-v says which: it
    # lacks them, and answers ENOSYS), and on ARM the old umount.
    missing=$(sed -n 's/^mountsnoop: \([a-z_0-9]*\) not traced.*/\1/p' "$WORK/verbose.err" | paste -sd'|' -)
    [ -n "$missing" ] || missing='^$'
    if [ -n "$no_umount" ]; then missing="$missing|umount"; fi
    grep -v -E "^($missing)\(" "$exp" >"$WORK/mount32.expected"
    norm32 <"$WORK/mount32.expected" | sort >"$WORK/mount32.expected.sorted"

    # The guest's root is the initramfs, where pivot_root is refused
    # (EINVAL: it has no parent mount): mount32 runs chrooted in a tmpfs.
    m32root=$WORK/m32root
    mkdir -p "$m32root"
    mount -t tmpfs m32root "$m32root" || fail "cannot mount a tmpfs on $m32root"
    mkdir "$m32root/tmp"
    cp "$BIN/mount32" "$m32root/mount32"

    start_snoop m32
    chroot "$m32root" /mount32 >"$WORK/mount32.pids" 2>"$WORK/mount32.stderr" ||
        fail "mount32 exited with status $?: $(cat "$WORK/mount32.stderr")"
    stop_snoop
    read -r _ m32_parent m32_child <"$WORK/mount32.pids" || fail "mount32 printed no pids"
    { calls_of "$m32_parent" "$WORK/m32.out"; calls_of "$m32_child" "$WORK/m32.out"; } >"$WORK/mount32.calls"
    say "mount32 ($abi): $(wc -l <"$WORK/mount32.calls") lines from pids $m32_parent $m32_child"
    norm32 <"$WORK/mount32.calls" | sort >"$WORK/mount32.calls.sorted"
    if ! cmp -s "$WORK/mount32.expected.sorted" "$WORK/mount32.calls.sorted"; then
        diff -u "$WORK/mount32.expected.sorted" "$WORK/mount32.calls.sorted" | cut -c1-300 | sed 's/^/mountsnoop-vm: diff: /'
        fail "mount32: lines differ from expected-mount32.txt (diff above: - expected, + seen)"
    fi
    say "ok   mount32: all $(wc -l <"$WORK/mount32.calls") lines equal expected-mount32.txt"

    # The same program under --json: each of its calls says its ABI.
    start_snoop m32json --json
    chroot "$m32root" /mount32 >"$WORK/mount32.pids" 2>"$WORK/mount32.stderr" ||
        fail "mount32 exited with status $?: $(cat "$WORK/mount32.stderr")"
    stop_snoop
    read -r _ m32_parent m32_child <"$WORK/mount32.pids" || fail "mount32 printed no pids"
    grep -E "\"pid\":($m32_parent|$m32_child)," "$WORK/m32json.out" >"$WORK/mount32.json"
    n_json=$(wc -l <"$WORK/mount32.json")
    n_abi=$(grep -c "\"abi\":\"$abi\"" "$WORK/mount32.json")
    [ "$n_json" -eq "$(wc -l <"$WORK/mount32.calls")" ] ||
        fail "mount32 --json: $n_json lines, the text run had $(wc -l <"$WORK/mount32.calls")"
    [ "$n_abi" -eq "$n_json" ] ||
        fail "mount32 --json: only $n_abi of $n_json lines have \"abi\":\"$abi\""
    say "ok   mount32 --json: all $n_json lines have \"abi\":\"$abi\""

    # With --no-32bit (no raw-tracepoint programs) none of its calls is
    # seen: this kernel's per-call tracepoints skip 32-bit calls too.
    start_snoop m32off --no-32bit
    chroot "$m32root" /mount32 >"$WORK/mount32.pids" 2>"$WORK/mount32.stderr" ||
        fail "mount32 exited with status $?: $(cat "$WORK/mount32.stderr")"
    stop_snoop
    read -r _ m32_parent m32_child <"$WORK/mount32.pids" || fail "mount32 printed no pids"
    n_off=$({ calls_of "$m32_parent" "$WORK/m32off.out"; calls_of "$m32_child" "$WORK/m32off.out"; } | wc -l)
    [ "$n_off" -eq 0 ] || fail "mount32 --no-32bit: $n_off lines, expected none"
    say "ok   mount32 --no-32bit: no line (the per-call tracepoints skip its calls)"
    umount "$m32root"
fi

echo "MOUNTSNOOP-VM-RESULT: PASS"
