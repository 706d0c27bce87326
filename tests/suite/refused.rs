//! Calls refused before they ran: seccomp's answers, seen from the exit
//! alone, printed as strace prints them and labelled with the verdict.

use crate::common::*;

// umount: the i386 one-argument call (errno32).
const CALLS: &str = "mount,umount2,umount,fsopen,move_mount";

/// The JSON events of `pids`.
/// `seccomp MODE` alone under mountsnoop, and its calls under a separate
/// strace run: the same CALL text, process by process; returns our
/// events of the calls' process.
fn refused(mode: &str) -> Vec<serde_json::Value> {
    // Only this program's calls: the storm below runs meanwhile.
    let snoop = Snoop::start(&["--json", "-n", "seccomp"]);
    let pids = run_c("seccomp", &[mode]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let ours = json_events_of(&done.stdout, &pids);
    let texts: Vec<(u32, String)> = ours
        .iter()
        .map(|v| {
            (
                v["pid"].as_u64().unwrap() as u32,
                v["call"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let path = c_program("seccomp");
    let theirs: Vec<(u32, String)> = strace_run(
        &format!("seccomp-{mode}"),
        CALLS,
        &[path.to_str().unwrap(), mode],
    );
    // strace sees the parent's set-up too; ours are the child's calls.
    let theirs = per_process(theirs);
    let ours = per_process(texts);
    assert_eq!(ours.len(), 1, "{ours:#?}");
    assert!(
        theirs.contains(&ours[0]),
        "mountsnoop {ours:#?}\nstrace {theirs:#?}"
    );
    assert!(!done.stderr.contains("Lost"), "{}", done.stderr);
    json_events_of(&done.stdout, &pids)
}

fn verdicts(events: &[serde_json::Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|v| {
            let call = v["call"].as_str().unwrap();
            (
                call[..call.find('(').unwrap()].to_string(),
                v["seccomp"].as_str().unwrap_or("ran").to_string(),
            )
        })
        .collect()
}

#[test]
fn seccomp_errno() {
    require_bpf!();
    let events = refused("errno");
    assert_eq!(
        verdicts(&events),
        [
            ("mount", "errno"),
            ("umount2", "errno"),
            ("fsopen", "errno"),
            ("move_mount", "errno")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(events
        .iter()
        .all(|v| v["error"] == "EACCES" && v["entry_seen"] == false));
    // Arguments from the registers, strings read at exit and marked.
    assert_eq!(
        events[0]["arg_state"]["target"],
        serde_json::json!(["read_at_exit"])
    );
}

/// 32-bit calls (int $0x80) that an AUDIT_ARCH_I386 filter refuses: the
/// per-call tracepoints see neither their entry nor their exit, the raw
/// exit hook sees both facts that matter (the refusal and the i386 ABI).
#[test]
fn seccomp_errno_on_32_bit_calls() {
    require_bpf!();
    let events = refused("errno32");
    assert_eq!(
        verdicts(&events),
        [
            ("mount", "errno"),
            ("umount2", "errno"),
            ("umount", "errno")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(
        events
            .iter()
            .all(|v| v["error"] == "EACCES" && v["entry_seen"] == false && v["abi"] == "i386"),
        "{events:#?}"
    );
    assert_eq!(
        events[0]["arg_state"]["target"],
        serde_json::json!(["read_at_exit"])
    );
}

#[test]
fn seccomp_trap() {
    require_bpf!();
    let events = refused("trap");
    assert_eq!(
        verdicts(&events),
        [("mount".to_string(), "trap".to_string())]
    );
    // The rolled-back register: the call's number.
    assert_eq!(events[0]["ret"], libc::SYS_mount);
}

#[test]
fn seccomp_kill() {
    require_bpf!();
    let events = refused("kill");
    assert_eq!(
        verdicts(&events),
        [("mount".to_string(), "kill".to_string())]
    );
    assert_eq!(events[0]["ret"], libc::SYS_mount);
}

#[test]
fn seccomp_user_notif_answered_by_a_supervisor() {
    require_bpf!();
    let events = refused("notif");
    assert_eq!(
        verdicts(&events),
        [
            ("mount", "user_notif"),
            ("umount2", "user_notif"),
            ("fsopen", "user_notif")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let results: Vec<&str> = events
        .iter()
        .map(|v| v["error"].as_str().unwrap_or("ok"))
        .collect();
    assert_eq!(results, ["EPERM", "ok", "ENODEV"]);
}

/// SECCOMP_USER_NOTIF_FLAG_CONTINUE: the calls run, and are seen whole.
#[test]
fn seccomp_user_notif_continue_runs_the_calls() {
    require_bpf!();
    let events = refused("notif-continue");
    assert_eq!(
        verdicts(&events),
        [("mount", "ran"), ("umount2", "ran"), ("fsopen", "ran")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(events.iter().all(|v| v["entry_seen"] == true));
}

/// -x and --summary treat refusals as the failures they are, and the
/// summary counts them apart.
#[test]
fn failed_filter_and_summary_count_refusals() {
    require_bpf!();
    let failed = Snoop::start(&["-x", "--json", "-n", "seccomp"]);
    let summary = Snoop::start(&["--summary", "--json", "-n", "seccomp"]);
    let pids = run_c("seccomp", &["errno"]);
    let failed = failed.stop();
    let summary = summary.stop();
    assert_eq!(
        json_events_of(&failed.stdout, &pids).len(),
        4,
        "{}",
        failed.stdout
    );
    // Other processes may mount meanwhile: at least our four refusals.
    let v: serde_json::Value = serde_json::from_str(summary.stdout.trim()).unwrap();
    assert!(v["total"]["refused"].as_u64().unwrap() >= 4, "{v}");
    assert!(
        v["calls"]["move_mount"]["refused_by_verdict"]["errno"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

/// 100,000 refused calls: all printed, none lost, nothing left in the
/// in-flight map (a refused call never had an entry). A refused call
/// costs the caller about 0.3 us: the storm makes its 24 MB of events in
/// a few tens of milliseconds, so the buffer is sized to hold them all
/// (32 MiB per CPU) whatever else the machine is doing.
#[test]
fn a_storm_of_refused_calls_loses_nothing() {
    require_bpf!(alone); // floods every tracer running
                         // Under another name (the command name is the file's), so that the
                         // other tests of this file, filtering on `seccomp`, do not see it.
    let storm = c_program("seccomp").with_file_name("seccomp-storm");
    let _ = std::fs::remove_file(&storm);
    std::fs::copy(c_program("seccomp"), &storm).unwrap();
    let snoop = Snoop::start(&[
        "-n",
        "seccomp-storm",
        "--perf-pages",
        "8192",
        "--syscall",
        "mount",
    ]);
    let out = std::process::Command::new(&storm)
        .args(["storm", "100000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let pids: Vec<u32> = text
        .trim()
        .strip_prefix("pids ")
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let n = lines(&done.stdout)
        .iter()
        .filter(|l| pids.contains(&l.pid))
        .count();
    assert_eq!(n, 100_000, "{}", done.stderr);
    assert!(!done.stderr.contains("Lost"), "{}", done.stderr);
    assert!(
        !done.stderr.contains("still in progress"),
        "{}",
        done.stderr
    );
}

/// Issue 15: a runc container whose seccomp profile refuses mount and
/// umount2 with EPERM, as docker's default profile does for a container
/// without CAP_SYS_ADMIN (here: everything allowed, those two calls
/// `SCMP_ACT_ERRNO` with `errnoRet` 1). runc builds the container (its
/// mounts and pivot_root run: the filter is installed just before the
/// command's exec), then the workload's mount and umount2 are refused.
/// Every call, run or refused, prints as a separate strace run of runc
/// prints it, and the refused ones carry `"seccomp": "errno"`.
#[test]
fn runc_container_whose_seccomp_profile_refuses_mount() {
    use crate::common::containers::{Runtime, Shape, Spec};
    require_bpf!();
    let profile = serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{
            "names": ["mount", "umount2"],
            "action": "SCMP_ACT_ERRNO",
            "errnoRet": 1
        }]
    });
    // `gated`: stdin is /dev/null in the strace runs, so it goes on at
    // once; in the last run it waits until its pid is known.
    let prepared = Spec::new(
        Runtime::Runc(Shape::Docker),
        &[workload(), "gated", "attempt"],
    )
    .seccomp(profile)
    .prepare("runc-seccomp");
    let refused = [
        r#"mount("none", "/nonexistent-mountsnoop-test", "tmpfs", 0, NULL) = -1 EPERM (Operation not permitted)"#,
        r#"umount2("/nonexistent-mountsnoop-test", 0) = -1 EPERM (Operation not permitted)"#,
    ];

    let (ours, theirs) = alone_and_strace(
        "runc-seccomp",
        STRACE_CALLS,
        &[],
        &prepared.argv(),
        &[],
        str::to_string,
    );
    // runc hides a copy of itself from the container (CVE-2019-5736) on
    // a temporary file of a random name, runc.XXXXXX, in its state
    // directory.
    let unrandom = |runs: Vec<Vec<String>>| -> Vec<Vec<String>> {
        runs.into_iter()
            .map(|calls| {
                let mut calls: Vec<String> = calls
                    .into_iter()
                    .map(|c| match c.find("/runc.") {
                        Some(at) if c.len() >= at + 12 => {
                            c.replace(&c[at..at + 12], "/runc.XXXXXX")
                        }
                        _ => c,
                    })
                    .collect();
                calls.sort();
                calls
            })
            .collect()
    };
    let (ours, theirs) = (unrandom(ours), unrandom(theirs));
    assert_same_processes(&ours, &theirs);
    eprintln!(
        "runc with a seccomp profile: {} calls compared with strace 6.1, all identical",
        ours.iter().map(Vec::len).sum::<usize>()
    );
    let all: Vec<&String> = ours.iter().flatten().collect();
    for call in refused {
        assert!(all.iter().any(|c| *c == call), "no {call}: {all:#?}");
    }
    // runc's own set-up ran, unrefused.
    assert!(
        all.iter()
            .any(|c| c.starts_with("pivot_root(") && c.ends_with(") = 0")),
        "{all:#?}"
    );

    let snoop = Snoop::start(&["--json"]);
    let mut running = prepared.start();
    let pid = running.pid();
    running.release();
    let status = running.wait();
    assert!(status.success(), "{:?}: {status}", prepared.argv);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let events = json_events_of(&done.stdout, &[pid]);
    let calls: Vec<&str> = events
        .iter()
        .filter(|v| v["comm"] != "runc:[2:INIT]")
        .map(|v| v["call"].as_str().unwrap())
        .collect();
    assert_eq!(calls, refused, "{events:#?}");
    for v in events.iter().filter(|v| v["comm"] != "runc:[2:INIT]") {
        assert_eq!(v["seccomp"], "errno", "{v}");
        assert_eq!(v["error"], "EPERM", "{v}");
        assert_eq!(v["entry_seen"], false, "{v}");
    }
}
