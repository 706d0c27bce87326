//! Mount records end to end: the `mounts` workload's calls, traced for
//! real, make exactly one record per change (JSON's `mount` object and
//! `--mounts` lines); a chain abandoned after a failure makes none; a
//! storm of chains never finished leaves memory bounded and is counted.

use serde_json::{json, Value};

use crate::common::*;

/// `--mounts` from the calls, as on a kernel without fanotify mount
/// notifications (Linux 6.15 has them).
pub const CALL_RECORDS: &[(&str, &str)] = &[("MOUNTSNOOP_TABLES", "calls")];

/// `/tmp/mountsnoop-test.XXXXXX` (the workload's base) in `s` as BASE.
fn based(s: &str) -> String {
    match s.find("/tmp/mountsnoop-test.") {
        Some(at) => s.replace(&s[at..at + 27], "BASE"),
        None => s.to_string(),
    }
}

/// Under the workload's base, one level down: the scenario's own mounts
/// (not the base it sets up and takes down).
fn in_base(target: &str) -> bool {
    based(target).starts_with("BASE/")
}

#[test]
fn each_change_makes_one_json_record() {
    require_bpf!();
    let snoop = Snoop::start(&["--json", "-n", "mrec-json"]);
    let pid = run_workload_as("mrec-json", "mounts", &[]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let events = json_events_of(&done.stdout, &[pid]);
    assert!(events.iter().all(|e| e.get("mount").is_some()), "mount key");
    let records: Vec<(String, Value)> = events
        .iter()
        .filter(|e| !e["mount"].is_null())
        .filter(|e| in_base(e["mount"]["target"].as_str().unwrap()))
        .map(|e| {
            let mut m = e["mount"].clone();
            for key in ["target", "from", "source"] {
                if let Some(path) = m[key].as_str() {
                    m[key] = json!(based(path));
                }
            }
            (e["syscall"].as_str().unwrap().to_string(), m)
        })
        .collect();
    let record = |change: &str, target: &str, more: Value| {
        let mut m = json!({
            "change": change, "target": target, "from": null, "fstype": null,
            "source": null, "options": [], "attributes": [], "cleared": [],
            "propagation": null, "recursive": false, "relative": [],
        });
        for (k, v) in more.as_object().unwrap() {
            m[k] = v.clone();
        }
        m
    };
    let expected = vec![
        (
            "move_mount",
            record(
                "attach",
                "BASE/a",
                json!({"fstype": "tmpfs", "source": "none", "options": ["size=2m"],
                       "attributes": ["rw", "nosuid", "nodev"]}),
            ),
        ),
        (
            "mount",
            record(
                "attach",
                "BASE/b",
                json!({"fstype": "tmpfs", "source": "none", "options": ["size=1m", "mode=0700"],
                       "attributes": ["rw", "nosuid"]}),
            ),
        ),
        (
            "mount",
            record("bind", "BASE/c", json!({"source": "BASE/b"})),
        ),
        (
            "mount",
            record("remount", "BASE/c", json!({"attributes": ["ro"]})),
        ),
        ("mount", record("move", "BASE/d", json!({"from": "BASE/c"}))),
        ("umount2", record("detach", "BASE/d", json!({}))),
        ("umount2", record("detach", "BASE/b", json!({}))),
        ("umount2", record("detach", "BASE/a", json!({}))),
    ];
    let expected: Vec<(String, Value)> = expected
        .into_iter()
        .map(|(call, m)| (call.to_string(), m))
        .collect();
    assert_eq!(records, expected);
    // The abandoned chain: its failed fsconfig and nothing after it.
    let failed: Vec<&Value> = events.iter().filter(|e| e["error"] == "EINVAL").collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(failed[0]["call"].as_str().unwrap().contains("nosuchopt"));
    assert!(
        done.stderr
            .contains("1 unfinished mount chain(s) dropped, no record made"),
        "{}",
        done.stderr
    );
}

#[test]
fn mounts_prints_one_line_per_change() {
    require_bpf!();
    // The records built from the calls (the kernel's own reports are
    // suite::tables').
    let snoop = Snoop::start_env(&["--mounts", "-n", "mrec-lines"], CALL_RECORDS);
    let pid = run_workload_as("mrec-lines", "mounts", &[]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(
        done.stdout.lines().next(),
        Some("COMM             PID     TID     MNT_NS      CHANGE TARGET FSTYPE SOURCE OPTIONS")
    );
    let lines: Vec<String> = lines(&done.stdout)
        .into_iter()
        .filter(|l| l.pid == pid)
        .map(|l| based(&l.call))
        .collect();
    // The scenario's set-up (its private namespace and base) and
    // clean-up, around its own calls.
    assert_eq!(
        lines,
        [
            "~ / - - private,recursive",
            "+ BASE tmpfs mountsnoop-test rw,size=16m",
            "+ BASE/a tmpfs none rw,nosuid,nodev,size=2m",
            "+ BASE/b tmpfs none rw,nosuid,size=1m,mode=0700",
            "= BASE/c - BASE/b bind",
            "~ BASE/c - - ro",
            "> BASE/d - BASE/c -",
            "- BASE/d - - -",
            "- BASE/b - - -",
            "- BASE/a - - -",
            "- BASE - - -",
        ]
    );
    for line in done.stdout.lines() {
        assert!(printable(line), "{line:?}");
    }
}

/// mountsnoop's resident memory, in KiB.
/// The process's own memory (RssAnon): not the perf buffer's pages, which
/// the kernel shares with it and a busy machine fills further.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// 20,000 fsopen, each given a 250-byte source, never finished: kept
/// without bounds that would be about 8 MiB of chains. The builder keeps
/// at most 64 per process: a second storm, once the first has grown the
/// buffers to what such a storm needs, leaves memory flat; and every
/// chain is counted as dropped.
#[test]
fn a_storm_of_unfinished_chains_is_bounded_and_counted() {
    require_bpf!();
    // Room for the storm on a busy machine: every chain seen is counted.
    let snoop = Snoop::start_env(
        &["--mounts", "-n", "mrec-storm", "--perf-pages", "2048"],
        CALL_RECORDS,
    );
    let mut rss = Vec::new();
    let mut pids = Vec::new();
    // Three storms: the first two warm the buffers up (a busy machine
    // makes bigger batches); the third must not grow what they left.
    for _ in 0..3 {
        pids.push(run_workload_as("mrec-storm", "fsopen-storm", &["20000"]));
        // Read, rendered, and swept (once a second) at least twice.
        std::thread::sleep(std::time::Duration::from_millis(2500));
        rss.push(rss_kib(snoop.pid()));
    }
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    eprintln!("mountsnoop's RSS after each storm: {rss:?} KiB");
    // Unbounded, the chains alone would take about 8 MiB more per storm.
    assert!(
        rss[2].saturating_sub(rss[1]) < 4 * 1024,
        "RSS grew from {} to {} KiB",
        rss[1],
        rss[2]
    );
    let dropped: u64 = done
        .stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("mountsnoop: ")?
                .split_once(" unfinished mount chain(s) dropped")
                .map(|(n, _)| n.parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no count of dropped chains: {}", done.stderr));
    // Every chain seen is dropped and counted; a lost fsopen is a chain
    // never seen (a lost fsconfig loses none).
    let lost: u64 = done
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Lost ")?.split_once(' ')?.0.parse().ok())
        .unwrap_or(0);
    assert!(
        dropped <= 60_000 && dropped + lost >= 60_000,
        "{dropped} dropped, {lost} lost: {}",
        done.stderr
    );
    assert!(done.stderr.contains("evicted over the limits"));
    // No storm chain made a record: only each scenario's set-up and
    // clean-up.
    let records = lines(&done.stdout)
        .into_iter()
        .filter(|l| pids.contains(&l.pid))
        .count();
    assert_eq!(records, 9, "{}", done.stdout);
}
