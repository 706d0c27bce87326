//! The core tool end to end: the real binary, the real BPF program, real
//! mount(2) and umount2(2) calls in a private mount namespace.

use std::process::Command;

use crate::common::*;
use nix::sys::signal::Signal;

/// Every call of the core workload, thread by thread, as strace prints it.
#[test]
fn core_calls_match_strace() {
    require_bpf!();
    let (ours, strace) =
        mountsnoop_and_strace("core-strace", "mount,umount2", &[workload(), "core"]);
    let compared = assert_same_calls(&ours, &strace);
    assert_eq!(compared, CORE_CALLS, "calls compared");
    assert_eq!(strace.len(), 5, "main thread and 4 workers");

    let all: Vec<&String> = ours.values().flatten().collect();
    let has = |needle: &str| all.iter().any(|c| c.contains(needle));
    assert!(has(r#""tmpfs", MS_NOSUID|MS_NODEV, "size=1m") = 0"#));
    assert!(has("NULL, MS_MGC_VAL|MS_BIND, NULL) = 0"));
    assert!(has("NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL) = 0"));
    assert!(has("NULL, MS_REC|MS_PRIVATE, NULL) = 0"));
    assert!(has("MNT_DETACH) = 0"));
    assert!(has(r#""bogusfs", 0, NULL) = -1 ENODEV (No such device)"#));
    assert!(has(", 0) = -1 EINVAL (Invalid argument)"));
    assert!(has(r#"/odd\n\"name\377", "tmpfs", 0, NULL) = 0"#));
    assert!(all
        .iter()
        .any(|c| c.len() > 3000 && c.ends_with(", 0) = 0")));
}

/// The same, with strace not attached (its reads fault pages in): the
/// workload run alone, compared with a separate strace run.
#[test]
fn core_calls_alone_match_a_separate_strace_run() {
    require_bpf!();
    let (ours, theirs) = alone_and_strace(
        "core-alone",
        "mount,umount2",
        &["-n", "core-alone"],
        &[workload(), "core"],
        &[(WORKLOAD_COMM, "core-alone")],
        str::to_string,
    );
    assert_eq!(ours.iter().map(Vec::len).sum::<usize>(), CORE_CALLS);
    assert_same_processes(&ours, &theirs);
}

/// Output is printable ASCII, one event per line, whatever the paths hold.
#[test]
fn every_line_is_printable_ascii() {
    require_bpf!();
    let snoop = Snoop::start(&[]);
    let pid = run_workload("core", &[]);
    let done = snoop.stop();
    assert!(done.status.success());
    assert_eq!(count_of_pid(&done.stdout, pid), CORE_CALLS);
    for line in done.stdout.lines() {
        assert!(printable(line), "{line:?}");
    }
}

#[test]
fn pid_filter_shows_that_process_only() {
    require_bpf!();
    let chosen = gated(&["core"], &[]);
    let other = gated(&["core"], &[]);
    let (chosen_pid, other_pid) = (chosen.id(), other.id());
    let snoop = Snoop::start(&["-p", &chosen_pid.to_string()]);
    release(other);
    release(chosen);
    let done = snoop.stop();
    assert!(done.status.success());
    let lines = lines(&done.stdout);
    assert_eq!(lines.len(), CORE_CALLS, "{}", done.stdout);
    assert!(
        lines.iter().all(|l| l.pid == chosen_pid),
        "pid {other_pid} leaked in"
    );
}

#[test]
fn parent_and_timestamp_columns() {
    require_bpf!();
    let snoop = Snoop::start(&["-P", "-t"]);
    let pid = run_workload("storm", &["1"]);
    let done = snoop.stop();
    assert!(done.status.success());
    let mut out = done.stdout.lines();
    let header = out.next().unwrap();
    assert_eq!(
        header,
        "TIME     COMM             PID     TID     PCOMM            PPID    MNT_NS      CALL"
    );
    let me = std::process::id().to_string();
    let ours: Vec<&str> = out
        .filter(|l| l.split_whitespace().nth(2) == Some(&pid.to_string()))
        .collect();
    assert_eq!(ours.len(), 5, "{}", done.stdout);
    for line in ours {
        let f: Vec<&str> = line.split_whitespace().collect();
        let time = f[0].as_bytes();
        assert!(
            time.len() == 8 && time[2] == b':' && time[5] == b':',
            "{line}"
        );
        assert_eq!(f[1], "mountsnoop-test");
        // The parent is this test's thread: its comm is the test's name.
        assert!(!f[4].is_empty(), "{line}");
        assert_eq!(f[5], me, "{line}");
    }
}

/// SIGINT, SIGTERM and SIGHUP: everything made before the signal is
/// printed, and the exit status is 0.
#[test]
fn signals_flush_and_exit_zero() {
    require_bpf!(alone); // nothing lost, whoever else mounts
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        let snoop = Snoop::start(&[]);
        let pid = run_workload("storm", &["500"]);
        let done = snoop.stop_with(signal);
        assert!(done.status.success(), "{signal}: {}", done.stderr);
        let n = count_of_pid(&done.stdout, pid);
        assert_eq!(n, 1003, "{signal}: 500 pairs and 3 set-up calls");
        assert!(!done.stderr.contains("Lost"), "{}", done.stderr);
    }
}

/// `mountsnoop | head -1` ends quietly with status 0 once head is gone.
#[test]
fn closed_pipe_exits_zero_quietly() {
    require_bpf!(alone); // nothing on stderr but the Tracing line
    let dir = temp_dir("pipe");
    let err = dir.join("stderr");
    let script = format!(
        "set -o pipefail; {MOUNTSNOOP} 2>{} | head -1 >/dev/null",
        err.display()
    );
    let mut pipeline = Command::new("bash").args(["-c", &script]).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&err)
        .unwrap_or_default()
        .contains("Tracing")
    {
        assert!(std::time::Instant::now() < deadline, "never ready");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // head has exited after the header; events now meet a closed pipe.
    run_workload("storm", &["3"]);
    let status = pipeline.wait().unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap();
    assert!(
        status.success(),
        "pipeline status {status}, stderr {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "only the Tracing line: {stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        &["--bogus"][..],
        &["-p", "abc"],
        &["-p", "0"],
        &["--perf-pages", "3"],
    ] {
        let out = Command::new(MOUNTSNOOP).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error:"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn help_and_version() {
    let out = Command::new(MOUNTSNOOP).arg("--help").output().unwrap();
    assert!(out.status.success());
    let out = Command::new(MOUNTSNOOP).arg("-V").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("mountsnoop "));
}

/// Every long flag that --help lists is documented in the man page.
#[test]
fn man_page_documents_every_flag() {
    let help = Command::new(MOUNTSNOOP).arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let man = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/mountsnoop.8"))
        .unwrap()
        .replace("\\-", "-");
    let flags: Vec<&str> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '=')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .collect();
    assert!(flags.len() >= 6, "{flags:?}");
    for flag in flags {
        assert!(man.contains(flag), "man page lacks {flag}");
    }
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "FIELDS",
        "EXAMPLES",
        "OVERHEAD",
        "EXIT STATUS",
        "SEE ALSO",
    ] {
        assert!(
            man.contains(&format!(".SH \"{section}\"")) || man.contains(&format!(".SH {section}")),
            "{section}"
        );
    }
}

/// Without the needed privileges: one clear line, exit 1, no panic.
#[test]
fn unprivileged_user_gets_one_clear_line() {
    require_bpf!();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            MOUNTSNOOP,
        ])
        .output()
        .expect("setpriv (util-linux)");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("needs root, or CAP_BPF and CAP_PERFMON"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// --no-32bit takes the 64-bit calls from their own tracepoints (the
/// shared per-call programs): every call of the core workload, and a call
/// seccomp refused, all the same.
#[test]
fn per_call_tracepoints_see_every_64_bit_call() {
    require_bpf!();
    let snoop = Snoop::start(&["--no-32bit", "--json"]);
    let core = run_workload("core", &[]);
    let refused = run_c("seccomp", &["errno"]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let of = |pids: &[u32]| json_events_of(&done.stdout, pids);
    assert_eq!(of(&[core]).len(), CORE_CALLS);
    let refused = of(&refused);
    assert_eq!(refused.len(), 4, "{refused:#?}");
    assert!(
        refused.iter().all(|v| v["seccomp"] == "errno"),
        "{refused:#?}"
    );
}
