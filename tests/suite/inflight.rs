//! Threads that enter a call and do not return: a real workload (mounts
//! blocked under a FUSE mount nobody serves). Their entries must leave
//! the in-flight map when they are killed (with an event), must not keep
//! other events from flowing while they hang, and those still blocked at
//! exit are reported, not silently dropped.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::common::*;

/// Starts `fuse-block n` and waits until its children hang in mount(2);
/// returns the workload, its stdout and the children's pids.
fn blocked(n: usize) -> (Child, BufReader<ChildStdout>, Vec<u32>) {
    blocked_as(n, "mountsnoop-test")
}

fn blocked_as(n: usize, comm: &str) -> (Child, BufReader<ChildStdout>, Vec<u32>) {
    let mut child = Command::new(workload())
        .args(["fuse-block", &n.to_string()])
        .env(WORKLOAD_COMM, comm)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start fuse-block");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let pids: Vec<u32> = line
        .strip_prefix("blocked ")
        .unwrap_or_else(|| panic!("workload said {line:?}"))
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), n);
    (child, out, pids)
}

fn finish(mut child: Child, command: &str) {
    child
        .stdin
        .take()
        .unwrap()
        .write_all(command.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// Killed in the call: the exit tracepoint still fires, so each killed
/// call is printed (EINTR) and nothing stays behind in the map.
#[test]
fn killed_calls_are_printed_and_leave_nothing_behind() {
    require_bpf!();
    let snoop = Snoop::start(&["--syscall", "mount"]);
    let (child, _out, pids) = blocked(3);
    finish(child, "kill\n");
    let done = snoop.stop();
    assert!(done.status.success());
    for pid in pids {
        let calls: Vec<String> = calls_of_pid(&done.stdout, pid)
            .into_values()
            .flatten()
            .collect();
        assert_eq!(calls.len(), 1, "{}", done.stdout);
        assert!(
            calls[0].ends_with("= -1 EINTR (Interrupted system call)"),
            "{}",
            calls[0]
        );
        // Other tests may leave calls hanging; none of ours may.
        assert!(
            !done.stderr.contains(&format!("tid {pid} for")),
            "{}",
            done.stderr
        );
    }
}

/// Hanging calls do not hold up anyone else's events; at exit they are
/// reported as still in progress.
#[test]
fn hanging_calls_are_reported_at_exit_and_block_nothing() {
    require_bpf!();
    let snoop = Snoop::start(&["--syscall", "mount,umount2"]);
    let (child, _out, pids) = blocked(4);
    let storm = run_workload("storm", &["200"]);
    let done = snoop.stop();
    assert!(done.status.success());
    let storm_calls = count_of_pid(&done.stdout, storm);
    assert_eq!(
        storm_calls, 403,
        "every other event flows while 4 calls hang"
    );
    for pid in &pids {
        assert!(
            calls_of_pid(&done.stdout, *pid).is_empty(),
            "a hanging call cannot be printed"
        );
        assert!(
            done.stderr.contains(&format!("mount by tid {pid} for ")),
            "{}",
            done.stderr
        );
    }
    assert!(
        done.stderr
            .contains("call(s) still in progress at exit, not printed"),
        "{}",
        done.stderr
    );
    finish(child, "release\n");
}

/// The map's bound: with room for 2 calls in flight and 3 hanging, the
/// third and every call made while the map is full find no room for
/// their entry. They are still printed as they return, from the
/// registers saved at entry (entry not seen), and counted on stderr;
/// once the hanging calls end, entries have room again.
#[test]
fn a_full_inflight_map_still_shows_every_call() {
    require_bpf!();
    let comm = "inflight-cap";
    let storm = || run_workload_as(comm, "storm", &["2"]);
    let snoop = Snoop::start(&[
        "--max-inflight",
        "2",
        "-n",
        comm,
        "--syscall",
        "mount,umount2",
        "--json",
    ]);
    let (child, _out, pids) = blocked_as(3, comm);
    storm(); // 7 calls that find no room: shown from their exits
    finish(child, "release\n");
    storm(); // 7 calls, entries and all
    let done = snoop.stop();
    assert!(done.status.success());
    let events = json_lines(&done.stdout);
    // The 3 hanging calls end ENOTCONN once released: 2 had room, the
    // third is shown from its exit.
    let failed: Vec<&serde_json::Value> =
        events.iter().filter(|v| v["error"] == "ENOTCONN").collect();
    assert_eq!(failed.len(), 3, "{}", done.stdout);
    assert!(failed
        .iter()
        .all(|v| pids.contains(&(v["pid"].as_u64().unwrap() as u32))));
    // The fuse-block parent's 3 set-up mounts, the 3 hanging calls, both
    // storms' 7, and the parent's clean-up umount2.
    assert_eq!(events.len(), 3 + 3 + 7 + 7 + 1, "{}", done.stdout);
    let exit_only = events.iter().filter(|v| v["entry_seen"] == false).count();
    assert_eq!(exit_only, 1 + 7, "{}", done.stdout);
    assert!(events.iter().all(|v| v["seccomp"].is_null()));
    assert!(!done.stderr.contains("Lost"), "{}", done.stderr);
    // Counted as the counters are read, once a second: the lines add up.
    let counted: u64 = done
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("mountsnoop: "))
        .filter_map(|l| l.split_once(" call(s) found the in-flight call map full"))
        .map(|(n, _)| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, 8, "{}", done.stderr);
}
