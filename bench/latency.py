#!/usr/bin/env python3
"""How long a call's line takes to reach mountsnoop's stdout, from the
moment the call returned: at idle (single calls, far apart) and under a
mount storm. Prints the median, 99th percentile and maximum.

    cargo build --release --workspace   # mountsnoop and the test workload
    sudo bench/latency.py [--mountsnoop PATH] [--workload PATH]

A line's delay is the wall-clock time its reader got it minus the call's
return time, which is the JSON timestamp (the call's start) plus its
latency_ns; both sides are CLOCK_REALTIME (mountsnoop converts kernel
times with the offset it takes at start). Standard library only.
"""

import argparse
import ctypes
import datetime
import json
import os
import random
import statistics
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def returned_at(event):
    start = datetime.datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    start = start.replace(tzinfo=datetime.timezone.utc).timestamp()
    return start + event["latency_ns"] / 1e9


class Reader:
    """mountsnoop --json with ARGS; keeps (arrival, event) per line."""

    def __init__(self, binary, args):
        self.proc = subprocess.Popen(
            [binary, "--json", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        line = self.proc.stderr.readline().decode()
        if not line.startswith("Tracing"):
            raise SystemExit(f"mountsnoop did not start: {line}")
        self.lines = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.append((time.time(), json.loads(raw)))

    def stop(self):
        self.proc.send_signal(2)
        self.proc.wait()
        self.thread.join()
        return [arrived - returned_at(e) for arrived, e in self.lines]


def figures(delays):
    ms = sorted(d * 1000 for d in delays)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"median {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms ({len(ms)} lines)"


def idle(binary, calls):
    libc = ctypes.CDLL(None, use_errno=True)
    reader = Reader(binary, ["-p", str(os.getpid())])
    for _ in range(calls):
        # A failing mount (nothing to undo), at a random phase.
        libc.mount(b"none", b"/nonexistent-mountsnoop-latency", b"tmpfs", 0, None)
        time.sleep(random.uniform(0.02, 0.12))
    time.sleep(0.3)
    return reader.stop()


def storm(binary, workload, n):
    comm = "latency-storm"
    reader = Reader(binary, ["-n", comm])
    env = dict(os.environ, MOUNTSNOOP_WORKLOAD_COMM=comm)
    subprocess.run([workload, "storm", str(n)], env=env, check=True)
    time.sleep(0.5)
    return reader.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mountsnoop", default=os.path.join(REPO, "target/release/mountsnoop"))
    ap.add_argument(
        "--workload", default=os.path.join(REPO, "target/release/mountsnoop-test-workload")
    )
    ap.add_argument("--calls", type=int, default=60, help="single calls at idle")
    ap.add_argument("--n", type=int, default=20000, help="storm size (mount+umount2 pairs)")
    args = ap.parse_args()
    print(f"idle (single calls 20-120 ms apart): {figures(idle(args.mountsnoop, args.calls))}")
    print(f"storm ({args.n} pairs): {figures(storm(args.mountsnoop, args.workload, args.n))}")


if __name__ == "__main__":
    main()
