//! Nothing lost in silence: with nobody reading stdout during a storm,
//! events are lost only in the kernel's buffers, each loss is reported,
//! and at exit the numbers add up to the events made.

use std::io::Read;
use std::process::{Command, Stdio};

use crate::common::*;

/// Pulls the number out of "...Lost N events..." lines.
fn lost_counts(stderr: &str, tail: &str) -> Vec<u64> {
    stderr
        .lines()
        .filter(|l| l.contains(tail))
        .filter_map(|l| l.split("Lost ").nth(1)?.split(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn stalled_reader_loses_only_counted_events() {
    require_bpf!(alone); // a storm of 40,003 calls
    let comm = "storm-unread";
    let pairs = 20_000;
    let made = 2 * pairs + 3;

    let mut snoop = Command::new(MOUNTSNOOP)
        .args(["-n", comm, "--perf-pages", "16"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for readiness on stderr, then stop reading stdout at all.
    let mut stderr = snoop.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("Tracing") {
        assert_eq!(
            stderr.read(&mut byte).unwrap(),
            1,
            "mountsnoop exited early"
        );
        seen.push(byte[0]);
    }
    let err_reader = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });

    let storm = Command::new(workload())
        .args(["storm", &pairs.to_string()])
        .env("MOUNTSNOOP_WORKLOAD_COMM", comm)
        .status()
        .unwrap();
    assert!(storm.success());

    // Stop while it is stuck writing to the full pipe, then read it all.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(snoop.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let mut stdout = String::new();
    snoop
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = snoop.wait().unwrap();
    let stderr = err_reader.join().unwrap();
    assert!(status.success(), "{stderr}");

    let delivered = lines(&stdout).len() as u64;
    let total: u64 = lost_counts(&stderr, "events in total")
        .first()
        .copied()
        .unwrap_or(0);
    let reported: u64 = lost_counts(&stderr, "perf buffer was full").iter().sum();
    eprintln!("made {made}, delivered {delivered}, lost {total}");
    assert!(
        total > 0,
        "a stalled reader must make the kernel drop events: {stderr}"
    );
    assert_eq!(
        delivered + total,
        made,
        "delivered + lost = made; stderr: {stderr}"
    );
    assert_eq!(reported, total, "each loss was reported as it was seen");
    for line in stdout.lines() {
        assert!(line.bytes().all(|b| (b' '..=b'~').contains(&b)));
    }
}
