#!/usr/bin/env python3
"""Two mountsnoop binaries, the same storm, interleaved: ready time,
in-kernel BPF time per traced call and tracer CPU per event, medians.

    sudo bench/compare.py OLD NEW [--runs 5] [--n 20000] [--workload PATH]

Build OLD from an earlier commit (e.g. `git worktree add /tmp/old REV &&
CARGO_TARGET_DIR=/tmp/old-target cargo build --release -p mountsnoop`
in it). Runs alternate OLD, NEW / NEW, OLD so that drift on the machine
falls on both. Needs root (BPF statistics are turned on meanwhile).
"""
import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

STATS = "/proc/sys/kernel/bpf_stats_enabled"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--workload",
                    default=os.path.join(HERE, "..", "target/release/mountsnoop-test-workload"))
    ap.add_argument("--ready-timeout", type=float, default=120)
    args = ap.parse_args()
    args.expected = 2 * args.n + 3
    workdir = tempfile.mkdtemp(prefix="mountsnoop-compare.")
    before = open(STATS).read().strip()
    open(STATS, "w").write("1")
    runs = {"old": [], "new": []}
    try:
        for i in range(args.runs):
            order = ("old", "new") if i % 2 == 0 else ("new", "old")
            for which in order:
                path = getattr(args, which)
                r = bench.measure(which, [path], dict(os.environ), args, workdir,
                                  f"{which}.{i}", True)
                runs[which].append(r)
                bench.log(f"run {i + 1}/{args.runs}: {which}: " + bench.describe_run(r))
    finally:
        open(STATS, "w").write(before)
    print(f"| figure | old | new | ratio |\n| --- | ---: | ---: | ---: |")
    for key, label in (("ready_ms", "ready time (ms)"),
                       ("bpf_ns_per_call", "in-kernel BPF time per traced call (ns)"),
                       ("sched_ns_per_event", "tracer CPU per event (ns)")):
        old = statistics.median(r[key] for r in runs["old"])
        new = statistics.median(r[key] for r in runs["new"])
        print(f"| {label} | {old:.1f} | {new:.1f} | {new / old:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
