//! Who mounted what, where: fds shown as `strace -y` shows them (-y),
//! path arguments made absolute, the caller's cgroup and container.

use crate::common::*;

/// The new mount API and mount(2), run alone under `mountsnoop -y`, then
/// separately under `strace -y`: every call, fds and returned fds
/// included, prints the same. (strace 6.1 does not know open_tree_attr:
/// those calls are set aside, as in suite::mount_api.)
#[test]
fn fds_alone_match_a_separate_strace_y_run() {
    require_bpf!();
    for (scenario, calls, expected) in [
        ("mount-api", STRACE_CALLS, 55 + 3 * 9 + 7),
        ("core", "mount,umount2", CORE_CALLS),
    ] {
        let comm = format!("y-{scenario}");
        let env = [
            (WORKLOAD_COMM, comm.as_str()),
            ("MOUNTSNOOP_WORKLOAD_SERIAL", "1"),
        ];
        let (ours, theirs) = alone_and_strace_with(
            &format!("y-{scenario}"),
            calls,
            &["-y"],
            &["-n", &comm],
            &[workload(), scenario],
            &env,
            as_strace_6_1,
        );
        let no_open_tree_attr = |p: Vec<Vec<String>>| -> Vec<Vec<String>> {
            p.into_iter()
                .map(|calls| {
                    calls
                        .into_iter()
                        .filter(|c| {
                            !c.starts_with("open_tree_attr(") && !c.starts_with("syscall_0x1d3(")
                        })
                        .collect()
                })
                .collect()
        };
        let (ours, theirs) = (no_open_tree_attr(ours), no_open_tree_attr(theirs));
        // strace 6.1 takes mount_setattr's 0 for an fd (`= 0</dev/null>`,
        // the workload's stdin): a strace bug we do not copy.
        let theirs: Vec<Vec<String>> = theirs
            .into_iter()
            .map(|calls| {
                calls
                    .into_iter()
                    .map(|c| match c.strip_suffix(" = 0</dev/null>") {
                        Some(call) if c.starts_with("mount_setattr(") => format!("{call} = 0"),
                        _ => c,
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            ours.iter().map(Vec::len).sum::<usize>(),
            expected,
            "{ours:#?}"
        );
        assert_same_processes(&ours, &theirs);
        if scenario == "mount-api" {
            let all: Vec<&String> = ours.iter().flatten().collect();
            let has = |needle: &str| all.iter().any(|c| c.contains(needle));
            assert!(has("= 3<anon_inode:[fscontext]>"), "{all:#?}");
            assert!(has("fsconfig(3<anon_inode:[fscontext]>, "), "{all:#?}");
            assert!(has("AT_FDCWD</"), "{all:#?}");
        }
    }
}

/// JSON gives each path argument's absolute form, what each fd referred
/// to (with -y), and the caller's cgroup; outside a container, no
/// container.
#[test]
fn json_places_paths_fds_and_cgroup() {
    require_bpf!();
    let snoop = Snoop::start(&["--json", "-y"]);
    let pid = run_workload("mount-api", &[]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let events = json_events_of(&done.stdout, &[pid]);
    assert!(!events.is_empty());
    let cgroup = std::fs::read_to_string(format!("/proc/{}/cgroup", std::process::id())).unwrap();
    let v2 = cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("a v2 cgroup line");
    for e in &events {
        // The workload runs in the test's cgroup.
        assert_eq!(e["cgroup"], v2, "{e}");
        assert_eq!(e["container"], serde_json::Value::Null, "{e}");
    }
    let fsopen = events
        .iter()
        .find(|e| e["syscall"] == "fsopen" && e["ret"].as_i64() > Some(0))
        .expect("a successful fsopen");
    assert_eq!(
        fsopen["fd_paths"]["ret"], "anon_inode:[fscontext]",
        "{fsopen}"
    );
    // Relative paths, from the cwd and from a dirfd, made absolute.
    let (base, pid, done) = relative_under(&["--json", "-y", "-n", "python3"], "relative");
    let base = base.as_str();
    let events = json_events_of(&done.stdout, &[pid]);
    let calls: Vec<&str> = events.iter().map(|e| e["call"].as_str().unwrap()).collect();
    assert_eq!(events.len(), 5, "{calls:#?}");
    let mount = &events[1];
    assert_eq!(mount["args"]["target"], "m", "{mount}");
    assert_eq!(mount["paths"]["target"], format!("{base}/m"), "{mount}");
    // "none" is not a path: it is left as it is.
    assert!(mount["paths"].get("source").is_none(), "{mount}");
    let open_tree = &events[2];
    assert_eq!(
        open_tree["paths"]["path"],
        format!("{base}/m"),
        "{open_tree}"
    );
    assert_eq!(open_tree["fd_paths"]["dirfd"], base, "{open_tree}");
    assert_eq!(open_tree["fd_paths"]["ret"], "/", "{open_tree}");
    let mv = &events[3];
    assert_eq!(mv["fd_paths"]["from_dirfd"], "/", "{mv}");
    assert_eq!(mv["paths"]["from_path"], "/", "{mv}");
    assert_eq!(mv["paths"]["to_path"], format!("{base}/sub/n"), "{mv}");
    assert_eq!(mv["fd_paths"]["to_dirfd"], format!("{base}/sub"), "{mv}");
    let umount = &events[4];
    assert_eq!(
        umount["paths"]["target"],
        format!("{base}/sub/n"),
        "{umount}"
    );
    // Without -y there are no fd paths, but paths all the same.
    let snoop = Snoop::start(&["--json"]);
    let pid = run_workload("core", &[]);
    let done = snoop.stop();
    let events = json_events_of(&done.stdout, &[pid]);
    assert_eq!(events.len(), CORE_CALLS);
    for e in &events {
        assert_eq!(e["fd_paths"], serde_json::json!({}), "{e}");
        let target = e["paths"]["target"].as_str().expect("target made absolute");
        assert!(target.starts_with('/'), "{e}");
        assert!(!e["call"].as_str().unwrap().contains('<'), "{e}");
    }
}

/// Mounts with relative paths, in a private mount namespace: mount from
/// the cwd, open_tree from AT_FDCWD, move_mount to a dirfd, umount2 from
/// another cwd.
const RELATIVE: &str = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
assert libc.unshare(0x20000) == 0
assert libc.mount(b"none", b"/", None, 0x40000 | 0x4000, None) == 0
os.chdir(sys.argv[1])
os.mkdir("m"); os.mkdir("sub"); os.mkdir("sub/n")
assert libc.mount(b"none", b"m", b"tmpfs", 0, None) == 0
tree = libc.syscall(428, -100, b"m", 1 | 0o2000000)
assert tree >= 0
sub = os.open("sub", os.O_RDONLY | os.O_DIRECTORY)
assert libc.syscall(429, tree, b"", sub, b"n", 4) == 0
os.chdir("sub")
assert libc.umount2(b"n", 2) == 0
"#;

/// Runs RELATIVE in a fresh directory while `mountsnoop ARGS` traces;
/// returns the directory, the script's pid and mountsnoop's output.
fn relative_under(args: &[&str], tag: &str) -> (String, u32, Finished) {
    let dir = temp_dir(tag);
    let base = dir.to_str().unwrap().to_string();
    // --mounts: the records built from the calls, the subject here.
    let snoop = Snoop::start_env(args, &[("MOUNTSNOOP_TABLES", "calls")]);
    let mut child = std::process::Command::new("/usr/bin/python3")
        .args(["-c", RELATIVE, &base])
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    let done = snoop.stop();
    let _ = std::fs::remove_dir_all(&dir);
    (base, pid, done)
}

/// A working directory deeper than the kernel-side walk goes: marked as
/// cut (`...` first), never printed wrong: what is shown is the end of
/// the path strace shows.
#[test]
fn paths_too_deep_are_marked_cut() {
    require_bpf!();
    let script = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
base = sys.argv[1]
os.chdir(base)
for i in range(70):
    os.mkdir("d%d" % i)
    os.chdir("d%d" % i)
libc.syscall(428, -100, b".", 1)
"#;
    let dir = temp_dir("deep");
    let base = dir.to_str().unwrap();
    let cmd = ["/usr/bin/python3", "-c", script, base];
    let snoop = Snoop::start(&["-y", "-n", "python3"]);
    let mut child = std::process::Command::new(cmd[0])
        .args(&cmd[1..])
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    let done = snoop.stop();
    let ours = calls_of_pid(&done.stdout, pid);
    let ours: Vec<&String> = ours.values().flatten().collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    let _ = std::fs::remove_dir_all(&dir);
    let dir = temp_dir("deep");
    let theirs = strace_calls_with("deep-strace", "open_tree", &["-y"], &cmd, &[]);
    let theirs: Vec<&String> = theirs.values().flatten().collect();
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    let _ = std::fs::remove_dir_all(&dir);
    // open_tree(AT_FDCWD<.../d21/.../d69>, ".", 0x1 /* OPEN_TREE_??? */) = 3</...>
    let shown = |c: &str| -> String {
        let start = c.find("AT_FDCWD<").unwrap() + "AT_FDCWD<".len();
        c[start..start + c[start..].find('>').unwrap()].to_string()
    };
    let (ours, theirs) = (shown(ours[0]), shown(theirs[0]));
    let kept = ours
        .strip_prefix("...")
        .expect("a cut path starts with ...");
    assert!(theirs.ends_with(kept), "ours {ours}, strace {theirs}");
    assert!(
        kept.ends_with("/d69") && kept.len() < theirs.len(),
        "{kept}"
    );
}

/// The mount records place relative paths with the kernel-resolved cwd
/// and dirfds: the tmpfs mounted at "m", the clone of it moved to "n"
/// through a dirfd, and its unmount from another cwd.
#[test]
fn mount_records_are_placed_absolutely() {
    require_bpf!();
    let (base, pid, done) = relative_under(&["--mounts", "-n", "python3"], "relative-records");
    let changes: Vec<String> = done
        .stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some(&pid.to_string()))
        .map(|l| l.split_whitespace().skip(4).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        changes,
        [
            "~ / - - private,recursive".to_string(),
            format!("+ {base}/m tmpfs none rw"),
            format!("= {base}/sub/n - {base}/m bind"),
            format!("- {base}/sub/n - - -"),
        ],
        "{}",
        done.stdout
    );
}
