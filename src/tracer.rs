//! The skeleton's life: open, set the filters, load, attach, and read the
//! kernel-side loss counters. Never formats anything.

use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;

use anyhow::{Context, Result};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Link, MapCore, MapFlags, OpenObject, TracepointCategory};

use crate::bcc_maps::PinnedSet;
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
    /// bcc's --cgroupmap: cgroups whose v2 id is a key of this map.
    pub cgroupset: Option<PinnedSet>,
    /// bcc's --mntnsmap: mount namespaces whose inode number is a key.
    pub mount_ns_set: Option<PinnedSet>,
    pub failed_only: bool,
    pub calls: Vec<Syscall>,
    /// Entries of the in-flight map: calls entered and not yet returned.
    pub max_inflight: u32,
    /// Trace 32-bit calls too (raw tracepoints: every syscall pays a check).
    pub compat: bool,
    /// Read the caller's parent (pid and comm): only outputs showing it.
    pub want_parent: bool,
    /// Resolve fd arguments and returned fds (-y).
    pub want_fd_paths: bool,
    /// Resolve the directories relative path arguments start from.
    pub want_abs_paths: bool,
    /// Read the caller's cgroup paths.
    pub want_cgroup: bool,
    /// Report mount namespaces as processes enter them (--mounts with the
    /// kernel's mount notifications): room for this many, else None.
    pub watch_namespaces: Option<u32>,
}

/// Kernel-side counts of events that never reached the perf buffer, and
/// of calls shown with less than usual.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelLosses {
    /// Not a loss: calls whose entry found no room in the `pending` map,
    /// shown from their exit alone (arguments read then, no latency).
    pub map_full: u64,
    /// perf output failures other than a full buffer.
    pub output_failed: u64,
    /// Events the perf buffer had no room for.
    pub buffer_full: u64,
    /// Not a loss: calls whose large arguments found no room at entry,
    /// read (and marked as read) at exit instead.
    pub args_read_late: u64,
    /// Exits with no entry whose arguments the kernel cannot give (no
    /// bpf_task_pt_regs before Linux 5.15).
    pub exit_only_lost: u64,
}

impl Filters {
    /// Some output needs what the kernel side resolves into name slots.
    pub fn want_names(&self) -> bool {
        self.want_fd_paths || self.want_abs_paths || self.want_cgroup
    }
}

impl KernelLosses {
    /// The events lost.
    pub fn total(&self) -> u64 {
        self.output_failed + self.buffer_full + self.exit_only_lost
    }
}

/// True for a call a 64-bit table has, whose tracepoints the shared
/// programs attach to. Exhaustive: a new call does not compile without
/// saying.
fn has_64_bit_call(call: Syscall) -> bool {
    match call {
        Syscall::Mount
        | Syscall::Umount2
        | Syscall::Fsopen
        | Syscall::Fsconfig
        | Syscall::Fsmount
        | Syscall::MoveMount
        | Syscall::OpenTree
        | Syscall::MountSetattr
        | Syscall::Fspick
        | Syscall::PivotRoot
        | Syscall::OpenTreeAttr => true,
        Syscall::Umount => false,
    }
}

/// Opens and loads the BPF object with the filters set; programs of calls
/// not in `filters.calls` are not loaded.
/// Where every call is hooked when 32-bit calls are traced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawHook {
    /// The BTF-typed raw tracepoints (tp_btf): registers read with plain
    /// loads, the cheaper of the two for every system call.
    Btf,
    /// The raw tracepoints: where the kernel refuses tracing programs.
    Raw,
}

pub fn load<'obj>(
    storage: &'obj mut MaybeUninit<OpenObject>,
    filters: &Filters,
    hook: RawHook,
) -> Result<MountsnoopSkel<'obj>> {
    // Not obj_builder.debug(): it prints libbpf's messages to stdout,
    // which carries events only; -v sets a callback to stderr (main).
    let builder = MountsnoopSkelBuilder::default();
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
    rodata.filter_cgroupset_on = filters.cgroupset.is_some();
    rodata.filter_mount_ns_set_on = filters.mount_ns_set.is_some();
    rodata.failed_only = filters.failed_only;
    rodata.want_parent = filters.want_parent;
    rodata.want_fd_paths = filters.want_fd_paths;
    rodata.want_abs_paths = filters.want_abs_paths;
    rodata.want_cgroup = filters.want_cgroup;

    // A scratch slot per CPU that may ever run a program.
    let cpus = libbpf_rs::num_possible_cpus().context("counting the possible CPUs failed")? as u32;
    for map in [&mut open.maps.scratch, &mut open.maps.entry_scratch] {
        map.set_max_entries(cpus)
            .context("sizing the scratch buffers failed")?;
    }
    for map in [&mut open.maps.pending, &mut open.maps.pending_big] {
        map.set_max_entries(filters.max_inflight)
            .context("sizing the in-flight maps failed")?;
    }

    // The program looks the caller up in the pinned maps themselves, so
    // that their keeper's changes apply at once; an unused map costs one
    // entry.
    for (map, set) in [
        (&mut open.maps.cgroupset, &filters.cgroupset),
        (&mut open.maps.mount_ns_set, &filters.mount_ns_set),
    ] {
        match set {
            Some(set) => map.reuse_fd(set.fd()).with_context(|| {
                format!(
                    "{} {}: the pinned map cannot be used",
                    set.kind.flag(),
                    set.path.display()
                )
            })?,
            None => map
                .set_max_entries(1)
                .context("sizing the unused filter maps failed")?,
        }
    }

    // Either the raw programs, which see 32-bit calls too, or the shared
    // per-call programs, attached to each 64-bit call's tracepoints.
    // Of each hook's two builds, the one with the kernel-side names only
    // when an output needs them (its path walks cost load time).
    let native = filters.calls.iter().any(|&c| has_64_bit_call(c));
    let per_call = native && !filters.compat;
    let raw = filters.compat && hook == RawHook::Raw;
    let btf = filters.compat && hook == RawHook::Btf;
    let names = filters.want_names();
    let p = &mut open.progs;
    for (prog, on) in [
        (&mut p.enter_call, per_call && !names),
        (&mut p.exit_call, per_call && !names),
        (&mut p.enter_call_names, per_call && names),
        (&mut p.exit_call_names, per_call && names),
        (&mut p.raw_enter, raw && !names),
        (&mut p.raw_exit, raw && !names),
        (&mut p.raw_enter_names, raw && names),
        (&mut p.raw_exit_names, raw && names),
        (&mut p.btf_enter, btf && !names),
        (&mut p.btf_exit, btf && !names),
        (&mut p.btf_enter_names, btf && names),
        (&mut p.btf_exit_names, btf && names),
    ] {
        prog.set_autoload(on);
    }
    let mask = filters.calls.iter().fold(0, |m, c| m | 1 << c.id());
    rodata.compat_calls = mask;
    rodata.native_calls = mask;

    let ns = filters.watch_namespaces.is_some();
    for prog in [
        &mut open.progs.ns_unshare,
        &mut open.progs.ns_setns,
        &mut open.progs.ns_clone,
        &mut open.progs.ns_clone3,
    ] {
        prog.set_autoload(ns);
    }
    // Twice the namespaces watched: those that ended and were not yet
    // forgotten do not push out the live ones.
    open.maps
        .ns_seen
        .set_max_entries(filters.watch_namespaces.map_or(1, |n| n.saturating_mul(2)))
        .context("sizing the namespace map failed")?;

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

/// True when this kernel gives a task's saved registers to a tracepoint
/// program (bpf_task_pt_regs), which a call seen only at exit needs.
pub fn can_show_exit_only_calls() -> bool {
    // SAFETY: a probe with no pointers: libbpf loads a tiny program.
    let rc = unsafe {
        libbpf_sys::libbpf_probe_bpf_helper(
            libbpf_sys::BPF_PROG_TYPE_TRACEPOINT,
            libbpf_sys::BPF_FUNC_task_pt_regs,
            std::ptr::null(),
        )
    };
    rc == 1
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
pub fn attach(skel: &mut MountsnoopSkel, filters: &Filters) -> Result<Vec<Link>> {
    let mut links = Vec::with_capacity(filters.calls.len() * 2 + 2);
    let attach = |prog: &libbpf_rs::ProgramMut| {
        prog.attach().with_context(|| {
            format!(
                "attaching {} to its tracepoint failed (is tracefs mounted?)",
                prog.name().to_string_lossy()
            )
        })
    };
    if filters.watch_namespaces.is_some() {
        for prog in [
            &skel.progs.ns_unshare,
            &skel.progs.ns_setns,
            &skel.progs.ns_clone,
            &skel.progs.ns_clone3,
        ] {
            links.push(attach(prog)?);
        }
    }
    if filters.compat {
        // Exit before entry, so that no entry is recorded whose exit
        // would be missed.
        let p = &skel.progs;
        let (exit, enter) = match (uses_btf_hooks(skel), filters.want_names()) {
            (true, false) => (&p.btf_exit, &p.btf_enter),
            (true, true) => (&p.btf_exit_names, &p.btf_enter_names),
            (false, false) => (&p.raw_exit, &p.raw_enter),
            (false, true) => (&p.raw_exit_names, &p.raw_enter_names),
        };
        links.push(attach(exit)?);
        links.push(attach(enter)?);
        return Ok(links);
    }
    let tracepoint = |prog: &libbpf_rs::ProgramMut, name: String| {
        prog.attach_tracepoint(TracepointCategory::Syscalls, &name)
            .with_context(|| {
                format!("attaching to the tracepoint syscalls/{name} failed (is tracefs mounted?)")
            })
    };
    let native: Vec<&str> = filters
        .calls
        .iter()
        .filter(|&&c| has_64_bit_call(c))
        .filter_map(|c| c.tracepoint())
        .collect();
    let (exit, enter) = if filters.want_names() {
        (&skel.progs.exit_call_names, &skel.progs.enter_call_names)
    } else {
        (&skel.progs.exit_call, &skel.progs.enter_call)
    };
    // Every exit before any entry.
    for tp in &native {
        links.push(tracepoint(exit, format!("sys_exit_{tp}"))?);
    }
    for tp in &native {
        links.push(tracepoint(enter, format!("sys_enter_{tp}"))?);
    }
    Ok(links)
}

/// True when every call is hooked on the BTF-typed raw tracepoints.
pub fn uses_btf_hooks(skel: &MountsnoopSkel) -> bool {
    skel.progs.btf_exit.autoload() || skel.progs.btf_exit_names.autoload()
}

/// Tells the BPF program which threads were already inside a traced call
/// when tracing began (after attach, and after the header: until then an
/// exit without an entry is only ever shown as "entry not seen") (their exits have no entry, and are not refused
/// calls), then lets it take exits without entries as refused calls.
/// `/proc/PID/task/TID/syscall` names the call each thread is in; listing
/// after the entry programs are attached misses none.
pub fn arm(skel: &mut MountsnoopSkel) -> Result<()> {
    for tid in threads_in_traced_calls() {
        // A full map only weakens the evidence for those threads: their
        // exits are then shown as "entry not seen" anyway, or not at all.
        let _ = skel
            .maps
            .entered_before
            .update(&tid.to_ne_bytes(), &[1u8], MapFlags::ANY);
    }
    let bss = skel
        .maps
        .bss_data
        .as_deref_mut()
        .context("BPF object has no .bss section")?;
    bss.armed = true;
    Ok(())
}

/// Threads now inside one of the traced calls (by its 64-bit or 32-bit
/// number: a thread's table is not in /proc, so both count).
fn threads_in_traced_calls() -> Vec<u32> {
    let numbers: &[i64] = &TRACED_SYSCALL_NUMBERS;
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for pid in procs.flatten() {
        let Ok(tasks) = std::fs::read_dir(pid.path().join("task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Some(tid) = task
                .file_name()
                .to_str()
                .and_then(|t| t.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(line) = std::fs::read_to_string(task.path().join("syscall")) else {
                continue;
            };
            let nr = line
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<i64>().ok());
            if nr.is_some_and(|n| numbers.contains(&n)) {
                out.push(tid);
            }
        }
    }
    out
}

/// The traced calls' numbers in this architecture's 64-bit and 32-bit
/// tables (the new mount API has the same numbers in both).
#[cfg(target_arch = "x86_64")]
const TRACED_SYSCALL_NUMBERS: [i64; 15] = [
    165, 166, 155, // x86_64: mount, umount2, pivot_root
    21, 22, 52, 217, // i386: mount, umount, umount2, pivot_root
    428, 429, 430, 431, 432, 433, 442, 467,
];
#[cfg(target_arch = "aarch64")]
const TRACED_SYSCALL_NUMBERS: [i64; 14] = [
    40, 39, 41, // aarch64: mount, umount2, pivot_root
    21, 52, 218, // arm: mount, umount2, pivot_root
    428, 429, 430, 431, 432, 433, 442, 467,
];

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
        exit_only_lost: read(stat_id::STAT_EXIT_ONLY_LOST)?,
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

/// Marks a mount namespace as reported (`seen`) or forgets it, so that
/// the kernel side reports it again once its inode number is reused.
pub fn namespace_seen(skel: &MountsnoopSkel, inum: u64, seen: bool) {
    let map = &skel.maps.ns_seen;
    // A full LRU map pushes out an old key; a missing key is no error.
    let _ = if seen {
        map.update(&inum.to_ne_bytes(), &[1u8], MapFlags::ANY)
    } else {
        map.delete(&inum.to_ne_bytes())
    };
}
