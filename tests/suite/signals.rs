//! Signals and pipes at awkward moments: SIGTERM while events are queued
//! behind a reader that has not read yet, and a reader that is gone
//! before the first event (SIGPIPE must never kill us).

use std::io::{BufRead, BufReader, Read};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use crate::common::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Waits for the `Tracing` line; returns the lines seen so far.
fn wait_ready(child: &mut Child, rx: &Receiver<String>) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let ready = line.starts_with("Tracing");
            seen.push(line);
            if ready {
                return seen;
            }
        } else if let Ok(Some(status)) = child.try_wait() {
            panic!("mountsnoop exited with {status} before it was ready: {seen:?}");
        }
    }
    panic!("mountsnoop not ready after 60 s: {seen:?}");
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("mountsnoop did not exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn rest_of(rx: &Receiver<String>, mut seen: Vec<String>) -> String {
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push(line);
    }
    seen.join("\n")
}

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
    let mut child = Command::new(MOUNTSNOOP)
        .args(["--perf-pages", "512"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    let seen = wait_ready(&mut child, &rx);
    // Nobody reads stdout during the storm: its pipe (64 KiB) fills
    // after a few hundred lines and mountsnoop blocks in write(2).
    let pid = run_workload("storm", &["3000"]);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited before its output was read"
    );
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = wait_exit(&mut child);
    let stderr = rest_of(&rx, seen);
    assert!(status.success(), "{status}: {stderr}");
    let n: usize = calls_of_pid(&stdout, pid).values().map(Vec::len).sum();
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
        let mut child = Command::new(MOUNTSNOOP)
            .stdin(Stdio::null())
            .stdout(Stdio::from(write_end))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let rx = stderr_lines(&mut child);
        let seen = wait_ready(&mut child, &rx);
        if let Some(mut reader) = reader.take() {
            let mut header = String::new();
            BufReader::new(&mut reader).read_line(&mut header).unwrap();
            assert!(header.starts_with("COMM") && header.ends_with("CALL\n"));
            drop(reader);
        }
        run_workload("storm", &["3"]);
        let status = wait_exit(&mut child);
        let stderr = rest_of(&rx, seen);
        assert_eq!(
            status.code(),
            Some(0),
            "read header first: {read_header_first}: {status}, stderr {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("Tracing"), "{stderr}");
    }
}
