//! Arguments are read when the call starts, as the kernel copies them:
//! a thread that rewrites them while the call is blocked cannot change
//! what is printed.

use crate::common::*;

/// The calls of the `rewrite` scenario, by their first words, with what
/// their arguments must read (the originals) once the base directory is
/// replaced by BASE.
const REWRITE_EXPECTED: &[&str] = &[
    r#"mount("orig-src", "BASE/fuse/orig-mnt", "tmpfs", 0, "size=1m,orig")"#,
    r#"umount2("BASE/fuse/orig-umount", 0)"#,
    r#"move_mount(AT_FDCWD, "BASE/fuse/orig-from", AT_FDCWD, "BASE/fuse/orig-to", 0)"#,
    r#"open_tree(AT_FDCWD, "BASE/fuse/orig-tree", OPEN_TREE_CLONE)"#,
    r#"fspick(AT_FDCWD, "BASE/fuse/orig-pick", 0)"#,
    r#"mount_setattr(AT_FDCWD, "BASE/fuse/orig-setattr", 0, {attr_set=MOUNT_ATTR_RDONLY, attr_clr=0, propagation=0, userns_fd=0}, 32)"#,
    r#"pivot_root("BASE/fuse/orig-newroot", "BASE/fuse/orig-putold")"#,
];

#[test]
fn arguments_rewritten_during_a_blocked_call_print_as_given() {
    require_bpf!();
    let snoop = Snoop::start(&["--json"]);
    let pid = run_workload("rewrite", &[]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let mut calls = Vec::new();
    let mut changed = 0;
    for line in done.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        if v["pid"] != pid || v["tid"] == pid {
            continue; // the namespace set-up, by the main thread
        }
        // Nothing was read late: every argument as the call started; and
        // each argument the other thread rewrote is said to have been.
        let states = v["arg_state"].as_object().unwrap();
        let rewritten = states
            .values()
            .filter(|s| **s == serde_json::json!(["changed_during_call"]))
            .count();
        assert_eq!(rewritten, states.len(), "{line}");
        changed += rewritten;
        let call = v["call"].as_str().unwrap();
        let base = call
            .find("/tmp/mountsnoop-test.")
            .map(|at| &call[at..at + 27])
            .unwrap_or("no base")
            .to_string();
        let args = call.rsplit_once(" = ").expect("a result").0;
        calls.push(args.replace(&base, "BASE"));
    }
    calls.sort();
    let mut expected: Vec<String> = REWRITE_EXPECTED.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(calls, expected, "{}", done.stderr);
    // mount's source, target and data, umount2's target, move_mount's
    // two paths, open_tree's, fspick's, mount_setattr's path and struct,
    // pivot_root's two paths.
    assert_eq!(changed, 12, "{}", done.stdout);
    assert!(
        done.stderr
            .contains("12 argument(s) were rewritten while their call ran"),
        "{}",
        done.stderr
    );
}

const UNTOUCHED_CALLS: &str =
    "mount,umount2,fsopen,fsconfig,move_mount,open_tree,fspick,mount_setattr,pivot_root";

/// Strings on pages the process never touched, in calls the kernel
/// refuses before it copies them: printed as strace prints them, the
/// workload run alone (strace's own reads would fault the pages in), and
/// compared with a separate strace run.
#[test]
fn strings_on_untouched_pages_print_as_strace_prints_them() {
    require_bpf!();
    let snoop = Snoop::start(&["--json"]);
    let pid = run_workload("untouched", &[]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let mut ours = Vec::new();
    let mut after_call = 0;
    let mut at_exit = 0;
    for line in done.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        let (p, pp) = (
            v["pid"].as_u64().unwrap() as u32,
            v["ppid"].as_u64().unwrap() as u32,
        );
        if p != pid && pp != pid {
            continue;
        }
        for state in v["arg_state"].as_object().unwrap().values() {
            let s = state.as_array().unwrap();
            after_call += s.iter().filter(|s| *s == "read_after_call").count();
            at_exit += s.iter().filter(|s| *s == "read_at_exit").count();
            assert!(!s.iter().any(|s| s == "unreadable"), "{line}");
        }
        ours.push((p, as_strace_6_1(v["call"].as_str().unwrap())));
    }
    // In each process: the ten arguments of the refused calls, and
    // pivot_root's put_old (the kernel stops at new_root, not found), were
    // read from its memory after the call; the kernel faulted mount's
    // four and new_root in during the call.
    assert_eq!(after_call, 22, "{}", done.stdout);
    assert_eq!(at_exit, 10, "{}", done.stdout);

    let theirs = strace_run("untouched", UNTOUCHED_CALLS, &[workload(), "untouched"]);
    let (ours, theirs) = (per_process(ours), per_process(theirs));
    assert_eq!(ours.len(), 2, "a parent and a child");
    assert_same_processes(&ours, &theirs);
}

/// Strings that end where memory ends, in every path argument and in
/// mount's type: as strace prints them (4095 bytes and `...`; the
/// address), the workload run alone and compared with a separate strace
/// run.
#[test]
fn strings_ending_at_unmapped_memory_print_as_strace_prints_them() {
    require_bpf!();
    let snoop = Snoop::start(&[]);
    let pid = run_workload("edges", &[]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let ours: Vec<(u32, String)> = calls_of_pid(&done.stdout, pid)
        .into_values()
        .flatten()
        .map(|c| (pid, as_strace_6_1(&c)))
        .collect();
    let theirs = strace_run("edges", EDGE_CALLS, &[workload(), "edges"]);
    let ours = per_process(ours);
    let cut = format!("\"{}\"...", "p".repeat(4095));
    let cut_paths: usize = ours[0].iter().map(|c| c.matches(&cut).count()).sum();
    assert_eq!(cut_paths, 11, "every path argument, cut: {ours:#?}");
    assert!(
        ours[0]
            .iter()
            .any(|c| c.starts_with("mount(\"none\", \"/nonexistent-mountsnoop\", ADDR")),
        "the 8192-byte type as its address: {ours:#?}"
    );
    assert_eq!(
        ours,
        per_process(theirs),
        "mountsnoop (alone) vs strace (separate run)"
    );
}

const EDGE_CALLS: &str =
    "mount,umount2,fsopen,fsconfig,move_mount,open_tree,fspick,mount_setattr,pivot_root";
