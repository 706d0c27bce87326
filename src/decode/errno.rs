//! Return values as strace prints them: `= 0`, `= 3`, or
//! `= -1 ENOENT (No such file or directory)`.

use std::fmt::Write;
use std::sync::OnceLock;

use nix::errno::Errno;

/// Kernel-internal codes that a syscall tracepoint can see but that never
/// reach user space; strace names them the same way.
fn internal_errno(code: i64) -> Option<(&'static str, &'static str)> {
    Some(match code {
        512 => ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
        513 => ("ERESTARTNOINTR", "To be restarted"),
        514 => ("ERESTARTNOHAND", "To be restarted if no handler"),
        515 => ("ENOIOCTLCMD", "Inappropriate ioctl for device"),
        516 => ("ERESTART_RESTARTBLOCK", "Interrupted by signal"),
        _ => return None,
    })
}

/// The symbolic name of an error code, e.g. "ENOENT"; None if unknown.
pub fn errno_name(code: i64) -> Option<&'static str> {
    if let Some((name, _)) = internal_errno(code) {
        return Some(name);
    }
    // nix knows every name; its Debug form is the name. Built once, so
    // that rendering an error costs no allocation.
    static NAMES: OnceLock<Vec<Option<String>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        (0..MAX_ERRNO)
            .map(|n| match Errno::from_raw(n) {
                Errno::UnknownErrno => None,
                e => Some(format!("{e:?}")),
            })
            .collect()
    });
    let index = usize::try_from(code).ok()?;
    names.get(index)?.as_deref()
}

const MAX_ERRNO: i32 = 4096;

/// The C library's text for an error code, as strerror(3) gives it (and
/// strace prints it). We never call setlocale, so this is the C locale's.
pub fn errno_text(code: i64) -> String {
    if let Some((_, text)) = internal_errno(code) {
        return text.to_string();
    }
    let Ok(n) = i32::try_from(code) else {
        return format!("Unknown error {code}");
    };
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; the XSI strerror_r
    // writes a NUL-terminated string into it or fails.
    let rc = unsafe { libc::strerror_r(n, buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {code}");
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The error code a raw return value carries (2 for -2), or None when
/// the call succeeded: the kernel returns errors as -1..-4095.
pub fn error_code(ret: i64) -> Option<i64> {
    (-4095..0).contains(&ret).then_some(-ret)
}

/// Appends ` = <ret>` in strace's form. `ret` is the raw kernel value.
pub fn push_return(ret: i64, out: &mut String) {
    if let Some(code) = error_code(ret) {
        match errno_name(code) {
            Some(name) => {
                let _ = write!(out, " = -1 {name} ({})", errno_text(code));
            }
            None => {
                let _ = write!(out, " = -1 {code} ({})", errno_text(code));
            }
        }
    } else {
        let _ = write!(out, " = {ret}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ret(r: i64) -> String {
        let mut s = String::new();
        push_return(r, &mut s);
        s
    }

    #[test]
    fn success_and_fds() {
        assert_eq!(ret(0), " = 0");
        assert_eq!(ret(3), " = 3");
    }

    #[test]
    fn errors_as_strace_prints_them() {
        assert_eq!(ret(-2), " = -1 ENOENT (No such file or directory)");
        assert_eq!(ret(-19), " = -1 ENODEV (No such device)");
        assert_eq!(ret(-22), " = -1 EINVAL (Invalid argument)");
        assert_eq!(ret(-14), " = -1 EFAULT (Bad address)");
        assert_eq!(ret(-1), " = -1 EPERM (Operation not permitted)");
        assert_eq!(ret(-16), " = -1 EBUSY (Device or resource busy)");
        assert_eq!(
            ret(-512),
            " = -1 ERESTARTSYS (To be restarted if SA_RESTART is set)"
        );
    }

    /// Every errno's text must be what the C library says.
    #[test]
    fn texts_match_strerror() {
        for code in 1..134 {
            let c = unsafe { std::ffi::CStr::from_ptr(libc::strerror(code as i32)) };
            assert_eq!(errno_text(code), c.to_str().unwrap(), "errno {code}");
        }
    }

    #[test]
    fn names_match_libc() {
        assert_eq!(errno_name(libc::ENOENT as i64), Some("ENOENT"));
        assert_eq!(errno_name(libc::EWOULDBLOCK as i64), Some("EAGAIN"));
        assert_eq!(errno_name(libc::ENAMETOOLONG as i64), Some("ENAMETOOLONG"));
        assert_eq!(errno_name(libc::EOPNOTSUPP as i64), Some("EOPNOTSUPP"));
    }
}
