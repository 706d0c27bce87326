//! Broken environments: root without the capabilities, no tracefs, a
//! missing tracepoint, no BTF. Each gets one clear line on stderr, exit
//! status 1 and nothing on stdout; without tracefs mountsnoop mounts it
//! itself. Everything that changes mounts runs in a private mount
//! namespace (`unshare -m`), so the host is untouched. (Not root at all:
//! suite/core.rs, unprivileged_user_gets_one_clear_line.)

use std::process::{Command, Output};

use crate::common::*;

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// Removes every tracefs from where libbpf and mountsnoop look, debugfs
/// with it (its `tracing` directory mounts tracefs on first access), and
/// checks that none is left.
const NO_TRACEFS: &str = r#"
while umount /sys/kernel/debug/tracing 2>/dev/null; do :; done
while umount /sys/kernel/debug 2>/dev/null; do :; done
while umount /sys/kernel/tracing 2>/dev/null; do :; done
if grep -q ' - tracefs ' /proc/self/mountinfo; then echo 'set-up: tracefs still mounted' >&2; exit 90; fi
if [ -e /sys/kernel/debug/tracing ]; then echo 'set-up: debugfs tracing still there' >&2; exit 90; fi
"#;

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Outcome {
    fn from(out: Output) -> Outcome {
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `script` with sh in a private mount namespace of its own, with
/// $MS the mountsnoop binary.
fn in_private_namespace(script: &str) -> Outcome {
    let out = Command::new("timeout")
        .args([
            "60",
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
        ])
        .arg(script)
        .env("MS", MOUNTSNOOP)
        .output()
        .expect("unshare (util-linux)");
    let o = Outcome::from(out);
    assert_ne!(o.code, Some(90), "set-up failed: {}", o.stderr);
    o
}

/// Exit 1, nothing on stdout, one line on stderr that says `needles`,
/// and no panic.
fn assert_one_clear_line(o: &Outcome, needles: &[&str]) {
    let all = format!(
        "status {:?}\nstdout {:?}\nstderr {:?}",
        o.code, o.stdout, o.stderr
    );
    assert_eq!(o.code, Some(1), "{all}");
    assert!(o.stdout.is_empty(), "{all}");
    assert_eq!(o.stderr.lines().count(), 1, "{all}");
    assert!(o.stderr.starts_with("mountsnoop: "), "{all}");
    for needle in needles {
        assert!(o.stderr.contains(needle), "no {needle:?}: {all}");
    }
    for bad in ["panicked", "backtrace", "RUST_BACKTRACE", "libbpf"] {
        assert!(!o.stderr.contains(bad), "{all}");
    }
}

/// The effective capabilities of a process started with `setpriv args`.
fn effective_caps_under(setpriv: &[&str]) -> u64 {
    let out = Command::new("setpriv")
        .args(setpriv)
        .args(["grep", "CapEff", "/proc/self/status"])
        .output()
        .expect("setpriv (util-linux)");
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text.split_whitespace().nth(1).expect("CapEff line");
    u64::from_str_radix(hex, 16).unwrap()
}

fn has(caps: u64, cap: u32) -> bool {
    caps & (1 << cap) != 0
}

#[test]
fn root_without_capabilities_gets_one_clear_line() {
    require_bpf!();
    let drop = [
        "--bounding-set=-bpf,-perfmon,-sys_admin",
        "--inh-caps=-bpf,-perfmon,-sys_admin",
    ];
    let caps = effective_caps_under(&drop);
    assert!(
        !has(caps, CAP_BPF) && !has(caps, CAP_PERFMON) && !has(caps, CAP_SYS_ADMIN),
        "setpriv left them: {caps:#x}"
    );
    let out = Command::new("setpriv")
        .args(drop)
        .args([MOUNTSNOOP, "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(nix::unistd::geteuid().as_raw(), 0);
    let o = Outcome::from(out);
    assert_one_clear_line(&o, &["needs root, or CAP_BPF and CAP_PERFMON", "uid 0"]);
    // Root already: sudo is no advice.
    assert!(!o.stderr.contains("sudo"), "{}", o.stderr);
}

#[test]
fn without_tracefs_mountsnoop_mounts_it() {
    require_bpf!();
    let o = in_private_namespace(&format!(
        r#"{NO_TRACEFS}
# Only this shell's calls (it makes none): other tests mount meanwhile.
"$MS" -p $$ --duration 1
rc=$?
grep -q ' /sys/kernel/tracing .* - tracefs ' /proc/self/mountinfo || {{ echo 'tracefs not mounted by mountsnoop' >&2; exit 91; }}
exit $rc"#
    ));
    let all = format!(
        "status {:?}\nstdout {:?}\nstderr {:?}",
        o.code, o.stdout, o.stderr
    );
    assert_eq!(o.code, Some(0), "{all}");
    assert_eq!(o.stdout, format!("{HEADER}\n"), "{all}");
    assert_eq!(o.stderr.lines().count(), 1, "{all}");
    assert!(o.stderr.starts_with("Tracing"), "{all}");
}

#[test]
fn without_tracefs_and_no_way_to_mount_it() {
    require_bpf!();
    // CAP_BPF and CAP_PERFMON are enough to trace, but mount(2) needs
    // CAP_SYS_ADMIN.
    let drop = ["--bounding-set=-sys_admin", "--inh-caps=-sys_admin"];
    let caps = effective_caps_under(&drop);
    assert!(
        has(caps, CAP_BPF) && has(caps, CAP_PERFMON) && !has(caps, CAP_SYS_ADMIN),
        "{caps:#x}"
    );
    let o = in_private_namespace(&format!(
        r#"{NO_TRACEFS}
exec setpriv {} "$MS" --duration 1"#,
        drop.join(" ")
    ));
    assert_one_clear_line(
        &o,
        &[
            "tracefs is not mounted",
            "mount -t tracefs nodev /sys/kernel/tracing",
        ],
    );
}

#[test]
fn missing_tracepoint_is_named() {
    require_bpf!();
    // A tracefs stand-in: syscalls/ without sys_enter_mount; then one
    // without syscalls/ at all, as a kernel without
    // CONFIG_FTRACE_SYSCALLS has it.
    for (dirs, missing) in [
        (
            "syscalls/sys_exit_mount syscalls/sys_enter_umount syscalls/sys_exit_umount",
            "syscalls/sys_enter_mount",
        ),
        (
            "syscalls/sys_enter_mount syscalls/sys_exit_mount syscalls/sys_exit_umount",
            "syscalls/sys_enter_umount",
        ),
        ("sched/sched_switch", "syscalls/sys_enter_mount"),
    ] {
        let o = in_private_namespace(&format!(
            r#"mount -t tmpfs fake-tracefs /sys/kernel/tracing || exit 90
cd /sys/kernel/tracing/ && mkdir events && cd events && mkdir -p {dirs} || exit 90
exec "$MS" --duration 1"#
        ));
        assert_one_clear_line(&o, &[missing, "CONFIG_FTRACE_SYSCALLS"]);
    }
}

#[test]
fn no_btf_gets_one_clear_line() {
    require_bpf!();
    let o = in_private_namespace(
        r#"mount -t tmpfs no-btf /sys/kernel/btf || exit 90
[ -e /sys/kernel/btf/vmlinux ] && exit 90
exec "$MS" --duration 1"#,
    );
    assert_one_clear_line(&o, &["/sys/kernel/btf/vmlinux", "CONFIG_DEBUG_INFO_BTF"]);
}
