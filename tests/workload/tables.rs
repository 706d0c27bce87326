//! `tables MODE`: mount-table changes that no call in the namespace that
//! sees them makes, for `--mounts` with the kernel's reports. Prints what
//! its own /proc/self/mountinfo gained and lost (and a child's), one
//! `KEY VALUE` line each, for the test to compare with:
//!
//! - `ns INUM`: our namespace; `child_ns INUM`: the child's.
//! - `added PATH` / `removed PATH`: our table, before and after.
//! - `child_had PATH`: the child's table just before it exited.
//!
//! Modes: `propagate` (a child in a namespace of its own mounts under a
//! shared mount: the mount appears here in its peer and in a slave),
//! `detach-tree` (umount2(MNT_DETACH) of a tree with submounts),
//! `ns-exit` (a child's namespace, with a mount of its own, ends with
//! it), `automount` (tracefs, mounted by the kernel under a debugfs).

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult};

use crate::shared::mkdir;

/// mountsnoop learns of a new namespace as a process enters it, and
/// describes a mount as it reads its report: each state is held this
/// long, so that what the test compares was there to be seen.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(500));
}

fn mount_points(pid: &str) -> BTreeSet<String> {
    std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .collect()
}

fn ns_of(pid: &str) -> u64 {
    std::fs::metadata(format!("/proc/{pid}/ns/mnt")).map_or(0, |m| m.ino())
}

fn tmpfs(at: &Path, name: &str) -> Result<(), String> {
    mkdir(at)?;
    mount(
        Some(name),
        at,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=1m"),
    )
    .map_err(|e| format!("mount tmpfs on {}: {e}", at.display()))
}

fn flags(at: &Path, f: MsFlags) -> Result<(), String> {
    mount(None::<&str>, at, None::<&str>, f, None::<&str>)
        .map_err(|e| format!("{f:?} on {}: {e}", at.display()))
}

/// Runs `child` in a new process in a mount namespace of its own; waits.
fn in_child(child: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    // SAFETY: the child only makes system calls and exits.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            let code = match unshare(CloneFlags::CLONE_NEWNS)
                .map_err(|e| format!("unshare: {e}"))
                .and_then(|()| child())
            {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("mountsnoop-test-workload child: {e}");
                    1
                }
            };
            // SAFETY: leaves the child without running the parent's atexit.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            let status = waitpid(child, None).map_err(|e| format!("waitpid: {e}"))?;
            match status {
                nix::sys::wait::WaitStatus::Exited(_, 0) => Ok(()),
                other => Err(format!("child: {other:?}")),
            }
        }
    }
}

pub fn run(base: &Path, args: &[String]) -> Result<(), String> {
    let mode = args.first().map(String::as_str).unwrap_or("");
    println!("ns {}", ns_of("self"));
    if mode != "churn" {
        settle();
    }
    let before = mount_points("self");
    match mode {
        "propagate" => {
            let shared = base.join("P");
            tmpfs(&shared, "peer")?;
            flags(&shared, MsFlags::MS_SHARED)?;
            mkdir(&shared.join("x"))?;
            let slave = base.join("S");
            mkdir(&slave)?;
            mount(
                Some(&shared),
                &slave,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| format!("bind: {e}"))?;
            flags(&slave, MsFlags::MS_SLAVE)?;
            let before = mount_points("self");
            in_child(|| {
                println!("child_ns {}", ns_of("self"));
                settle();
                tmpfs(&shared.join("x"), "kid")?;
                settle();
                Ok(())
            })?;
            settle();
            report(&before, &mount_points("self"));
            return Ok(());
        }
        "detach-tree" => {
            let top = base.join("T");
            tmpfs(&top, "top")?;
            tmpfs(&top.join("a"), "a")?;
            tmpfs(&top.join("a/b"), "b")?;
            tmpfs(&top.join("c"), "c")?;
            let before = mount_points("self");
            settle();
            umount2(&top, MntFlags::MNT_DETACH).map_err(|e| format!("umount2: {e}"))?;
            report(&before, &mount_points("self"));
            return Ok(());
        }
        "ns-exit" => {
            in_child(|| {
                println!("child_ns {}", ns_of("self"));
                settle();
                tmpfs(&base.join("E"), "own")?;
                settle();
                for p in mount_points("self") {
                    println!("child_had {p}");
                }
                Ok(())
            })?;
        }
        "automount" => {
            let d = base.join("D");
            mkdir(&d)?;
            mount(
                Some("none"),
                &d,
                Some("debugfs"),
                MsFlags::empty(),
                None::<&str>,
            )
            .map_err(|e| format!("mount debugfs: {e}"))?;
            let before = mount_points("self");
            settle();
            // The walk into `tracing` makes the kernel mount tracefs there.
            let _ = std::fs::read_dir(d.join("tracing")).map(|r| r.count());
            settle();
            report(&before, &mount_points("self"));
            return Ok(());
        }
        "churn" => {
            // `churn N`: N namespaces made and ended, one after the other,
            // each living a moment (long enough to be watched, sometimes).
            let n: u32 = args
                .get(1)
                .and_then(|n| n.parse().ok())
                .ok_or("churn needs a count")?;
            for _ in 0..n {
                in_child(|| {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    Ok(())
                })?;
            }
            return Ok(());
        }
        other => return Err(format!("tables: unknown mode {other:?}")),
    }
    report(&before, &mount_points("self"));
    Ok(())
}

fn report(before: &BTreeSet<String>, after: &BTreeSet<String>) {
    for p in after.difference(before) {
        println!("added {p}");
    }
    for p in before.difference(after) {
        println!("removed {p}");
    }
}
