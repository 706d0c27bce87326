//! 32-bit calls: a 32-bit program, and a 64-bit one using `int $0x80`,
//! seen and printed as strace prints them for that process.

use crate::common::*;

const CALLS: &str = "mount,umount,umount2,fsopen,fsconfig,fsmount,move_mount,open_tree,\
                     mount_setattr,fspick,pivot_root";

/// One call as mountsnoop printed it: pid, ABI, CALL text.
type Seen = (u32, String, String);

/// `name`'s calls under mountsnoop (run alone), with their ABI, and the
/// same program's calls under a separate strace run, per process.
fn ours_and_strace(name: &str, args: &[&str]) -> (Vec<Seen>, Vec<Vec<String>>) {
    let snoop = Snoop::start(&["--json"]);
    let pids = run_c(name, args);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let ours: Vec<Seen> = json_events_of(&done.stdout, &pids)
        .into_iter()
        .map(|v| {
            (
                v["pid"].as_u64().unwrap() as u32,
                v["abi"].as_str().unwrap().to_string(),
                v["call"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let path = c_program(name);
    let mut cmd = vec![path.to_str().unwrap()];
    cmd.extend_from_slice(args);
    let theirs = per_process(
        strace_run(name, CALLS, &cmd)
            .into_iter()
            // strace 6.1 does not know open_tree_attr: compared elsewhere.
            .filter(|(_, c)| !c.starts_with("syscall_0x1d3("))
            .collect(),
    );
    (ours, theirs)
}

fn compare(ours: &[Seen], theirs: Vec<Vec<String>>) {
    let ours = per_process(
        ours.iter()
            .filter(|(_, _, c)| !c.starts_with("open_tree_attr("))
            .map(|(p, _, c)| (*p, as_strace_6_1(c)))
            .collect(),
    );
    assert_same_processes(&ours, &theirs);
}

#[test]
fn a_32_bit_programs_calls_match_strace() {
    require_bpf!();
    let (ours, theirs) = ours_and_strace("mount32", &[]);
    // Every call, through the 32-bit table: the old umount too.
    assert!(ours.len() >= 35, "{ours:#?}");
    assert!(ours.iter().all(|(_, abi, _)| abi == "i386"), "{ours:#?}");
    for call in [
        "umount(",
        "umount2(",
        "fsmount(",
        "move_mount(",
        "pivot_root(",
        "open_tree_attr(",
    ] {
        assert!(
            ours.iter().any(|(_, _, c)| c.starts_with(call)),
            "no {call}: {ours:#?}"
        );
    }
    compare(&ours, theirs);
}

#[test]
fn int_0x80_from_a_64_bit_program_matches_strace() {
    require_bpf!();
    let (ours, theirs) = ours_and_strace("int80", &[]);
    let int80: Vec<_> = ours.iter().filter(|(_, abi, _)| abi == "i386").collect();
    // mount, umount2, mount, umount, failing mount; the set-up is 64-bit.
    assert_eq!(int80.len(), 5, "{ours:#?}");
    compare(&ours, theirs);
}

/// --no-32bit leaves them out (and says nothing false about them).
#[test]
fn no_32bit_leaves_32_bit_calls_out() {
    require_bpf!();
    let snoop = Snoop::start(&["--no-32bit", "--json"]);
    let pids = run_c("mount32", &[]);
    let done = snoop.stop();
    let ours: Vec<&str> = done
        .stdout
        .lines()
        .filter(|l| pids.iter().any(|p| l.contains(&format!("\"pid\":{p},"))))
        .collect();
    assert!(ours.is_empty(), "{ours:#?}");
}

/// `--syscall umount2` brings the old umount along; `--syscall umount`
/// is the old call alone.
#[test]
fn syscall_umount2_selects_the_old_umount_too() {
    require_bpf!();
    for (flag, want) in [
        ("umount2", &["umount", "umount2"][..]),
        ("umount", &["umount"][..]),
    ] {
        let snoop = Snoop::start(&["--syscall", flag]);
        let pids = run_c("mount32", &[]);
        let done = snoop.stop();
        let mut names: Vec<String> = lines(&done.stdout)
            .into_iter()
            .filter(|l| pids.contains(&l.pid))
            .map(|l| l.call[..l.call.find('(').unwrap()].to_string())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names, want, "--syscall {flag}");
    }
}

/// Where the kernel refuses BTF-typed tracing programs, mountsnoop falls
/// back on the raw tracepoints; forced here, the same calls are seen: a
/// 32-bit program's and a refused one's.
#[test]
fn the_raw_tracepoint_fallback_sees_the_same_calls() {
    require_bpf!();
    let snoop = Snoop::start_env(&["--json"], &[("MOUNTSNOOP_HOOK", "raw_tp")]);
    // Its programs are the raw ones (no other mountsnoop loads them).
    let progs = std::process::Command::new("bpftool")
        .args(["prog", "show"])
        .output()
        .expect("bpftool (apt-get install bpftool)");
    let progs = String::from_utf8_lossy(&progs.stdout);
    assert!(progs.contains("name raw_exit"), "{progs}");
    let calls32 = run_c("mount32", &[]);
    let refused = run_c("seccomp", &["errno"]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let of = |pids: &[u32]| json_events_of(&done.stdout, pids);
    let calls32 = of(&calls32);
    assert!(calls32.len() >= 35, "{calls32:#?}");
    assert!(calls32.iter().all(|v| v["abi"] == "i386"));
    let refused = of(&refused);
    assert_eq!(refused.len(), 4, "{refused:#?}");
    assert!(refused.iter().all(|v| v["seccomp"] == "errno"));
}

/// `tests/vm/expected-mount32.txt` is what this host prints for mount32's
/// calls: the arm64 QEMU matrix checks that the armhf build's calls print
/// the same, so the file must follow any change of the rendering.
#[test]
fn the_arm64_matrix_expects_what_the_host_prints_for_mount32() {
    require_bpf!();
    let snoop = Snoop::start(&[]);
    let pids = run_c("mount32", &[]);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    // As guest-check.sh normalizes: the temporary directory is BASE, a
    // pointer (a stack address) is ADDR.
    let normalize = |call: &str| {
        let mut call = without_addresses(call);
        let prefix = "/tmp/mountsnoop-test.";
        while let Some(at) = call.find(prefix) {
            call.replace_range(at..at + prefix.len() + 6, "BASE");
        }
        call
    };
    let mut ours: Vec<String> = lines(&done.stdout)
        .iter()
        .filter(|l| pids.contains(&l.pid))
        .map(|l| normalize(&l.call))
        .collect();
    // A kernel older than 6.15 has no open_tree_attr: not traced there.
    let has_open_tree_attr = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        .iter()
        .any(|t| {
            std::path::Path::new(t)
                .join("events/syscalls/sys_enter_open_tree_attr")
                .is_dir()
        });
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/expected-mount32.txt");
    let mut expected: Vec<String> = std::fs::read_to_string(file)
        .expect("read tests/vm/expected-mount32.txt")
        .lines()
        .filter(|l| has_open_tree_attr || !l.starts_with("open_tree_attr("))
        .map(normalize)
        .collect();
    ours.sort();
    expected.sort();
    assert_eq!(
        ours, expected,
        "mount32's calls on this host vs tests/vm/expected-mount32.txt \
         (regenerate it from this output if the rendering changed on purpose)"
    );
}
