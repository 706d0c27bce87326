//! Mount records: one per change to a mount table, built in user space
//! from the calls of each process (tgid) and its file descriptors, in the
//! order the calls returned (the order the sink renders events in).
//!
//! mount(2) and umount2(2) make a record each. The new mount API is a
//! chain of calls on file descriptors (fsopen -> fsconfig -> fsmount ->
//! move_mount; open_tree -> move_mount; fspick -> fsconfig): the
//! [`Tracker`] keeps, per process and fd, what the chain has set up so
//! far ([`chain`]) and makes the record when the call that changes the
//! table succeeds. A failed call changes nothing: a chain abandoned after
//! a failure makes no record. An fd number that a later call of the same
//! process returns again replaces the chain that used it.
//!
//! We trace neither close(2) nor exit, so chains left unfinished are
//! noticed by [`Tracker::sweep`], which the tracer calls about once a
//! second: it looks at `/proc/PID` and `/proc/PID/fd/N` of only the
//! processes that hold chains (at most [`Limits::total`] fds), and marks
//! a chain gone when its process or fd is gone (or the fd now stands for
//! something else). A gone chain is dropped only once every event that
//! returned before the sweep has been rendered ([`Tracker::expire`]): the
//! move_mount that finishes a chain may still be on its way when the
//! process closes the fd and exits. Memory stays bounded: at most
//! [`Limits::per_process`] chains per process and [`Limits::total`] in
//! all, the oldest evicted first, and a bounded number of option bytes
//! per chain. Every unfinished chain dropped is counted ([`Drops`]).

// libc's constants are u64 on some targets, u32 or i32 on others.
#![allow(clippy::unnecessary_cast)]

pub mod chain;
pub mod procfs;
pub mod record;

use std::collections::{BTreeMap, HashMap};

use crate::decode::printer::Value;
use crate::decode::xlat::mount_flags;
use crate::decode::Description;
use crate::event::Event;
use crate::syscalls::Syscall;
use chain::{Chain, Context, ContextKind, MountFd, Options, Origin};
use record::{
    attr_propagation, fsmount_attributes, mount_attr_change, ms_attributes, ms_propagation, Kind,
    Place, Record,
};

/// The absolute form of a path argument, by argument index; None when it
/// is not known (the path is then kept as given and marked relative).
pub type Resolve<'r> = &'r dyn Fn(usize) -> Option<Vec<u8>>;

/// The resolver the outputs use: each path argument made absolute with
/// the cwd, dirfd and root the kernel side resolved at the time of the
/// call (decode::paths); a path whose top the walk could not reach is
/// kept as given.
pub fn resolve(event: &Event, _desc: &Description, i: usize) -> Option<Vec<u8>> {
    crate::decode::paths::absolute(event, i)
        .map(|r| r.path)
        .filter(|p| p.starts_with(b"/"))
}

/// How many chains are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_process: usize,
    pub total: usize,
}

impl Default for Limits {
    /// A real chain holds a handful of fds for milliseconds; a process
    /// holding 64 unfinished ones is a storm, not a mount.
    fn default() -> Limits {
        Limits {
            per_process: 64,
            total: 1024,
        }
    }
}

/// Unfinished chains dropped, by how we learnt they were over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    /// The fd was closed (gone, standing for something else, or its
    /// number returned by a new call).
    pub closed: u64,
    /// The process exited.
    pub exited: u64,
    /// Over the limits: the oldest chain made room for a new one.
    pub evicted: u64,
}

impl Drops {
    pub fn total(&self) -> u64 {
        self.closed + self.exited + self.evicted
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Closed,
    Exited,
    Evicted,
}

/// What an fd stands for, as `/proc/PID/fd/N` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdId {
    /// A filesystem context (`anon_inode:[fscontext]`).
    pub fs_context: bool,
    pub dev: u64,
    pub ino: u64,
}

/// How a sweep looks at processes and fds (procfs in the tracer, a fake
/// in tests).
pub trait Probe {
    /// Something that tells this process from a later one with its pid
    /// (its start time); None when it is gone.
    fn process(&self, tgid: u32) -> Option<u64>;
    /// What the fd stands for; None when it is closed.
    fn fd(&self, tgid: u32, fd: i32) -> Option<FdId>;
}

struct Entry {
    chain: Chain,
    seq: u64,
    /// When a sweep found it gone, and why.
    gone: Option<(u64, Reason)>,
    /// What the fd stood for at the first sweep that saw it.
    seen: Option<FdId>,
}

#[derive(Default)]
struct Proc {
    start: Option<u64>,
    chains: HashMap<i32, Entry>,
}

/// The builder: feed it every event, in order; it says which changed a
/// mount table, and how.
pub struct Tracker {
    procs: HashMap<u32, Proc>,
    /// Every chain by age: seq -> (tgid, fd).
    order: BTreeMap<u64, (u32, i32)>,
    next_seq: u64,
    limits: Limits,
    drops: Drops,
    /// Chains marked gone and not yet dropped.
    gone: usize,
}

impl Default for Tracker {
    fn default() -> Tracker {
        Tracker::new(Limits::default())
    }
}

fn value<'a>(desc: &Description<'a>, i: usize) -> Value<'a> {
    desc.args().get(i).map(|a| a.value).unwrap_or_default()
}

fn int(desc: &Description, i: usize) -> Option<i32> {
    match value(desc, i) {
        Value::Int(v) => Some(v as i32),
        _ => None,
    }
}

fn uint(desc: &Description, i: usize) -> u64 {
    match value(desc, i) {
        Value::UInt(v) => v,
        _ => 0,
    }
}

fn text<'a>(desc: &Description<'a>, i: usize) -> Option<&'a [u8]> {
    match value(desc, i) {
        Value::Str(s) => Some(s.bytes),
        _ => None,
    }
}

const MS_REMOUNT: u64 = libc::MS_REMOUNT as u64;
const MS_BIND: u64 = libc::MS_BIND as u64;
const MS_MOVE: u64 = libc::MS_MOVE as u64;
const MS_REC: u64 = libc::MS_REC as u64;
const AT_EMPTY_PATH: u64 = libc::AT_EMPTY_PATH as u64;
const AT_RECURSIVE: u64 = libc::AT_RECURSIVE as u64;
const OPEN_TREE_CLONE: u64 = libc::OPEN_TREE_CLONE as u64;
const FSPICK_EMPTY_PATH: u64 = libc::FSPICK_EMPTY_PATH as u64;
const MOVE_MOUNT_F_EMPTY_PATH: u64 = libc::MOVE_MOUNT_F_EMPTY_PATH as u64;
const MOVE_MOUNT_T_EMPTY_PATH: u64 = libc::MOVE_MOUNT_T_EMPTY_PATH as u64;
const MOVE_MOUNT_SET_GROUP: u64 = libc::MOVE_MOUNT_SET_GROUP as u64;
const FSCONFIG_SET_FLAG: u64 = libc::FSCONFIG_SET_FLAG as u64;
const FSCONFIG_SET_STRING: u64 = libc::FSCONFIG_SET_STRING as u64;
const FSCONFIG_SET_BINARY: u64 = libc::FSCONFIG_SET_BINARY as u64;
const FSCONFIG_SET_PATH: u64 = libc::FSCONFIG_SET_PATH as u64;
const FSCONFIG_SET_PATH_EMPTY: u64 = libc::FSCONFIG_SET_PATH_EMPTY as u64;
const FSCONFIG_SET_FD: u64 = libc::FSCONFIG_SET_FD as u64;
const FSCONFIG_CMD_CREATE: u64 = libc::FSCONFIG_CMD_CREATE as u64;
const FSCONFIG_CMD_RECONFIGURE: u64 = libc::FSCONFIG_CMD_RECONFIGURE as u64;
const FSCONFIG_CMD_CREATE_EXCL: u64 = 8;

impl Tracker {
    pub fn new(limits: Limits) -> Tracker {
        Tracker {
            procs: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            limits,
            drops: Drops::default(),
            gone: 0,
        }
    }

    /// Unfinished chains dropped so far.
    pub fn drops(&self) -> Drops {
        self.drops
    }

    /// Chains held now.
    pub fn held(&self) -> usize {
        self.order.len()
    }

    /// Unfinished chains held now (at exit: still open).
    pub fn unfinished(&self) -> usize {
        self.procs
            .values()
            .flat_map(|p| p.chains.values())
            .filter(|e| !e.chain.finished())
            .count()
    }

    /// `observe` with the resolver the outputs use ([`resolve`]).
    pub fn feed(&mut self, event: &Event, desc: &Description) -> Option<Record> {
        self.observe(event, desc, &|i| resolve(event, desc, i))
    }

    /// Takes one event (in the order calls returned) with its
    /// description; returns the change it made to a mount table, if any.
    /// `resolve` gives the absolute form of its path arguments.
    pub fn observe(
        &mut self,
        event: &Event,
        desc: &Description,
        resolve: Resolve,
    ) -> Option<Record> {
        let tgid = event.header.pid;
        let ret = event.header.ret;
        match event.call {
            Syscall::Mount if ret == 0 => self.mount(tgid, event, desc, resolve),
            Syscall::Umount2 | Syscall::Umount if ret == 0 => {
                let target = self.place(tgid, desc, resolve, 0, None)?;
                Some(Record::new(Kind::Detach, target))
            }
            Syscall::Fsopen if ret >= 0 => {
                let fstype = text(desc, 0).unwrap_or_default().to_vec();
                let ctx = Context::new(ContextKind::New { fstype });
                self.insert(tgid, ret as i32, Chain::Context(ctx));
                None
            }
            Syscall::Fspick if ret >= 0 => {
                let at = (uint(desc, 2) & FSPICK_EMPTY_PATH != 0).then_some(0);
                let target = self.place(tgid, desc, resolve, 1, at);
                let ctx = Context::new(ContextKind::Pick { target });
                self.insert(tgid, ret as i32, Chain::Context(ctx));
                None
            }
            Syscall::Fsconfig if ret == 0 => self.fsconfig(tgid, desc, resolve),
            Syscall::Fsmount if ret >= 0 => {
                let origin = match self.get_mut(tgid, int(desc, 0)?) {
                    Some(Chain::Context(ctx)) => {
                        ctx.used = true;
                        match &ctx.kind {
                            ContextKind::New { fstype } => Origin::New {
                                fstype: fstype.clone(),
                                source: ctx.source.clone(),
                                options: ctx.options.clone(),
                            },
                            ContextKind::Pick { .. } => Origin::Unknown,
                        }
                    }
                    _ => Origin::Unknown,
                };
                let mut m = MountFd::new(origin);
                m.attr_set = uint(desc, 2);
                self.insert(tgid, ret as i32, Chain::Mount(m));
                None
            }
            Syscall::OpenTree | Syscall::OpenTreeAttr if ret >= 0 => {
                self.open_tree(tgid, ret as i32, desc, resolve);
                None
            }
            Syscall::MoveMount if ret == 0 => self.move_mount(tgid, desc, resolve),
            Syscall::MountSetattr if ret == 0 => self.mount_setattr(tgid, desc, resolve),
            // pivot_root moves two mounts at once; not a record (yet).
            _ => None,
        }
    }

    /// Path argument `path_i` as the record gives it. With `at` (the
    /// index of its dirfd) an empty path is the dirfd itself: where that
    /// mount fd was attached, if we know.
    fn place(
        &self,
        tgid: u32,
        desc: &Description,
        resolve: Resolve,
        path_i: usize,
        at: Option<usize>,
    ) -> Option<Place> {
        let path = text(desc, path_i)?;
        if let (true, Some(dirfd)) = (path.is_empty(), at) {
            return match self.get(tgid, int(desc, dirfd)?) {
                Some(Chain::Mount(m)) => m.attached.clone(),
                _ => None,
            };
        }
        Some(match resolve(path_i) {
            Some(abs) => Place::absolute(abs),
            None => Place::given(path),
        })
    }

    /// mount(2), in the kernel's order of precedence (path_mount).
    fn mount(
        &mut self,
        tgid: u32,
        event: &Event,
        desc: &Description,
        resolve: Resolve,
    ) -> Option<Record> {
        let flags = mount_flags(event.arg(3)).flags;
        let target = self.place(tgid, desc, resolve, 1, None)?;
        let mut r;
        if flags & MS_REMOUNT != 0 {
            r = Record::new(Kind::Remount, target);
            r.attributes = ms_attributes(flags);
            // MS_REMOUNT|MS_BIND changes the mount's flags only.
            if flags & MS_BIND == 0 {
                let options = Options::from_data(text(desc, 4).unwrap_or_default());
                r.options = options.items;
                r.options_cut = options.cut;
            }
        } else if flags & MS_BIND != 0 {
            r = Record::new(Kind::Bind, target);
            r.source = self.place(tgid, desc, resolve, 0, None);
            r.recursive = flags & MS_REC != 0;
        } else if let Some(propagation) = ms_propagation(flags) {
            r = Record::new(Kind::Change, target);
            r.propagation = Some(propagation);
            r.recursive = flags & MS_REC != 0;
        } else if flags & MS_MOVE != 0 {
            r = Record::new(Kind::Move, target);
            r.from = self.place(tgid, desc, resolve, 0, None);
        } else {
            r = Record::new(Kind::Attach, target);
            r.fstype = text(desc, 2).map(<[u8]>::to_vec);
            r.source = Some(Place::absolute(text(desc, 0).unwrap_or(b"none").to_vec()));
            let options = Options::from_data(text(desc, 4).unwrap_or_default());
            r.options = options.items;
            r.options_cut = options.cut;
            r.attributes = ms_attributes(flags);
        }
        Some(r)
    }

    /// A successful fsconfig: an option kept, the context created, or a
    /// reconfiguration made.
    fn fsconfig(&mut self, tgid: u32, desc: &Description, resolve: Resolve) -> Option<Record> {
        let cmd = uint(desc, 1);
        let key = text(desc, 2).unwrap_or_default();
        let path = match cmd {
            FSCONFIG_SET_PATH | FSCONFIG_SET_PATH_EMPTY => {
                Some(resolve(3).unwrap_or_else(|| text(desc, 3).unwrap_or_default().to_vec()))
            }
            _ => None,
        };
        let Some(Chain::Context(ctx)) = self.get_mut(tgid, int(desc, 0)?) else {
            return None;
        };
        let value: Option<Vec<u8>> = match cmd {
            FSCONFIG_SET_STRING => Some(text(desc, 3).unwrap_or_default().to_vec()),
            FSCONFIG_SET_PATH | FSCONFIG_SET_PATH_EMPTY => path,
            FSCONFIG_SET_BINARY => match value(desc, 3) {
                Value::Binary(b) => Some(
                    b.bytes
                        .iter()
                        .map(|x| format!("{x:02x}"))
                        .collect::<String>()
                        .into_bytes(),
                ),
                _ => Some(Vec::new()),
            },
            FSCONFIG_SET_FD => Some(format!("fd:{}", int(desc, 4).unwrap_or(-1)).into_bytes()),
            FSCONFIG_SET_FLAG => None,
            FSCONFIG_CMD_CREATE | FSCONFIG_CMD_CREATE_EXCL => {
                ctx.created = true;
                return None;
            }
            FSCONFIG_CMD_RECONFIGURE => {
                let ContextKind::Pick { target } = &ctx.kind else {
                    return None;
                };
                let mut r = Record::new(Kind::Remount, target.clone()?);
                // The kernel starts the context afresh after a
                // reconfiguration: the next one lists its own options.
                let options = std::mem::take(&mut ctx.options);
                r.options = options.items;
                r.options_cut = options.cut;
                ctx.used = true;
                return Some(r);
            }
            _ => return None,
        };
        match value {
            Some(v) if key == b"source" => ctx.source = Some(v),
            value => ctx.options.push_pair(key, value.as_deref()),
        }
        None
    }

    /// open_tree and open_tree_attr: a clone to attach, or a handle on a
    /// mount already attached.
    fn open_tree(&mut self, tgid: u32, fd: i32, desc: &Description, resolve: Resolve) {
        let flags = uint(desc, 2);
        let (set, clr, propagation) = match value(desc, 3) {
            Value::MountAttr(a) => (a.attr_set, a.attr_clr, a.propagation),
            _ => (0, 0, 0),
        };
        let empty = flags & AT_EMPTY_PATH != 0 && text(desc, 1) == Some(b"");
        // A clone of a detached mount fd is another copy of what it holds.
        let detached = match (empty, int(desc, 0)) {
            (true, Some(dirfd)) => match self.get(tgid, dirfd) {
                Some(Chain::Mount(m)) if m.attached.is_none() => Some(m.clone()),
                _ => None,
            },
            _ => None,
        };
        let at = (flags & AT_EMPTY_PATH != 0).then_some(0);
        let place = self.place(tgid, desc, resolve, 1, at);
        let mut m = if flags & OPEN_TREE_CLONE == 0 {
            let mut m = MountFd::new(Origin::Existing);
            m.attached = place;
            if m.attached.is_none() {
                // Nothing we could name: not a chain worth keeping.
                return;
            }
            m
        } else if let Some(m) = detached {
            m
        } else {
            MountFd::new(match place {
                Some(source) => Origin::Clone {
                    source,
                    recursive: flags & AT_RECURSIVE != 0,
                },
                None => Origin::Unknown,
            })
        };
        m.attr_set = (m.attr_set & !clr) | set;
        m.attr_clr = (m.attr_clr & !set) | clr;
        if propagation != 0 {
            m.propagation = propagation;
        }
        self.insert(tgid, fd, Chain::Mount(m));
    }

    fn move_mount(&mut self, tgid: u32, desc: &Description, resolve: Resolve) -> Option<Record> {
        let flags = uint(desc, 4);
        let to_at = (flags & MOVE_MOUNT_T_EMPTY_PATH != 0).then_some(2);
        let target = self.place(tgid, desc, resolve, 3, to_at)?;
        if flags & MOVE_MOUNT_SET_GROUP != 0 {
            // The target joins the source's peer group.
            let mut r = Record::new(Kind::Change, target);
            let from_at = (flags & MOVE_MOUNT_F_EMPTY_PATH != 0).then_some(0);
            r.from = self.place(tgid, desc, resolve, 1, from_at);
            return Some(r);
        }
        let from_fd = (flags & MOVE_MOUNT_F_EMPTY_PATH != 0 && text(desc, 1) == Some(b""))
            .then(|| int(desc, 0))
            .flatten();
        let Some(from_fd) = from_fd else {
            let mut r = Record::new(Kind::Move, target);
            r.from = self.place(tgid, desc, resolve, 1, None);
            return Some(r);
        };
        let Some(Chain::Mount(m)) = self.get_mut(tgid, from_fd) else {
            // An fd whose making we did not see (open(O_PATH), or before
            // tracing began): a mount appeared at target, from we know
            // not where.
            return Some(Record::new(Kind::Move, target));
        };
        let previous = m.attached.replace(target.clone());
        let mut r;
        if let Some(from) = previous {
            r = Record::new(Kind::Move, target);
            r.from = Some(from);
            return Some(r);
        }
        match &m.origin {
            Origin::New {
                fstype,
                source,
                options,
            } => {
                r = Record::new(Kind::Attach, target);
                r.fstype = Some(fstype.clone());
                let source = source.clone().unwrap_or_else(|| b"none".to_vec());
                r.source = Some(Place::absolute(source));
                r.options = options.items.clone();
                r.options_cut = options.cut;
                r.attributes = fsmount_attributes(m.attr_set);
            }
            Origin::Clone { source, recursive } => {
                r = Record::new(Kind::Bind, target);
                r.source = Some(source.clone());
                r.recursive = *recursive;
                (r.attributes, r.cleared) = mount_attr_change(m.attr_set, m.attr_clr);
                r.propagation = attr_propagation(m.propagation);
            }
            Origin::Unknown | Origin::Existing => {
                r = Record::new(Kind::Attach, target);
                (r.attributes, r.cleared) = mount_attr_change(m.attr_set, m.attr_clr);
                r.propagation = attr_propagation(m.propagation);
            }
        }
        Some(r)
    }

    fn mount_setattr(&mut self, tgid: u32, desc: &Description, resolve: Resolve) -> Option<Record> {
        let flags = uint(desc, 2);
        let Value::MountAttr(attr) = value(desc, 3) else {
            return None;
        };
        // On a detached mount fd: nothing visible changed yet; the
        // attributes go with it to where it is attached.
        if flags & AT_EMPTY_PATH != 0 && text(desc, 1) == Some(b"") {
            if let Some(Chain::Mount(m)) = self.get_mut(tgid, int(desc, 0)?) {
                if m.attached.is_none() {
                    m.attr_set = (m.attr_set & !attr.attr_clr) | attr.attr_set;
                    m.attr_clr = (m.attr_clr & !attr.attr_set) | attr.attr_clr;
                    if attr.propagation != 0 {
                        m.propagation = attr.propagation;
                    }
                    return None;
                }
            }
        }
        let at = (flags & AT_EMPTY_PATH != 0).then_some(0);
        let target = self.place(tgid, desc, resolve, 1, at)?;
        let mut r = Record::new(Kind::Change, target);
        (r.attributes, r.cleared) = mount_attr_change(attr.attr_set, attr.attr_clr);
        r.propagation = attr_propagation(attr.propagation);
        r.recursive = flags & AT_RECURSIVE != 0;
        Some(r)
    }

    fn get(&self, tgid: u32, fd: i32) -> Option<&Chain> {
        Some(&self.procs.get(&tgid)?.chains.get(&fd)?.chain)
    }

    fn get_mut(&mut self, tgid: u32, fd: i32) -> Option<&mut Chain> {
        Some(&mut self.procs.get_mut(&tgid)?.chains.get_mut(&fd)?.chain)
    }

    /// Keeps a chain for the fd a call just returned: it replaces what
    /// the number stood for; the oldest chains make room.
    fn insert(&mut self, tgid: u32, fd: i32, chain: Chain) {
        self.remove(tgid, fd, Reason::Closed);
        if let Some(p) = self.procs.get(&tgid) {
            if p.chains.len() >= self.limits.per_process {
                if let Some((&oldest, _)) = p.chains.iter().min_by_key(|(_, e)| e.seq) {
                    self.remove(tgid, oldest, Reason::Evicted);
                }
            }
        }
        while self.order.len() >= self.limits.total.max(1) {
            let Some((_, &(t, f))) = self.order.iter().next() else {
                break;
            };
            self.remove(t, f, Reason::Evicted);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, (tgid, fd));
        self.procs.entry(tgid).or_default().chains.insert(
            fd,
            Entry {
                chain,
                seq,
                gone: None,
                seen: None,
            },
        );
    }

    /// Forgets a chain; counts it when it was unfinished.
    fn remove(&mut self, tgid: u32, fd: i32, reason: Reason) {
        let Some(p) = self.procs.get_mut(&tgid) else {
            return;
        };
        let Some(e) = p.chains.remove(&fd) else {
            return;
        };
        if p.chains.is_empty() {
            self.procs.remove(&tgid);
        }
        self.order.remove(&e.seq);
        if e.gone.is_some() {
            self.gone -= 1;
        }
        if !e.chain.finished() {
            match reason {
                Reason::Closed => self.drops.closed += 1,
                Reason::Exited => self.drops.exited += 1,
                Reason::Evicted => self.drops.evicted += 1,
            }
        }
    }

    /// Marks the chains whose process or fd is gone, as of `now_ns`
    /// (CLOCK_MONOTONIC, the clock of event times). Looks only at the
    /// processes that hold chains, one look per chain.
    pub fn sweep(&mut self, now_ns: u64, probe: &dyn Probe) {
        for (&tgid, p) in &mut self.procs {
            let alive = match (probe.process(tgid), p.start) {
                (None, _) => false,
                (Some(start), None) => {
                    p.start = Some(start);
                    true
                }
                (Some(start), Some(was)) => start == was,
            };
            for (&fd, e) in &mut p.chains {
                if e.gone.is_some() {
                    continue;
                }
                let reason = if !alive {
                    Some(Reason::Exited)
                } else {
                    match probe.fd(tgid, fd) {
                        None => Some(Reason::Closed),
                        Some(id) if id.fs_context != matches!(e.chain, Chain::Context(_)) => {
                            Some(Reason::Closed)
                        }
                        Some(id) => match e.seen {
                            None => {
                                e.seen = Some(id);
                                None
                            }
                            Some(was) => (was != id).then_some(Reason::Closed),
                        },
                    }
                };
                if let Some(reason) = reason {
                    e.gone = Some((now_ns, reason));
                    self.gone += 1;
                }
            }
        }
    }

    /// Drops the chains a sweep found gone before `horizon_ns`, once every
    /// event of a call that returned before `horizon_ns` was observed.
    pub fn expire(&mut self, horizon_ns: u64) {
        if self.gone == 0 {
            return;
        }
        let doomed: Vec<(u32, i32, Reason)> = self
            .procs
            .iter()
            .flat_map(|(&tgid, p)| {
                p.chains.iter().filter_map(move |(&fd, e)| match e.gone {
                    Some((at, reason)) if at < horizon_ns => Some((tgid, fd, reason)),
                    _ => None,
                })
            })
            .collect();
        for (tgid, fd, reason) in doomed {
            self.remove(tgid, fd, reason);
        }
    }
}

#[cfg(test)]
mod tests;
