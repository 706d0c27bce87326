#!/usr/bin/env bash
# Benchmark mountsnoop against a bpftrace equivalent (bench/mountsnoop.bt).
#
#   bench/run.sh [--runs N] [--n STORM] [--mountsnoop PATH] [--workload PATH]
#                [--keep] [--json FILE] [--check]
#   bench/run.sh --mounts-row  mountsnoop alone, the storm with --mounts
#                              (the kernel's mount reports) vs without
#   bench/run.sh --smoke       CI: mountsnoop only, storm N=5000, once;
#                              exits 1 if an event is missing or lost
#
# BENCH_RUNS=N is the same as --runs N (default 5). Needs root. Prints a
# markdown table on stdout, progress on stderr. See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

smoke=0
mounts_row=0
for arg in "$@"; do
	case $arg in
	--smoke) smoke=1 ;;
	--mounts-row) mounts_row=1 ;;
	-h | --help)
		sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
		exit 0
		;;
	esac
done

if [[ $(id -u) -ne 0 ]]; then
	echo "bench/run.sh: needs root (loads BPF programs, makes mount calls)" >&2
	exit 1
fi

for bin in mountsnoop mountsnoop-test-workload; do
	if [[ ! -x $repo/target/release/$bin ]] && ! printf '%s\n' "$@" | grep -q -- '^--mountsnoop\|^--workload'; then
		echo "bench/run.sh: $repo/target/release/$bin missing: building" >&2
		(cd "$repo" && cargo build --release --workspace)
		break
	fi
done

if ((smoke)); then
	exec python3 "$here/bench.py" --command-line "bench/run.sh $*" "$@"
fi

if ((mounts_row)); then
	# mountsnoop alone, with and without --mounts: no bpftrace needed.
	old=$(sysctl -n kernel.bpf_stats_enabled)
	trap 'sysctl -q -w kernel.bpf_stats_enabled=$old' EXIT
	sysctl -q -w kernel.bpf_stats_enabled=1
	exec_status=0
	python3 "$here/bench.py" --command-line "bench/run.sh $*" "$@" || exec_status=$?
	exit $exec_status
fi

if ! command -v bpftrace >/dev/null; then
	echo "bench/run.sh: installing bpftrace (Debian package)" >&2
	apt-get install -y bpftrace >&2 || { apt-get update >&2 && apt-get install -y bpftrace >&2; }
fi
if ! command -v bpftool >/dev/null; then
	echo "bench/run.sh: installing bpftool (Debian package)" >&2
	apt-get install -y bpftool >&2 || { apt-get update >&2 && apt-get install -y bpftool >&2; }
fi

# In-kernel figures need BPF run-time statistics; put the sysctl back as
# it was however we leave (normal end, error, Ctrl-C, kill).
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
restore_stats() {
	sysctl -q -w kernel.bpf_stats_enabled="$stats_before" || true
}
trap restore_stats EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
sysctl -q -w kernel.bpf_stats_enabled=1

python3 "$here/bench.py" --command-line "bench/run.sh $*" "$@"
