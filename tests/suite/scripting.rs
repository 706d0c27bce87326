//! Scriptable output and in-kernel filters, with the real binary: each
//! filter gets a real event that must pass and one that must not.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Calls of the core workload made by its main thread.
const CORE_MAIN_THREAD_CALLS: usize = 18;

/// Runs `attempt` (two failing calls, no privileges needed) as `uid`,
/// with `comm`; returns its pid.
fn attempt(uid: Option<u32>, comm: Option<&str>) -> u32 {
    let mut cmd = match uid {
        Some(uid) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
                workload(),
            ]);
            c
        }
        None => Command::new(workload()),
    };
    cmd.arg("attempt");
    if let Some(comm) = comm {
        cmd.env(WORKLOAD_COMM, comm);
    }
    let mut child = cmd.spawn().expect("start attempt");
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    pid
}

#[test]
fn tid_filter() {
    require_bpf!();
    let child = gated(&["core"], &[]);
    let pid = child.id();
    let snoop = Snoop::start(&["--tid", &pid.to_string()]);
    release(child);
    let done = snoop.stop();
    let lines = lines(&done.stdout);
    // The main thread's calls pass; the 4 worker threads' must not.
    assert_eq!(lines.len(), CORE_MAIN_THREAD_CALLS, "{}", done.stdout);
    assert!(lines.iter().all(|l| l.tid == pid && l.pid == pid));
}

#[test]
fn uid_filter() {
    require_bpf!();
    let snoop = Snoop::start(&["-u", "65534"]);
    let nobody = attempt(Some(65534), None);
    let root = attempt(None, None);
    let done = snoop.stop();
    assert_eq!(count_of_pid(&done.stdout, nobody), 2, "{}", done.stdout);
    assert_eq!(count_of_pid(&done.stdout, root), 0);
    assert!(lines(&done.stdout).iter().all(|l| l.pid == nobody));
}

#[test]
fn name_filter() {
    require_bpf!();
    let snoop = Snoop::start(&["-n", "renamed-x"]);
    let renamed = attempt(None, Some("renamed-x"));
    let plain = attempt(None, None);
    let prefix = attempt(None, Some("renamed-xy"));
    let done = snoop.stop();
    assert_eq!(count_of_pid(&done.stdout, renamed), 2, "{}", done.stdout);
    assert_eq!(count_of_pid(&done.stdout, plain), 0);
    assert_eq!(count_of_pid(&done.stdout, prefix), 0, "exact name only");
}

#[test]
fn mntns_filter() {
    require_bpf!();
    let link = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let inum: String = link
        .to_string_lossy()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let snoop = Snoop::start(&["--mntns", &inum]);
    let host = attempt(None, None); // in our namespace
    let private = run_workload("storm", &["1"]); // in a namespace of its own
    let done = snoop.stop();
    assert_eq!(count_of_pid(&done.stdout, host), 2, "{}", done.stdout);
    assert_eq!(count_of_pid(&done.stdout, private), 0);
    assert!(lines(&done.stdout)
        .iter()
        .all(|l| l.mnt_ns.to_string() == inum));
}

/// A cgroup v2 directory for this test, made under the cgroup2 mount
/// (mounting cgroup2 first if nothing has).
fn make_cgroup() -> std::path::PathBuf {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let root = mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&"cgroup2"))
        .map(|f| std::path::PathBuf::from(f[1]));
    let root = root.unwrap_or_else(|| {
        let dir = temp_dir("cgroup2-root");
        let ok = Command::new("mount")
            .args(["-t", "cgroup2", "none"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(ok.success(), "cannot mount cgroup2");
        dir
    });
    let dir = root.join(format!("mountsnoop-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cgroup_filter() {
    require_bpf!();
    let cgroup = make_cgroup();
    let inside = gated(&["storm", "2"], &[]);
    let outside = gated(&["storm", "2"], &[]);
    let (inside_pid, outside_pid) = (inside.id(), outside.id());
    std::fs::write(cgroup.join("cgroup.procs"), inside_pid.to_string()).unwrap();
    let snoop = Snoop::start(&["--cgroup", cgroup.to_str().unwrap()]);
    release(outside);
    release(inside);
    let done = snoop.stop();
    assert_eq!(count_of_pid(&done.stdout, inside_pid), 7, "{}", done.stdout);
    assert_eq!(count_of_pid(&done.stdout, outside_pid), 0);
    let _ = std::fs::remove_dir(&cgroup);

    let bad = Command::new(MOUNTSNOOP)
        .args(["--cgroup", "/tmp"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a cgroup v2 directory"));
}

#[test]
fn failed_filter() {
    require_bpf!();
    let child = gated(&["core"], &[]);
    let pid = child.id();
    let snoop = Snoop::start(&["-x", "-p", &pid.to_string()]);
    release(child);
    let done = snoop.stop();
    let calls: Vec<String> = lines(&done.stdout).into_iter().map(|l| l.call).collect();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert!(calls[0].ends_with("= -1 ENODEV (No such device)"));
    assert!(calls[1].ends_with("= -1 EINVAL (Invalid argument)"));
}

#[test]
fn syscall_filter() {
    require_bpf!();
    let child = gated(&["core"], &[]);
    let pid = child.id();
    let snoop = Snoop::start(&["--syscall", "umount2", "-p", &pid.to_string()]);
    release(child);
    let done = snoop.stop();
    let lines = lines(&done.stdout);
    assert_eq!(lines.len(), 26, "{}", done.stdout);
    assert!(lines.iter().all(|l| l.call.starts_with("umount2(")));

    let bad = Command::new(MOUNTSNOOP)
        .args(["--syscall", "mount,bogus"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("valid calls: mount,umount2,fsopen,fsconfig"),
        "{stderr}"
    );
}

/// Every JSON line parses, has every key, and its `call` is exactly the
/// column form of the same event.
#[test]
fn json_lines_match_columns() {
    require_bpf!();
    let child = gated(&["core"], &[]);
    let pid = child.id().to_string();
    let json = Snoop::start(&["--json", "-p", &pid]);
    let columns = Snoop::start(&["-p", &pid]);
    release(child);
    let json = json.stop();
    let columns = columns.stop();
    assert!(json.status.success());

    let mut by_tid: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for line in json.stdout.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in [
            "timestamp",
            "comm",
            "pid",
            "tid",
            "ppid",
            "pcomm",
            "uid",
            "mnt_ns",
            "syscall",
            "args",
            "ret",
            "error",
            "latency_ns",
            "call",
        ] {
            assert!(v.get(key).is_some(), "{key} missing: {line}");
        }
        assert_eq!(v["pid"].to_string(), pid);
        let ret = v["ret"].as_i64().unwrap();
        assert_eq!(v["error"].is_null(), ret >= 0, "{line}");
        by_tid
            .entry(v["tid"].as_u64().unwrap() as u32)
            .or_default()
            .push(v["call"].as_str().unwrap().to_string());
    }
    let cols = calls_of_pid(&columns.stdout, pid.parse().unwrap());
    assert_eq!(by_tid, cols);
    assert_eq!(by_tid.values().map(Vec::len).sum::<usize>(), CORE_CALLS);

    // Spot checks of typed arguments.
    let first_bind = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["call"].as_str().unwrap().contains("MS_BIND, NULL) = 0"))
        .unwrap();
    assert_eq!(
        first_bind["args"]["mountflags"],
        libc::MS_MGC_VAL | libc::MS_BIND
    );
    assert!(first_bind["args"]["source"]
        .as_str()
        .unwrap()
        .ends_with("/a"));
    assert!(first_bind["args"]["data"].is_null());
    let odd = json.stdout.lines().find(|l| l.contains("odd")).unwrap();
    let v: serde_json::Value = serde_json::from_str(odd).unwrap();
    assert!(v["args"]["target"]
        .as_str()
        .unwrap()
        .ends_with("/odd\n\"name\u{fffd}"));
}

/// jq, as users run it, accepts every line.
#[test]
fn jq_accepts_every_line() {
    require_bpf!();
    let child = gated(&["storm", "3"], &[]);
    let pid = child.id().to_string();
    let snoop = Snoop::start(&["-j", "-p", &pid]);
    release(child);
    let done = snoop.stop();
    let mut jq = Command::new("jq")
        .args([
            "-e",
            "-r",
            r#"select(.syscall == "umount2" and .error == null) | .args.target"#,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("jq (apt-get install jq)");
    jq.stdin
        .take()
        .unwrap()
        .write_all(done.stdout.as_bytes())
        .unwrap();
    let out = jq.wait_with_output().unwrap();
    assert!(out.status.success());
    let targets = String::from_utf8(out.stdout).unwrap();
    // 3 storm umounts and the clean-up's.
    assert_eq!(targets.lines().count(), 4, "{targets}");
}

#[test]
fn summary_counts_a_known_workload() {
    require_bpf!();
    let child = gated(&["core"], &[]);
    let pid = child.id().to_string();
    let table = Snoop::start(&["--summary", "-p", &pid]);
    let json = Snoop::start(&["--summary", "--json", "-p", &pid]);
    release(child);
    let table = table.stop();
    let json = json.stop();
    assert!(table.status.success() && json.status.success());

    let row = |name: &str| -> Vec<String> {
        let line = table
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap();
        line.split_whitespace().map(str::to_string).collect()
    };
    let mount = row("mount");
    assert_eq!(&mount[1..3], ["32", "1"], "{}", table.stdout);
    assert_eq!(mount[6], "ENODEV:1");
    let umount = row("umount2");
    assert_eq!(&umount[1..3], ["26", "1"], "{}", table.stdout);
    assert_eq!(umount[6], "EINVAL:1");
    assert_eq!(&row("total")[1..3], ["58", "2"]);

    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(v["calls"]["mount"]["calls"], 32);
    assert_eq!(v["calls"]["umount2"]["errors_by_name"]["EINVAL"], 1);
    assert_eq!(v["total"]["calls"], 58);
    assert_eq!(v["lost"], 0);
}

#[test]
fn duration_ends_the_run() {
    require_bpf!();
    let start = Instant::now();
    let snoop = Snoop::start(&["--duration", "1"]);
    let done = snoop.finish();
    assert!(done.status.success());
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(20),
        "{took:?}"
    );
}

#[test]
fn max_events_ends_the_run() {
    require_bpf!();
    let child = gated(&["storm", "50"], &[]);
    let pid = child.id().to_string();
    let snoop = Snoop::start(&["--max-events", "3", "-p", &pid]);
    release(child);
    let done = snoop.finish();
    assert!(done.status.success());
    assert_eq!(
        done.stdout.lines().count(),
        4,
        "header and 3 events: {}",
        done.stdout
    );
}

#[test]
fn uid_latency_and_detailed_forms() {
    require_bpf!();
    let child = gated(&["storm", "1"], &[]);
    let pid = child.id().to_string();
    let cols = Snoop::start(&["-U", "-T", "-p", &pid]);
    let detailed = Snoop::start(&["-d", "-p", &pid]);
    release(child);
    let cols = cols.stop();
    let detailed = detailed.stop();
    let mut out = cols.stdout.lines();
    assert_eq!(
        out.next().unwrap(),
        "UID     COMM             PID     TID     MNT_NS      LAT(us)    CALL"
    );
    for line in out {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[0], "0", "{line}");
        let lat: f64 = f[5].parse().unwrap();
        assert!(lat > 0.0 && lat < 10_000_000.0, "{line}");
    }
    let blocks: Vec<&str> = detailed
        .stdout
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .collect();
    assert_eq!(blocks.len(), 5, "{}", detailed.stdout);
    let umount = blocks
        .iter()
        .find(|b| b.contains("SYSCALL:        umount2") && b.contains("storm"))
        .unwrap();
    assert!(umount.contains("\nFLAGS:          0\n"), "{umount}");
    assert!(umount.contains("\nRET:            0\n"), "{umount}");
}

/// -v's messages (libbpf's and ours) go to stderr: stdout carries the
/// header and events only.
#[test]
fn verbose_messages_go_to_stderr() {
    require_bpf!();
    let out = std::process::Command::new(MOUNTSNOOP)
        .args(["-v", "-p", "1", "--duration", "0.5"])
        .output()
        .expect("run mountsnoop");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, format!("{HEADER}\n"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(|l| l.starts_with("libbpf: ")),
        "{stderr}"
    );
}
