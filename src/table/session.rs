//! `--mounts` from the kernel's reports, for the length of a run: which
//! namespaces are watched (those there at start, those the BPF side
//! reports as processes enter them), the changes read and held until the
//! calls that made them have been seen, then linked, filtered and printed.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::watch::{Change, NotWatched, Watcher};
use crate::clock::Clock;
use crate::output::columns::ColumnOptions;
use crate::output::table::{comm_for, render, CallLog, Cause};
use crate::report::report;

/// A change is held this long before it is linked to a call: the call's
/// event is sent as the call returns, after the kernel's report.
const LINK_DELAY_NS: u64 = 100_000_000;

/// Which changes are printed. A change passes when the namespace whose
/// table changed passes --mntns, and the process that caused it passes
/// -p, --tid (the linked call's thread), -u (its real uid now) and -n
/// (its command name). All combine with AND.
#[derive(Debug, Default, Clone)]
pub struct ChangeFilter {
    pub pid: Option<u32>,
    pub tid: Option<u32>,
    pub uid: Option<u32>,
    pub comm: Option<String>,
    pub mnt_ns: Option<u64>,
}

impl ChangeFilter {
    fn passes(&self, change: &Change, cause: &Cause, comm: Option<&[u8]>) -> bool {
        if self.mnt_ns.is_some_and(|n| n != change.mnt_ns) {
            return false;
        }
        if self.pid.is_some_and(|p| p != change.pid) {
            return false;
        }
        if let Some(t) = self.tid {
            if !matches!(cause, Cause::Call { tid, .. } if *tid == t) {
                return false;
            }
        }
        if let Some(u) = self.uid {
            if uid_of(change.pid) != Some(u) {
                return false;
            }
        }
        if let Some(c) = &self.comm {
            if comm != Some(c.as_bytes()) {
                return false;
            }
        }
        true
    }
}

fn uid_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A process in a namespace the BPF side had not reported before.
#[derive(Debug, Clone, Copy)]
pub struct NewNamespace {
    pub inum: u64,
    pub pid: u32,
}

impl NewNamespace {
    /// From a raw `struct ns_event`.
    pub fn parse(data: &[u8]) -> Option<NewNamespace> {
        Some(NewNamespace {
            inum: u64::from_ne_bytes(data.get(0..8)?.try_into().ok()?),
            pid: u32::from_ne_bytes(data.get(8..12)?.try_into().ok()?),
        })
    }
}

pub struct Session {
    pub watcher: Watcher,
    pub log: Rc<RefCell<CallLog>>,
    pub new_namespaces: Rc<RefCell<Vec<NewNamespace>>>,
    held: VecDeque<Change>,
    opts: ColumnOptions,
    filter: ChangeFilter,
    clock: Clock,
    out: Vec<u8>,
    /// Why namespaces could not be watched, reported once each.
    warned_full: bool,
    pub changes: u64,
    pub verbose: bool,
}

impl Session {
    pub fn new(
        watcher: Watcher,
        opts: ColumnOptions,
        filter: ChangeFilter,
        log: Rc<RefCell<CallLog>>,
    ) -> Session {
        Session {
            watcher,
            log,
            new_namespaces: Rc::default(),
            held: VecDeque::new(),
            opts,
            filter,
            clock: Clock::new(),
            out: Vec::new(),
            warned_full: false,
            changes: 0,
            verbose: false,
        }
    }

    /// Watches the namespace of `pid`; Some(inum) when newly watched.
    pub fn watch(&mut self, pid: u32) -> Option<u64> {
        match self.watcher.watch_pid(pid) {
            Ok(new) => new,
            Err(NotWatched::Gone) => None,
            Err(NotWatched::Full) => {
                if !self.warned_full {
                    self.warned_full = true;
                    report!(
                        "--max-namespaces {} reached: the tables of more mount namespaces are not watched (counted at exit)",
                        self.watcher.watched()
                    );
                }
                None
            }
            Err(NotWatched::Failed(e)) => {
                self.watcher.refused += 1;
                if self.verbose {
                    report!("cannot watch the mount namespace of pid {pid}: {e}");
                }
                None
            }
        }
    }

    /// One scan of /proc: the namespaces there now (only --mntns's if
    /// given). Returns the inode numbers watched.
    pub fn watch_existing(&mut self) -> Vec<u64> {
        let mut out = Vec::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return out;
        };
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some(want) = self.filter.mnt_ns {
                let inum = std::fs::metadata(format!("/proc/{pid}/ns/mnt"))
                    .map(|m| std::os::unix::fs::MetadataExt::ino(&m));
                if inum.ok() != Some(want) {
                    continue;
                }
            }
            out.extend(self.watch(pid));
        }
        out
    }

    /// Watches the namespaces reported since, reads the kernel's reports,
    /// prints those held long enough (all with `now` None). Returns the
    /// namespaces that ended (the BPF side forgets them).
    pub fn tick(&mut self, now: Option<u64>, lines: &mut Vec<u8>) -> std::io::Result<Vec<u64>> {
        let fresh: Vec<NewNamespace> = std::mem::take(&mut *self.new_namespaces.borrow_mut());
        for ns in fresh {
            if self.filter.mnt_ns.is_some_and(|n| n != ns.inum) {
                continue;
            }
            self.watch(ns.pid);
        }
        let read_at = now.unwrap_or_else(Clock::ktime_now);
        let (changes, ended) = self.watcher.read(read_at)?;
        self.held.extend(changes);
        let log = self.log.borrow();
        while let Some(c) = self.held.front() {
            if now.is_some_and(|n| c.seen_ns + LINK_DELAY_NS > n) {
                break;
            }
            let Some(c) = self.held.pop_front() else {
                break;
            };
            let cause = Cause::of(&c, &log);
            self.out.clear();
            render(&c, &cause, &log, &self.opts, &self.clock, &mut self.out);
            let comm = comm_for(&c, &log);
            if self.filter.passes(&c, &cause, comm.as_deref()) {
                self.changes += 1;
                lines.extend_from_slice(&self.out);
            }
        }
        Ok(ended)
    }

    /// What is left to say at exit, on stderr.
    pub fn report(&self, verbose: bool) {
        let w = &self.watcher;
        if w.refused > 0 {
            report!(
                "{} mount namespace(s) could not be watched (--max-namespaces {} reached, or marking failed: -v says why): their changes are not shown",
                w.refused,
                w.max()
            );
        }
        if w.overflows > 0 {
            report!(
                "the kernel's queue of mount reports overflowed {} time(s): changes were lost",
                w.overflows
            );
        }
        if verbose {
            report!(
                "mount changes: {} printed; {} namespace(s) watched at exit; {} attached mount(s) were gone before they could be described",
                self.changes,
                w.watched(),
                w.undescribed
            );
        }
    }
}
