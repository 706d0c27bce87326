//! mountsnoop: trace mount-table changes system-wide.

mod bcc_maps;
mod cli;
mod clock;
mod container;
mod decode;
mod event;
#[cfg(test)]
mod fuzz_tests;
mod late_read;
mod metrics;
mod mounts;
mod output;
mod perf;
mod preflight;
mod report;
mod signals;
mod sink;
mod skel;
mod syscalls;
mod table;
mod tracer;

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use libbpf_rs::PrintLevel;

use crate::cli::Cli;
use crate::metrics::Metrics;
use crate::output::columns::{ColumnOptions, Columns};
use crate::output::detailed::Detailed;
use crate::output::json::Json;
use crate::output::mounts::Mounts;
use crate::output::summary::Summary;
use crate::output::Format;
use crate::perf::{PerfReader, Record};
use crate::report::report;
use crate::sink::Sink;
use crate::skel::MountsnoopSkel;
use crate::syscalls::Syscall;
use crate::table::session::{ChangeFilter, NewNamespace, Session};
use crate::table::watch::Watcher;
use crate::tracer::{KernelLosses, RawHook};

/// The longest an event waits in the kernel before we read it.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How soon to look again when events are held for order (they returned
/// while the buffers were being read).
const HOLD_RECHECK: Duration = Duration::from_millis(5);
/// How often the kernel-side loss counters are read (a syscall each).
const LOSS_CHECK_INTERVAL: Duration = Duration::from_secs(1);
const PAGE_SIZE: usize = 4096;
/// Wake when a CPU's buffer is this fraction full: batches of hundreds of
/// events under load, and still far from overflowing.
const WAKEUP_FRACTION: usize = 8;
/// Pages per CPU of the buffer of events with arguments to read late.
const URGENT_PAGES: usize = 64;
/// Pages per CPU of the buffer of namespaces entered (--mounts).
const NS_PAGES: usize = 8;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Needs neither root nor BPF: answered before any check.
    if let Some(shell) = cli.completions {
        cli::write_completions(shell, &mut std::io::stdout().lock());
        return ExitCode::SUCCESS;
    }
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Choose the calls, start tracing, print until told to stop, then
/// account for everything.
fn run(cli: &Cli) -> Result<()> {
    // Listening first: a port in use is reported before anything loads.
    let metrics = cli.metrics.map(Metrics::serve).transpose()?;
    let calls = choose_calls(cli)?;
    let watcher = table_watcher(cli);
    let filters = filters(cli, calls, watcher.is_some())?;
    if cli.verbose {
        for set in [&filters.cgroupset, &filters.mount_ns_set]
            .into_iter()
            .flatten()
        {
            report!("{}", set.describe());
        }
    }
    let mut storage = MaybeUninit::uninit();
    let mut fallback = MaybeUninit::uninit();
    // The cheaper hook where the kernel allows tracing programs (some
    // refuse them: a lockdown, a hardened config), else the raw one.
    // MOUNTSNOOP_HOOK=raw_tp skips the first choice (the tests use it to
    // try the fallback on a kernel that has both).
    let first = match std::env::var("MOUNTSNOOP_HOOK").as_deref() {
        Ok("raw_tp") => RawHook::Raw,
        _ => RawHook::Btf,
    };
    let mut skel = match tracer::load(&mut storage, &filters, first) {
        Ok(skel) => skel,
        Err(err) if filters.compat => {
            if cli.verbose {
                report!(
                    "the BTF-typed raw tracepoints cannot be used ({err:#}): the raw ones instead"
                );
            }
            tracer::load(&mut fallback, &filters, RawHook::Raw)?
        }
        Err(err) => return Err(err),
    };
    if cli.verbose && filters.compat {
        let which = if tracer::uses_btf_hooks(&skel) {
            "the BTF-typed raw tracepoints (tp_btf)"
        } else {
            "the raw tracepoints (raw_tp)"
        };
        report!(
            "hooks: {which} sys_enter and sys_exit, for 64-bit and 32-bit calls (every system call on the host passes them; --no-32bit uses the per-call tracepoints)"
        );
    }
    let log = std::rc::Rc::default();
    let mut session = watcher.map(|w| {
        Session::new(
            w,
            column_options(cli),
            change_filter(cli),
            std::rc::Rc::clone(&log),
        )
    });
    let format: Box<dyn Format> = if session.is_some() {
        Box::new(output::table::CallRecorder::new(column_options(cli), log))
    } else {
        format_for(cli)
    };
    let mut sink = Sink::new(format, clock::Clock::new(), cli.max_events);
    sink.decode_fds(cli.decode_fds);
    sink.only_container(cli.container.clone().filter(|id| !id.is_empty()));
    if let Some(m) = &metrics {
        let m = m.clone();
        sink.on_event(Box::new(move |call, ret| match call {
            Some(call) => m.call(call, ret),
            None => m.malformed(),
        }));
    }
    let sink = RefCell::new(sink);
    let to_sink = |record: Record| {
        let mut sink = sink.borrow_mut();
        match record {
            Record::Sample { cpu, data } => sink.sample(cpu, data),
            Record::Lost { cpu, count } => sink.lost(cpu, count),
        }
    };
    let watermark = (cli.perf_pages * PAGE_SIZE / WAKEUP_FRACTION) as u32;
    let mut perf = PerfReader::new(&skel.maps.events, cli.perf_pages, watermark, to_sink)?;
    // Wakes us for every event: its process's memory is read at once.
    let mut urgent = PerfReader::new(&skel.maps.urgent_events, URGENT_PAGES, 1, to_sink)?;
    // Namespaces entered: rare, and each wanted at once.
    let mut ns_reader = match session
        .as_ref()
        .map(|s| std::rc::Rc::clone(&s.new_namespaces))
    {
        Some(fresh) => Some(PerfReader::new(
            &skel.maps.ns_events,
            NS_PAGES,
            1,
            move |record: Record| {
                if let Record::Sample { data, .. } = record {
                    fresh.borrow_mut().extend(NewNamespace::parse(data));
                }
            },
        )?),
        None => None,
    };
    // Attached only once the perf buffer is open: an event sent before
    // that would fail and be counted as lost before tracing began.
    let _links = tracer::attach(&mut skel, &filters)?;
    signals::install()?;
    sink.borrow_mut()
        .header()
        .context("writing to stdout failed")?;
    // Listing the threads already in a call takes a walk of /proc: after
    // the header (tracing has begun; until then a call seen only at exit
    // is shown as "entry not seen"), before the line that says all is set.
    tracer::arm(&mut skel)?;
    if let Some(session) = &mut session {
        session.verbose = cli.verbose;
        for inum in session.watch_existing() {
            tracer::namespace_seen(&skel, inum, true);
        }
        if cli.verbose {
            report!(
                "--mounts: the kernel's mount notifications (fanotify FAN_REPORT_MNT), {} mount namespace(s) watched",
                session.watcher.watched()
            );
        }
    }
    {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "Tracing mount syscalls... Hit Ctrl-C to end."
        );
    }

    let mut readers: Vec<&mut PerfReader> = vec![&mut perf, &mut urgent];
    readers.extend(ns_reader.as_mut());
    let seen = trace(
        cli,
        &skel,
        &mut readers,
        &sink,
        metrics.as_ref(),
        session.as_mut(),
    )?;
    finish(
        cli,
        &skel,
        &mut readers,
        &sink,
        seen,
        metrics.as_ref(),
        session.as_mut(),
    )
}

/// For --mounts: the kernel's mount notifications, where it has them
/// (Linux 6.15); else None, and the records are built from the calls.
fn table_watcher(cli: &Cli) -> Option<Watcher> {
    if !cli.mounts {
        return None;
    }
    // MOUNTSNOOP_TABLES=calls: as on a kernel without the notifications
    // (the tests use it to try the fallback on one that has them).
    if std::env::var("MOUNTSNOOP_TABLES").as_deref() == Ok("calls") {
        if cli.verbose {
            report!(
                "--mounts: MOUNTSNOOP_TABLES=calls: the mount records are built from the calls traced"
            );
        }
        return None;
    }
    match Watcher::new(cli.max_namespaces as usize) {
        Ok(w) => Some(w),
        Err(err) => {
            if cli.verbose {
                report!(
                    "--mounts: this kernel has no fanotify mount notifications ({err}; Linux 6.15 has them): the mount records are built from the calls traced"
                );
            }
            None
        }
    }
}

/// The changes --mounts prints, from the flags (see ChangeFilter).
fn change_filter(cli: &Cli) -> ChangeFilter {
    ChangeFilter {
        pid: cli.pid,
        tid: cli.tid,
        uid: cli.uid,
        comm: cli.name.clone(),
        mnt_ns: cli.mntns,
    }
}

/// Reads the kernel's mount reports and prints the changes held long
/// enough (every one when `now` is None); the BPF side forgets the
/// namespaces that ended.
fn table_tick(
    skel: &MountsnoopSkel,
    session: &mut Session,
    sink: &RefCell<Sink>,
    now: Option<u64>,
) -> Result<()> {
    let mut lines = Vec::new();
    let ended = session
        .tick(now, &mut lines)
        .context("reading the kernel's mount reports failed")?;
    for inum in ended {
        tracer::namespace_seen(skel, inum, false);
    }
    sink.borrow_mut()
        .write_lines(&lines)
        .context("writing to stdout failed")
}

fn libbpf_to_stderr(_level: PrintLevel, msg: String) {
    use std::io::Write as _;
    let _ = write!(std::io::stderr(), "{msg}");
}

/// Why a call cannot be traced here.
fn why_not(call: Syscall, cli: &Cli) -> String {
    match call.tracepoint() {
        Some(tp) => format!("this kernel has no tracepoint syscalls/sys_enter_{tp}"),
        None if cli.no_32bit => "only 32-bit programs make it, and --no-32bit is set".into(),
        None => "only 32-bit x86 programs make it".into(),
    }
}

/// The calls to trace: those this kernel has, narrowed by --syscall.
/// With -v, says which calls the kernel lacks.
fn choose_calls(cli: &Cli) -> Result<Vec<Syscall>> {
    preflight::check_privileges()?;
    preflight::check_btf()?;
    let events_dir = preflight::tracefs_events()?;
    let calls = preflight::available_calls(&events_dir, !cli.no_32bit)?;
    if cli.verbose {
        libbpf_rs::set_print(Some((PrintLevel::Debug, libbpf_to_stderr)));
        for call in Syscall::ALL.iter().filter(|c| !calls.contains(c)) {
            report!("{} not traced: {}", call.name(), why_not(*call, cli));
        }
        if cli.no_32bit {
            report!("hooks: the per-call syscall tracepoints (64-bit calls only: --no-32bit)");
        }
        if !cli.no_32bit || tracer::can_show_exit_only_calls() {
            report!("calls refused before they ran: shown, from the registers saved at entry");
        } else {
            report!(
                "calls refused before they ran: with --no-32bit this kernel cannot give their registers (bpf_task_pt_regs, Linux 5.15): counted as lost"
            );
        }
    } else {
        libbpf_rs::set_print(None);
    }
    if cli.syscall.is_empty() {
        return Ok(calls);
    }
    for call in cli.syscall.iter().filter(|c| !calls.contains(c)) {
        report!("{} cannot be traced: {}", call.name(), why_not(*call, cli));
    }
    let asked: Vec<Syscall> = cli
        .syscall
        .iter()
        .flat_map(|&c| Syscall::selected_by(c).iter().copied())
        .collect();
    let calls: Vec<Syscall> = calls.into_iter().filter(|c| asked.contains(c)).collect();
    if calls.is_empty() {
        anyhow::bail!("none of the calls asked for can be traced on this kernel");
    }
    Ok(calls)
}

/// What the kernel side keeps, from the flags.
fn filters(cli: &Cli, calls: Vec<Syscall>, tables: bool) -> Result<tracer::Filters> {
    Ok(tracer::Filters {
        pid: cli.pid,
        tid: cli.tid,
        uid: cli.uid,
        comm: cli.name.clone(),
        // Changes in a namespace can come from calls in any other: with
        // the kernel's reports, --mntns picks the tables, not the calls.
        mnt_ns: cli.mntns.filter(|_| !tables),
        cgroup: cli.cgroup.as_deref().map(tracer::open_cgroup).transpose()?,
        cgroupset: cli
            .cgroupmap
            .as_deref()
            .map(|p| bcc_maps::open(bcc_maps::SetKind::Cgroups, p))
            .transpose()?,
        mount_ns_set: cli
            .mntnsmap
            .as_deref()
            .map(|p| bcc_maps::open(bcc_maps::SetKind::MountNamespaces, p))
            .transpose()?,
        failed_only: cli.failed,
        calls,
        max_inflight: cli.max_inflight,
        compat: !cli.no_32bit,
        // The default columns and --summary do not show the parent.
        want_parent: cli.parent_process || cli.json || cli.detailed,
        want_fd_paths: cli.decode_fds,
        // JSON and the detailed block give each path argument's absolute form.
        want_abs_paths: cli.json || cli.detailed || cli.mounts,
        want_cgroup: cli.json || cli.detailed || cli.container.is_some(),
        watch_namespaces: tables.then_some(cli.max_namespaces),
    })
}

/// Prints events until a signal, --duration, --max-events or a closed
/// stdout ends the run; reports losses as they are seen. Returns the
/// kernel-side loss counts reported so far.
fn trace(
    cli: &Cli,
    skel: &MountsnoopSkel,
    readers: &mut [&mut PerfReader],
    sink: &RefCell<Sink>,
    metrics: Option<&Metrics>,
    mut session: Option<&mut Session>,
) -> Result<KernelLosses> {
    let deadline = cli
        .duration
        .map(|secs| Instant::now() + Duration::from_secs_f64(secs));
    let mut seen = KernelLosses::default();
    let mut last_loss_check = Instant::now();
    loop {
        if signals::stop_requested() || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(seen);
        }
        let sink_done = {
            let s = sink.borrow();
            s.closed() || s.full()
        };
        if sink_done {
            return Ok(seen);
        }
        // Reads every CPU's buffer, whatever woke us, so that the batch
        // can be put in order.
        let wait = if sink.borrow().holding() {
            HOLD_RECHECK
        } else {
            POLL_INTERVAL
        };
        let horizon = perf::poll_all(readers, wait)?;
        sink.borrow_mut()
            .end_batch(Some(horizon))
            .context("writing to stdout failed")?;
        if let Some(session) = session.as_deref_mut() {
            table_tick(skel, session, sink, Some(clock::Clock::ktime_now()))?;
        }
        if last_loss_check.elapsed() >= LOSS_CHECK_INTERVAL {
            seen = report_kernel_losses(skel, seen, metrics)?;
            if let Some(m) = metrics {
                m.in_flight(tracer::count_in_flight(skel));
                if let Some(session) = session.as_deref() {
                    m.namespaces_not_watched(session.watcher.refused);
                }
            }
            // Chains of the new mount API left unfinished: noticed here,
            // dropped once the events before this moment are rendered.
            let mut sink = sink.borrow_mut();
            sink.sweep_mounts();
            if let (Some(m), Some(chains)) = (metrics, sink.mount_chains()) {
                m.mount_chains(chains.drops, chains.held);
            }
            last_loss_check = Instant::now();
        }
    }
}

/// Drains what the kernel already handed over, then accounts for all:
/// losses, calls still in flight, strings we could not read.
fn finish(
    cli: &Cli,
    skel: &MountsnoopSkel,
    readers: &mut [&mut PerfReader],
    sink: &RefCell<Sink>,
    seen: KernelLosses,
    metrics: Option<&Metrics>,
    session: Option<&mut Session>,
) -> Result<()> {
    if !sink.borrow().closed() {
        // The perf readers' handler borrows the sink: none held here.
        for r in readers.iter_mut() {
            r.consume()?;
        }
        sink.borrow_mut()
            .end_batch(None)
            .context("writing to stdout failed")?;
    }
    if let Some(session) = session {
        if !sink.borrow().closed() {
            table_tick(skel, session, sink, None)?;
        }
        session.report(cli.verbose);
        if let Some(m) = metrics {
            m.namespaces_not_watched(session.watcher.refused);
        }
    }
    let seen = report_kernel_losses(skel, seen, metrics)?;
    let mut sink = sink.borrow_mut();
    let chains = sink.settle_mounts();
    let total = seen.total() + sink.malformed;
    sink.finish(total).context("writing to stdout failed")?;
    if total > 0 {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "Lost {total} events in total");
    }
    // Once stdout's reader is gone nothing more would have been printed
    // anyway, and the exit is meant to be quiet (`mountsnoop | head -1`).
    if !sink.closed() {
        report::in_flight(&tracer::calls_in_flight(skel));
    }
    if cli.verbose {
        report!(
            "the kernel's own lost-event records added up to {} (counted above already)",
            sink.lost_records
        );
    }
    if sink.changed_args > 0 {
        report!(
            "{} argument(s) were rewritten while their call ran: printed as the call was given them (JSON arg_state: changed_during_call)",
            sink.changed_args
        );
    }
    if let Some(chains) = chains {
        report::mount_chains(chains);
        if let Some(m) = metrics {
            m.mount_chains(chains.drops, chains.held);
        }
    }
    if sink.unreadable_strings > 0 {
        report!(
            "{} string arguments could not be read in all",
            sink.unreadable_strings
        );
    }
    Ok(())
}

/// The output format the flags ask for.
fn format_for(cli: &Cli) -> Box<dyn Format> {
    if cli.summary {
        Box::new(Summary::new(cli.json))
    } else if cli.json {
        Box::new(Json::new())
    } else if cli.detailed {
        Box::new(Detailed::new())
    } else if cli.mounts {
        // Without the kernel's mount notifications: records built from
        // the calls.
        Box::new(Mounts::new(column_options(cli)))
    } else {
        Box::new(Columns::new(column_options(cli)))
    }
}

fn column_options(cli: &Cli) -> ColumnOptions {
    ColumnOptions {
        timestamp: cli.timestamp,
        parent: cli.parent_process,
        uid: cli.print_uid,
        latency: cli.latency,
        container: cli.container.is_some(),
    }
}

/// Reports kernel-side losses that grew since `before`; returns the new counts.
fn report_kernel_losses(
    skel: &MountsnoopSkel,
    before: KernelLosses,
    metrics: Option<&Metrics>,
) -> Result<KernelLosses> {
    let now = tracer::kernel_losses(skel)?;
    report::kernel_losses(before, now);
    if let Some(m) = metrics {
        m.kernel_losses(before, now);
    }
    Ok(now)
}
