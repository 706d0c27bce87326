//! What the scenarios share: C strings, directories, a command name, raw
//! syscalls, a FUSE mount nobody serves.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use libc::c_long;

/// A C string of `bytes`, which hold no NUL: every caller passes a
/// literal or a path.
pub fn cstr(bytes: &[u8]) -> CString {
    CString::new(bytes).expect("no NUL inside")
}

pub fn cpath(p: &Path) -> CString {
    cstr(p.as_os_str().as_bytes())
}

/// `mkdir -p`, with the path in the error.
pub fn mkdir(p: &Path) -> Result<(), String> {
    std::fs::create_dir_all(p).map_err(|e| format!("mkdir {p:?}: {e}"))
}

/// Sets the calling thread's command name (PR_SET_NAME).
pub fn set_comm(name: &[u8]) -> Result<(), String> {
    let name = CString::new(name).map_err(|e| e.to_string())?;
    nix::sys::prctl::set_name(&name).map_err(|e| format!("PR_SET_NAME: {e}"))
}

/// A raw syscall; returns its result (-1 on failure). The callers pass
/// pointers that are NULL, deliberately bad (the kernel checks them), or
/// to live memory of the size the call reads.
pub fn sys(nr: c_long, a: [c_long; 5]) -> c_long {
    // SAFETY: see above; the kernel validates everything else.
    unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4]) }
}

/// True when thread `tid` (of any process) is inside syscall `nr`.
pub fn in_syscall(tid: i32, nr: c_long) -> bool {
    std::fs::read_to_string(format!("/proc/{tid}/syscall"))
        .is_ok_and(|s| s.split_whitespace().next() == Some(&nr.to_string()))
}

/// Makes `dir` and mounts on it a FUSE filesystem that nobody serves: a
/// lookup under it blocks (killably) until the connection, the returned
/// /dev/fuse file, is closed, which fails it.
pub fn mount_unserved_fuse(dir: &Path) -> Result<File, String> {
    mkdir(dir)?;
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map_err(|e| format!("/dev/fuse: {e}"))?;
    let fd = dev.as_raw_fd();
    let opts = cstr(format!("fd={fd},rootmode=40000,user_id=0,group_id=0").as_bytes());
    let (name, fuse, dir_c) = (cstr(b"mountsnoop-fuse"), cstr(b"fuse"), cpath(dir));
    // SAFETY: live C strings.
    let rc = unsafe {
        libc::mount(
            name.as_ptr(),
            dir_c.as_ptr(),
            fuse.as_ptr(),
            0,
            opts.as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "mounting fuse: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(dev)
}
