//! A thread's calls in the order it made them, however often it moves
//! between CPUs (each CPU has its own perf buffer).

use std::collections::BTreeMap;

use crate::common::*;

/// Runs `hop MODE WORKERS CALLS` under `mountsnoop ARGS -n COMM`, and
/// returns what mountsnoop printed and said.
fn hop_under_mountsnoop(args: &[&str], hop: &[&str]) -> Finished {
    // Its own name: the tests of this file run side by side.
    let comm = format!("hop{}{}", &hop[0][..2], std::process::id() % 100_000);
    let mut all = vec!["-n", comm.as_str()];
    all.extend_from_slice(args);
    let snoop = Snoop::start(&all);
    run_workload_as(&comm, "hop", hop);
    snoop.stop()
}

/// The `seq=N` of each failing mount, by thread, in printed order.
fn seqs_by_thread(stdout: &str) -> BTreeMap<u32, Vec<u64>> {
    let mut out: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for l in lines(stdout) {
        let Some(at) = l.call.find("\"seq=") else {
            continue;
        };
        let rest = &l.call[at + 5..];
        let n = rest[..rest.find('"').unwrap()].parse().unwrap();
        out.entry(l.tid).or_default().push(n);
    }
    out
}

/// Every thread made `calls` calls, and every one was printed, in order.
fn assert_in_order(done: &Finished, workers: usize, calls: u64) {
    assert!(done.status.success(), "{}", done.stderr);
    assert!(!done.stderr.contains("Lost"), "{}", done.stderr);
    let seqs = seqs_by_thread(&done.stdout);
    assert_eq!(seqs.len(), workers, "{}", done.stderr);
    for (tid, seq) in &seqs {
        let out_of_order = seq.windows(2).filter(|w| w[1] <= w[0]).count();
        assert_eq!(out_of_order, 0, "tid {tid}: calls out of order");
        assert_eq!(seq.len() as u64, calls, "tid {tid}: calls missing");
        assert_eq!(seq.last(), Some(&(calls - 1)), "tid {tid}");
    }
}

#[test]
fn processes_moving_between_cpus_print_in_order() {
    require_bpf!(alone); // floods every tracer running
    let done = hop_under_mountsnoop(&[], &["procs", "4", "20000"]);
    assert_in_order(&done, 4, 20_000);
}

#[test]
fn threads_moving_between_cpus_print_in_order() {
    require_bpf!(alone); // floods every tracer running
    let done = hop_under_mountsnoop(&[], &["threads", "4", "20000"]);
    assert_in_order(&done, 4, 20_000);
}

/// The storm: a million calls, none out of order, none lost.
/// About 30 s: run by .ci/test, or with
/// `cargo test --test tests -- --ignored suite::order::`.
#[test]
#[ignore = "a million calls: run by .ci/test"]
fn a_million_calls_print_in_order() {
    require_bpf!(alone); // floods every tracer running
    let done = hop_under_mountsnoop(&["--perf-pages", "1024"], &["procs", "4", "250000"]);
    assert_in_order(&done, 4, 250_000);
}

/// A new-API chain whose every step runs on another CPU than the one
/// before: fsopen, fsconfig, fsconfig, fsmount, move_mount, umount2, in
/// that order, every time.
#[test]
fn new_api_chains_print_in_order() {
    require_bpf!(alone); // floods every tracer running
    let done = hop_under_mountsnoop(&[], &["chain", "1", "2000"]);
    assert!(done.status.success(), "{}", done.stderr);
    let calls: Vec<String> = lines(&done.stdout)
        .into_iter()
        .map(|l| l.call[..l.call.find('(').unwrap()].to_string())
        .collect();
    let chain = [
        "fsopen",
        "fsconfig",
        "fsconfig",
        "fsmount",
        "move_mount",
        "umount2",
    ];
    // The namespace set-up's mounts first, and its last umount2 at the end.
    let start = calls.iter().position(|c| c == "fsopen").unwrap();
    let body = &calls[start..start + chain.len() * 2000];
    for (i, step) in body.chunks(chain.len()).enumerate() {
        assert_eq!(step, chain, "chain {i}");
    }
}

/// With -t and --json the timestamps of a thread's calls never go back.
#[test]
fn a_threads_timestamps_never_go_back() {
    require_bpf!(alone); // floods every tracer running
    let done = hop_under_mountsnoop(&["--json"], &["tt", "2", "5000"]);
    assert!(done.status.success(), "{}", done.stderr);
    let mut last: BTreeMap<u64, String> = BTreeMap::new();
    let mut n = 0;
    for line in done.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (tid, ts) = (v["tid"].as_u64().unwrap(), v["timestamp"].as_str().unwrap());
        if let Some(prev) = last.get(&tid) {
            assert!(prev.as_str() <= ts, "tid {tid}: {prev} then {ts}");
        }
        last.insert(tid, ts.to_string());
        n += 1;
    }
    assert!(n >= 10_000, "{n} lines");
}
