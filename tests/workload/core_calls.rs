//! mount(2) and umount2(2), succeeding and failing, as the core tests
//! need them. Raw libc calls: the exact arguments are the point.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;

use crate::shared::{cpath, cstr, mkdir};

/// mount(2) with C strings; None is NULL. The result is not checked:
/// failures are part of the workload.
pub fn mount(
    src: Option<&[u8]>,
    target: &Path,
    fstype: Option<&[u8]>,
    flags: libc::c_ulong,
    data: Option<&[u8]>,
) {
    let src = src.map(cstr);
    let fstype = fstype.map(cstr);
    let data = data.map(cstr);
    let target = cpath(target);
    let p = |c: &Option<CString>| c.as_ref().map_or(ptr::null(), |c| c.as_ptr());
    // SAFETY: every pointer is NULL or a live NUL-terminated string.
    unsafe {
        libc::mount(p(&src), target.as_ptr(), p(&fstype), flags, p(&data).cast());
    }
}

pub fn umount2(target: &Path, flags: i32) {
    let target = cpath(target);
    // SAFETY: target is a live NUL-terminated string.
    unsafe {
        libc::umount2(target.as_ptr(), flags);
    }
}

/// The calls of the core integration tests, in order.
pub fn run(base: &Path) -> Result<(), String> {
    let a = base.join("a");
    let b = base.join("b");
    mkdir(&a)?;
    mkdir(&b)?;
    // A tmpfs with flags and data; a bind mount; a read-only remount.
    mount(
        Some(b"none"),
        &a,
        Some(b"tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(b"size=1m"),
    );
    mount(
        Some(a.as_os_str().as_bytes()),
        &b,
        None,
        libc::MS_MGC_VAL | libc::MS_BIND,
        None,
    );
    mount(
        None,
        &b,
        None,
        libc::MS_RDONLY | libc::MS_REMOUNT | libc::MS_BIND,
        None,
    );
    // Propagation changes.
    for flags in [
        libc::MS_SHARED,
        libc::MS_SLAVE,
        libc::MS_PRIVATE | libc::MS_REC,
        libc::MS_UNBINDABLE,
    ] {
        mount(None, &a, None, flags, None);
    }
    umount2(&b, libc::MNT_DETACH);
    // Failures: no such filesystem type; not a mount point.
    mount(Some(b"none"), &b, Some(b"bogusfs"), 0, None);
    umount2(&b, 0);
    // A name with a newline, a quote and a byte that is not UTF-8.
    let odd = base.join(std::ffi::OsStr::from_bytes(b"odd\n\"name\xff"));
    mkdir(&odd)?;
    mount(Some(b"none"), &odd, Some(b"tmpfs"), 0, None);
    umount2(&odd, 0);
    // A 3000-byte path.
    let long = long_path(base, 3000)?;
    mount(Some(b"none"), &long, Some(b"tmpfs"), 0, None);
    umount2(&long, 0);
    umount2(&a, 0);
    // Four threads at once.
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let dir = base.join(format!("t{i}"));
            std::thread::spawn(move || -> Result<(), String> {
                mkdir(&dir)?;
                for _ in 0..5 {
                    mount(Some(b"none"), &dir, Some(b"tmpfs"), libc::MS_NOEXEC, None);
                    umount2(&dir, 0);
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "thread panicked".to_string())??;
    }
    Ok(())
}

/// A directory path of exactly `len` bytes under `base`.
pub fn long_path(base: &Path, len: usize) -> Result<PathBuf, String> {
    let mut p = base.to_path_buf();
    while p.as_os_str().len() + 1 + 200 < len {
        p.push("d".repeat(200));
    }
    let rest = len - p.as_os_str().len() - 1;
    p.push("e".repeat(rest));
    mkdir(&p)?;
    Ok(p)
}

/// `storm N`: N times mount + umount2 of a tmpfs.
pub fn storm(base: &Path, args: &[String]) -> Result<(), String> {
    let n: u64 = args
        .first()
        .ok_or("storm needs a count")?
        .parse()
        .map_err(|e| format!("storm count: {e}"))?;
    let dir = base.join("storm");
    mkdir(&dir)?;
    for _ in 0..n {
        mount(Some(b"none"), &dir, Some(b"tmpfs"), 0, None);
        umount2(&dir, 0);
    }
    Ok(())
}

/// A mount and an umount2 that fail (no such directory) and change
/// nothing, whoever makes them and in whatever namespace.
pub fn attempt() {
    let nowhere = Path::new("/nonexistent-mountsnoop-test");
    mount(Some(b"none"), nowhere, Some(b"tmpfs"), 0, None);
    umount2(nowhere, 0);
}
