//! `--mounts` from the kernel's mount reports: one findmnt-like line per
//! mount attached, moved or detached in each watched namespace, after the
//! identity columns of the process that caused it:
//!
//! ```text
//! COMM             PID     TID     MNT_NS      CHANGE TARGET FSTYPE SOURCE OPTIONS CAUSE
//! mount            4875    4875    4026532177  + /tmp/P/x tmpfs kid rw,relatime,size=2048k call
//! mount            4875    -       4026531841  + /tmp/P/x tmpfs kid rw,relatime,size=2048k propagated:4026532177
//! ```
//!
//! MNT_NS is the namespace whose table changed. The calls themselves are
//! not printed: each is kept a while (a bounded log) so that a change can
//! be linked to the call that made it. CAUSE says why the table changed:
//! `call` (a traced call by that process in that namespace; TID is the
//! call's), `propagated:N` (the process's call was in namespace N: the
//! mount came through a peer group or from a master), `automount` (an
//! attach no call of that process explains: the kernel mounted it as a
//! path was walked), `ns-ended` (the namespace's last process left: every
//! mount goes), `-` (a detach no call explains: an automount expired).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write;
use std::rc::Rc;

use super::columns::{push_comm, ColumnOptions};
use super::Format;
use crate::clock::Clock;
use crate::decode::escape::escape;
use crate::decode::{describe, Description};
use crate::event::Event;
use crate::table::watch::{Change, Kind};

/// Calls kept for linking, at most; and for how long.
const LOG_MAX: usize = 4096;
const LOG_AGE_NS: u64 = 10_000_000_000;
/// A report is read at most this long after the call that caused it
/// returned (the main loop reads the reports every poll interval, 50 ms,
/// with room for a busy machine). A call longer ago explains nothing:
/// the change is the kernel's own (an automount).
const LINK_WINDOW_NS: u64 = 200_000_000;

#[derive(Debug, Clone)]
pub struct CallSeen {
    pub pid: u32,
    pub tid: u32,
    pub mnt_ns: u64,
    pub start_ns: u64,
    pub exit_ns: u64,
    /// The call's place among the events (1, 2, ...).
    pub seq: u64,
    pub comm: Vec<u8>,
    pub ok: bool,
}

/// The calls seen lately, newest last.
#[derive(Default)]
pub struct CallLog {
    calls: VecDeque<CallSeen>,
}

impl CallLog {
    pub fn push(&mut self, c: CallSeen) {
        while self.calls.len() >= LOG_MAX
            || self
                .calls
                .front()
                .is_some_and(|f| f.exit_ns + LOG_AGE_NS < c.exit_ns)
        {
            self.calls.pop_front();
        }
        self.calls.push_back(c);
    }

    /// The latest successful call by `pid`.
    fn latest(&self, pid: u32) -> Option<&CallSeen> {
        self.calls.iter().rev().find(|c| c.pid == pid && c.ok)
    }

    /// The latest successful call by `pid` that can have made a change
    /// whose report was read at `seen_ns`: one that had started by then
    /// and returned at most LINK_WINDOW_NS before.
    fn explaining(&self, pid: u32, seen_ns: u64) -> Option<&CallSeen> {
        self.calls.iter().rev().find(|c| {
            c.pid == pid && c.ok && c.start_ns <= seen_ns && c.exit_ns + LINK_WINDOW_NS >= seen_ns
        })
    }
}

/// Why a table changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    Call { tid: u32, seq: u64 },
    Propagated { from: u64 },
    Automount,
    NsEnded,
    Unknown,
}

impl Cause {
    pub fn of(change: &Change, log: &CallLog) -> Cause {
        if change.ns_ended {
            return Cause::NsEnded;
        }
        match log.explaining(change.pid, change.seen_ns) {
            Some(c) if c.mnt_ns == change.mnt_ns => Cause::Call {
                tid: c.tid,
                seq: c.seq,
            },
            Some(c) => Cause::Propagated { from: c.mnt_ns },
            None if change.kind == Kind::Attach => Cause::Automount,
            None => Cause::Unknown,
        }
    }

    fn push(&self, out: &mut String) {
        match self {
            Cause::Call { .. } => out.push_str("call"),
            Cause::Propagated { from } => {
                let _ = write!(out, "propagated:{from}");
            }
            Cause::Automount => out.push_str("automount"),
            Cause::NsEnded => out.push_str("ns-ended"),
            Cause::Unknown => out.push('-'),
        }
    }
}

/// The format while the kernel reports the changes: records each call in
/// the log, prints none.
pub struct CallRecorder {
    opts: ColumnOptions,
    log: Rc<RefCell<CallLog>>,
    seq: u64,
    call: String,
}

impl CallRecorder {
    pub fn new(opts: ColumnOptions, log: Rc<RefCell<CallLog>>) -> CallRecorder {
        CallRecorder {
            opts,
            log,
            seq: 0,
            call: String::new(),
        }
    }
}

/// The header of the `--mounts` lines.
pub fn header(opts: &ColumnOptions) -> String {
    let mut h = String::new();
    if opts.timestamp {
        let _ = write!(h, "{:<8} ", "TIME");
    }
    let _ = writeln!(
        h,
        "{:16} {:<7} {:<7} {:<11} CHANGE TARGET FSTYPE SOURCE OPTIONS CAUSE",
        "COMM", "PID", "TID", "MNT_NS"
    );
    h
}

impl Format for CallRecorder {
    fn header(&self) -> Option<String> {
        Some(header(&self.opts))
    }

    fn event<'a>(
        &mut self,
        event: &Event<'a>,
        _clock: &Clock,
        _out: &mut Vec<u8>,
    ) -> Description<'a> {
        self.call.clear();
        let desc = describe(event, &mut self.call);
        self.seq += 1;
        let h = &event.header;
        self.log.borrow_mut().push(CallSeen {
            pid: h.pid,
            tid: h.tid,
            mnt_ns: h.mnt_ns,
            start_ns: h.start_ns,
            exit_ns: h.start_ns.wrapping_add(h.latency_ns),
            seq: self.seq,
            comm: event.comm().to_vec(),
            ok: h.ret >= 0,
        });
        desc
    }
}

fn field(s: &str, out: &mut String) {
    if s.is_empty() {
        out.push('-');
    } else {
        escape(s.as_bytes(), true, out);
    }
}

/// The command name of the process that caused a change: its call's,
/// else what /proc shows now.
pub fn comm_for(change: &Change, log: &CallLog) -> Option<Vec<u8>> {
    log.latest(change.pid)
        .map(|c| c.comm.clone())
        .or_else(|| change.comm.clone())
}

/// Appends one change's line.
pub fn render(
    change: &Change,
    cause: &Cause,
    log: &CallLog,
    opts: &ColumnOptions,
    clock: &Clock,
    out: &mut Vec<u8>,
) {
    let mut line = String::with_capacity(160);
    if opts.timestamp {
        let _ = write!(line, "{} ", clock.local(change.seen_ns).format("%H:%M:%S"));
    }
    let comm = comm_for(change, log).unwrap_or_else(|| b"?".to_vec());
    let start = line.len();
    push_comm(&comm, &mut line);
    let written = line.len() - start;
    line.extend(std::iter::repeat_n(' ', 16usize.saturating_sub(written)));
    let tid = match cause {
        Cause::Call { tid, .. } => tid.to_string(),
        _ => "-".into(),
    };
    let ns = if change.mnt_ns == 0 {
        "?".to_string()
    } else {
        change.mnt_ns.to_string()
    };
    let _ = write!(line, " {:<7} {:<7} {:<11} ", change.pid, tid, ns);
    line.push_str(match change.kind {
        Kind::Attach => "+ ",
        Kind::Detach => "- ",
        Kind::Move => "> ",
    });
    match &change.mount {
        Some(m) => {
            field(&m.target, &mut line);
            line.push(' ');
            field(&m.fstype, &mut line);
            line.push(' ');
            field(&m.source, &mut line);
            line.push(' ');
            field(&m.options(), &mut line);
        }
        None => {
            let _ = write!(line, "mnt_id:{} - - -", change.mnt_id);
        }
    }
    line.push(' ');
    cause.push(&mut line);
    line.push('\n');
    out.extend_from_slice(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::sys::Mount;

    fn change(kind: Kind, pid: u32, ns: u64) -> Change {
        Change {
            kind,
            mount: Some(Mount {
                id: 5,
                parent_id: 1,
                target: "/tmp/a b".into(),
                fstype: "tmpfs".into(),
                source: "kid".into(),
                sb_options: "size=2048k".into(),
                ..Mount::default()
            }),
            mnt_id: 5,
            mnt_ns: ns,
            pid,
            comm: None,
            seen_ns: 0,
            ns_ended: false,
        }
    }

    fn call(pid: u32, ns: u64) -> CallSeen {
        CallSeen {
            pid,
            tid: pid + 1,
            mnt_ns: ns,
            start_ns: 0,
            exit_ns: 1,
            seq: 3,
            comm: b"mount".to_vec(),
            ok: true,
        }
    }

    #[test]
    fn causes() {
        let mut log = CallLog::default();
        log.push(call(10, 100));
        assert_eq!(
            Cause::of(&change(Kind::Attach, 10, 100), &log),
            Cause::Call { tid: 11, seq: 3 }
        );
        assert_eq!(
            Cause::of(&change(Kind::Attach, 10, 200), &log),
            Cause::Propagated { from: 100 }
        );
        assert_eq!(
            Cause::of(&change(Kind::Attach, 99, 200), &log),
            Cause::Automount
        );
        assert_eq!(
            Cause::of(&change(Kind::Detach, 99, 200), &log),
            Cause::Unknown
        );
        let mut ended = change(Kind::Detach, 10, 100);
        ended.ns_ended = true;
        assert_eq!(Cause::of(&ended, &log), Cause::NsEnded);
    }

    #[test]
    fn one_line_fields_escaped() {
        let mut log = CallLog::default();
        log.push(call(10, 100));
        let c = change(Kind::Attach, 10, 100);
        let mut out = Vec::new();
        render(
            &c,
            &Cause::of(&c, &log),
            &log,
            &ColumnOptions::default(),
            &Clock::new(),
            &mut out,
        );
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.lines().count(), 1);
        let f: Vec<&str> = s.split_whitespace().collect();
        assert_eq!(
            f,
            [
                "mount",
                "10",
                "11",
                "100",
                "+",
                r"/tmp/a\40b",
                "tmpfs",
                "kid",
                "rw,relatime,size=2048k",
                "call"
            ],
            "{s}"
        );
    }
}
