#!/usr/bin/env python3
"""Measuring logic of bench/run.sh: mountsnoop against bench/mountsnoop.bt.

Run through bench/run.sh, which installs bpftrace, turns on
kernel.bpf_stats_enabled and restores it. Standard library only.

Every figure is CPU time or a count, never wall time, except the ready
time (which is wall time by definition): umount waits for RCU grace
periods, so a storm's wall time swings 2x from run to run.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Reference figures for bpftrace on this machine (issue 5), for the README.
REFERENCE_BPFTRACE = "~700 ms ready, 2.3 us BPF time per syscall, 6.7 us CPU per event, 110 MB RSS"

# (key, label, unit, target ratio mountsnoop/bpftrace or None)
FIGURES = [
    ("ready_ms", "ready time (exec to header)", "ms", 0.04),
    ("bpf_ns_per_call", "in-kernel BPF time per traced syscall", "ns", 0.5),
    ("sched_ns_per_event", "tracer CPU per event (utime+stime, ns-precise)", "ns", 0.4),
    ("missing", "events missing of {expected} (storm N={n})", "", None),
    ("hwm_kb", "peak RSS (VmHWM)", "MB", 0.1),
]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # comm may hold spaces and parentheses: split after the last ')'.
    return data[data.rindex(")") + 2:].split()


def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(entry)[1]) == pid:
                    kids.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def cpu_ns(pid):
    """utime+stime+cutime+cstime from /proc/PID/stat, with its live
    descendants, in ns: a cross-check of sched_ns, in 10 ms ticks."""
    try:
        f = _stat_fields(pid)
    except OSError:
        return 0
    # fields 14-17 of proc(5): utime stime cutime cstime; f[0] is field 3.
    ticks = sum(int(x) for x in f[11:15])
    total = ticks * 1_000_000_000 // CLK_TCK
    for kid in _children(pid):
        total += cpu_ns(kid)
    return total


def sched_ns(pid):
    """utime+stime of pid's threads and live descendants in ns. The first
    field of /proc/PID/task/TID/schedstat is the thread's run time, the
    very sum the kernel splits into utime and stime; /proc/PID/stat shows
    that split rounded to 10 ms ticks, too coarse for a tracer that needs
    a few tens of ms for a whole storm."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    for kid in _children(pid):
        total += sched_ns(kid)
    return total


def ctx_switches(pid):
    """Voluntary + involuntary context switches of pid's live threads."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.split(":")[0].endswith("ctxt_switches"):
                        total += int(line.split()[1])
        except (OSError, ValueError):
            pass
    return total


def irq_work_interrupts():
    """IRQ work interrupts (IWI in /proc/interrupts), all CPUs: a perf
    buffer that wakes its reader per event raises one per event."""
    with open("/proc/interrupts") as f:
        for line in f:
            if line.lstrip().startswith("IWI:"):
                return sum(int(x) for x in line.split()[1:] if x.isdigit())
    return 0


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def prog_ids(pid):
    """Ids of the BPF programs pid holds open (Debian's bpftool is built
    without the `pids` field, so read each bpf-prog fd's fdinfo)."""
    ids = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(f"{fd_dir}/{fd}") != "anon_inode:bpf-prog":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def prog_stats(ids):
    """Sum of run_time_ns and run_cnt over the programs ids."""
    out = subprocess.run(["bpftool", "prog", "show", "--json"], check=True,
                         capture_output=True, text=True).stdout
    run_ns = run_cnt = 0
    for prog in json.loads(out):
        if prog.get("id") in ids:
            run_ns += prog.get("run_time_ns", 0)
            run_cnt += prog.get("run_cnt", 0)
    return run_ns, run_cnt


# ---------------------------------------------------------------- tracer


class Tracer:
    """One tracer process, its stdout straight into a file (no reader
    process of ours competing for the two CPUs, no pipe wake-ups)."""

    def __init__(self, name, argv, env, workdir, tag):
        self.name = name
        self.argv = argv
        self.env = env
        self.out_path = os.path.join(workdir, f"{tag}.out")
        self.err_path = os.path.join(workdir, f"{tag}.err")
        self.proc = None
        self.body_at = None  # file offset just past the header line

    def start(self):
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.t0 = time.monotonic()
            # Own session: a Ctrl-C on the terminal reaches us, and we stop
            # the tracer ourselves (SIGINT, so it drains), in order.
            self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, start_new_session=True)

    def wait_ready(self, timeout):
        """Poll the output file every 0.5 ms for the header line; the ready
        time in ms. bpftrace prints "Attaching N probes..." before it."""
        deadline = self.t0 + timeout
        # --json prints no header: its "Tracing" line on stderr says the
        # same moment.
        json_out = "--json" in self.argv
        with open(self.out_path, "rb") as f:
            seen = b""
            while True:
                seen += f.read()
                m = re.search(rb"(^|\n)COMM[^\n]*\n", seen)
                now = time.monotonic()
                if json_out and "Tracing" in self.stderr():
                    self.body_at = 0
                    return (now - self.t0) * 1000.0
                if m:
                    self.body_at = m.end()
                    return (now - self.t0) * 1000.0
                if self.proc.poll() is not None or now > deadline:
                    raise RuntimeError(
                        f"{self.name} printed no header (exit status {self.proc.poll()}):\n"
                        + self.stderr()[-2000:])
                time.sleep(0.0005)

    @property
    def nbytes(self):
        return os.stat(self.out_path).st_size

    @property
    def lines(self):
        """Lines printed after the header so far."""
        n = 0
        with open(self.out_path, "rb") as f:
            f.seek(self.body_at)
            while chunk := f.read(1 << 20):
                n += chunk.count(b"\n")
        return n

    def stop(self, timeout=60):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not exit {timeout} s after SIGINT: killing it")
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def stderr(self):
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def lost(self):
        """What the tracer itself reported as lost, from its stderr."""
        err = self.stderr()
        m = re.findall(r"Lost (\d+) events in total", err)
        if m:
            return int(m[-1])
        # bpftrace: one "Lost N events" line per perf buffer overflow.
        return sum(int(x) for x in re.findall(r"Lost (\d+) events", err))

    def lines_of_pid(self, pid):
        """Lines whose PID column (the 2nd) is pid; JSON lines whose pid is."""
        want = str(pid).encode()
        key = b'"pid":' + want + b","
        n = 0
        with open(self.out_path, "rb") as f:
            for line in f:
                if line.startswith(b"{"):
                    n += key in line
                    continue
                fields = line.split(None, 2)
                if len(fields) >= 2 and fields[1] == want:
                    n += 1
        return n


# ---------------------------------------------------------------- runs


def run_storm(workload, n):
    """Run the storm; its pid and CPU time (utime+stime, ns)."""
    proc = subprocess.Popen([workload, "storm", str(n)], stdin=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{workload} storm {n} exited {proc.returncode}")
    return proc.pid, int((ru.ru_utime + ru.ru_stime) * 1e9)


def settle(tracer, quiet_polls=5, interval=0.1, limit=120):
    """Wait until the tracer has printed everything it is going to: no new
    output and (nearly) no CPU for quiet_polls polls in a row. A tracer
    that wakes up on a timer uses a little CPU even when idle: below 1% of
    a CPU counts as quiet."""
    last_bytes, last_cpu = None, None
    quiet = 0
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and quiet < quiet_polls:
        time.sleep(interval)
        nbytes, cpu = tracer.nbytes, sched_ns(tracer.proc.pid)
        idle = (nbytes == last_bytes and last_cpu is not None
                and cpu - last_cpu < interval * 1e9 * 0.01)
        quiet = quiet + 1 if idle else 0
        last_bytes, last_cpu = nbytes, cpu


def measure(name, argv, env, args, workdir, tag, want_stats):
    tracer = Tracer(name, argv, env, workdir, tag)
    tracer.start()
    r = {"tool": name}
    try:
        r["ready_ms"] = tracer.wait_ready(args.ready_timeout)
        pid = tracer.proc.pid
        ids = prog_ids(pid)
        r["progs"] = len(ids)
        if want_stats:
            ns0, cnt0 = prog_stats(ids)
        cpu0, sch0, lines0 = cpu_ns(pid), sched_ns(pid), tracer.lines
        csw0, iwi0 = ctx_switches(pid), irq_work_interrupts()
        storm_pid, storm_cpu = run_storm(args.workload, args.n)
        settle(tracer)
        cpu1, sch1, lines1 = cpu_ns(pid), sched_ns(pid), tracer.lines
        r["tracer_cpu_ns_per_call"] = (cpu1 - cpu0) / args.expected
        csw1, iwi1 = ctx_switches(pid), irq_work_interrupts()
        if want_stats:
            ns1, cnt1 = prog_stats(ids)
            # All the tracer's BPF time during the storm, over the calls it
            # traced: programs on the raw tracepoints also run (briefly) for
            # every other system call meanwhile, which counts too.
            r["bpf_runs"] = cnt1 - cnt0
            r["bpf_ns_per_call"] = (ns1 - ns0) / args.expected if ns1 > ns0 else None
        r["hwm_kb"] = vm_hwm_kb(pid)
    finally:
        r["exit"] = tracer.stop()
    events = lines1 - lines0
    r["events"] = events
    r["cpu_ns_per_event"] = (cpu1 - cpu0) / events if events else None
    r["sched_ns_per_event"] = (sch1 - sch0) / events if events else None
    r["wakeups_per_event"] = (csw1 - csw0) / events if events else None
    r["irq_work_per_event"] = (iwi1 - iwi0) / events if events else None
    r["storm_cpu_ns_per_call"] = storm_cpu / args.expected
    r["arrived"] = tracer.lines_of_pid(storm_pid)
    r["missing"] = args.expected - r["arrived"]
    r["lost"] = tracer.lost()
    if r["exit"] not in (0, None):
        raise RuntimeError(f"{name} exited {r['exit']}:\n{tracer.stderr()[-2000:]}")
    return r


def getppid_ns(workload, n, filtered=False):
    """ns per getppid call, best of three loops of n (the least disturbed);
    `filtered`: in a process under a 20-rule seccomp filter."""
    best = None
    for _ in range(3):
        argv = [workload, "getppid", str(n)] + (["filtered"] if filtered else [])
        out = subprocess.run(argv, check=True,
                             stdout=subprocess.PIPE, stdin=subprocess.DEVNULL).stdout
        v = float(out.decode().split()[-1])
        best = v if best is None else min(best, v)
    return best


STATS = "/proc/sys/kernel/bpf_stats_enabled"


def measure_unrelated(name, argv, env, args, workdir, tag):
    """ns per unrelated syscall (getppid) while `argv` traces. BPF run-time
    statistics are off meanwhile: they add two clock reads to every run of
    every program, which a program run for every syscall would pay."""
    tracer = Tracer(name, argv, env, workdir, tag)
    tracer.start()
    with open(STATS) as f:
        stats = f.read().strip()
    try:
        tracer.wait_ready(args.ready_timeout)
        with open(STATS, "w") as f:
            f.write("0")
        return (getppid_ns(args.workload, args.getppid_n),
                getppid_ns(args.workload, args.getppid_n, filtered=True))
    finally:
        with open(STATS, "w") as f:
            f.write(stats)
        tracer.stop()


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "ms":
        return f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms"
    if unit == "ns":
        return f"{v / 1000:.2f} us"
    if unit == "MB":
        return f"{v / 1024:.1f} MB"
    return f"{v:g}"


def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def describe_run(r):
    parts = [f"ready {r['ready_ms']:.1f} ms"]
    if r.get("bpf_ns_per_call") is not None:
        parts.append(f"bpf {r['bpf_ns_per_call']:.0f} ns/call ({r['bpf_runs']} program runs)")
    if r.get("cpu_ns_per_event") is not None:
        parts.append(f"cpu {r['sched_ns_per_event']:.0f} ns/event"
                     f" (/proc/PID/stat {r['cpu_ns_per_event']:.0f}) over {r['events']} events")
    if r.get("wakeups_per_event") is not None:
        parts.append(f"{r['wakeups_per_event']:.2f} tracer context switches"
                     f" and {r['irq_work_per_event']:.2f} irq_work interrupts per event")
    parts.append(f"storm {r['storm_cpu_ns_per_call']:.0f} ns/call")
    parts.append(f"missing {r['missing']}, lost {r['lost']}")
    parts.append(f"VmHWM {r['hwm_kb']} kB")
    return f"{r['tool']}: " + ", ".join(parts)


def provenance(binary):
    """Which source the mountsnoop binary was built from, as far as we can
    tell: the checkout's HEAD (and whether it has local changes) when the
    binary is this checkout's, else a COMMIT file next to its target/."""
    binary = os.path.realpath(binary)
    if binary.startswith(os.path.join(REPO, "target") + os.sep):
        try:
            head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                  capture_output=True, text=True, check=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True).stdout.strip()
            return f"checkout {head}" + (" with uncommitted changes" if dirty else "")
        except (OSError, subprocess.CalledProcessError):
            return "checkout unknown"
    root = binary
    while root != os.path.dirname(root):
        root = os.path.dirname(root)
        if os.path.basename(root) == "target":
            try:
                with open(os.path.join(os.path.dirname(root), "COMMIT")) as f:
                    return f"built from {f.read().strip()[:12]}"
            except OSError:
                break
    return "source unknown"


def tool_version(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "unknown"


def report(args, runs_by_tool, baseline, started):
    ms, bt = runs_by_tool["mountsnoop"], runs_by_tool["bpftrace"]
    out = []
    out.append(f"## mountsnoop vs bpftrace ({started:%Y-%m-%d %H:%M %Z})")
    out.append("")
    out.append(f"- command: `{args.command_line}`")
    out.append(f"- date: {started.isoformat(timespec='seconds')}")
    out.append(f"- host: Linux {platform.release()}, {os.cpu_count()} CPUs, "
               f"load average at start {args.loadavg}")
    out.append(f"- mountsnoop: `{args.mountsnoop}` ({tool_version([args.mountsnoop, '--version'])}; "
               f"{provenance(args.mountsnoop)})")
    out.append(f"- bpftrace: {tool_version(['bpftrace', '--version'])}, `bench/mountsnoop.bt`, "
               f"BPFTRACE_STRLEN={args.bpftrace_strlen}")
    out.append(f"- {args.runs} runs each, medians; storm N={args.n} "
               f"({args.expected} traced calls per run)")
    out.append("")
    out.append("| figure | mountsnoop | bpftrace | ratio | target | result |")
    out.append("| --- | ---: | ---: | ---: | --- | --- |")
    verdicts = []
    for key, label, unit, target in FIGURES:
        label = label.format(expected=args.expected, n=args.n)
        if key == "missing":
            worst_ms = max(r["missing"] for r in ms)
            worst_bt = max(r["missing"] for r in bt)
            ok = all(r["missing"] == 0 and r["lost"] == 0 for r in ms)
            verdicts.append(("events missing", ok))
            out.append(f"| {label} | {fmt(med(ms, key), '')} (max {worst_ms}) | "
                       f"{fmt(med(bt, key), '')} (max {worst_bt}) | | "
                       f"mountsnoop 0 in every run | {'PASS' if ok else 'FAIL'} |")
            continue
        a, b = med(ms, key), med(bt, key)
        ratio = a / b if a is not None and b else None
        ok = ratio is not None and ratio <= target
        verdicts.append((label, ok))
        out.append(f"| {label} | {fmt(a, unit)} | {fmt(b, unit)} | "
                   f"{'n/a' if ratio is None else f'{ratio:.3f}'} | <= {target}x | "
                   f"{'PASS' if ok else 'FAIL'} |")
    # Not targets: what the traced workload pays, for context.
    base = statistics.median(baseline) if baseline else None
    a, b = med(ms, "storm_cpu_ns_per_call"), med(bt, "storm_cpu_ns_per_call")
    out.append(f"| storm CPU per call (untraced: {fmt(base, 'ns')}) | {fmt(a, 'ns')} | "
               f"{fmt(b, 'ns')} | {a / b:.3f} | (info) | |")
    a, b = med(ms, "cpu_ns_per_event"), med(bt, "cpu_ns_per_event")
    if a is not None and b:
        out.append(f"| tracer CPU per event (/proc/PID/stat, 10 ms ticks) | {fmt(a, 'ns')} | "
                   f"{fmt(b, 'ns')} | {a / b:.3f} | (info) | |")
    for key, label in (("wakeups_per_event", "tracer context switches per event"),
                       ("irq_work_per_event", "irq_work interrupts per event (whole host)")):
        a, b = med(ms, key), med(bt, key)
        if a is not None and b is not None:
            out.append(f"| {label} | {a:.2f} | {b:.2f} | "
                       f"{'n/a' if not b else f'{a / b:.3f}'} | (info) | |")
    # What the options cost, against plain mountsnoop.
    for name in (n for n in runs_by_tool if n.startswith("mountsnoop ")):
        v = runs_by_tool[name]
        for key, label in (("bpf_ns_per_call", "in-kernel BPF time per traced syscall"),
                           ("sched_ns_per_event", "tracer CPU per event")):
            a, b = med(v, key), med(ms, key)
            out.append(f"| {label}, `{name}` (vs plain mountsnoop) | {fmt(a, 'ns')} | "
                       f"{fmt(b, 'ns')} | {'n/a' if a is None or not b else f'{a / b:.3f}'} | "
                       f"(info) | |")
        missing = max(r["missing"] + r["lost"] for r in v)
        out.append(f"| events missing or lost, `{name}` | {missing} | | | 0 | "
                   f"{'PASS' if missing == 0 else 'FAIL'} |")
        verdicts.append((f"events missing, {name}", missing == 0))
    # The cost to every other system call on the host.
    if args.unrelated:
        u = {k: statistics.median(v) for k, v in args.unrelated.items()}
        base = u["untraced"]
        add_ms, add_bt = u["mountsnoop"] - base, u["bpftrace"] - base
        ratio = add_ms / add_bt if add_bt > 0 else None
        ok = ratio is not None and ratio <= 1.5
        verdicts.append(("added cost per unrelated syscall", ok))
        out.append(f"| added cost per unrelated syscall (getppid; untraced {base:.0f} ns) | "
                   f"{add_ms:.0f} ns | {add_bt:.0f} ns | "
                   f"{'n/a' if ratio is None else f'{ratio:.3f}'} | <= 1.5x | "
                   f"{'PASS' if ok else 'FAIL'} |")
        add_no32 = u["mountsnoop --no-32bit"] - base
        out.append(f"| the same with --no-32bit | {add_no32:.0f} ns | {add_bt:.0f} ns | "
                   f"{'n/a' if not add_bt > 0 else f'{add_no32 / add_bt:.3f}'} | (info) | |")
        # Refused calls are seen with no hook on seccomp: a filtered
        # process's unrelated calls should cost what an unfiltered one's do.
        f = {k: statistics.median(v) for k, v in args.filtered.items()}
        add_f = f["mountsnoop"] - f["untraced"]
        ratio = add_f / add_ms if add_ms > 0 else None
        ok = ratio is not None and ratio <= 1.1
        verdicts.append(("added cost per unrelated syscall under a seccomp filter", ok))
        out.append(f"| added cost per unrelated syscall in a process with a 20-rule seccomp "
                   f"filter (untraced {f['untraced']:.0f} ns) vs without a filter | "
                   f"{add_f:.0f} ns | {add_ms:.0f} ns | "
                   f"{'n/a' if ratio is None else f'{ratio:.3f}'} | <= 1.1x | "
                   f"{'PASS' if ok else 'FAIL'} |")
    out.append("")
    out.append(f"Reference, bpftrace on this machine earlier: {REFERENCE_BPFTRACE}.")
    failed = [label for label, ok in verdicts if not ok]
    out.append("")
    out.append("Result: " + ("all targets PASS" if not failed
                             else f"{len(failed)} of {len(verdicts)} targets FAIL: "
                             + "; ".join(failed)))
    return "\n".join(out), not failed


def mounts_row(args, env, workdir, stats_on):
    """The storm under mountsnoop with --mounts (the kernel's mount
    reports: a fanotify group, statmount per attach, the namespace BPF
    programs) and without: in-kernel BPF time and tracer CPU per storm
    call, medians of --runs runs. Target: --mounts at most 1.3x."""
    rows = {"off": [], "--mounts": []}
    for i in range(1, args.runs + 1):
        for key, argv in (("off", [args.mountsnoop]),
                          ("--mounts", [args.mountsnoop, "--mounts"])):
            r = measure(f"mountsnoop {key}", argv, env, args, workdir, f"mounts.{key}.{i}", stats_on)
            rows[key].append(r)
            log(f"run {i}/{args.runs}: {key}: bpf {fmt(r.get('bpf_ns_per_call'), 'ns')}/call, "
                f"tracer {fmt(r['tracer_cpu_ns_per_call'], 'ns')}/call")
    out = [f"## the storm with --mounts vs without (N={args.n}, {args.runs} runs, medians)", "",
           "| figure | off | --mounts | ratio | target | result |",
           "| --- | ---: | ---: | ---: | --- | --- |"]
    ok_all = True
    for key, label in (("bpf_ns_per_call", "in-kernel BPF time per storm call"),
                       ("tracer_cpu_ns_per_call", "tracer CPU per storm call (10 ms ticks)")):
        a, b = med(rows["off"], key), med(rows["--mounts"], key)
        ratio = b / a if a and b is not None else None
        ok = ratio is not None and ratio <= 1.3
        ok_all = ok_all and ok
        out.append(f"| {label} | {fmt(a, 'ns')} | {fmt(b, 'ns')} | "
                   f"{'n/a' if ratio is None else f'{ratio:.3f}'} | <= 1.3x | "
                   f"{'PASS' if ok else 'FAIL'} |")
    print("\n".join(out))
    return 1 if args.check and not ok_all else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 5)))
    ap.add_argument("--n", type=int, default=None, help="storm size (default 20000, smoke 5000)")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--mounts-row", action="store_true",
                    help="mountsnoop alone: the storm with --mounts (fanotify on) vs without")
    ap.add_argument("--mountsnoop", default=os.path.join(REPO, "target/release/mountsnoop"))
    ap.add_argument("--workload", default=os.path.join(REPO, "target/release/mountsnoop-test-workload"))
    ap.add_argument("--script", default=os.path.join(HERE, "mountsnoop.bt"))
    ap.add_argument("--bpftrace-strlen", type=int, default=64)
    ap.add_argument("--getppid-n", type=int, default=2_000_000,
                    help="getppid calls per loop for the unrelated-syscall figure")
    ap.add_argument("--variant", action="append", default=None, metavar="FLAGS",
                    help="also run the storm under `mountsnoop FLAGS` and compare its "
                         "in-kernel and tracer CPU figures with plain mountsnoop's "
                         "(repeatable; default: -y and --json)")
    ap.add_argument("--ready-timeout", type=float, default=120)
    ap.add_argument("--keep", action="store_true", help="keep the tracers' output")
    ap.add_argument("--json", help="write every run's raw figures here")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    ap.add_argument("--command-line", default=" ".join(shlex.quote(a) for a in sys.argv))
    args = ap.parse_args()
    if args.n is None:
        args.n = 5000 if args.smoke else 20000
    if args.variant is None:
        args.variant = ["-y", "--json"]
    args.expected = 2 * args.n + 3
    args.loadavg = " ".join(open("/proc/loadavg").read().split()[:3])
    if args.smoke:
        args.runs = 1
    for path in (args.mountsnoop, args.workload):
        if not os.access(path, os.X_OK):
            sys.exit(f"bench: {path} is missing: run `cargo build --release --workspace` first")

    workdir = tempfile.mkdtemp(prefix="mountsnoop-bench.")
    started = datetime.datetime.now().astimezone()
    ms_env = dict(os.environ)
    bt_env = dict(os.environ, BPFTRACE_STRLEN=str(args.bpftrace_strlen))
    runs = {"mountsnoop": [], "bpftrace": []}
    for v in args.variant:
        runs[f"mountsnoop {v}"] = []
    baseline = []
    try:
        if args.smoke:
            r = measure("mountsnoop", [args.mountsnoop], ms_env, args, workdir, "smoke", False)
            log(describe_run(r))
            ok = r["missing"] == 0 and r["lost"] == 0
            print(f"smoke: mountsnoop, storm N={args.n}: {r['arrived']} of {args.expected} "
                  f"events arrived, {r['missing']} missing, {r['lost']} reported lost: "
                  f"{'PASS' if ok else 'FAIL'}")
            return 0 if ok else 1

        stats_on = open("/proc/sys/kernel/bpf_stats_enabled").read().strip() == "1"
        if args.mounts_row:
            return mounts_row(args, ms_env, workdir, stats_on)
        if not stats_on:
            log("bench: kernel.bpf_stats_enabled is 0: no in-kernel figures (run through bench/run.sh)")
        args.unrelated = {"untraced": [], "mountsnoop": [], "mountsnoop --no-32bit": [],
                          "bpftrace": []}
        # The same in a process under a 20-rule seccomp filter.
        args.filtered = {k: [] for k in args.unrelated}
        for i in range(1, args.runs + 1):
            # What an unrelated syscall costs, untraced and under each.
            args.unrelated["untraced"].append(getppid_ns(args.workload, args.getppid_n))
            args.filtered["untraced"].append(
                getppid_ns(args.workload, args.getppid_n, filtered=True))
            for name, argv, env in (
                    ("mountsnoop", [args.mountsnoop], ms_env),
                    ("mountsnoop --no-32bit", [args.mountsnoop, "--no-32bit"], ms_env),
                    ("bpftrace", ["bpftrace", args.script], bt_env)):
                plain, filtered = measure_unrelated(name, argv, env, args, workdir,
                                                    f"getppid.{name}.{i}")
                args.unrelated[name].append(plain)
                args.filtered[name].append(filtered)
            log(f"run {i}/{args.runs}: getppid ns/call " + ", ".join(
                f"{k} {v[-1]:.1f}" for k, v in args.unrelated.items()))
            # Untraced storm first: what the calls cost with no tracer.
            _, cpu = run_storm(args.workload, args.n)
            baseline.append(cpu / args.expected)
            log(f"run {i}/{args.runs}: untraced storm {cpu / args.expected:.0f} ns/call")
            variants = [(f"mountsnoop {v}", [args.mountsnoop] + shlex.split(v), ms_env)
                        for v in args.variant]
            for name, argv, env in [
                    ("mountsnoop", [args.mountsnoop], ms_env),
                    ("bpftrace", ["bpftrace", args.script], bt_env)] + variants:
                tag = name.replace(" ", "_").replace("-", "")
                r = measure(name, argv, env, args, workdir, f"{tag}.{i}", stats_on)
                runs[name].append(r)
                log(f"run {i}/{args.runs}: " + describe_run(r))
        text, ok = report(args, runs, baseline, started)
        print(text)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"runs": runs, "untraced_storm_ns_per_call": baseline}, f, indent=1)
        return 1 if args.check and not ok else 0
    finally:
        if args.keep:
            log(f"bench: output kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("bench: interrupted")
        sys.exit(130)
    except RuntimeError as e:
        log(f"bench: {e}")
        sys.exit(1)
