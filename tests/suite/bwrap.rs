//! A real-world workload: bubblewrap building a sandbox (bind mounts,
//! remounts, proc, devpts, tmpfs, pivot_root, umount2), every call of
//! every process compared with strace 6.1.

use crate::common::*;

/// The sandbox bwrap builds.
const BWRAP: &[&str] = &[
    "bwrap",
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/bin",
    "/bin",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
    "--unshare-all",
    "true",
];

#[test]
fn bwrap_sandbox_matches_strace() {
    require_bpf!();
    assert!(
        std::process::Command::new("bwrap")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "bwrap not found: apt-get install bubblewrap"
    );
    let (ours, strace) = mountsnoop_and_strace("bwrap-strace", STRACE_CALLS, BWRAP);
    let compared = assert_same_calls(&ours, &strace);
    eprintln!("bwrap: {compared} calls compared with strace 6.1, all identical");

    // bwrap's own steps, whatever the host's /usr holds.
    let all: Vec<&String> = ours.values().flatten().collect();
    let has = |needle: &str| all.iter().any(|c| c.contains(needle));
    for needle in [
        r#"mount(NULL, "/", NULL, MS_REC|MS_SILENT|MS_SLAVE, NULL) = 0"#,
        r#"mount("newroot", "newroot", NULL, MS_MGC_VAL|MS_BIND|MS_REC|MS_SILENT, NULL) = 0"#,
        r#"pivot_root("/tmp", "oldroot") = 0"#,
        r#"mount("/oldroot/usr", "/newroot/usr", NULL, MS_BIND|MS_REC|MS_SILENT, NULL) = 0"#,
        r#"mount("proc", "/newroot/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0"#,
        r#"mount("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID|MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") = 0"#,
        r#"umount2("oldroot", MNT_DETACH) = 0"#,
        r#"pivot_root(".", ".") = 0"#,
    ] {
        assert!(has(needle), "no call has {needle}");
    }
    // bubblewrap 0.8.0 (Debian 12) makes 30 calls for this sandbox here;
    // the exact count depends on its version and on the host's /usr and
    // /proc, so only a floor is asserted: every call made was compared.
    assert!(compared >= 25, "only {compared} calls compared");
}

/// The same, with strace not attached: the sandbox built alone, compared
/// with a separate strace run, thread by thread.
#[test]
fn bwrap_sandbox_alone_matches_a_separate_strace_run() {
    require_bpf!();
    let (ours, theirs) = alone_and_strace(
        "bwrap-alone",
        STRACE_CALLS,
        &["-n", "bwrap"],
        BWRAP,
        &[],
        str::to_string,
    );
    assert!(ours.iter().map(Vec::len).sum::<usize>() >= 20, "{ours:#?}");
    assert_same_processes(&ours, &theirs);
}

/// bubblewrap with a flatpak-shaped filter built by libseccomp
/// (`tests/bwrap-filter.py`, passed as `--seccomp 3`): bwrap's own set-up
/// runs; inside, util-linux mount and umount are refused. Every call, run
/// or refused, is printed as a separate strace run prints it.
#[test]
fn bwrap_with_a_libseccomp_filter_matches_a_separate_strace_run() {
    require_bpf!();
    let inside = "mount -t tmpfs none /tmp; umount /tmp; mount --bind /tmp /mnt; true";
    let all = filtered_bwrap("bwrap-seccomp", inside, &[]);
    for refused in [
        r#"mount("none", "/tmp", "tmpfs", "#,
        r#"umount2("/tmp", 0) = -1 EPERM"#,
        r#"mount("/tmp", "/mnt", "#,
    ] {
        assert!(
            all.iter()
                .any(|c| c.starts_with(refused)
                    && c.ends_with("= -1 EPERM (Operation not permitted)")),
            "no refused {refused}: {all:#?}"
        );
    }
}

/// The same filter around the project's workload: its mount(2) and
/// umount2(2) calls, every one refused with EPERM, and the new API with
/// ENOSYS, print as a separate strace run prints them.
#[test]
fn bwrap_with_a_libseccomp_filter_around_the_workload() {
    require_bpf!();
    let target = std::path::Path::new(workload())
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let inside = format!(
        "MOUNTSNOOP_WORKLOAD_REFUSED=1 {w} core; MOUNTSNOOP_WORKLOAD_REFUSED=1 {w} mount-api; true",
        w = workload()
    );
    let all = filtered_bwrap(
        "bwrap-seccomp-workload",
        &inside,
        &["--ro-bind", &target, &target],
    );
    let refused = |prefix: &str, errno: &str| {
        all.iter()
            .filter(|c| c.starts_with(prefix) && c.ends_with(errno))
            .count()
    };
    // The workload's own calls (bwrap's set-up ran before the filter).
    assert!(
        refused("mount(", "= -1 EPERM (Operation not permitted)") >= 20,
        "{all:#?}"
    );
    assert!(
        refused("umount2(", "= -1 EPERM (Operation not permitted)") >= 5,
        "{all:#?}"
    );
    assert!(
        refused("fsopen(", "= -1 ENOSYS (Function not implemented)") >= 1,
        "{all:#?}"
    );
}

/// Runs `inside` (a shell command) in bwrap's sandbox (with `binds`
/// added) under the libseccomp filter, alone under mountsnoop, then
/// separately under strace; asserts both print the same calls, bwrap's
/// own set-up included, and returns them.
fn filtered_bwrap(tag: &str, inside: &str, binds: &[&str]) -> Vec<String> {
    let dir = temp_dir(&format!("{tag}-filter"));
    let filter = dir.join("filter.bpf");
    let made = std::process::Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/bwrap-filter.py"
        ))
        .arg(&filter)
        .status()
        .expect("run /usr/bin/python3");
    assert!(
        made.success(),
        "tests/bwrap-filter.py failed: apt-get install python3-seccomp"
    );
    // The processes compared are found through the calls' parents, so no
    // process between the command's and the calls may be without calls:
    // `exec` makes the shell the outer bwrap, and `--as-pid-1` makes the
    // inner bwrap (whose calls build the sandbox) the shell that runs the
    // refused commands.
    let script = format!(
        "exec {} --seccomp 3 {} {} --as-pid-1 sh -c '{inside}' 3<{}",
        BWRAP[0],
        BWRAP[1..BWRAP.len() - 1].join(" "),
        binds.join(" "),
        filter.display()
    );
    let (ours, theirs) = alone_and_strace(
        tag,
        STRACE_CALLS,
        &[],
        &["sh", "-c", &script],
        &[],
        str::to_string,
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_same_processes(&ours, &theirs);
    let all: Vec<String> = ours.into_iter().flatten().collect();
    // bwrap's own set-up ran (pivot_root is refused only inside).
    assert!(
        all.iter().any(|c| *c == r#"pivot_root(".", ".") = 0"#),
        "{all:#?}"
    );
    all
}
