//! Where events go: rendered into one buffer, written to stdout with one
//! write per poll batch, with every loss counted and reported on stderr.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

use crate::clock::Clock;
use crate::event::Event;
use crate::output::Format;
use crate::report;

pub struct Sink {
    format: Box<dyn Format>,
    clock: Clock,
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
    pub lost_in_perf_buffer: u64,
    pub unreadable_strings: u64,
    pub malformed: u64,
}

impl Sink {
    pub fn new(format: Box<dyn Format>, clock: Clock, max_events: Option<u64>) -> Sink {
        let flush_each = nix::unistd::isatty(1).unwrap_or(false);
        Sink {
            format,
            clock,
            buf: Vec::with_capacity(1 << 16),
            // SAFETY: fd 1 stays open for the life of the process, and
            // ManuallyDrop keeps us from closing it.
            stdout: ManuallyDrop::new(unsafe { File::from_raw_fd(1) }),
            closed: false,
            flush_each,
            max_events,
            events: 0,
            lost_in_perf_buffer: 0,
            unreadable_strings: 0,
            malformed: 0,
        }
    }

    pub fn closed(&self) -> bool {
        self.closed
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

    pub fn sample(&mut self, _cpu: i32, data: &[u8]) {
        if self.full() {
            return;
        }
        match Event::parse(data) {
            Ok(event) => {
                let notes = self.format.event(&event, &self.clock, &mut self.buf);
                self.events += 1;
                if notes.unreadable > 0 {
                    self.unreadable_strings += u64::from(notes.unreadable);
                    report!(
                        "could not read {} string argument(s) of {} by pid {}: shown as addresses",
                        notes.unreadable,
                        event.call.name(),
                        event.header.pid
                    );
                }
                if self.flush_each {
                    let _ = self.flush();
                }
            }
            Err(err) => {
                self.malformed += 1;
                report!("dropped a malformed event: {err:#}");
            }
        }
    }

    pub fn lost(&mut self, cpu: i32, count: u64) {
        self.lost_in_perf_buffer += count;
        report!("Lost {count} events on CPU #{cpu}: the perf buffer was full (try --perf-pages)");
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
