//! A soak: storms for a while (30 s in CI; MOUNTSNOOP_SOAK_SECS for
//! longer runs) while mountsnoop's resident memory and its in-flight map
//! are sampled. Both must stay flat, and nothing may be lost. Prints the
//! samples, so a long run doubles as the README's soak figures.
//!
//! Ignored by a plain `cargo test`; .ci/test runs it on its own:
//! `cargo test --test tests -- --ignored suite::soak::`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// The id of process `pid`'s in-flight map: its only hash map, found
/// through /proc/PID/fdinfo (Debian 12's bpftool cannot list owners).
fn inflight_map_id(pid: u32) -> u64 {
    for fd in std::fs::read_dir(format!("/proc/{pid}/fdinfo")).unwrap() {
        let info = std::fs::read_to_string(fd.unwrap().path()).unwrap_or_default();
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        if field("map_type:").as_deref() == Some("1") {
            return field("map_id:").unwrap().parse().unwrap();
        }
    }
    panic!("mountsnoop (pid {pid}) has no hash map");
}

/// Entries in that map now, through bpftool.
fn inflight_entries(map_id: u64) -> usize {
    let dump = Command::new("bpftool")
        .args(["map", "dump", "id", &map_id.to_string(), "--json"])
        .output()
        .expect("bpftool (apt-get install bpftool)");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let entries: serde_json::Value = serde_json::from_slice(&dump.stdout).unwrap();
    entries.as_array().map_or(0, Vec::len)
}

#[test]
#[ignore = "storms for 30 s; .ci/test runs it: cargo test --test tests -- --ignored suite::soak::"]
fn soak_keeps_memory_and_map_flat() {
    require_bpf!(alone); // storms for 30 s
    let secs: u64 = std::env::var("MOUNTSNOOP_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let comm = "soak-storm";
    let mut snoop = Snoop::start_to(&["-n", comm], Stdio::piped());
    let pid = snoop.pid();
    let map_id = inflight_map_id(pid);
    let printed = Arc::new(AtomicU64::new(0));
    let counter = printed.clone();
    let stdout = BufReader::new(snoop.take_stdout());
    let reader = std::thread::spawn(move || {
        for _ in stdout.lines().skip(1) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });

    let start = Instant::now();
    let mut made = 0u64;
    let mut samples: Vec<(u64, u64, usize)> = Vec::new();
    let mut next_sample = Duration::ZERO;
    while start.elapsed() < Duration::from_secs(secs) {
        run_workload_as(comm, "storm", &["1000"]);
        made += 2003;
        if start.elapsed() >= next_sample {
            samples.push((
                start.elapsed().as_secs(),
                rss_kib(pid),
                inflight_entries(map_id),
            ));
            next_sample += Duration::from_secs((secs / 10).max(1));
        }
    }
    samples.push((
        start.elapsed().as_secs(),
        rss_kib(pid),
        inflight_entries(map_id),
    ));
    let done = snoop.stop();
    reader.join().unwrap();
    let rest = done.stderr;
    assert!(done.status.success(), "{rest}");

    eprintln!(
        "soak: {secs} s, {made} events made, {} printed",
        printed.load(Ordering::Relaxed)
    );
    eprintln!("soak: second  RSS(KiB)  in-flight entries");
    for (t, rss, n) in &samples {
        eprintln!("soak: {t:>6}  {rss:>8}  {n:>8}");
    }
    assert_eq!(
        printed.load(Ordering::Relaxed),
        made,
        "nothing lost: {rest}"
    );
    assert!(!rest.contains("Lost"), "{rest}");
    // Flat: after the first sample (buffers warmed up), RSS grows by less
    // than 2 MiB, and the map never holds more than the storm's one call.
    let first = samples[1.min(samples.len() - 1)].1;
    let peak = samples.iter().map(|s| s.1).max().unwrap();
    assert!(
        peak <= first + 2048,
        "RSS grew from {first} KiB to {peak} KiB"
    );
    assert!(
        samples.iter().all(|s| s.2 <= 2),
        "in-flight map grew: {samples:?}"
    );
}
