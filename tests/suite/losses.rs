//! Nothing lost in silence: with nobody reading stdout during a storm,
//! events are lost only in the kernel's buffers, each loss is reported,
//! and at exit the numbers add up to the events made.

use std::io::Read;
use std::process::Stdio;

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

    // Ready, and then nobody reads its stdout during the storm.
    let mut snoop = Snoop::start_to(&["-n", comm, "--perf-pages", "16"], Stdio::piped());
    run_workload_as(comm, "storm", &[&pairs.to_string()]);

    // Stop while it is stuck writing to the full pipe, then read it all.
    snoop.signal(nix::sys::signal::Signal::SIGINT);
    let mut stdout = String::new();
    snoop.take_stdout().read_to_string(&mut stdout).unwrap();
    let done = snoop.finish();
    let stderr = done.stderr;
    assert!(done.status.success(), "{stderr}");

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
        assert!(printable(line));
    }
}
