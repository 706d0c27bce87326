//! mountsnoop: trace mount-table changes system-wide.

mod cli;
mod clock;
mod decode;
mod event;
#[cfg(test)]
mod fuzz_tests;
mod output;
mod perf;
mod preflight;
mod signals;
mod sink;
mod syscalls;
mod tracer;

mod skel {
    #![allow(clippy::all, unused_imports, dead_code, non_camel_case_types)]
    include!(concat!(env!("OUT_DIR"), "/mountsnoop.skel.rs"));

    // SAFETY: plain old data generated from the C header: integers and
    // arrays only, valid for any bit pattern.
    unsafe impl plain::Plain for types::event_header {}
    // SAFETY: as above.
    unsafe impl plain::Plain for types::pending_call {}
}

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use libbpf_rs::PrintLevel;

use crate::cli::Cli;
use crate::output::columns::{ColumnOptions, Columns};
use crate::output::detailed::Detailed;
use crate::output::json::Json;
use crate::output::summary::Summary;
use crate::output::Format;
use crate::perf::{PerfReader, Record};
use crate::sink::Sink;
use crate::syscalls::Syscall;
use crate::tracer::KernelLosses;

/// A line on stderr that can never panic, even with stderr closed.
#[macro_export]
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "mountsnoop: {}", format_args!($($arg)*));
    }};
}

/// The longest an event waits in the kernel before we print it.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often the kernel-side loss counters are read (a syscall each).
const LOSS_CHECK_INTERVAL: Duration = Duration::from_secs(1);
const PAGE_SIZE: usize = 4096;
/// Wake when a CPU's buffer is this fraction full: batches of hundreds of
/// events under load, and still far from overflowing.
const WAKEUP_FRACTION: usize = 8;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

fn libbpf_to_stderr(_level: PrintLevel, msg: String) {
    use std::io::Write as _;
    let _ = write!(std::io::stderr(), "{msg}");
}

fn run(cli: &Cli) -> Result<()> {
    preflight::check_privileges()?;
    preflight::check_btf()?;
    let events_dir = preflight::tracefs_events()?;
    let calls = preflight::available_calls(&events_dir)?;
    if cli.verbose {
        libbpf_rs::set_print(Some((PrintLevel::Debug, libbpf_to_stderr)));
        for call in Syscall::ALL.iter().filter(|c| !calls.contains(c)) {
            report!(
                "{} not traced: this kernel has no tracepoint syscalls/sys_enter_{}",
                call.name(),
                call.tracepoint()
            );
        }
    } else {
        libbpf_rs::set_print(None);
    }

    let calls = if cli.syscall.is_empty() {
        calls
    } else {
        for call in cli.syscall.iter().filter(|c| !calls.contains(c)) {
            report!(
                "{} cannot be traced: this kernel has no tracepoint syscalls/sys_enter_{}",
                call.name(),
                call.tracepoint()
            );
        }
        calls
            .into_iter()
            .filter(|c| cli.syscall.contains(c))
            .collect()
    };
    if calls.is_empty() {
        anyhow::bail!("none of the calls asked for can be traced on this kernel");
    }
    let filters = tracer::Filters {
        pid: cli.pid,
        tid: cli.tid,
        uid: cli.uid,
        comm: cli.name.clone(),
        mnt_ns: cli.mntns,
        cgroup: cli.cgroup.as_deref().map(tracer::open_cgroup).transpose()?,
        failed_only: cli.failed,
        calls,
        max_inflight: cli.max_inflight,
        // The default columns and --summary do not show the parent.
        want_parent: cli.parent_process || cli.json || cli.detailed,
    };
    let mut storage = MaybeUninit::uninit();
    let skel = tracer::load(&mut storage, &filters, cli.verbose)?;

    let sink = RefCell::new(Sink::new(
        format_for(cli),
        clock::Clock::new(),
        cli.max_events,
    ));
    let pages = cli.perf_pages;
    let watermark = (pages * PAGE_SIZE / WAKEUP_FRACTION) as u32;
    let mut perf = PerfReader::new(&skel.maps.events, pages, watermark, |record| {
        let mut sink = sink.borrow_mut();
        match record {
            Record::Sample { cpu, data } => sink.sample(cpu, data),
            Record::Lost { cpu, count } => sink.lost(cpu, count),
        }
    })?;
    // Attached only once the perf buffer is open: an event sent before
    // that would fail and be counted as lost before tracing began.
    let _links = tracer::attach(&skel)?;
    signals::install()?;

    sink.borrow_mut()
        .header()
        .context("writing to stdout failed")?;
    {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "Tracing mount syscalls... Hit Ctrl-C to end."
        );
    }

    let deadline = cli
        .duration
        .map(|secs| Instant::now() + Duration::from_secs_f64(secs));
    let mut seen = KernelLosses::default();
    let mut last_loss_check = Instant::now();
    loop {
        if signals::stop_requested() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let sink_done = {
            let s = sink.borrow();
            s.closed() || s.full()
        };
        if sink_done {
            break;
        }
        // Reads every CPU's buffer, whatever woke us, so that the batch
        // can be put in order.
        perf.poll(POLL_INTERVAL)?;
        sink.borrow_mut()
            .end_batch()
            .context("writing to stdout failed")?;
        if last_loss_check.elapsed() >= LOSS_CHECK_INTERVAL {
            seen = report_kernel_losses(&skel, seen)?;
            last_loss_check = Instant::now();
        }
    }

    // Drain what the kernel already handed over, then account for all.
    if !sink.borrow().closed() {
        perf.consume()?;
        sink.borrow_mut()
            .end_batch()
            .context("writing to stdout failed")?;
    }
    let seen = report_kernel_losses(&skel, seen)?;
    let mut sink = sink.borrow_mut();
    let total = seen.total() + sink.malformed;
    sink.finish(total).context("writing to stdout failed")?;
    if total > 0 {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "Lost {total} events in total");
    }
    // Once stdout's reader is gone nothing more would have been printed
    // anyway, and the exit is meant to be quiet (`mountsnoop | head -1`).
    if !sink.closed() {
        report_in_flight(&tracer::calls_in_flight(&skel));
    }
    if cli.verbose {
        report!(
            "the kernel's own lost-event records added up to {} (counted above already)",
            sink.lost_records
        );
    }
    if sink.unreadable_strings > 0 {
        report!(
            "{} string arguments could not be read in all",
            sink.unreadable_strings
        );
    }
    Ok(())
}

/// Calls still blocked in the kernel when we stop are not lost, but they
/// will not be printed either: say so.
fn report_in_flight(calls: &[tracer::InFlight]) {
    if calls.is_empty() {
        return;
    }
    let now = clock::Clock::ktime_now();
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

/// The output format the flags ask for.
fn format_for(cli: &Cli) -> Box<dyn Format> {
    if cli.summary {
        Box::new(Summary::new(cli.json))
    } else if cli.json {
        Box::new(Json::new())
    } else if cli.detailed {
        Box::new(Detailed::new())
    } else {
        Box::new(Columns::new(ColumnOptions {
            timestamp: cli.timestamp,
            parent: cli.parent_process,
            uid: cli.print_uid,
            latency: cli.latency,
        }))
    }
}

/// Reports kernel-side losses that grew since `before`; returns the new counts.
fn report_kernel_losses(skel: &skel::MountsnoopSkel, before: KernelLosses) -> Result<KernelLosses> {
    let now = tracer::kernel_losses(skel)?;
    if now.map_full > before.map_full {
        report!(
            "Lost {} events: the in-flight call map was full",
            now.map_full - before.map_full
        );
    }
    if now.buffer_full > before.buffer_full {
        report!(
            "Lost {} events: the perf buffer was full (a slow reader? try --perf-pages)",
            now.buffer_full - before.buffer_full
        );
    }
    if now.output_failed > before.output_failed {
        report!(
            "Lost {} events: perf output failed",
            now.output_failed - before.output_failed
        );
    }
    Ok(now)
}
