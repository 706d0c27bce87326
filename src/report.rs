//! Lines on stderr for the user: what was lost, what is still in flight.
//! stdout carries events only.

/// A line on stderr, `mountsnoop: ...`, that can never panic, even with
/// stderr closed.
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "mountsnoop: {}", format_args!($($arg)*));
    }};
}
pub(crate) use report;

use crate::clock::Clock;
use crate::sink::MountChains;
use crate::syscalls::Syscall;
use crate::tracer::{InFlight, KernelLosses};

/// Reports the kernel-side losses that grew from `before` to `now`.
pub fn kernel_losses(before: KernelLosses, now: KernelLosses) {
    if now.map_full > before.map_full {
        report!(
            "{} call(s) found the in-flight call map full (--max-inflight): shown as they returned, arguments read then, entry not seen",
            now.map_full - before.map_full
        );
    }
    if now.exit_only_lost > before.exit_only_lost {
        report!(
            "Lost {} events: calls seen only as they returned, whose arguments this kernel cannot give (Linux 5.15 can)",
            now.exit_only_lost - before.exit_only_lost
        );
    }
    if now.buffer_full > before.buffer_full {
        report!(
            "Lost {} events: the perf buffer was full (a slow reader? try --perf-pages)",
            now.buffer_full - before.buffer_full
        );
    }
    if now.args_read_late > before.args_read_late {
        report!(
            "{} call(s) had more argument data than the in-flight maps had room for at entry: read when the call returned, and marked so",
            now.args_read_late - before.args_read_late
        );
    }
    if now.output_failed > before.output_failed {
        report!(
            "Lost {} events: perf output failed",
            now.output_failed - before.output_failed
        );
    }
}

/// Calls still blocked in the kernel when we stop are not lost, but they
/// will not be printed either: say so.
pub fn in_flight(calls: &[InFlight]) {
    if calls.is_empty() {
        return;
    }
    let now = Clock::ktime_now();
    let shown: Vec<String> = calls
        .iter()
        .take(10)
        .map(|c| {
            let name = c.call.map_or("?", Syscall::name);
            let secs = now.saturating_sub(c.start_ns) as f64 / 1e9;
            format!("{name} by tid {} for {secs:.1} s", c.tid)
        })
        .collect();
    let more = if calls.len() > shown.len() {
        ", ..."
    } else {
        ""
    };
    report!(
        "{} call(s) still in progress at exit, not printed: {}{more}",
        calls.len(),
        shown.join(", ")
    );
}

/// Chains of the new mount API that made no record: dropped unfinished
/// (fd closed, process exited, or evicted over the limits), or still
/// open as we stop.
pub fn mount_chains(chains: MountChains) {
    let d = chains.drops;
    if d.total() > 0 {
        report!(
            "{} unfinished mount chain(s) dropped, no record made: {} fd closed, {} process exited, {} evicted over the limits",
            d.total(),
            d.closed,
            d.exited,
            d.evicted
        );
    }
    if chains.unfinished > 0 {
        report!(
            "{} unfinished mount chain(s) still open at exit, no record made",
            chains.unfinished
        );
    }
}
