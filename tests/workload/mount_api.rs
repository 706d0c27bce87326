//! The new mount API and pivot_root, every call succeeding and failing,
//! from several threads and a child in a mount namespace of its own.
//! Raw syscalls: the exact arguments are the point.

use libc::c_long;
use std::ffi::CString;
use std::path::Path;

use crate::shared::{cpath, cstr as c, mkdir, sys};

const AT_FDCWD: c_long = libc::AT_FDCWD as c_long;
/// x86_64 (and the common table) number of open_tree_attr, Linux 6.15.
const SYS_OPEN_TREE_ATTR: c_long = 467;

const FSOPEN_CLOEXEC: c_long = 0x1;
const FSMOUNT_CLOEXEC: c_long = 0x1;
const FSPICK_CLOEXEC: c_long = 0x1;
const MOVE_MOUNT_F_EMPTY_PATH: c_long = 0x4;
/// Linux 6.5.
const MOVE_MOUNT_BENEATH: c_long = 0x200;
const OPEN_TREE_CLONE: c_long = 0x1;
const OPEN_TREE_CLOEXEC: c_long = libc::O_CLOEXEC as c_long;
const AT_RECURSIVE: c_long = 0x8000;

const FSCONFIG_SET_FLAG: c_long = 0;
const FSCONFIG_SET_STRING: c_long = 1;
const FSCONFIG_SET_BINARY: c_long = 2;
const FSCONFIG_SET_PATH: c_long = 3;
const FSCONFIG_SET_PATH_EMPTY: c_long = 4;
const FSCONFIG_SET_FD: c_long = 5;
const FSCONFIG_CMD_CREATE: c_long = 6;
const FSCONFIG_CMD_RECONFIGURE: c_long = 7;
/// Linux 6.6.
const FSCONFIG_CMD_CREATE_EXCL: c_long = 8;

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const MOUNT_ATTR_IDMAP: u64 = 0x10_0000;
const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x20_0000;

/// `struct mount_attr`, with room after it for a larger caller's bytes.
#[repr(C)]
#[derive(Default)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
    extra: [u64; 2],
}

/// Threads doing a whole fsopen -> fsconfig -> fsmount -> move_mount ->
/// umount2 sequence at once.
const WORKERS: usize = 3;

fn s(c: &CString) -> c_long {
    c.as_ptr() as c_long
}

/// With MOUNTSNOOP_WORKLOAD_LENIENT=1 (older kernels, in the VM matrix)
/// a call that should succeed but fails is noted and the scenario goes
/// on: the calls are still made and traced, with other results.
fn lenient() -> bool {
    std::env::var("MOUNTSNOOP_WORKLOAD_LENIENT").as_deref() == Ok("1")
}

/// A call that must succeed for the scenario to mean anything.
fn ok(what: &str, ret: c_long) -> Result<c_long, String> {
    if ret >= 0 {
        return Ok(ret);
    }
    let err = format!("{what}: {}", std::io::Error::last_os_error());
    if lenient() {
        eprintln!("mountsnoop-test-workload: note: {err}");
        Ok(ret)
    } else {
        Err(err)
    }
}

fn close(fd: c_long) {
    // SAFETY: fd is ours; closing is not traced.
    unsafe {
        libc::close(fd as i32);
    }
}

fn umount2(p: &CString, flags: c_long) -> c_long {
    sys(libc::SYS_umount2, [s(p), flags, 0, 0, 0])
}

fn attr_ptr(a: &MountAttr) -> c_long {
    a as *const MountAttr as c_long
}

pub fn run(base: &Path) -> Result<(), String> {
    let m1 = base.join("m1");
    let m2 = base.join("m2");
    mkdir(&m1)?;
    mkdir(&m2)?;
    let (m1c, m2c) = (cpath(&m1), cpath(&m2));
    let tmpfs = c(b"tmpfs");
    let empty = c(b"");
    let nonexist = c(b"/nonexistent-mountsnoop");

    // fsopen: 4 calls.
    let fd = ok(
        "fsopen",
        sys(libc::SYS_fsopen, [s(&tmpfs), FSOPEN_CLOEXEC, 0, 0, 0]),
    )?;
    sys(libc::SYS_fsopen, [s(&c(b"bogusfs")), 0, 0, 0, 0]);
    sys(libc::SYS_fsopen, [s(&tmpfs), 0x2, 0, 0, 0]);
    sys(libc::SYS_fsopen, [0, 0, 0, 0, 0]);

    // fsconfig, every command: 15 calls.
    let fsconfig = |fd: c_long, cmd: c_long, key: c_long, value: c_long, aux: c_long| {
        sys(libc::SYS_fsconfig, [fd, cmd, key, value, aux])
    };
    let size = c(b"size");
    ok(
        "fsconfig size",
        fsconfig(fd, FSCONFIG_SET_STRING, s(&size), s(&c(b"2m")), 0),
    )?;
    ok(
        "fsconfig mode",
        fsconfig(fd, FSCONFIG_SET_STRING, s(&c(b"mode")), s(&c(b"0755")), 0),
    )?;
    fsconfig(fd, FSCONFIG_SET_STRING, s(&c(b"nosuchkey")), s(&c(b"x")), 0);
    fsconfig(fd, FSCONFIG_SET_FLAG, s(&c(b"nosuchflag")), 0, 0);
    let blob: [u8; 6] = [0x01, 0xbc, 0xff, 0x00, b'b', b'i'];
    fsconfig(
        fd,
        FSCONFIG_SET_BINARY,
        s(&size),
        blob.as_ptr() as c_long,
        6,
    );
    let source = c(b"source");
    fsconfig(fd, FSCONFIG_SET_PATH, s(&source), s(&c(b"/tmp")), AT_FDCWD);
    fsconfig(fd, FSCONFIG_SET_PATH, s(&source), s(&c(b"relative")), fd);
    fsconfig(fd, FSCONFIG_SET_PATH_EMPTY, s(&source), s(&empty), fd);
    fsconfig(fd, FSCONFIG_SET_FD, s(&source), 0, fd);
    fsconfig(-1, FSCONFIG_SET_STRING, s(&size), s(&c(b"1m")), 0);
    // strace reads a key or string value at most 256 bytes far.
    let long = c(&[b'k'; 300]);
    fsconfig(fd, FSCONFIG_SET_STRING, s(&long), s(&long), 0);
    fsconfig(fd, 0x55, 0, 0, 0);
    fsconfig(fd, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0);
    ok(
        "fsconfig create",
        fsconfig(fd, FSCONFIG_CMD_CREATE, 0, 0, 0),
    )?;
    fsconfig(fd, FSCONFIG_CMD_CREATE, 0, 0, 0);

    // fsmount and move_mount: 7 calls.
    let attrs = (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) as c_long;
    sys(libc::SYS_fsmount, [fd, 0, 0x40, 0, 0]);
    let mfd = ok(
        "fsmount",
        sys(libc::SYS_fsmount, [fd, FSMOUNT_CLOEXEC, attrs, 0, 0]),
    )?;
    sys(libc::SYS_fsmount, [-1, 0, 0, 0, 0]);
    let move_mount = |from: c_long, fp: c_long, to: c_long, tp: c_long, flags: c_long| {
        sys(libc::SYS_move_mount, [from, fp, to, tp, flags])
    };
    ok(
        "move_mount",
        move_mount(mfd, s(&empty), AT_FDCWD, s(&m1c), MOVE_MOUNT_F_EMPTY_PATH),
    )?;
    move_mount(AT_FDCWD, s(&nonexist), AT_FDCWD, s(&m2c), 0);
    move_mount(-1, s(&empty), AT_FDCWD, s(&m2c), MOVE_MOUNT_F_EMPTY_PATH);
    move_mount(
        AT_FDCWD,
        s(&nonexist),
        AT_FDCWD,
        s(&m2c),
        MOVE_MOUNT_BENEATH,
    );
    close(mfd);
    close(fd);

    // open_tree: 4 calls, and the clone moved into place.
    let flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE;
    let tfd = ok(
        "open_tree",
        sys(libc::SYS_open_tree, [AT_FDCWD, s(&m1c), flags, 0, 0]),
    )?;
    sys(libc::SYS_open_tree, [AT_FDCWD, s(&nonexist), 0, 0, 0]);
    sys(libc::SYS_open_tree, [-1, s(&c(b"x")), 0, 0, 0]);
    sys(libc::SYS_open_tree, [AT_FDCWD, s(&m1c), 0x2, 0, 0]);
    ok(
        "move_mount clone",
        move_mount(tfd, s(&empty), AT_FDCWD, s(&m2c), MOVE_MOUNT_F_EMPTY_PATH),
    )?;
    close(tfd);

    // mount_setattr: 11 calls.
    let setattr = |path: &CString, flags: c_long, attr: c_long, size: c_long| {
        sys(
            libc::SYS_mount_setattr,
            [AT_FDCWD, s(path), flags, attr, size],
        )
    };
    let mut a = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC,
        ..Default::default()
    };
    ok(
        "mount_setattr",
        setattr(&m2c, AT_RECURSIVE, attr_ptr(&a), 32),
    )?;
    a = MountAttr {
        attr_clr: MOUNT_ATTR_RDONLY,
        propagation: libc::MS_PRIVATE as u64,
        ..Default::default()
    };
    ok("mount_setattr private", setattr(&m2c, 0, attr_ptr(&a), 32))?;
    // A larger struct, zero past the first 32 bytes: accepted.
    ok("mount_setattr 40", setattr(&m2c, 0, attr_ptr(&a), 40))?;
    a.extra[0] = 0x1234;
    setattr(&m2c, 0, attr_ptr(&a), 40);
    setattr(&m2c, 0, attr_ptr(&a), 24);
    setattr(&m2c, 0, 0, 32);
    setattr(&m2c, 0, 1, 32);
    setattr(&nonexist, 0, attr_ptr(&a), 32);
    a = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSYMFOLLOW,
        userns_fd: 9999,
        ..Default::default()
    };
    setattr(&m2c, 0, attr_ptr(&a), 32);
    a = MountAttr {
        propagation: 0x40,
        ..Default::default()
    };
    setattr(&m2c, 0x1, attr_ptr(&a), 32);
    // A struct that ends where readable memory ends, with a size that
    // claims more: its extra bytes cannot be read.
    let edge = page_end_attr()?;
    setattr(&m2c, 0, edge, 40);

    // fspick and a reconfiguration: 6 calls.
    let pfd = ok(
        "fspick",
        sys(libc::SYS_fspick, [AT_FDCWD, s(&m1c), FSPICK_CLOEXEC, 0, 0]),
    )?;
    ok(
        "fsconfig ro",
        fsconfig(pfd, FSCONFIG_SET_FLAG, s(&c(b"ro")), 0, 0),
    )?;
    ok(
        "fsconfig reconfigure",
        fsconfig(pfd, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0),
    )?;
    fsconfig(pfd, FSCONFIG_CMD_CREATE, 0, 0, 0);
    sys(libc::SYS_fspick, [AT_FDCWD, s(&nonexist), 0, 0, 0]);
    sys(libc::SYS_fspick, [AT_FDCWD, s(&m1c), 0x10, 0, 0]);
    close(pfd);

    // FSCONFIG_CMD_CREATE_EXCL (Linux 6.6): 2 calls.
    let xfd = ok(
        "fsopen excl",
        sys(libc::SYS_fsopen, [s(&tmpfs), FSOPEN_CLOEXEC, 0, 0, 0]),
    )?;
    ok(
        "fsconfig create excl",
        fsconfig(xfd, FSCONFIG_CMD_CREATE_EXCL, 0, 0, 0),
    )?;
    close(xfd);

    // Worker threads, each a whole fsopen -> ... -> umount2 sequence. With
    // MOUNTSNOOP_WORKLOAD_SERIAL=1 (the VM matrix, which compares every
    // argument with the host's, fd numbers included) one after another.
    let serial = std::env::var("MOUNTSNOOP_WORKLOAD_SERIAL").as_deref() == Ok("1");
    let mut workers = Vec::new();
    for i in 0..WORKERS {
        let dir = base.join(format!("w{i}"));
        workers.push(std::thread::spawn(move || worker(i, &dir)));
        if serial {
            let w = workers.pop().expect("just pushed");
            w.join().map_err(|_| "worker panicked".to_string())??;
        }
    }
    for w in workers {
        w.join().map_err(|_| "worker panicked".to_string())??;
    }

    pivot_root_child(base)?;

    // Unmounting what we mounted: 2 calls.
    umount2(&m2c, 0);
    umount2(&m1c, libc::MNT_DETACH as c_long);

    // open_tree_attr (Linux 6.15), which strace 6.1 does not know: 4 calls,
    // with relative paths so that the test can expect exact lines.
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    std::env::set_current_dir(base).map_err(|e| e.to_string())?;
    let rel = c(b"m1");
    let a = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        ..Default::default()
    };
    let open_tree_attr = |path: c_long, flags: c_long, attr: c_long, size: c_long| {
        sys(SYS_OPEN_TREE_ATTR, [AT_FDCWD, path, flags, attr, size])
    };
    sys(libc::SYS_mkdirat, [AT_FDCWD, s(&rel), 0o755, 0, 0]);
    let ofd = open_tree_attr(
        s(&rel),
        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC,
        attr_ptr(&a),
        32,
    );
    close(ofd);
    open_tree_attr(s(&c(b"nonexistent")), OPEN_TREE_CLONE, attr_ptr(&a), 32);
    close(open_tree_attr(s(&rel), OPEN_TREE_CLONE, 0, 0));
    open_tree_attr(s(&rel), OPEN_TREE_CLONE, attr_ptr(&a), 8);
    std::env::set_current_dir(cwd).map_err(|e| e.to_string())?;
    Ok(())
}

/// A zeroed `struct mount_attr` in the last 32 bytes before an unmapped
/// page; returns its address. Left mapped: the process ends soon.
fn page_end_attr() -> Result<c_long, String> {
    // SAFETY: a fresh anonymous mapping of two pages, the second unmapped.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return Err(format!("mmap: {}", std::io::Error::last_os_error()));
        }
        let p = p.cast::<u8>();
        libc::munmap(p.add(4096).cast(), 4096);
        Ok(p.add(4096 - 32) as c_long)
    }
}

/// One worker: 9 calls.
fn worker(i: usize, dir: &Path) -> Result<(), String> {
    mkdir(dir)?;
    let dirc = cpath(dir);
    let fd = ok(
        "worker fsopen",
        sys(libc::SYS_fsopen, [s(&c(b"tmpfs")), FSOPEN_CLOEXEC, 0, 0, 0]),
    )?;
    let fsconfig =
        |cmd: c_long, key: c_long, value: c_long| sys(libc::SYS_fsconfig, [fd, cmd, key, value, 0]);
    let size = format!("{}m", i + 1);
    ok(
        "worker size",
        fsconfig(FSCONFIG_SET_STRING, s(&c(b"size")), s(&c(size.as_bytes()))),
    )?;
    fsconfig(FSCONFIG_SET_STRING, s(&c(b"nr_inodes")), s(&c(b"lots")));
    ok("worker create", fsconfig(FSCONFIG_CMD_CREATE, 0, 0))?;
    let attrs = [
        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC,
        MOUNT_ATTR_NOSYMFOLLOW,
    ][i % 3];
    let mfd = ok(
        "worker fsmount",
        sys(
            libc::SYS_fsmount,
            [fd, FSMOUNT_CLOEXEC, attrs as c_long, 0, 0],
        ),
    )?;
    let empty = c(b"");
    let moved = sys(
        libc::SYS_move_mount,
        [mfd, s(&empty), AT_FDCWD, s(&dirc), MOVE_MOUNT_F_EMPTY_PATH],
    );
    ok("worker move_mount", moved)?;
    sys(
        libc::SYS_move_mount,
        [
            mfd,
            s(&empty),
            AT_FDCWD,
            s(&c(b"/nonexistent-mountsnoop")),
            MOVE_MOUNT_F_EMPTY_PATH,
        ],
    );
    close(mfd);
    close(fd);
    ok("worker umount2", umount2(&dirc, 0))?;
    umount2(&dirc, 0);
    Ok(())
}

/// pivot_root in a child with a mount namespace of its own (a pivot
/// would move the root of every process of ours): 7 calls.
fn pivot_root_child(base: &Path) -> Result<(), String> {
    let new_root = base.join("newroot");
    let put_old = new_root.join("old");
    mkdir(&new_root)?;
    let (new_c, old_c) = (cpath(&new_root), cpath(&put_old));
    let (slash, tmpfs, none) = (c(b"/"), c(b"tmpfs"), c(b"none"));
    let not_mounted = cpath(&base.join("m1"));
    // SAFETY: the child makes raw syscalls only, then _exit()s.
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork: {}", std::io::Error::last_os_error())),
        0 => {
            let code = (|| {
                // SAFETY: plain syscalls on live C strings.
                unsafe {
                    if libc::unshare(libc::CLONE_NEWNS) != 0 {
                        return 1;
                    }
                    let private = (libc::MS_REC | libc::MS_PRIVATE) as c_long;
                    sys(libc::SYS_mount, [0, s(&slash), 0, private, 0]);
                    sys(libc::SYS_mount, [s(&none), s(&new_c), s(&tmpfs), 0, 0]);
                    libc::mkdir(old_c.as_ptr(), 0o755);
                    let pivot = |a: c_long, b: c_long| sys(libc::SYS_pivot_root, [a, b, 0, 0, 0]);
                    pivot(s(&c(b"/nonexistent-mountsnoop")), s(&old_c));
                    pivot(s(&not_mounted), s(&old_c));
                    pivot(0, s(&old_c));
                    pivot(s(&new_c), 1);
                    if pivot(s(&new_c), s(&old_c)) != 0 {
                        return 2;
                    }
                }
                0
            })();
            // SAFETY: leaving the child without running the parent's atexit.
            unsafe { libc::_exit(code) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: pid is our child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 || lenient() {
                Ok(())
            } else {
                Err(format!("pivot_root child failed: status {status:#x}"))
            }
        }
    }
}
