//! Where events go. Samples are gathered from every CPU's buffer and put
//! in the order their calls returned, across CPUs: a thread that moves
//! between CPUs leaves its calls in several buffers, read one after the
//! other. A sample is printed once no sample that returned before it can
//! still be unread: it returned before the read of every buffer began (a
//! call writes its event before it returns to the caller, so a thread's
//! next call always returns after its previous event was written). Each
//! batch is rendered into one buffer written with one write(2). Every
//! loss is counted and reported on stderr.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

use crate::clock::Clock;
use crate::event::Event;
use crate::late_read;
use crate::mounts::procfs::ProcFs;
use crate::mounts::Drops;
use crate::output::{container_of, Format};
use crate::report::report;
use crate::syscalls::Syscall;

/// One gathered sample: when its call returned, and where its bytes lie
/// in `arena`.
struct Pending {
    exit_ns: u64,
    offset: usize,
    len: usize,
}

pub struct Sink {
    format: Box<dyn Format>,
    clock: Clock,
    /// Raw samples not yet printed, back to back.
    arena: Vec<u8>,
    /// The samples held for a later batch, while one batch is printed.
    held: Vec<u8>,
    /// A sample rewritten with arguments read late (late_read).
    completed: Vec<u8>,
    pending: Vec<Pending>,
    buf: Vec<u8>,
    /// fd 1 without Rust's line buffering: we decide when to write.
    stdout: ManuallyDrop<File>,
    /// stdout's reader went away (EPIPE): stop quietly.
    closed: bool,
    /// Write after every event (stdout is a terminal), not per batch.
    flush_each: bool,
    /// Stop after this many events (--max-events).
    max_events: Option<u64>,
    pub events: u64,
    pub lost_records: u64,
    pub unreadable_strings: u64,
    /// Arguments rewritten while their call ran (printed as given).
    pub changed_args: u64,
    pub malformed: u64,
    on_event: Option<EventHook>,
    decode_fds: bool,
    only_container: Option<String>,
}

/// The state of the mount records' chains (`--json`, `--mounts`).
#[derive(Debug, Clone, Copy)]
pub struct MountChains {
    /// Unfinished chains dropped so far.
    pub drops: Drops,
    /// Chains held now.
    pub held: usize,
    /// Of which unfinished, their fds still open.
    pub unfinished: usize,
}

/// Told of each event rendered (its call and return value), and of
/// each malformed one (None): for --metrics.
pub type EventHook = Box<dyn FnMut(Option<Syscall>, i64)>;

/// Where the start time and the latency lie in a raw sample (the first
/// two fields of the header).
const START_NS: std::ops::Range<usize> = 0..8;
const LATENCY_NS: std::ops::Range<usize> = 8..16;

impl Sink {
    pub fn new(format: Box<dyn Format>, clock: Clock, max_events: Option<u64>) -> Sink {
        let flush_each = nix::unistd::isatty(1).unwrap_or(false);
        Sink {
            format,
            clock,
            arena: Vec::with_capacity(1 << 20),
            held: Vec::new(),
            completed: Vec::new(),
            pending: Vec::with_capacity(1024),
            buf: Vec::with_capacity(1 << 16),
            // SAFETY: fd 1 stays open for the life of the process, and
            // ManuallyDrop keeps us from closing it.
            stdout: ManuallyDrop::new(unsafe { File::from_raw_fd(1) }),
            closed: false,
            flush_each,
            max_events,
            events: 0,
            lost_records: 0,
            unreadable_strings: 0,
            changed_args: 0,
            malformed: 0,
            on_event: None,
            decode_fds: false,
            only_container: None,
        }
    }

    pub fn on_event(&mut self, hook: EventHook) {
        self.on_event = Some(hook);
    }

    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Print what fds refer to (-y).
    pub fn decode_fds(&mut self, on: bool) {
        self.decode_fds = on;
    }

    /// Print only calls made in this container (--container ID).
    pub fn only_container(&mut self, id: Option<String>) {
        self.only_container = id;
    }

    /// True once --max-events events were printed.
    pub fn full(&self) -> bool {
        self.max_events.is_some_and(|max| self.events >= max)
    }

    /// Writes the header now, so readers know we are ready.
    pub fn header(&mut self) -> std::io::Result<()> {
        if let Some(h) = self.format.header() {
            self.buf.extend_from_slice(h.as_bytes());
        }
        self.flush()
    }

    /// Keeps a sample for the end of the batch (the perf buffer's memory
    /// is reused once the callback returns).
    pub fn sample(&mut self, _cpu: i32, data: &[u8]) {
        // Now, while the process most likely still lives: what the kernel
        // side could not read at all, read from its memory.
        let data = if late_read::complete(data, &mut self.completed) {
            &self.completed[..]
        } else {
            data
        };
        let word = |range: std::ops::Range<usize>| {
            data.get(range)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_ne_bytes)
                .unwrap_or(0)
        };
        self.pending.push(Pending {
            exit_ns: word(START_NS).wrapping_add(word(LATENCY_NS)),
            offset: self.arena.len(),
            len: data.len(),
        });
        self.arena.extend_from_slice(data);
    }

    /// The kernel's own record of events a full buffer dropped. The BPF
    /// program counts the same losses (and reports them in time), so
    /// this is kept only as a cross-check for -v.
    pub fn lost(&mut self, _cpu: i32, count: u64) {
        self.lost_records += count;
    }

    /// Renders, in the order their calls returned, the samples whose
    /// calls returned before `horizon` (every one with None, at the end),
    /// and writes them; keeps the others for the next batch. `horizon` is
    /// when the read of the buffers that gathered them began.
    pub fn end_batch(&mut self, horizon: Option<u64>) -> std::io::Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|p| p.exit_ns);
        let ready = horizon.map_or(pending.len(), |h| {
            pending.partition_point(|p| p.exit_ns < h)
        });
        for p in &pending[..ready] {
            if self.full() || self.closed {
                break;
            }
            self.render(p.offset, p.len);
            if self.flush_each {
                self.flush()?;
            }
        }
        // Every event of a call that returned before the horizon is in:
        // chains a sweep found gone before it can go.
        if let Some(tracker) = self.format.mounts() {
            tracker.expire(horizon.unwrap_or(u64::MAX));
        }
        // The held samples move to the front of a fresh arena.
        self.held.clear();
        for p in &pending[ready..] {
            let offset = self.held.len();
            self.held
                .extend_from_slice(&self.arena[p.offset..p.offset + p.len]);
            self.pending.push(Pending { offset, ..*p });
        }
        std::mem::swap(&mut self.arena, &mut self.held);
        pending.clear();
        if self.pending.is_empty() {
            self.pending = pending;
        }
        self.flush()
    }

    /// True when samples wait for a later batch.
    pub fn holding(&self) -> bool {
        !self.pending.is_empty()
    }

    fn render(&mut self, offset: usize, len: usize) {
        let data = &self.arena[offset..offset + len];
        match Event::parse(data) {
            Ok(mut event) => {
                event.fd_paths = self.decode_fds;
                if let Some(id) = &self.only_container {
                    if !container_of(&event).is_some_and(|c| c.matches(id)) {
                        return;
                    }
                }
                let desc = self.format.event(&event, &self.clock, &mut self.buf);
                self.events += 1;
                if let Some(hook) = &mut self.on_event {
                    hook(Some(event.call), event.header.ret);
                }
                self.changed_args += desc.changed() as u64;
                if desc.unreadable > 0 {
                    self.unreadable_strings += u64::from(desc.unreadable);
                    report!(
                        "could not read {} string argument(s) of {} by pid {}: shown as addresses",
                        desc.unreadable,
                        event.call.name(),
                        event.header.pid
                    );
                }
            }
            Err(err) => {
                self.malformed += 1;
                if let Some(hook) = &mut self.on_event {
                    hook(None, 0);
                }
                report!("dropped a malformed event: {err:#}");
            }
        }
    }

    /// Looks for the chains of mount records whose fd or process is gone
    /// (see `mounts`): the processes that hold chains only.
    pub fn sweep_mounts(&mut self) {
        if let Some(tracker) = self.format.mounts() {
            tracker.sweep(Clock::ktime_now(), &ProcFs);
        }
    }

    pub fn mount_chains(&mut self) -> Option<MountChains> {
        let tracker = self.format.mounts()?;
        Some(MountChains {
            drops: tracker.drops(),
            held: tracker.held(),
            unfinished: tracker.unfinished(),
        })
    }

    /// At exit, once every event is rendered: drops the chains whose fd
    /// or process is gone; returns what is left.
    pub fn settle_mounts(&mut self) -> Option<MountChains> {
        self.sweep_mounts();
        self.format.mounts()?.expire(u64::MAX);
        self.mount_chains()
    }

    /// Writes lines made outside the format (the kernel's mount reports).
    pub fn write_lines(&mut self, lines: &[u8]) -> std::io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        self.buf.extend_from_slice(lines);
        self.flush()
    }

    /// Appends what the format prints at exit, and writes it.
    pub fn finish(&mut self, lost: u64) -> std::io::Result<()> {
        self.format.finish(lost, &mut self.buf);
        self.flush()
    }

    /// Writes what is buffered. A closed pipe ends output quietly; any
    /// other write error is returned.
    pub fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() || self.closed {
            self.buf.clear();
            return Ok(());
        }
        let result = self.stdout.write_all(&self.buf);
        self.buf.clear();
        match result {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}
