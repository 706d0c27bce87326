//! Hostile strings in real mounts (the `hostile` workload): whatever a
//! path, a source, mount data or a command name holds, the column output
//! is one line of printable ASCII per event that no string can forge,
//! rendered as strace renders it, and the JSON output is one valid object
//! per line that gives the raw strings back (invalid UTF-8 as U+FFFD).

use crate::common::*;

include!("../workload/hostile_strings.rs");
/// The workload's command name as the COMM column shows it.
const COMM_SHOWN: &str = r#"h\n\33[31m\40\"\\\377\t\177xy"#;
/// 2 namespace set-up calls, 9 names x 2, 2 at 4095 bytes, 2 at 4096,
/// 2 with hostile data, 2 with a hostile source, 2 by the thread with
/// no name, 1 clean-up.
const CALLS: usize = 31;

/// The line a newline in a name would forge, if a newline got through.
fn forged(l: &Line) -> bool {
    l.pid == 1 && l.call == r#"umount2("x", 0) = 0"#
}

/// The same, with strace not attached: the workload run alone, compared
/// with a separate strace run.
#[test]
fn hostile_strings_alone_match_a_separate_strace_run() {
    require_bpf!();
    let (ours, theirs) = alone_and_strace(
        "hostile-alone",
        "mount,umount2",
        &["--syscall", "mount,umount2"],
        &[workload(), "hostile"],
        &[],
        str::to_string,
    );
    assert_eq!(ours.iter().map(Vec::len).sum::<usize>(), CALLS);
    assert_same_processes(&ours, &theirs);
}

#[test]
fn hostile_strings_match_strace() {
    require_bpf!();
    let (ours, strace) =
        mountsnoop_and_strace("hostile-strace", "mount,umount2", &[workload(), "hostile"]);
    assert_eq!(strace.len(), 2, "main thread and the thread with no name");
    assert_eq!(assert_same_calls(&ours, &strace), CALLS);

    let all: Vec<&String> = ours.values().flatten().collect();
    let has = |needle: &str| all.iter().any(|c| c.contains(needle));
    for shown in [
        r#"/nl\nmountsnoop-test 1       1       4026531840  umount2(\"x\", 0) = 0\n", 0) = 0"#,
        r#"/csi\33[31mred\33[0m", "tmpfs", 0, NULL) = 0"#,
        r#"/osc\33]0;title\7", 0) = 0"#,
        r#"/quotes\"'\"", 0) = 0"#,
        r#"/back\\slash\\n\\", 0) = 0"#,
        r#"/bad\377\376utf8\303", 0) = 0"#,
        r#"/tab\there", 0) = 0"#,
        r#"/del\177", 0) = 0"#,
        r#"/ctl\0017\0331\r", 0) = 0"#,
        r#""tmpfs", 0, "size=1m,\33[2J") = -1 EINVAL (Invalid argument)"#,
        r#""tmpfs", 0, "size=1m,\n\"\\\377\t\177") = -1 EINVAL (Invalid argument)"#,
        r#"mount("src\n\33]0;title\7\"\377", "#,
        r#"eeeeeeeee"..., "tmpfs", 0, NULL) = -1 ENAMETOOLONG (File name too long)"#,
        r#"eeeeeeeee"..., 0) = -1 ENAMETOOLONG (File name too long)"#,
    ] {
        assert!(has(shown), "no call shows {shown}: {all:#?}");
    }
    // The 4095-byte path whole, quoted: 4097 characters plus the rest.
    assert!(all.iter().any(|c| c.starts_with("mount(\"none\", \"/")
        && c.ends_with("e\", \"tmpfs\", 0, NULL) = 0")
        && c.len() == "mount(\"none\", \"".len() + 4095 + "\", \"tmpfs\", 0, NULL) = 0".len()));
}

#[test]
fn hostile_strings_cannot_forge_a_line() {
    require_bpf!();
    let snoop = Snoop::start(&[]);
    let pid = run_workload("hostile", &[]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);

    let mut out = done.stdout.lines();
    assert_eq!(out.next(), Some(HEADER));
    for line in out {
        assert!(printable(line), "not printable ASCII: {line:?}");
        let event = parse_line(line).unwrap_or_else(|| panic!("not an event: {line:?}"));
        assert!(!forged(&event), "forged: {line}");
    }
    // One line per call, each with the caller's own command name.
    let ours: Vec<Line> = lines(&done.stdout)
        .into_iter()
        .filter(|l| l.pid == pid)
        .collect();
    assert_eq!(ours.len(), CALLS, "{}", done.stdout);
    for l in &ours {
        assert!(
            ["mountsnoop-test", COMM_SHOWN, "\"\""].contains(&l.comm.as_str()),
            "{l:?}"
        );
        assert!(l.call.starts_with("mount(") || l.call.starts_with("umount2("));
    }
    let named = |c: &str| ours.iter().filter(|l| l.comm == c).count();
    assert_eq!(named("mountsnoop-test"), 2, "the namespace set-up");
    assert_eq!(named(COMM_SHOWN), 27);
    assert_eq!(named("\"\""), 2, "the thread with an empty name");
}

#[test]
fn hostile_strings_round_trip_in_json() {
    require_bpf!();
    let snoop = Snoop::start(&["--json"]);
    let pid = run_workload("hostile", &[]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);

    let mut ours = Vec::new();
    for line in done.stdout.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        if v["pid"] == pid {
            ours.push(v);
        }
    }
    assert_eq!(ours.len(), CALLS, "{}", done.stdout);

    let strings = |key: &str| -> Vec<String> {
        ours.iter()
            .filter_map(|v| v["args"][key].as_str().map(str::to_string))
            .collect()
    };
    let targets = strings("target");
    for name in NAMES {
        let raw = format!("/{}", String::from_utf8_lossy(name));
        let n = targets.iter().filter(|t| t.ends_with(&raw)).count();
        assert!(n >= 2, "{raw:?} is the target of {n} calls: {targets:#?}");
    }
    assert!(targets
        .iter()
        .any(|t| t.ends_with("/bad\u{fffd}\u{fffd}utf8\u{fffd}")));
    // The 4095-byte paths whole, and the 4096-byte ones as the CALL text
    // shows them: their first 4095 bytes, marked as cut.
    assert_eq!(targets.iter().filter(|t| t.len() == 4095).count(), 4);
    let too_long: Vec<&serde_json::Value> = ours
        .iter()
        .filter(|v| v["arg_state"]["target"] == serde_json::json!(["truncated"]))
        .collect();
    assert_eq!(too_long.len(), 2);
    assert!(too_long.iter().all(|v| v["error"] == "ENAMETOOLONG"
        && v["truncated"] == true
        && v["args"]["target"]
            .as_str()
            .is_some_and(|t| t.len() == 4095)));

    let data = strings("data");
    assert!(data.contains(&"size=1m,\u{1b}[2J".to_string()), "{data:?}");
    assert!(
        data.contains(&"size=1m,\n\"\\\u{fffd}\t\u{7f}".to_string()),
        "{data:?}"
    );
    let sources = strings("source");
    assert!(
        sources.contains(&"src\n\u{1b}]0;title\u{7}\"\u{fffd}".to_string()),
        "{sources:?}"
    );
    let comms: Vec<&str> = ours.iter().filter_map(|v| v["comm"].as_str()).collect();
    let comm = String::from_utf8_lossy(COMM);
    assert_eq!(comms.iter().filter(|&&c| c == comm).count(), 27);
    assert_eq!(comms.iter().filter(|c| c.is_empty()).count(), 2);
}
