//! The sweep's look at processes and fds: `/proc/PID/stat` (its start
//! time tells a process from a later one with the same pid) and
//! `/proc/PID/fd/N` (gone when closed; what it stands for otherwise).
//! Pids are those of the events: the host's, so this needs the host's
//! /proc, as the late reads of process memory do.

use std::os::unix::fs::MetadataExt;

use super::{FdId, Probe};

pub struct ProcFs;

impl Probe for ProcFs {
    fn process(&self, tgid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{tgid}/stat")).ok()?;
        // The command name, in parentheses, may hold anything: fields
        // are counted after its closing one. starttime is field 22.
        let rest = &stat[stat.rfind(')')? + 1..];
        let start = rest.split_whitespace().nth(19)?.parse().ok()?;
        // A zombie has closed its files: as good as gone.
        match rest.split_whitespace().next()? {
            "Z" | "X" => None,
            _ => Some(start),
        }
    }

    fn fd(&self, tgid: u32, fd: i32) -> Option<FdId> {
        let path = format!("/proc/{tgid}/fd/{fd}");
        let link = std::fs::read_link(&path).ok()?;
        let meta = std::fs::metadata(&path).ok()?;
        Some(FdId {
            fs_context: link.as_os_str() == "anon_inode:[fscontext]",
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_ourselves() {
        let me = std::process::id();
        assert!(ProcFs.process(me).is_some());
        let file = std::fs::File::open("/proc/self/stat").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let id = ProcFs.fd(me, fd).unwrap();
        assert!(!id.fs_context);
        drop(file);
        assert_eq!(ProcFs.fd(me, 999_999), None);
    }
}
