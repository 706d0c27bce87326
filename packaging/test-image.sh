#!/bin/sh
# Runs the image as a node agent would, with the least privilege that
# works, and checks that the containerised mountsnoop sees a mount made
# on the host, with the host's PID and the host's mount namespace.
# Needs root and podman. Usage: packaging/test-image.sh IMAGE
#
# Privileges: CAP_BPF and CAP_PERFMON only; a read-only root; the host's
# tracefs read-only; no host PID or network namespace. podman's default
# seccomp profile (containers-common 0.50) allows bpf(2) and
# perf_event_open(2) only with CAP_SYS_ADMIN, so this uses that profile
# with just those two calls allowed.
set -eu
image=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jq '.syscalls |= map(.names -= ["bpf", "perf_event_open"] | select(.names | length > 0))
    | .syscalls += [{"names": ["bpf", "perf_event_open"], "action": "SCMP_ACT_ALLOW"}]' \
    /usr/share/containers/seccomp.json >"$work/seccomp.json"
# "The host" is the mount namespace this script runs in.
host=$$
export image work host
# podman cannot run with this machine's hybrid cgroups: hide cgroup2 in
# a mount namespace of our own (the host keeps it).
unshare -m --propagation private sh -eu -c '
  if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
  podman rm -f mountsnoop-image-test >/dev/null 2>&1 || true
  trap "podman rm -f mountsnoop-image-test >/dev/null 2>&1 || true" EXIT
  podman run --rm --name mountsnoop-image-test --network=none --cgroups=disabled \
      --ulimit nofile=20000:20000 --ulimit nproc=1000:1000 \
      --cap-drop=all --cap-add=BPF,PERFMON --security-opt seccomp="$work/seccomp.json" \
      --read-only -v /sys/kernel/tracing:/sys/kernel/tracing:ro \
      "$image" --json --syscall mount,umount2 >"$work/out" 2>"$work/err" &
  podman_pid=$!
  tries=0
  until grep -q "^Tracing" "$work/err"; do
      tries=$((tries + 1))
      if [ $tries -gt 600 ] || ! kill -0 $podman_pid 2>/dev/null; then
          echo "test-image: mountsnoop did not start:" >&2
          cat "$work/err" >&2
          exit 1
      fi
      sleep 0.1
  done
  # A mount on the host, by a process whose host PID we know (exec
  # keeps it).
  in_host() { nsenter --mount=/proc/$host/ns/mnt -- "$@"; }
  dir=$(in_host mktemp -d /tmp/mountsnoop-image.XXXXXX)
  in_host sh -c "echo \$\$ >$work/pid; exec mount -t tmpfs mountsnoop-image $dir"
  in_host umount "$dir"
  in_host rmdir "$dir"
  echo "$dir" >"$work/dir"
  sleep 0.5
  podman stop -t 10 mountsnoop-image-test >/dev/null
  wait $podman_pid
'
pid=$(cat "$work/pid")
dir=$(cat "$work/dir")
host_ns=$(stat -L -c %i /proc/$$/ns/mnt)
seen=$(jq -c --argjson pid "$pid" 'select(.pid == $pid and .syscall == "mount")' "$work/out")
expected=$(jq -cn --argjson pid "$pid" --argjson ns "$host_ns" --arg dir "$dir" \
    '{pid: $pid, mnt_ns: $ns, source: "mountsnoop-image", target: $dir, ret: 0}')
got=$(printf '%s\n' "$seen" | jq -c '{pid, mnt_ns, source: .args.source, target: .args.target, ret}')
if [ "$got" != "$expected" ]; then
    echo "test-image: expected $expected, got: $got" >&2
    cat "$work/err" >&2
    exit 1
fi
echo "image: $image saw the host's mount of $dir by pid $pid in mount namespace $host_ns"
