//! Signals and pipes at awkward moments: SIGTERM while events are queued
//! behind a reader that has not read yet, and a reader that is gone
//! before the first event (SIGPIPE must never kill us).

use std::io::{BufRead, BufReader, Read};
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::time::Duration;

use crate::common::*;
use nix::sys::signal::Signal;

/// SIGTERM arrives while thousands of events wait: some in the perf
/// buffer, some rendered, with mountsnoop blocked writing to a full
/// pipe. Once the reader reads, every event comes out, then exit 0.
///
/// The 6,003 events take about 1.2 MB of perf records; when the workload
/// stays on one CPU they overflow the default 1 MiB per CPU (and the loss
/// is reported), so this test asks for 2 MiB.
#[test]
fn sigterm_with_a_slow_reader_loses_nothing() {
    require_bpf!(alone); // nothing lost, whoever else mounts
    let mut snoop = Snoop::start_to(&["--perf-pages", "512"], Stdio::piped());
    // Nobody reads stdout during the storm: its pipe (64 KiB) fills
    // after a few hundred lines and mountsnoop blocks in write(2).
    let pid = run_workload("storm", &["3000"]);
    snoop.signal(Signal::SIGTERM);
    std::thread::sleep(Duration::from_millis(500));
    assert!(snoop.running(), "exited before its output was read");
    let mut stdout = String::new();
    snoop.take_stdout().read_to_string(&mut stdout).unwrap();
    let done = snoop.finish();
    let (status, stderr) = (done.status, done.stderr);
    assert!(status.success(), "{status}: {stderr}");
    let n = count_of_pid(&stdout, pid);
    assert_eq!(n, 6003, "3000 pairs and 3 set-up calls; stderr: {stderr}");
    assert!(!stderr.contains("Lost"), "{stderr}");
}

/// stdout is a pipe nobody will read: closed before the header, or
/// after the header and before the first event. mountsnoop ends by
/// itself, with status 0 (not killed by SIGPIPE) and nothing on stderr
/// but its Tracing line.
#[test]
fn closed_stdout_is_never_fatal() {
    require_bpf!(alone); // nothing on stderr but the Tracing line
    for read_header_first in [false, true] {
        let (read_end, write_end): (OwnedFd, OwnedFd) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let mut reader = Some(std::fs::File::from(read_end));
        if !read_header_first {
            drop(reader.take());
        }
        let snoop = Snoop::start_to(&[], Stdio::from(write_end));
        if let Some(mut reader) = reader.take() {
            let mut header = String::new();
            BufReader::new(&mut reader).read_line(&mut header).unwrap();
            assert!(header.starts_with("COMM") && header.ends_with("CALL\n"));
            drop(reader);
        }
        run_workload("storm", &["3"]);
        let done = snoop.finish();
        let (status, stderr) = (done.status, done.stderr);
        assert_eq!(
            status.code(),
            Some(0),
            "read header first: {read_header_first}: {status}, stderr {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("Tracing"), "{stderr}");
    }
}
