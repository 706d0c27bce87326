//! Watches mount namespaces' tables with one fanotify group: marks each
//! namespace, reads the reports, and describes each attached mount with
//! statmount(2) while it is there. A detached mount may be gone by the
//! time its report is read: what was learned of it (at its attach, or
//! when its namespace was first watched) is kept, a bounded map from
//! mount id to description, and a detach is printed from that.
//!
//! A report carries the mount id and the pid that caused it, not the
//! namespace: an attached mount is looked up first in the namespace of
//! the process that caused it, then in the one of the others that lists
//! it (a propagated mount lies in another namespace than its cause's),
//! all listed once per batch of reports.
//!
//! A namespace ends when its last user goes: the kernel detaches all its
//! mounts (each reported, by the exiting process), the root last among
//! them or not; the root of a namespace is detached at no other time, so
//! its report releases the watch (the kernel drops the mark itself).

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use super::sys::{self, Batch, Mount, FAN_MNT_ATTACH, FAN_MNT_DETACH};

/// Mount descriptions kept for detaches, at most.
const MAX_REMEMBERED: usize = 1 << 17;

/// What changed in a table, as the kernel reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    /// What the mount was (detach), or is (attach, move). None when a
    /// detached mount was never seen attached.
    pub mount: Option<Mount>,
    pub mnt_id: u64,
    /// The namespace's inode number (as MNT_NS shows it); 0 if unknown.
    pub mnt_ns: u64,
    /// The process that caused it, and its command name when the report
    /// was read (None: it was gone).
    pub pid: u32,
    pub comm: Option<Vec<u8>>,
    /// CLOCK_MONOTONIC when the report was read (the BPF clock).
    pub seen_ns: u64,
    /// The change belongs to the end of its namespace.
    pub ns_ended: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Attach,
    Detach,
    /// Attached and detached at once: moved within its namespace.
    Move,
}

struct Namespace {
    inum: u64,
    /// Its root was detached, by this process (its last, exiting).
    ended: Option<u32>,
}

/// Why a namespace is not watched.
#[derive(Debug)]
pub enum NotWatched {
    /// --max-namespaces are watched already.
    Full,
    /// The process left (or the namespace ended) before it was marked.
    Gone,
    Failed(io::Error),
}

pub struct Watcher {
    group: OwnedFd,
    max: usize,
    /// By the namespace's 64-bit id.
    spaces: HashMap<u64, Namespace>,
    /// Inode number to 64-bit id.
    ids: HashMap<u64, u64>,
    mounts: HashMap<u64, Mount>,
    /// Namespaces that ended lately (id, inode number): detaches reported
    /// after the one that ended them still name their namespace.
    ended: VecDeque<(u64, u64, u32)>,
    buf: Vec<u8>,
    stat_buf: Vec<u64>,
    /// Namespaces that could not be watched.
    pub refused: u64,
    refused_set: std::collections::HashSet<u64>,
    /// Reports lost to a full queue.
    pub overflows: u64,
    /// Attached mounts that were gone before they could be described.
    pub undescribed: u64,
}

impl Watcher {
    /// A group for mount reports; EINVAL before Linux 6.15.
    pub fn new(max: usize) -> io::Result<Watcher> {
        Ok(Watcher {
            group: sys::fanotify_mount_group()?,
            max,
            spaces: HashMap::new(),
            ids: HashMap::new(),
            mounts: HashMap::new(),
            ended: VecDeque::new(),
            buf: vec![0; 64 * 1024],
            stat_buf: Vec::new(),
            refused: 0,
            refused_set: Default::default(),
            overflows: 0,
            undescribed: 0,
        })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn watched(&self) -> usize {
        self.spaces.len()
    }

    /// Watches the mount namespace process `pid` is in. Ok(None) when it
    /// is watched already, Ok(Some(inum)) when newly watched.
    pub fn watch_pid(&mut self, pid: u32) -> Result<Option<u64>, NotWatched> {
        // Not opened when already watched: the inode number alone tells.
        if let Ok(meta) = std::fs::metadata(format!("/proc/{pid}/ns/mnt")) {
            if self.ids.contains_key(&meta.ino()) {
                return Ok(None);
            }
            if self.refused_set.contains(&meta.ino()) {
                return Err(NotWatched::Full);
            }
        }
        let nsfd = match File::open(format!("/proc/{pid}/ns/mnt")) {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Err(NotWatched::Gone),
            Err(e) => return Err(NotWatched::Failed(e)),
        };
        let inum = nsfd.metadata().map_err(NotWatched::Failed)?.ino();
        if self.ids.contains_key(&inum) {
            return Ok(None);
        }
        self.watch_fd(&nsfd, inum).map(Some)
    }

    fn watch_fd(&mut self, nsfd: &impl AsRawFd, inum: u64) -> Result<u64, NotWatched> {
        if self.spaces.len() >= self.max {
            // Each namespace counted once (the set itself bounded).
            if self.refused_set.len() < MAX_REMEMBERED {
                self.refused_set.insert(inum);
            }
            self.refused += 1;
            return Err(NotWatched::Full);
        }
        let fail = |e: io::Error| {
            if e.raw_os_error() == Some(libc::ENOENT) {
                NotWatched::Gone
            } else {
                NotWatched::Failed(e)
            }
        };
        let id = sys::namespace_id(nsfd).map_err(fail)?;
        sys::mark_namespace(&self.group, nsfd).map_err(fail)?;
        self.spaces.insert(id, Namespace { inum, ended: None });
        self.ids.insert(inum, id);
        // What is there now, so that its detaches can be printed.
        // listmount leaves out the namespace's root: it is the parent no
        // listed mount is (and the one whose detach ends the namespace).
        if let Ok(list) = sys::listmount(id) {
            let mut parents = Vec::new();
            for &mnt in &list {
                if let Ok(m) = sys::statmount(mnt, id, &mut self.stat_buf) {
                    parents.push(m.parent_id);
                    self.remember(m);
                }
            }
            parents.retain(|p| !list.contains(p));
            parents.sort_unstable();
            parents.dedup();
            for p in parents {
                if let Ok(mut m) = sys::statmount(p, id, &mut self.stat_buf) {
                    m.parent_id = m.id;
                    self.remember(m);
                }
            }
        }
        Ok(inum)
    }

    fn remember(&mut self, m: Mount) {
        if self.mounts.len() < MAX_REMEMBERED || self.mounts.contains_key(&m.id) {
            self.mounts.insert(m.id, m);
        }
    }

    /// Forgets a namespace that ended; returns its inode number.
    fn release(&mut self, id: u64) -> Option<u64> {
        let ns = self.spaces.remove(&id)?;
        self.ids.remove(&ns.inum);
        if self.ended.len() >= 256 {
            self.ended.pop_back();
        }
        self.ended.push_front((id, ns.inum, ns.ended.unwrap_or(0)));
        Some(ns.inum)
    }

    fn inum_of(&self, id: u64) -> u64 {
        match self.spaces.get(&id) {
            Some(n) => n.inum,
            None => self.ended_inum(id).unwrap_or(0),
        }
    }

    fn ended_inum(&self, id: u64) -> Option<u64> {
        self.ended.iter().find(|e| e.0 == id).map(|e| e.1)
    }

    /// Describes an attached mount: looked up in the namespace of the
    /// process that caused it, else (propagation) in the namespace that
    /// lists it, the others being listed once per batch.
    fn describe(&mut self, mnt_id: u64, pid: u32, seen: &mut BatchCache) -> Option<Mount> {
        let first = *seen
            .pid_ns
            .entry(pid)
            .or_insert_with(|| namespace_of_pid(&self.ids, pid));
        if let Some(ns) = first {
            if let Ok(m) = sys::statmount(mnt_id, ns, &mut self.stat_buf) {
                return Some(m);
            }
        }
        let listed = seen.listed.get_or_insert_with(|| {
            let mut all = HashMap::new();
            for &ns in self.spaces.keys().filter(|&&ns| Some(ns) != first) {
                for id in sys::listmount(ns).unwrap_or_default() {
                    all.insert(id, ns);
                }
            }
            all
        });
        let ns = *listed.get(&mnt_id)?;
        sys::statmount(mnt_id, ns, &mut self.stat_buf).ok()
    }

    /// Reads the reports queued now. Returns the changes, and the
    /// namespaces (inode numbers) that ended.
    pub fn read(&mut self, now_ns: u64) -> io::Result<(Vec<Change>, Vec<u64>)> {
        let mut batch = Batch::default();
        let mut buf = std::mem::take(&mut self.buf);
        let r = sys::read_group(&self.group, &mut buf, &mut batch);
        self.buf = buf;
        r?;
        let mut ended = Vec::new();
        if batch.overflowed {
            self.overflows += 1;
            ended.extend(self.sweep());
        }
        let mut changes = Vec::with_capacity(batch.reports.len());
        let mut cache = BatchCache::default();
        // A mount detached later in the same batch is gone: no use asking.
        let gone: std::collections::HashSet<u64> = batch
            .reports
            .iter()
            .filter(|r| r.mask & FAN_MNT_DETACH != 0 && r.mask & FAN_MNT_ATTACH == 0)
            .map(|r| r.mnt_id)
            .collect();
        for r in batch.reports {
            let pid = r.pid.max(0) as u32;
            let attach = r.mask & FAN_MNT_ATTACH != 0;
            let detach = r.mask & FAN_MNT_DETACH != 0;
            let (kind, mount) = if attach {
                let m = if gone.contains(&r.mnt_id) {
                    None
                } else {
                    self.describe(r.mnt_id, pid, &mut cache)
                };
                if m.is_none() {
                    self.undescribed += 1;
                }
                if let Some(m) = &m {
                    self.remember(m.clone());
                }
                // A move's old place is what was remembered.
                let kind = if detach { Kind::Move } else { Kind::Attach };
                (kind, m.or_else(|| self.mounts.get(&r.mnt_id).cloned()))
            } else {
                (Kind::Detach, self.mounts.remove(&r.mnt_id))
            };
            let ns_id = mount.as_ref().map_or(0, |m| m.ns_id);
            let mnt_ns = self.inum_of(ns_id);
            if kind == Kind::Detach {
                if let Some(m) = mount.as_ref().filter(|m| m.is_root()) {
                    if let Some(ns) = self.spaces.get_mut(&m.ns_id) {
                        ns.ended = Some(pid);
                    }
                }
            }
            changes.push(Change {
                kind,
                mount,
                mnt_id: r.mnt_id,
                mnt_ns,
                pid,
                comm: cache
                    .comm
                    .entry(pid)
                    .or_insert_with(|| comm_of(pid))
                    .clone(),
                seen_ns: now_ns,
                ns_ended: kind == Kind::Detach
                    && self.ended.iter().any(|e| e.0 == ns_id && e.2 == pid),
            });
        }
        // A namespace ends with every mount detached: those detaches
        // belong to its end, whichever came first.
        let ending: Vec<(u64, u32)> = self
            .spaces
            .iter()
            .filter_map(|(&id, n)| n.ended.map(|pid| (id, pid)))
            .collect();
        for (id, pid) in ending {
            let inum = self.inum_of(id);
            // The kernel detaches the root first, then the rest of the
            // tree, all reported as caused by the exiting process; a
            // detach that process made before (its own umount) is not
            // part of the end.
            let ends = |c: &Change| c.mnt_ns == inum && c.pid == pid && c.kind == Kind::Detach;
            let root = changes
                .iter()
                .position(|c| ends(c) && c.mount.as_ref().is_some_and(Mount::is_root));
            for c in changes.iter_mut().skip(root.unwrap_or(0)) {
                if ends(c) {
                    c.ns_ended = true;
                }
            }
            ended.extend(self.release(id));
        }
        Ok((changes, ended))
    }

    /// After lost reports: the namespaces that no longer exist, released.
    fn sweep(&mut self) -> Vec<u64> {
        let gone: Vec<u64> = self
            .spaces
            .keys()
            .copied()
            .filter(|&id| {
                matches!(sys::listmount(id), Err(e) if e.raw_os_error() == Some(libc::ENOENT))
            })
            .collect();
        let ids: std::collections::HashSet<u64> = gone.iter().copied().collect();
        // Their detaches may be among the reports lost.
        self.mounts.retain(|_, m| !ids.contains(&m.ns_id));
        gone.into_iter().filter_map(|id| self.release(id)).collect()
    }
}

/// What one batch of reports looks up once: many reports name the same
/// process, and a storm's mounts are mostly gone by the time they are read.
#[derive(Default)]
struct BatchCache {
    pid_ns: HashMap<u32, Option<u64>>,
    comm: HashMap<u32, Option<Vec<u8>>>,
    /// Every mount of the watched namespaces, listed at the first miss.
    listed: Option<HashMap<u64, u64>>,
}

/// The watched namespace (its id) process `pid` is in now.
fn namespace_of_pid(ids: &HashMap<u64, u64>, pid: u32) -> Option<u64> {
    let inum = std::fs::metadata(format!("/proc/{pid}/ns/mnt")).ok()?.ino();
    ids.get(&inum).copied()
}

/// The command name of `pid` now, from /proc.
fn comm_of(pid: u32) -> Option<Vec<u8>> {
    let mut c = std::fs::read(format!("/proc/{pid}/comm")).ok()?;
    if c.last() == Some(&b'\n') {
        c.pop();
    }
    Some(c)
}
