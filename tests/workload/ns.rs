//! The private mount namespace every scenario runs in.

use std::ffi::CString;
use std::path::PathBuf;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};

use crate::shared::cstr;

/// Enters a new mount namespace, makes every mount in it private, and
/// mounts a tmpfs on a new directory under /tmp. Returns that directory.
/// With MOUNTSNOOP_WORKLOAD_REFUSED=1 (under a seccomp filter that
/// refuses every mount call, so nothing can leak), a refused set-up call
/// does not stop the scenario: its own calls are the point.
pub fn private_tmpfs() -> Result<PathBuf, String> {
    let refused_ok = std::env::var_os("MOUNTSNOOP_WORKLOAD_REFUSED").is_some_and(|v| v == "1");
    let check = |r: Result<(), String>| if refused_ok { Ok(()) } else { r };
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    check(
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(|e| format!("making / private: {e}")),
    )?;
    let template = cstr(b"/tmp/mountsnoop-test.XXXXXX");
    let raw = template.into_raw();
    // SAFETY: raw is a valid, writable, NUL-terminated template.
    let dir = unsafe { libc::mkdtemp(raw) };
    // SAFETY: raw came from CString::into_raw above.
    let template = unsafe { CString::from_raw(raw) };
    if dir.is_null() {
        return Err(format!("mkdtemp: {}", std::io::Error::last_os_error()));
    }
    let base = PathBuf::from(template.into_string().map_err(|e| e.to_string())?);
    check(
        mount(
            Some("mountsnoop-test"),
            &base,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=16m"),
        )
        .map_err(|e| format!("mounting tmpfs on {}: {e}", base.display())),
    )?;
    Ok(base)
}

/// Removes the directory; the namespace and its mounts die with us.
pub fn cleanup(base: &PathBuf) {
    let _ = nix::mount::umount2(base, nix::mount::MntFlags::MNT_DETACH);
    let _ = std::fs::remove_dir(base);
}
