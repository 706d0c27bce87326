//! The new mount API end to end: every call of the `mount-api` workload,
//! thread by thread, as strace 6.1 prints it.

use crate::common::*;

/// open_tree_attr's number; strace 6.1 does not know the call (it cannot
/// be named in `-e trace=`) and prints it as `syscall_0x1d3(...)`.
const STRACE_OPEN_TREE_ATTR: &str = "syscall_0x1d3(";

/// The arguments of strace's `syscall_0x1d3(a, b, ...) = r` line.
fn raw_args(line: &str) -> Vec<String> {
    let inner = &line[STRACE_OPEN_TREE_ATTR.len()..line.rfind(") = ").unwrap()];
    inner.split(", ").map(str::to_string).collect()
}

#[test]
fn mount_api_calls_match_strace() {
    require_bpf!();
    let (mut ours, mut strace) =
        mountsnoop_and_strace("mount-api-strace", STRACE_CALLS, &[workload(), "mount-api"]);
    // Main thread, 3 workers, the pivot_root child.
    assert_eq!(
        strace.len(),
        5,
        "threads and processes: {:?}",
        strace.keys()
    );

    // open_tree_attr: checked against hand-written lines, then set aside.
    let main = *strace
        .iter()
        .find(|(_, calls)| calls.iter().any(|c| c.starts_with(STRACE_OPEN_TREE_ATTR)))
        .expect("open_tree_attr calls in strace's output")
        .0;
    let theirs: Vec<String> = strace
        .get_mut(&main)
        .unwrap()
        .extract_if_compat(|c| c.starts_with(STRACE_OPEN_TREE_ATTR));
    let mine: Vec<String> = ours
        .get_mut(&main)
        .unwrap()
        .extract_if_compat(|c| c.starts_with("open_tree_attr("));
    assert_eq!(theirs.len(), 4, "{theirs:#?}");
    let attr = "{attr_set=MOUNT_ATTR_RDONLY, attr_clr=0, propagation=0, userns_fd=0}";
    let expected = [
        format!(
            r#"open_tree_attr(AT_FDCWD, "m1", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC, {attr}, 32) = 3"#
        ),
        format!(
            r#"open_tree_attr(AT_FDCWD, "nonexistent", OPEN_TREE_CLONE, {attr}, 32) = -1 ENOENT (No such file or directory)"#
        ),
        r#"open_tree_attr(AT_FDCWD, "m1", OPEN_TREE_CLONE, NULL, 0) = 3"#.to_string(),
        format!(
            r#"open_tree_attr(AT_FDCWD, "m1", OPEN_TREE_CLONE, {}, 8) = -1 EINVAL (Invalid argument)"#,
            raw_args(&theirs[3])[3]
        ),
    ];
    assert_eq!(mine, expected);
    for (t, e) in theirs.iter().zip(&expected) {
        let (t_ret, e_ret) = (t.rsplit(") = ").next(), e.rsplit(") = ").next());
        let t_ret = t_ret.unwrap().replace("0x3", "3");
        assert_eq!(Some(t_ret.as_str()), e_ret, "strace: {t}");
    }

    let ours: Calls = ours
        .into_iter()
        .map(|(tid, calls)| (tid, calls.iter().map(|c| as_strace_6_1(c)).collect()))
        .collect();
    let compared = assert_same_calls(&ours, &strace);
    eprintln!(
        "mount-api: {compared} calls compared with strace 6.1, all identical; \
         {} open_tree_attr calls checked against expected lines",
        mine.len()
    );
    // Main: 2 namespace set-up + 50 + 2 umount2 + 1 clean-up; 3 workers x 9;
    // the pivot_root child 7.
    assert_eq!(compared, 55 + 3 * 9 + 7, "calls compared");

    let all: Vec<&String> = ours.values().flatten().collect();
    let has = |needle: &str| all.iter().any(|c| c.contains(needle));
    for needle in [
        r#"fsopen("tmpfs", FSOPEN_CLOEXEC) = "#,
        r#"FSCONFIG_SET_STRING, "size", "2m", 0) = 0"#,
        "FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0",
        r#"FSCONFIG_SET_BINARY, "size", "\x01\xbc\xff\x00\x62\x69", 6) = -1 EINVAL"#,
        r#"FSCONFIG_SET_PATH, "source", "/tmp", AT_FDCWD) = -1"#,
        r#"FSCONFIG_SET_FD, "source", NULL, "#,
        "FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV) = ",
        "OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE) = ",
        "AT_RECURSIVE, {attr_set=MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOEXEC, attr_clr=0,",
        r#"/* bytes 32..39 */ "\x34\x12\x00\x00\x00\x00\x00\x00"}, 40) = -1 E2BIG"#,
        r#"FSPICK_CLOEXEC) = "#,
        "propagation=0 /* MS_??? */, userns_fd=0, ???}, 40) = -1 EFAULT (Bad address)",
        r#"k"..., "kkk"#,
        "FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) = 0",
        r#"/newroot/old") = 0"#,
        "pivot_root(NULL, ",
    ] {
        assert!(has(needle), "no call has {needle}");
    }
}

/// `Vec::extract_if` is newer than our minimum Rust.
trait ExtractIf {
    fn extract_if_compat(&mut self, f: impl Fn(&String) -> bool) -> Vec<String>;
}

impl ExtractIf for Vec<String> {
    fn extract_if_compat(&mut self, f: impl Fn(&String) -> bool) -> Vec<String> {
        let (taken, kept): (Vec<String>, Vec<String>) = self.drain(..).partition(|c| f(c));
        *self = kept;
        taken
    }
}

/// The same, with strace not attached: the workload run alone (its
/// workers one after another, so that fd numbers do not depend on how
/// threads interleave), compared with a separate strace run. strace 6.1
/// does not know open_tree_attr: those calls are compared above.
#[test]
fn mount_api_calls_alone_match_a_separate_strace_run() {
    require_bpf!();
    let env = [
        (WORKLOAD_COMM, "api-alone"),
        ("MOUNTSNOOP_WORKLOAD_SERIAL", "1"),
    ];
    let (ours, theirs) = alone_and_strace(
        "mount-api-alone",
        STRACE_CALLS,
        &["-n", "api-alone"],
        &[workload(), "mount-api"],
        &env,
        as_strace_6_1,
    );
    let drop_open_tree_attr = |p: Vec<Vec<String>>| -> Vec<Vec<String>> {
        p.into_iter()
            .map(|calls| {
                calls
                    .into_iter()
                    .filter(|c| {
                        !c.starts_with("open_tree_attr(") && !c.starts_with(STRACE_OPEN_TREE_ATTR)
                    })
                    .collect()
            })
            .collect()
    };
    let (ours, theirs) = (drop_open_tree_attr(ours), drop_open_tree_attr(theirs));
    assert_eq!(
        ours.iter().map(Vec::len).sum::<usize>(),
        55 + 3 * 9 + 7,
        "{ours:#?}"
    );
    assert_same_processes(&ours, &theirs);
}
