//! What every scenario needs: C strings, directories, a command name.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

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
