//! bcc's column layout: `COMM PID TID MNT_NS CALL`, with optional TIME
//! and UID first, PCOMM and PPID after TID, LAT(us) before CALL.

use std::fmt::Write;

use super::{container_of, push_micros, Format};
use crate::clock::Clock;
use crate::decode::escape::escape;
use crate::decode::{describe, Description};
use crate::event::Event;

#[derive(Debug, Clone, Copy, Default)]
pub struct ColumnOptions {
    pub timestamp: bool,
    pub parent: bool,
    pub uid: bool,
    pub latency: bool,
    /// A CONTAINER column (-C).
    pub container: bool,
}

pub struct Columns {
    opts: ColumnOptions,
    line: String,
}

impl Columns {
    pub fn new(opts: ColumnOptions) -> Columns {
        Columns {
            opts,
            line: String::with_capacity(1024),
        }
    }
}

/// A command name as one column: escaped like strace strings but without
/// quotes, and with spaces escaped too, so awk's fields stay fields. An
/// empty name (prctl(PR_SET_NAME, "") makes one) is `""`: a blank column
/// would shift every field after it.
pub fn push_comm(comm: &[u8], out: &mut String) {
    if comm.is_empty() {
        out.push_str("\"\"");
        return;
    }
    escape(comm, true, out);
}

/// Pads what was written since `start` with spaces to `width` columns.
fn pad(line: &mut String, start: usize, width: usize) {
    let written = line.len() - start;
    line.extend(std::iter::repeat_n(' ', width.saturating_sub(written)));
}

impl ColumnOptions {
    /// The header of the columns before CALL, each padded, with the
    /// space that follows the last.
    pub fn header(&self) -> String {
        let mut h = String::new();
        if self.timestamp {
            let _ = write!(h, "{:<8} ", "TIME");
        }
        if self.uid {
            let _ = write!(h, "{:<7} ", "UID");
        }
        let _ = write!(h, "{:16} {:<7} {:<7} ", "COMM", "PID", "TID");
        if self.parent {
            let _ = write!(h, "{:16} {:<7} ", "PCOMM", "PPID");
        }
        let _ = write!(h, "{:<11} ", "MNT_NS");
        if self.container {
            let _ = write!(h, "{:<12} ", "CONTAINER");
        }
        if self.latency {
            let _ = write!(h, "{:<10} ", "LAT(us)");
        }
        h
    }

    /// Appends the columns before CALL of `event`, with the space that
    /// follows the last.
    pub fn push(&self, event: &Event, clock: &Clock, line: &mut String) {
        let h = &event.header;
        if self.timestamp {
            let _ = write!(line, "{} ", clock.local(h.start_ns).format("%H:%M:%S"));
        }
        if self.uid {
            let _ = write!(line, "{:<7} ", h.uid);
        }
        let start = line.len();
        push_comm(event.comm(), line);
        pad(line, start, 16);
        let _ = write!(line, " {:<7} {:<7} ", h.pid, h.tid);
        if self.parent {
            let start = line.len();
            push_comm(event.pcomm(), line);
            pad(line, start, 16);
            let _ = write!(line, " {:<7} ", h.ppid);
        }
        let _ = write!(line, "{:<11} ", h.mnt_ns);
        if self.container {
            let start = line.len();
            match container_of(event) {
                Some(c) => escape(c.name.as_bytes(), true, line),
                None => line.push('-'),
            }
            pad(line, start, 12);
            line.push(' ');
        }
        if self.latency {
            let start = line.len();
            push_micros(h.latency_ns, line);
            pad(line, start, 10);
            line.push(' ');
        }
    }
}

impl Format for Columns {
    fn header(&self) -> Option<String> {
        let mut h = self.opts.header();
        h.push_str("CALL\n");
        Some(h)
    }

    fn event<'a>(
        &mut self,
        event: &Event<'a>,
        clock: &Clock,
        out: &mut Vec<u8>,
    ) -> Description<'a> {
        let line = &mut self.line;
        line.clear();
        self.opts.push(event, clock, line);
        let desc = describe(event, line);
        line.push('\n');
        out.extend_from_slice(line.as_bytes());
        desc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build::Sample;
    use crate::event::ARG_DATA;
    use crate::syscalls::Syscall;

    #[test]
    fn bcc_layout() {
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0).with(0, ARG_DATA, b"/mnt");
        let bytes = s.bytes();
        let e = Event::parse(&bytes).unwrap();
        let mut c = Columns::new(ColumnOptions::default());
        let mut out = Vec::new();
        c.event(&e, &Clock::new(), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "mount            42      43      4026531840  umount2(\"/mnt\", 0) = 0\n"
        );
        assert_eq!(
            c.header().unwrap(),
            "COMM             PID     TID     MNT_NS      CALL\n"
        );
        let p = Columns::new(ColumnOptions {
            timestamp: true,
            parent: true,
            uid: true,
            latency: true,
            container: true,
        });
        assert_eq!(
            p.header().unwrap(),
            "TIME     UID     COMM             PID     TID     PCOMM            PPID    MNT_NS      CONTAINER    LAT(us)    CALL\n"
        );
    }

    #[test]
    fn comm_is_one_field() {
        let mut s = String::new();
        push_comm(b"a b\n\x1b", &mut s);
        assert_eq!(s, "a\\40b\\n\\33");
        s.clear();
        push_comm(b"", &mut s);
        assert_eq!(s, "\"\"");
    }
}
