//! Each path argument's absolute form, as of the time of the call: the
//! path as given, joined to the directory it starts from (the working
//! directory or a dirfd) and to the caller's root, both resolved by the
//! kernel side as the call started. The CALL text keeps the path as
//! strace prints it; JSON, the detailed block and the mount records add
//! this form.

use crate::event::{ArgData, Event, Name, NAME_CWD, NAME_ROOT};
use crate::syscalls::Syscall;

use super::xlat::AT_FDCWD;

/// A path made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub path: Vec<u8>,
    /// Part of it is missing: the path argument was cut at our read
    /// limit, or the directory's walk stopped short of the root (then the
    /// path starts with `...`).
    pub cut: bool,
    /// It took a directory the kernel side resolved (the cwd, a dirfd, a
    /// chroot's root), not only the argument's own text.
    pub from_kernel: bool,
}

/// Where a path argument starts from when it is relative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    Cwd,
    /// The directory fd in this argument (AT_FDCWD: the working directory).
    Dirfd(usize),
}

const MS_BIND: u64 = 0x1000;
const MS_MOVE: u64 = 0x2000;
const FSCONFIG_SET_PATH: u32 = 3;
const FSCONFIG_SET_PATH_EMPTY: u32 = 4;

/// Which arguments of a call are paths, and where each starts from: the
/// same rules as `call_fds` in the BPF program, which resolves the bases.
fn base_of(event: &Event, arg: usize) -> Option<Base> {
    match (event.call, arg) {
        // mount's source is a path only for a bind or a move; otherwise it
        // is whatever the filesystem takes ("none", a device, host:/dir).
        (Syscall::Mount, 0) => (event.arg(3) & (MS_BIND | MS_MOVE) != 0
            || starts_with_slash(event, 0))
        .then_some(Base::Cwd),
        (Syscall::Mount | Syscall::PivotRoot, 0 | 1) => Some(Base::Cwd),
        (Syscall::Umount2 | Syscall::Umount, 0) => Some(Base::Cwd),
        (Syscall::MoveMount, 1) => Some(Base::Dirfd(0)),
        (Syscall::MoveMount, 3) => Some(Base::Dirfd(2)),
        (
            Syscall::OpenTree | Syscall::Fspick | Syscall::MountSetattr | Syscall::OpenTreeAttr,
            1,
        ) => Some(Base::Dirfd(0)),
        (Syscall::Fsconfig, 3) => matches!(
            event.arg(1) as u32,
            FSCONFIG_SET_PATH | FSCONFIG_SET_PATH_EMPTY
        )
        .then_some(Base::Dirfd(4)),
        _ => None,
    }
}

fn starts_with_slash(event: &Event, arg: usize) -> bool {
    matches!(event.data(arg), ArgData::Whole(b) | ArgData::Truncated(b) if b.starts_with(b"/"))
}

/// The name slot a directory fd argument refers to (AT_FDCWD: the cwd's).
pub fn dirfd_slot(event: &Event, arg: usize) -> usize {
    if event.arg(arg) as i32 == AT_FDCWD {
        NAME_CWD
    } else {
        arg
    }
}

/// The name a directory fd argument refers to.
pub fn dirfd_name<'a>(event: &Event<'a>, arg: usize) -> Name<'a> {
    event.name(dirfd_slot(event, arg))
}

/// Argument `arg`'s absolute path, when it is a path argument and what it
/// is relative to was resolved.
pub fn absolute(event: &Event, arg: usize) -> Option<Resolved> {
    let base = base_of(event, arg)?;
    let (given, mut cut) = match event.data(arg) {
        ArgData::Whole(b) => (b, false),
        ArgData::Truncated(b) => (b, true),
        _ => return None,
    };
    let mut from_kernel = true;
    let start = if given.starts_with(b"/") {
        // Absolute paths start from the caller's root: its namespace's
        // unless the kernel side found otherwise (a chroot).
        match event.name(NAME_ROOT) {
            Name::None => {
                from_kernel = false;
                (b"/".to_vec(), false)
            }
            name => directory(name)?,
        }
    } else {
        let name = match base {
            Base::Cwd => event.name(NAME_CWD),
            Base::Dirfd(d) => dirfd_name(event, d),
        };
        directory(name)?
    };
    cut |= start.1;
    let mut path = start.0;
    path.push(b'/');
    path.extend_from_slice(given);
    Some(Resolved {
        path: normalize(&path, start.1),
        cut,
        from_kernel,
    })
}

/// A resolved directory's path; None for what has no path (an fd not
/// open, an anon inode, nothing resolved).
fn directory(name: Name) -> Option<(Vec<u8>, bool)> {
    match name {
        Name::Path { .. } => name.text(),
        _ => None,
    }
}

/// Drops empty and `.` components. `..` stays: the kernel resolves it
/// through symlinks and mounts, which text cannot. A path whose top is
/// missing starts with `...`.
fn normalize(path: &[u8], top_missing: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + 3);
    if top_missing {
        out.extend_from_slice(b"...");
    }
    for part in path.split(|&b| b == b'/') {
        if part.is_empty() || part == b"." {
            continue;
        }
        out.push(b'/');
        out.extend_from_slice(part);
    }
    if out.is_empty() || out == b"..." {
        out.push(b'/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build::Sample;
    use crate::event::ARG_DATA;

    fn resolve(s: Sample, arg: usize) -> Option<(String, bool)> {
        let bytes = s.bytes();
        let e = Event::parse(&bytes).unwrap();
        absolute(&e, arg).map(|r| (String::from_utf8(r.path).unwrap(), r.cut))
    }

    #[test]
    fn relative_paths_start_from_the_cwd_or_the_dirfd() {
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0)
            .with(0, ARG_DATA, b"./m/")
            .name(NAME_CWD, &["yt", "tmp"]);
        assert_eq!(resolve(s, 0), Some(("/tmp/yt/m".into(), false)));
        let s = Sample::new(Syscall::OpenTree, [5, 1, 0, 0, 0, 0], 0)
            .with(1, ARG_DATA, b"sub")
            .name(0, &["d"]);
        assert_eq!(resolve(s, 1), Some(("/d/sub".into(), false)));
        let at_fdcwd = AT_FDCWD as i64 as u64;
        let s = Sample::new(Syscall::MoveMount, [4, 1, at_fdcwd, 2, 4, 0], 0)
            .with(1, ARG_DATA, b"")
            .with(3, ARG_DATA, b"m")
            .name(0, &[])
            .name(NAME_CWD, &["x"]);
        assert_eq!(resolve(s.clone(), 1), Some(("/".into(), false)));
        assert_eq!(resolve(s, 3), Some(("/x/m".into(), false)));
    }

    #[test]
    fn absolute_paths_start_from_the_root() {
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0).with(0, ARG_DATA, b"/a//b");
        assert_eq!(resolve(s, 0), Some(("/a/b".into(), false)));
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0)
            .with(0, ARG_DATA, b"/a/../b")
            .name(NAME_ROOT, &["jail", "srv"]);
        assert_eq!(resolve(s, 0), Some(("/srv/jail/a/../b".into(), false)));
    }

    #[test]
    fn what_cannot_be_placed_is_not_guessed() {
        // No cwd resolved.
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0).with(0, ARG_DATA, b"m");
        assert_eq!(resolve(s, 0), None);
        // mount's source "none" is not a path.
        let s = Sample::new(Syscall::Mount, [1, 2, 3, 0, 0, 0], 0)
            .with(0, ARG_DATA, b"none")
            .with(1, ARG_DATA, b"m")
            .name(NAME_CWD, &["x"]);
        assert_eq!(resolve(s.clone(), 0), None);
        assert_eq!(resolve(s, 1), Some(("/x/m".into(), false)));
        // A bind's source is.
        let s = Sample::new(Syscall::Mount, [1, 2, 3, MS_BIND, 0, 0], 0)
            .with(0, ARG_DATA, b"src")
            .name(NAME_CWD, &["x"]);
        assert_eq!(resolve(s, 0), Some(("/x/src".into(), false)));
        // A walk cut short marks the path.
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0)
            .with(0, ARG_DATA, b"m")
            .cut_name(NAME_CWD, &["deep"]);
        assert_eq!(resolve(s, 0), Some((".../deep/m".into(), true)));
    }
}
