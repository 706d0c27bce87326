//! mountsnoop: trace mount-table changes system-wide.

mod cli;
mod clock;
mod decode;
mod event;
mod output;
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
}

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use libbpf_rs::{ErrorKind, PerfBufferBuilder, PrintLevel};

use crate::cli::Cli;
use crate::output::columns::{ColumnOptions, Columns};
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

const POLL_INTERVAL: Duration = Duration::from_millis(100);

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

    let filters = tracer::Filters {
        pid: cli.pid,
        calls,
    };
    let mut storage = MaybeUninit::uninit();
    let skel = tracer::load(&mut storage, &filters, cli.verbose)?;
    let _links = tracer::attach(&skel)?;

    let format = Box::new(Columns::new(ColumnOptions {
        timestamp: cli.timestamp,
        parent: cli.parent_process,
    }));
    let sink = RefCell::new(Sink::new(format, clock::Clock::new()));
    let perf = PerfBufferBuilder::new(&skel.maps.events)
        .pages(cli.perf_pages)
        .sample_cb(|cpu, data: &[u8]| sink.borrow_mut().sample(cpu, data))
        .lost_cb(|cpu, count| sink.borrow_mut().lost(cpu, count))
        .build()
        .context("setting up the perf buffer failed")?;
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

    let mut seen = KernelLosses::default();
    while !signals::stop_requested() && !sink.borrow().closed() {
        match perf.poll(POLL_INTERVAL) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e).context("polling the perf buffer failed"),
        }
        sink.borrow_mut()
            .flush()
            .context("writing to stdout failed")?;
        seen = report_kernel_losses(&skel, seen)?;
    }

    // Drain what the kernel already handed over, then account for all.
    if !sink.borrow().closed() {
        perf.consume().context("draining the perf buffer failed")?;
        sink.borrow_mut()
            .flush()
            .context("writing to stdout failed")?;
    }
    let seen = report_kernel_losses(&skel, seen)?;
    let sink = sink.borrow();
    let total = sink.lost_in_perf_buffer + seen.total() + sink.malformed;
    if total > 0 {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "Lost {total} events in total");
    }
    if sink.unreadable_strings > 0 {
        report!(
            "{} string arguments could not be read in all",
            sink.unreadable_strings
        );
    }
    Ok(())
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
    if now.output_failed > before.output_failed {
        report!(
            "Lost {} events: perf output failed",
            now.output_failed - before.output_failed
        );
    }
    Ok(now)
}
