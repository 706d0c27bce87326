//! Calls that change the mount table, each kind once, for the mount
//! records; and a storm of new mount API chains never finished.

use libc::c_long;
use std::ffi::CString;
use std::path::Path;

use crate::shared::{cpath, cstr as c, mkdir, sys};

const AT_FDCWD: c_long = libc::AT_FDCWD as c_long;
const FSOPEN_CLOEXEC: c_long = 0x1;
const FSMOUNT_CLOEXEC: c_long = 0x1;
const MOVE_MOUNT_F_EMPTY_PATH: c_long = 0x4;
const FSCONFIG_SET_STRING: c_long = 1;
const FSCONFIG_CMD_CREATE: c_long = 6;
const MOUNT_ATTR_NOSUID: c_long = 0x2;
const MOUNT_ATTR_NODEV: c_long = 0x4;

fn s(c: &CString) -> c_long {
    c.as_ptr() as c_long
}

fn must(what: &str, ret: c_long) -> Result<c_long, String> {
    if ret < 0 {
        return Err(format!("{what}: {}", std::io::Error::last_os_error()));
    }
    Ok(ret)
}

fn close(fd: c_long) {
    // SAFETY: fd is ours; closing is not traced.
    unsafe {
        libc::close(fd as i32);
    }
}

/// In this order, each succeeding unless said: the new API chain
/// (fsopen, size=2m, create, fsmount nosuid|nodev, move_mount to a); a
/// chain abandoned after a bad option (fsconfig fails with EINVAL); then
/// mount(2): a tmpfs at b (nosuid, size=1m,mode=0700), b bound at c, c
/// remounted read-only (MS_REMOUNT|MS_BIND|MS_RDONLY), c moved to d; and
/// umount2 of d, b and a.
pub fn run(base: &Path) -> Result<(), String> {
    let dirs: Vec<CString> = ["a", "b", "c", "d"]
        .iter()
        .map(|d| {
            let p = base.join(d);
            mkdir(&p).map(|()| cpath(&p))
        })
        .collect::<Result<_, _>>()?;
    let (a, b, cc, d) = (&dirs[0], &dirs[1], &dirs[2], &dirs[3]);
    let tmpfs = c(b"tmpfs");
    let empty = c(b"");

    let fd = must(
        "fsopen",
        sys(libc::SYS_fsopen, [s(&tmpfs), FSOPEN_CLOEXEC, 0, 0, 0]),
    )?;
    let fsconfig = |fd: c_long, cmd: c_long, key: c_long, value: c_long| {
        sys(libc::SYS_fsconfig, [fd, cmd, key, value, 0])
    };
    must(
        "fsconfig size",
        fsconfig(fd, FSCONFIG_SET_STRING, s(&c(b"size")), s(&c(b"2m"))),
    )?;
    must("create", fsconfig(fd, FSCONFIG_CMD_CREATE, 0, 0))?;
    let attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    let mfd = must(
        "fsmount",
        sys(libc::SYS_fsmount, [fd, FSMOUNT_CLOEXEC, attrs, 0, 0]),
    )?;
    must(
        "move_mount",
        sys(
            libc::SYS_move_mount,
            [mfd, s(&empty), AT_FDCWD, s(a), MOVE_MOUNT_F_EMPTY_PATH],
        ),
    )?;
    close(mfd);
    close(fd);

    let bad = must(
        "fsopen 2",
        sys(libc::SYS_fsopen, [s(&tmpfs), FSOPEN_CLOEXEC, 0, 0, 0]),
    )?;
    if fsconfig(bad, FSCONFIG_SET_STRING, s(&c(b"nosuchopt")), s(&c(b"1"))) == 0 {
        return Err("fsconfig nosuchopt succeeded".into());
    }
    close(bad);

    let mount =
        |src: c_long, target: &CString, fstype: c_long, flags: libc::c_ulong, data: c_long| {
            sys(
                libc::SYS_mount,
                [src, s(target), fstype, flags as c_long, data],
            )
        };
    let data = c(b"size=1m,mode=0700");
    must(
        "mount tmpfs",
        mount(s(&c(b"none")), b, s(&tmpfs), libc::MS_NOSUID, s(&data)),
    )?;
    must("bind", mount(s(b), cc, 0, libc::MS_BIND, 0))?;
    let ro = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY;
    must("remount", mount(0, cc, 0, ro, 0))?;
    must("move", mount(s(cc), d, 0, libc::MS_MOVE, 0))?;
    for target in [d, b, a] {
        must("umount2", sys(libc::SYS_umount2, [s(target), 0, 0, 0, 0]))?;
    }
    Ok(())
}

/// `fsopen-storm N`: N fsopen, each given a source of 250 bytes, none
/// ever created or mounted. All stay open, as far as RLIMIT_NOFILE
/// allows (less 100): then all are closed and their numbers come back.
pub fn storm(args: &[String]) -> Result<(), String> {
    let n: usize = args
        .first()
        .ok_or("fsopen-storm needs a count")?
        .parse()
        .map_err(|e| format!("fsopen-storm count: {e}"))?;
    let tmpfs = c(b"tmpfs");
    let source = c(b"source");
    let value = c(&[b's'; 250]);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit with a valid struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    let most = (limit.rlim_cur as usize).saturating_sub(100).max(100);
    let mut open = Vec::with_capacity(most);
    for i in 0..n {
        let fd = must(
            "fsopen",
            sys(libc::SYS_fsopen, [s(&tmpfs), FSOPEN_CLOEXEC, 0, 0, 0]),
        )?;
        must(
            "fsconfig source",
            sys(
                libc::SYS_fsconfig,
                [fd, FSCONFIG_SET_STRING, s(&source), s(&value), 0],
            ),
        )?;
        open.push(fd);
        if open.len() == most {
            open.drain(..).for_each(close);
        }
        // A storm, not a flood: the tracer keeps up without a bigger
        // buffer, so that every chain is seen and counted.
        if i % 200 == 199 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    Ok(())
}
