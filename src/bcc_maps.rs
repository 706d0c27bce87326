//! bcc's container filters (--cgroupmap, --mntnsmap): hash maps pinned on
//! a BPF file system by another program, whose keys name what to trace.
//! Opened and checked here, before anything is loaded; the tracer gives
//! them to the BPF program in place of its own maps.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use libbpf_rs::MapInfo;
use nix::errno::Errno;

/// Which of bcc's two maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `cgroupset`: key u64 cgroup v2 id, value u64.
    Cgroups,
    /// `mount_ns_set`: key u64 mount namespace inode number, value u32.
    MountNamespaces,
}

impl SetKind {
    pub fn flag(self) -> &'static str {
        match self {
            SetKind::Cgroups => "--cgroupmap",
            SetKind::MountNamespaces => "--mntnsmap",
        }
    }

    /// bcc's name for the map in its BPF programs.
    fn bcc_name(self) -> &'static str {
        match self {
            SetKind::Cgroups => "cgroupset",
            SetKind::MountNamespaces => "mount_ns_set",
        }
    }

    fn key(self) -> &'static str {
        match self {
            SetKind::Cgroups => "u64 cgroup v2 id",
            SetKind::MountNamespaces => "u64 mount namespace inode number",
        }
    }

    const KEY_SIZE: u32 = 8;

    fn value_size(self) -> u32 {
        match self {
            SetKind::Cgroups => 8,
            SetKind::MountNamespaces => 4,
        }
    }

    /// The layout bcc's tools expect, for error messages.
    fn layout(self) -> String {
        format!(
            "bcc's {} is a hash map, key {} bytes ({}), value {} bytes",
            self.bcc_name(),
            Self::KEY_SIZE,
            self.key(),
            self.value_size()
        )
    }
}

/// A pinned map, open and checked.
#[derive(Debug)]
pub struct PinnedSet {
    pub kind: SetKind,
    pub path: PathBuf,
    fd: OwnedFd,
    id: u32,
    name: String,
    max_entries: u32,
}

impl PinnedSet {
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// What `-v` says of it.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            SetKind::Cgroups => "whose cgroup v2 id",
            SetKind::MountNamespaces => "whose mount namespace inode number",
        };
        format!(
            "{} {}: only callers {what} is a key of map id {} '{}' ({} entries at most), looked up at every call",
            self.kind.flag(),
            self.path.display(),
            self.id,
            self.name,
            self.max_entries
        )
    }
}

/// Opens the map pinned at `path` and checks it is the one bcc's tools
/// take; else says, in one line, what is wrong.
pub fn open(kind: SetKind, path: &Path) -> Result<PinnedSet> {
    let head = format!("{} {}", kind.flag(), path.display());
    let fd = obj_get(path).map_err(|why| anyhow!("{head}: not a pinned BPF map ({why})"))?;
    // A pinned program or link opens too: only a map's fd is a bpf-map.
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default();
    let link = link.to_string_lossy();
    if link != "anon_inode:bpf-map" {
        let what = link.strip_prefix("anon_inode:bpf-").unwrap_or("BPF object");
        bail!("{head}: not a pinned BPF map (a pinned {what})");
    }
    let info = MapInfo::new(fd.as_fd())
        .map_err(|e| anyhow!("{head}: cannot read the map's information ({e})"))?;
    let info = info.info;
    if info.type_ != libbpf_rs::libbpf_sys::BPF_MAP_TYPE_HASH {
        bail!(
            "{head}: a BPF map of type {}, not hash ({})",
            map_type_name(info.type_),
            kind.layout()
        );
    }
    if info.key_size != SetKind::KEY_SIZE {
        bail!(
            "{head}: the map's keys are {} bytes, not {} ({})",
            info.key_size,
            SetKind::KEY_SIZE,
            kind.layout()
        );
    }
    if info.value_size != kind.value_size() {
        bail!(
            "{head}: the map's values are {} bytes, not {} ({})",
            info.value_size,
            kind.value_size(),
            kind.layout()
        );
    }
    let name: Vec<u8> = info
        .name
        .iter()
        .take_while(|&&c| c != 0)
        // c_char: i8 on x86_64, already u8 on aarch64.
        .map(|&c| u8::from_ne_bytes(c.to_ne_bytes()))
        .collect();
    Ok(PinnedSet {
        kind,
        path: path.to_path_buf(),
        fd,
        id: info.id,
        name: String::from_utf8_lossy(&name).into_owned(),
        max_entries: info.max_entries,
    })
}

/// BPF_OBJ_GET on `path`, or why it failed, with a hint at the cause.
fn obj_get(path: &Path) -> std::result::Result<OwnedFd, String> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| "the path holds a NUL byte".to_string())?;
    // SAFETY: a valid C string; the fd returned is ours alone.
    let fd = unsafe { libbpf_rs::libbpf_sys::bpf_obj_get(c_path.as_ptr()) };
    if fd >= 0 {
        // SAFETY: a fresh fd that nothing else owns.
        return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    let errno = Errno::last();
    // The kernel says EACCES (or EINVAL) for a file not on a bpffs: say
    // what the file is instead.
    if path.exists() {
        return Err(if !on_bpffs(path) {
            "the file is not on a BPF file system (bpffs)".to_string()
        } else if path.is_dir() {
            "a directory".to_string()
        } else if matches!(errno, Errno::EACCES | Errno::EPERM) {
            format!("{}: needs root, or CAP_BPF", errno.desc())
        } else {
            errno.desc().to_string()
        });
    }
    Err(match nearest_existing(path) {
        Some(dir) if errno == Errno::ENOENT && !on_bpffs(&dir) => format!(
            "{}, and {} is not on a BPF file system: is bpffs mounted? (mount -t bpf bpf /sys/fs/bpf)",
            errno.desc(),
            dir.display()
        ),
        _ => errno.desc().to_string(),
    })
}

/// The deepest directory of `path` that exists.
fn nearest_existing(path: &Path) -> Option<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    abs.ancestors()
        .skip(1)
        .find(|p| p.is_dir())
        .map(Path::to_path_buf)
}

fn on_bpffs(path: &Path) -> bool {
    use nix::sys::statfs::{statfs, BPF_FS_MAGIC};
    statfs(path).is_ok_and(|fs| fs.filesystem_type() == BPF_FS_MAGIC)
}

/// libbpf's name for a map type ("array", "lru_hash"), or its number.
fn map_type_name(ty: u32) -> String {
    // SAFETY: libbpf returns a static string, or NULL for a type it does
    // not know.
    let name = unsafe { libbpf_rs::libbpf_sys::libbpf_bpf_map_type_str(ty) };
    if name.is_null() {
        return ty.to_string();
    }
    // SAFETY: non-NULL: a NUL-terminated static string.
    unsafe { std::ffi::CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}
