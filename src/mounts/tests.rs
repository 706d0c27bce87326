//! The builder, fed events built as the kernel sends them.

use std::collections::HashMap;

use super::*;
use crate::decode::describe;
use crate::event::build::Sample;
use crate::event::{ARG_DATA, ARG_NULL};

const FDCWD: u64 = -100i64 as u64;
const EINVAL: i64 = -22;

/// Feeds one sample; the record it made.
fn feed(t: &mut Tracker, s: Sample) -> Option<Record> {
    let bytes = s.bytes();
    let e = Event::parse(&bytes).expect("a well-formed sample");
    let desc = describe(&e, &mut String::new());
    t.feed(&e, &desc)
}

/// `feed` of samples that must make no record.
fn feed_all(t: &mut Tracker, samples: impl IntoIterator<Item = Sample>) {
    for s in samples {
        let name = s.header.call;
        assert_eq!(feed(t, s), None, "call {name} made a record");
    }
}

fn by(pid: u32, mut s: Sample) -> Sample {
    s.header.pid = pid;
    s.header.tid = pid;
    s
}

fn fsopen(fd: i64) -> Sample {
    Sample::new(Syscall::Fsopen, [1, 1, 0, 0, 0, 0], fd).with(0, ARG_DATA, b"tmpfs")
}

fn set_string(fd: u64, key: &[u8], value: &[u8], ret: i64) -> Sample {
    Sample::new(Syscall::Fsconfig, [fd, 1, 1, 2, 0, 0], ret)
        .with(2, ARG_DATA, key)
        .with(3, ARG_DATA, value)
}

fn set_flag(fd: u64, key: &[u8], ret: i64) -> Sample {
    Sample::new(Syscall::Fsconfig, [fd, 0, 1, 0, 0, 0], ret).with(2, ARG_DATA, key)
}

fn fsconfig_cmd(fd: u64, cmd: u64, ret: i64) -> Sample {
    Sample::new(Syscall::Fsconfig, [fd, cmd, 0, 0, 0, 0], ret)
}

fn fsmount(fd: u64, attrs: u64, ret: i64) -> Sample {
    Sample::new(Syscall::Fsmount, [fd, 1, attrs, 0, 0, 0], ret)
}

fn move_fd(fd: u64, to: &[u8], ret: i64) -> Sample {
    Sample::new(Syscall::MoveMount, [fd, 1, FDCWD, 2, 4, 0], ret)
        .with(1, ARG_DATA, b"")
        .with(3, ARG_DATA, to)
}

fn mount(
    source: &[u8],
    target: &[u8],
    fstype: Option<&[u8]>,
    flags: u64,
    data: Option<&[u8]>,
) -> Sample {
    let s = Sample::new(Syscall::Mount, [1, 2, 3, flags, 5, 0], 0)
        .with(0, ARG_DATA, source)
        .with(1, ARG_DATA, target);
    let s = match fstype {
        Some(t) => s.with(2, ARG_DATA, t),
        None => s.with(2, ARG_NULL, b""),
    };
    match data {
        Some(d) => s.with(4, ARG_DATA, d),
        None => s.with(4, ARG_NULL, b""),
    }
}

fn umount2(target: &[u8], ret: i64) -> Sample {
    Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], ret).with(0, ARG_DATA, target)
}

fn open_tree(path: &[u8], flags: u64, fd: i64) -> Sample {
    Sample::new(Syscall::OpenTree, [FDCWD, 1, flags, 0, 0, 0], fd).with(1, ARG_DATA, path)
}

fn attr(set: u64, clr: u64, propagation: u64) -> Vec<u8> {
    [set, clr, propagation, 0]
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect()
}

fn setattr(dirfd: u64, path: &[u8], flags: u64, a: &[u8]) -> Sample {
    Sample::new(Syscall::MountSetattr, [dirfd, 1, flags, 2, 32, 0], 0)
        .with(1, ARG_DATA, path)
        .with(3, ARG_DATA, a)
}

fn s(v: &[&str]) -> Vec<Cow<'static, str>> {
    v.iter().map(|x| Cow::Owned(x.to_string())).collect()
}

use std::borrow::Cow;

fn opts(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|x| x.as_bytes().to_vec()).collect()
}

#[test]
fn new_api_chain_makes_one_attach() {
    let mut t = Tracker::default();
    feed_all(
        &mut t,
        [
            fsopen(3),
            set_string(3, b"size", b"2m", 0),
            // Failed: not an option of the mount.
            set_string(3, b"nosuchkey", b"x", EINVAL),
            set_flag(3, b"noswap", 0),
            set_string(3, b"source", b"mysrc", 0),
            fsconfig_cmd(3, 6, 0),
            fsmount(3, 6, 4),
        ],
    );
    let r = feed(&mut t, move_fd(4, b"/tmp/x/a", 0)).expect("an attach");
    assert_eq!(r.change, Kind::Attach);
    assert_eq!(r.target, Place::absolute(b"/tmp/x/a".to_vec()));
    assert_eq!(r.fstype.as_deref(), Some(&b"tmpfs"[..]));
    assert_eq!(r.source, Some(Place::absolute(b"mysrc".to_vec())));
    assert_eq!(r.options, opts(&["size=2m", "noswap"]));
    assert_eq!(r.attributes, s(&["rw", "nosuid", "nodev"]));
    assert_eq!(r.propagation, None);
    assert!(r.relative().is_empty());
    // The move left the fd attached: closing it loses nothing.
    assert_eq!(t.unfinished(), 0);
    // Moved again, from the same fd: a move.
    let r = feed(&mut t, move_fd(4, b"/tmp/x/b", 0)).expect("a move");
    assert_eq!(r.change, Kind::Move);
    assert_eq!(r.from, Some(Place::absolute(b"/tmp/x/a".to_vec())));
    assert_eq!(r.target.path, b"/tmp/x/b");
}

#[test]
fn failed_calls_make_no_record() {
    let mut t = Tracker::default();
    feed_all(
        &mut t,
        [
            fsopen(3),
            set_string(3, b"nosuchopt", b"1", EINVAL),
            fsconfig_cmd(3, 6, EINVAL),
            fsmount(3, 0, EINVAL),
            move_fd(3, b"/a", EINVAL),
            umount2(b"/a", EINVAL),
        ],
    );
    let mut m = mount(b"none", b"/a", Some(b"bogusfs"), 0, None);
    m.header.ret = -19;
    assert_eq!(feed(&mut t, m), None);
    assert_eq!(t.unfinished(), 1);
}

#[test]
fn mount_2_each_kind() {
    let mut t = Tracker::default();
    let ms = |f: libc::c_ulong| f as u64;

    let r = feed(
        &mut t,
        mount(
            b"none",
            b"/t/b",
            Some(b"tmpfs"),
            ms(libc::MS_NOSUID | libc::MS_NODEV),
            Some(b"size=1m,mode=0755"),
        ),
    )
    .unwrap();
    assert_eq!(r.change, Kind::Attach);
    assert_eq!(r.fstype.as_deref(), Some(&b"tmpfs"[..]));
    assert_eq!(r.source, Some(Place::absolute(b"none".to_vec())));
    assert_eq!(r.options, opts(&["size=1m", "mode=0755"]));
    assert_eq!(r.attributes, s(&["rw", "nosuid", "nodev"]));

    let r = feed(
        &mut t,
        mount(
            b"/t/b",
            b"/t/c",
            None,
            ms(libc::MS_BIND | libc::MS_REC),
            None,
        ),
    )
    .unwrap();
    assert_eq!(r.change, Kind::Bind);
    assert_eq!(r.source, Some(Place::absolute(b"/t/b".to_vec())));
    assert!(r.recursive);

    let flags = ms(libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY);
    let r = feed(&mut t, mount(b"", b"/t/c", None, flags, None)).unwrap();
    assert_eq!(r.change, Kind::Remount);
    assert_eq!(r.attributes, s(&["ro"]));
    assert!(r.options.is_empty());

    let flags = ms(libc::MS_REMOUNT | libc::MS_RDONLY);
    let r = feed(&mut t, mount(b"", b"/t/b", None, flags, Some(b"size=2m"))).unwrap();
    assert_eq!((r.change, r.options), (Kind::Remount, opts(&["size=2m"])));

    let r = feed(
        &mut t,
        mount(b"/t/c", b"/t/d", None, ms(libc::MS_MOVE), None),
    )
    .unwrap();
    assert_eq!(r.change, Kind::Move);
    assert_eq!(r.from, Some(Place::absolute(b"/t/c".to_vec())));
    assert_eq!(r.target.path, b"/t/d");

    let flags = ms(libc::MS_SHARED | libc::MS_REC);
    let r = feed(&mut t, mount(b"", b"/t", None, flags, None)).unwrap();
    assert_eq!(r.change, Kind::Change);
    assert_eq!(r.propagation, Some("shared"));
    assert!(r.recursive);

    // The old magic number in the top half changes nothing.
    let r = feed(
        &mut t,
        mount(
            b"/t/b",
            b"/t/e",
            None,
            0xc0ed_0000 | ms(libc::MS_BIND),
            None,
        ),
    )
    .unwrap();
    assert_eq!(r.change, Kind::Bind);

    let r = feed(&mut t, umount2(b"/t/d", 0)).unwrap();
    assert_eq!(
        r,
        Record::new(Kind::Detach, Place::absolute(b"/t/d".to_vec()))
    );
    assert_eq!(t.held(), 0);
}

#[test]
fn relative_paths_are_kept_and_marked() {
    let mut t = Tracker::default();
    let r = feed(&mut t, mount(b"a", b"b", None, libc::MS_MOVE as u64, None)).unwrap();
    assert_eq!(r.target, Place::given(b"b"));
    assert_eq!(r.relative(), ["target", "from"]);
    // A resolver that knows better makes them absolute.
    let bytes = mount(b"a", b"b", None, libc::MS_MOVE as u64, None).bytes();
    let e = Event::parse(&bytes).unwrap();
    let desc = describe(&e, &mut String::new());
    let resolve = |i: usize| Some(format!("/cwd/{}", ["a", "b"][i]).into_bytes());
    let r = t.observe(&e, &desc, &resolve).unwrap();
    assert_eq!(r.target, Place::absolute(b"/cwd/b".to_vec()));
    assert_eq!(r.from, Some(Place::absolute(b"/cwd/a".to_vec())));
}

#[test]
fn open_tree_clone_is_a_bind() {
    let mut t = Tracker::default();
    let flags = (libc::OPEN_TREE_CLONE | libc::AT_RECURSIVE as u32) as u64;
    feed_all(&mut t, [open_tree(b"/src", flags, 5)]);
    assert_eq!(t.unfinished(), 1);
    // Made read-only while detached: no record yet.
    feed_all(
        &mut t,
        [setattr(
            5,
            b"",
            libc::AT_EMPTY_PATH as u64,
            &attr(1, 0, libc::MS_PRIVATE as u64),
        )],
    );
    let r = feed(&mut t, move_fd(5, b"/dst", 0)).unwrap();
    assert_eq!(r.change, Kind::Bind);
    assert_eq!(r.source, Some(Place::absolute(b"/src".to_vec())));
    assert!(r.recursive);
    assert_eq!(r.attributes, s(&["ro"]));
    assert_eq!(r.propagation, Some("private"));

    // Without OPEN_TREE_CLONE: a handle on an attached mount; moving it
    // is a move.
    feed_all(&mut t, [open_tree(b"/dst", 0, 6)]);
    assert_eq!(t.unfinished(), 0);
    let r = feed(&mut t, move_fd(6, b"/elsewhere", 0)).unwrap();
    assert_eq!(r.change, Kind::Move);
    assert_eq!(r.from, Some(Place::absolute(b"/dst".to_vec())));

    // A path moved by name.
    let s = Sample::new(Syscall::MoveMount, [FDCWD, 1, FDCWD, 2, 0, 0], 0)
        .with(1, ARG_DATA, b"/elsewhere")
        .with(3, ARG_DATA, b"/x");
    let r = feed(&mut t, s).unwrap();
    assert_eq!(r.change, Kind::Move);
    assert_eq!(r.from, Some(Place::absolute(b"/elsewhere".to_vec())));
}

#[test]
fn open_tree_attr_carries_its_attributes() {
    let mut t = Tracker::default();
    let sample = Sample::new(Syscall::OpenTreeAttr, [FDCWD, 1, 1, 2, 32, 0], 7)
        .with(1, ARG_DATA, b"/src")
        .with(3, ARG_DATA, &attr(libc::MOUNT_ATTR_NOEXEC as u64, 0, 0));
    feed_all(&mut t, [sample]);
    let r = feed(&mut t, move_fd(7, b"/dst", 0)).unwrap();
    assert_eq!((r.change, r.attributes), (Kind::Bind, s(&["noexec"])));
    assert!(!r.recursive);
}

#[test]
fn fspick_reconfigure_is_a_remount() {
    let mut t = Tracker::default();
    let pick = Sample::new(Syscall::Fspick, [FDCWD, 1, 1, 0, 0, 0], 6).with(1, ARG_DATA, b"/m");
    feed_all(
        &mut t,
        [pick, set_flag(6, b"ro", 0), set_flag(6, b"bogus", EINVAL)],
    );
    let r = feed(&mut t, fsconfig_cmd(6, 7, 0)).unwrap();
    assert_eq!(r.change, Kind::Remount);
    assert_eq!(r.target.path, b"/m");
    assert_eq!(r.options, opts(&["ro"]));
    // Failed reconfiguration: nothing.
    feed_all(&mut t, [set_flag(6, b"rw", 0), fsconfig_cmd(6, 7, -16)]);
    assert_eq!(t.unfinished(), 0);
}

#[test]
fn mount_setattr_is_a_change() {
    let mut t = Tracker::default();
    let a = attr(
        libc::MOUNT_ATTR_RDONLY as u64,
        libc::MOUNT_ATTR_NOEXEC as u64,
        libc::MS_SLAVE as u64,
    );
    let r = feed(&mut t, setattr(FDCWD, b"/m", libc::AT_RECURSIVE as u64, &a)).unwrap();
    assert_eq!(r.change, Kind::Change);
    assert_eq!(r.attributes, s(&["ro"]));
    assert_eq!(r.cleared, s(&["noexec"]));
    assert_eq!(r.propagation, Some("slave"));
    assert!(r.recursive);
}

#[test]
fn a_returned_fd_number_replaces_its_chain() {
    let mut t = Tracker::default();
    feed_all(&mut t, [fsopen(3), set_string(3, b"size", b"1m", 0)]);
    // fd 3 was closed (untraced) and returned again by open_tree.
    feed_all(&mut t, [open_tree(b"/a", 1, 3)]);
    assert_eq!(
        t.drops(),
        Drops {
            closed: 1,
            ..Default::default()
        }
    );
    // fsconfig on a mount fd: not a context, ignored.
    feed_all(&mut t, [set_string(3, b"size", b"2m", 0)]);
    let r = feed(&mut t, move_fd(3, b"/b", 0)).unwrap();
    assert_eq!(r.change, Kind::Bind);
}

#[test]
fn processes_have_their_own_fds() {
    let mut t = Tracker::default();
    feed_all(&mut t, [by(100, fsopen(3)), by(100, fsconfig_cmd(3, 6, 0))]);
    feed_all(&mut t, [by(200, fsopen(3))]);
    feed_all(&mut t, [by(100, fsmount(3, 0, 4))]);
    let r = feed(&mut t, by(100, move_fd(4, b"/a", 0))).unwrap();
    assert_eq!(r.change, Kind::Attach);
    // Process 200's fd 4 is unknown: a mount appeared, from where we
    // cannot say.
    let r = feed(&mut t, by(200, move_fd(4, b"/b", 0))).unwrap();
    assert_eq!((r.change, r.from), (Kind::Move, None));
    assert_eq!(t.drops().total(), 0);
}

#[derive(Default)]
struct Fake {
    procs: HashMap<u32, u64>,
    fds: HashMap<(u32, i32), FdId>,
}

impl Probe for Fake {
    fn process(&self, tgid: u32) -> Option<u64> {
        self.procs.get(&tgid).copied()
    }
    fn fd(&self, tgid: u32, fd: i32) -> Option<FdId> {
        self.fds.get(&(tgid, fd)).copied()
    }
}

const CONTEXT: FdId = FdId {
    fs_context: true,
    dev: 15,
    ino: 1,
};

#[test]
fn a_sweep_drops_chains_of_closed_fds_and_exited_processes() {
    let mut t = Tracker::default();
    feed_all(
        &mut t,
        [by(100, fsopen(3)), by(100, fsopen(4)), by(200, fsopen(3))],
    );
    let mut probe = Fake::default();
    probe.procs.insert(100, 1);
    probe.fds.insert((100, 3), CONTEXT);
    probe.fds.insert((100, 4), CONTEXT);
    t.sweep(1_000, &probe);
    t.expire(2_000);
    // Process 200 is gone.
    assert_eq!(
        t.drops(),
        Drops {
            exited: 1,
            ..Default::default()
        }
    );
    // fd 4 closed, and its number reused by something untraced.
    probe.fds.insert(
        (100, 4),
        FdId {
            fs_context: false,
            dev: 1,
            ino: 2,
        },
    );
    t.sweep(3_000, &probe);
    // Not before every event returned before the sweep is in.
    t.expire(2_500);
    assert_eq!(t.drops().closed, 0);
    t.expire(3_001);
    assert_eq!(t.drops().closed, 1);
    // A process with its pid reused.
    probe.procs.insert(100, 2);
    t.sweep(4_000, &probe);
    t.expire(u64::MAX);
    assert_eq!(
        t.drops(),
        Drops {
            closed: 1,
            exited: 2,
            evicted: 0
        }
    );
    assert_eq!(t.held(), 0);
}

/// The process attaches and exits before its events are read: the sweep
/// that finds it gone must not drop what the pending move_mount finishes.
#[test]
fn a_chain_finished_after_the_sweep_is_not_dropped() {
    let mut t = Tracker::default();
    feed_all(&mut t, [fsopen(3), fsconfig_cmd(3, 6, 0), fsmount(3, 0, 4)]);
    t.sweep(1_000, &Fake::default());
    // The move_mount returned at 900, and is read now.
    assert!(feed(&mut t, move_fd(4, b"/a", 0)).is_some());
    t.expire(1_001);
    assert_eq!(t.drops().total(), 0);
    assert_eq!(t.held(), 0);
}

#[test]
fn a_storm_of_unfinished_chains_stays_bounded() {
    let limits = Limits::default();
    let mut t = Tracker::new(limits);
    for fd in 0..20_000 {
        feed_all(
            &mut t,
            [
                fsopen(fd + 3),
                set_string(fd as u64 + 3, b"size", &[b'1'; 200], 0),
            ],
        );
        assert!(t.held() <= limits.per_process);
    }
    assert_eq!(t.drops().evicted, 20_000 - limits.per_process as u64);
    // The newest were kept: the last chain still works.
    feed_all(&mut t, [fsconfig_cmd(20_002, 6, 0), fsmount(20_002, 0, 3)]);
    assert!(feed(&mut t, move_fd(3, b"/a", 0)).is_some());

    // Many processes: the total is bounded too.
    let mut t = Tracker::new(Limits {
        per_process: 4,
        total: 100,
    });
    for pid in 0..1_000 {
        for fd in 0..5 {
            feed_all(&mut t, [by(pid, fsopen(fd + 3))]);
        }
        assert!(t.held() <= 100);
    }
    assert_eq!(t.drops().evicted, 5_000 - 100);
}
