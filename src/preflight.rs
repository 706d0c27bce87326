//! Checks made before loading anything, so that a missing privilege or
//! kernel feature gets one clear line instead of libbpf's noise.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::syscalls::Syscall;

const BTF: &str = "/sys/kernel/btf/vmlinux";
const TRACEFS: &str = "/sys/kernel/tracing";
const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// The effective capability set of this process, from /proc/self/status.
fn effective_caps() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .context("cannot read /proc/self/status to check privileges")?;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .context("/proc/self/status has no CapEff line")?;
    u64::from_str_radix(hex.trim(), 16).context("CapEff in /proc/self/status is not hex")
}

/// Root, or CAP_BPF with CAP_PERFMON (or the older CAP_SYS_ADMIN).
pub fn check_privileges() -> Result<()> {
    let caps = effective_caps()?;
    let has = |cap: u32| caps & (1u64 << cap) != 0;
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)) {
        return Ok(());
    }
    let uid = nix::unistd::geteuid();
    // Root without the capabilities (a container, a capability bounding
    // set): sudo would not help.
    let advice = if uid.is_root() {
        "this root has had them dropped (capability bounding set, container): grant CAP_BPF and CAP_PERFMON"
    } else {
        "try sudo mountsnoop"
    };
    bail!("needs root, or CAP_BPF and CAP_PERFMON (running as uid {uid} without them): {advice}");
}

pub fn check_btf() -> Result<()> {
    if Path::new(BTF).exists() {
        return Ok(());
    }
    bail!(
        "kernel has no BTF at {BTF}: mountsnoop needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Linux 5.5 or later)"
    );
}

fn events_dir(root: &str) -> PathBuf {
    Path::new(root).join("events")
}

/// Where the tracepoints are listed; mounts tracefs if nobody has.
pub fn tracefs_events() -> Result<PathBuf> {
    for root in [TRACEFS, DEBUGFS_TRACING] {
        let events = events_dir(root);
        if events.is_dir() {
            return Ok(events);
        }
    }
    let mounted = nix::mount::mount(
        Some("tracefs"),
        TRACEFS,
        Some("tracefs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    );
    match mounted {
        Ok(()) if events_dir(TRACEFS).is_dir() => Ok(events_dir(TRACEFS)),
        Ok(()) => bail!("mounted tracefs on {TRACEFS} but it has no events directory"),
        Err(e) => bail!(
            "tracefs is not mounted and mounting it failed ({e}): run `mount -t tracefs nodev {TRACEFS}`"
        ),
    }
}

/// True when both of a call's tracepoints exist.
pub fn has_tracepoints(events: &Path, call: Syscall) -> bool {
    let Some(tp) = call.tracepoint() else {
        return false;
    };
    ["enter", "exit"].iter().all(|dir| {
        events
            .join("syscalls")
            .join(format!("sys_{dir}_{tp}"))
            .is_dir()
    })
}

/// The calls this kernel can trace; an error if a required one is missing.
/// A call no 64-bit table has (the old umount) is there when 32-bit calls
/// are traced, on x86_64.
pub fn available_calls(events: &Path, compat: bool) -> Result<Vec<Syscall>> {
    let mut out = Vec::new();
    for call in Syscall::ALL {
        match call.tracepoint() {
            None if compat && cfg!(target_arch = "x86_64") => out.push(call),
            None => {}
            Some(_) if has_tracepoints(events, call) => out.push(call),
            Some(tp) if call.required() => bail!(
                "kernel has no tracepoint syscalls/sys_enter_{tp} under {}: it needs CONFIG_FTRACE_SYSCALLS=y",
                events.display()
            ),
            Some(_) => {}
        }
    }
    Ok(out)
}
