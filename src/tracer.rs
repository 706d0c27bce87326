//! The skeleton's life: open, set the filters, load, attach, and read the
//! kernel-side loss counters. Never formats anything.

use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;

use anyhow::{Context, Result};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Link, MapCore, MapFlags, OpenObject};

use crate::skel::types::stat_id;
use crate::skel::{MountsnoopSkel, MountsnoopSkelBuilder};
use crate::syscalls::Syscall;

/// What the kernel side keeps and drops. All filters combine with AND.
#[derive(Debug, Default)]
pub struct Filters {
    pub pid: Option<u32>,
    pub tid: Option<u32>,
    pub uid: Option<u32>,
    pub comm: Option<String>,
    pub mnt_ns: Option<u64>,
    /// An open cgroup v2 directory: that cgroup and those below it.
    pub cgroup: Option<std::fs::File>,
    pub failed_only: bool,
    pub calls: Vec<Syscall>,
    /// Entries of the in-flight map: calls entered and not yet returned.
    pub max_inflight: u32,
    /// Read the caller's parent (pid and comm): only outputs showing it.
    pub want_parent: bool,
}

/// Kernel-side counts of events that never reached the perf buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelLosses {
    /// Calls whose arguments found no room in the `pending` map.
    pub map_full: u64,
    /// perf output failures other than a full buffer.
    pub output_failed: u64,
    /// Events the perf buffer had no room for.
    pub buffer_full: u64,
    /// Not a loss: calls whose large arguments found no room at entry,
    /// read (and marked as read) at exit instead.
    pub args_read_late: u64,
}

impl KernelLosses {
    pub fn total(&self) -> u64 {
        self.map_full + self.output_failed + self.buffer_full
    }
}

/// A call's `[entry, exit]` programs, from the open or the loaded
/// skeleton's `progs`. Exhaustive: a call without programs does not
/// compile, and a renamed program is a compile error, not a call that is
/// silently no longer traced.
macro_rules! programs {
    ($progs:expr, $call:expr) => {{
        let p = $progs;
        match $call {
            Syscall::Mount => [&mut p.enter_mount, &mut p.exit_mount],
            Syscall::Umount2 => [&mut p.enter_umount, &mut p.exit_umount],
            Syscall::Fsopen => [&mut p.enter_fsopen, &mut p.exit_fsopen],
            Syscall::Fsconfig => [&mut p.enter_fsconfig, &mut p.exit_fsconfig],
            Syscall::Fsmount => [&mut p.enter_fsmount, &mut p.exit_fsmount],
            Syscall::MoveMount => [&mut p.enter_move_mount, &mut p.exit_move_mount],
            Syscall::OpenTree => [&mut p.enter_open_tree, &mut p.exit_open_tree],
            Syscall::MountSetattr => [&mut p.enter_mount_setattr, &mut p.exit_mount_setattr],
            Syscall::Fspick => [&mut p.enter_fspick, &mut p.exit_fspick],
            Syscall::PivotRoot => [&mut p.enter_pivot_root, &mut p.exit_pivot_root],
            Syscall::OpenTreeAttr => [&mut p.enter_open_tree_attr, &mut p.exit_open_tree_attr],
        }
    }};
}

/// Opens and loads the BPF object with the filters set; programs of calls
/// not in `filters.calls` are not loaded.
pub fn load<'obj>(
    storage: &'obj mut MaybeUninit<OpenObject>,
    filters: &Filters,
    verbose: bool,
) -> Result<MountsnoopSkel<'obj>> {
    let mut builder = MountsnoopSkelBuilder::default();
    builder.obj_builder.debug(verbose);
    let mut open = builder
        .open(storage)
        .context("opening the BPF object failed (is /sys/kernel/btf/vmlinux readable?)")?;

    let rodata = open
        .maps
        .rodata_data
        .as_deref_mut()
        .context("BPF object has no read-only data section")?;
    rodata.filter_pid = filters.pid.unwrap_or(0);
    rodata.filter_tid = filters.tid.unwrap_or(0);
    if let Some(uid) = filters.uid {
        rodata.filter_uid_on = true;
        rodata.filter_uid = uid;
    }
    if let Some(comm) = &filters.comm {
        rodata.filter_comm_on = true;
        for (dst, src) in rodata.filter_comm.iter_mut().zip(comm.bytes()) {
            *dst = src as i8;
        }
    }
    rodata.filter_mnt_ns = filters.mnt_ns.unwrap_or(0);
    rodata.filter_cgroup_on = filters.cgroup.is_some();
    rodata.failed_only = filters.failed_only;
    rodata.want_parent = filters.want_parent;

    for map in [&mut open.maps.pending, &mut open.maps.pending_big] {
        map.set_max_entries(filters.max_inflight)
            .context("sizing the in-flight maps failed")?;
    }

    for call in Syscall::ALL {
        let wanted = filters.calls.contains(&call);
        for prog in programs!(&mut open.progs, call) {
            prog.set_autoload(wanted);
        }
    }

    let skel = open.load().map_err(load_error)?;
    if let Some(dir) = &filters.cgroup {
        let fd = dir.as_raw_fd() as u32;
        skel.maps
            .cgroup_filter
            .update(&0u32.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
            .context("setting the cgroup filter failed (is it a cgroup v2 directory?)")?;
    }
    Ok(skel)
}

/// Opens a cgroup v2 directory for --cgroup, or says why it is not one.
pub fn open_cgroup(path: &std::path::Path) -> Result<std::fs::File> {
    const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
    let dir = std::fs::File::open(path)
        .with_context(|| format!("cannot open cgroup directory {}", path.display()))?;
    let fs = nix::sys::statfs::fstatfs(&dir)
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if fs.filesystem_type().0 as i64 != CGROUP2_SUPER_MAGIC {
        anyhow::bail!(
            "{} is not a cgroup v2 directory (give a directory under /sys/fs/cgroup)",
            path.display()
        );
    }
    Ok(dir)
}

fn load_error(err: libbpf_rs::Error) -> anyhow::Error {
    // Privileges were checked before; what is left is the verifier, a
    // lockdown, or a kernel too old for what the program uses.
    anyhow::anyhow!(
        "loading the BPF program into the kernel failed: {err} \
         (run with -v to see libbpf's and the verifier's messages)"
    )
}

/// Attaches the programs of `calls`: every exit before any entry, so
/// that no entry is recorded whose exit would be missed.
pub fn attach(skel: &mut MountsnoopSkel, calls: &[Syscall]) -> Result<Vec<Link>> {
    let mut links = Vec::with_capacity(calls.len() * 2);
    for which in [1, 0] {
        for &call in calls {
            let prog = &programs!(&mut skel.progs, call)[which];
            let link = prog.attach().with_context(|| {
                format!(
                    "attaching {} to its tracepoint failed (is tracefs mounted?)",
                    prog.name().to_string_lossy()
                )
            })?;
            links.push(link);
        }
    }
    Ok(links)
}

/// Reads the per-CPU loss counters, summed over CPUs.
pub fn kernel_losses(skel: &MountsnoopSkel) -> Result<KernelLosses> {
    let read = |id: stat_id| -> Result<u64> {
        let values = skel
            .maps
            .stats
            .lookup_percpu(&id.0.to_ne_bytes(), MapFlags::ANY)
            .context("reading the loss counters failed")?
            .unwrap_or_default();
        Ok(values
            .iter()
            .filter_map(|v| v.get(..8).and_then(|b| b.try_into().ok()))
            .map(u64::from_ne_bytes)
            .sum())
    };
    Ok(KernelLosses {
        map_full: read(stat_id::STAT_ARGS_MAP_FULL)?,
        output_failed: read(stat_id::STAT_OUTPUT_FAILED)?,
        buffer_full: read(stat_id::STAT_BUFFER_FULL)?,
        args_read_late: read(stat_id::STAT_BIG_ARGS_READ_LATE)?,
    })
}

/// A call that had entered but not returned when we looked.
#[derive(Debug, Clone, Copy)]
pub struct InFlight {
    pub tid: u32,
    pub call: Option<Syscall>,
    pub start_ns: u64,
}

/// The calls in flight now: the entries of the `pending` map. A thread's
/// entry leaves the map when its call returns, also when the thread is
/// killed in the call (the exit tracepoint still fires), so what is left
/// at the end is only calls still blocked in the kernel.
pub fn calls_in_flight(skel: &MountsnoopSkel) -> Vec<InFlight> {
    let map = &skel.maps.pending;
    map.keys()
        .filter_map(|key| {
            let tid = u32::from_ne_bytes(key.get(..4)?.try_into().ok()?);
            let value = map.lookup(&key, MapFlags::ANY).ok()??;
            let mut entry = crate::skel::types::pending_call::default();
            plain::copy_from_bytes(&mut entry, &value).ok()?;
            Some(InFlight {
                tid,
                call: Syscall::from_id(entry.h.call),
                start_ns: entry.h.start_ns,
            })
        })
        .collect()
}

/// How many calls are in flight now, without reading the entries.
pub fn count_in_flight(skel: &MountsnoopSkel) -> usize {
    skel.maps.pending.keys().count()
}
