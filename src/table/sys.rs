//! The kernel's mount-table interfaces: fanotify's mount notifications
//! (Linux 6.15), statmount(2) and listmount(2) (6.8; in another namespace
//! 6.11), and the nsfs ioctl that names a namespace's 64-bit id (6.12).
//! The C headers here predate them: the numbers are the kernel's uapi
//! ones (include/uapi/linux/fanotify.h, mount.h, nsfs.h).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// fanotify_init: report mount ids, and only mount events.
pub const FAN_REPORT_MNT: u32 = 0x0000_4000;
/// fanotify_mark: the object is a mount namespace, given as an nsfs fd.
pub const FAN_MARK_MNTNS: u32 = 0x0000_0110;
pub const FAN_MNT_ATTACH: u64 = 0x0100_0000;
pub const FAN_MNT_DETACH: u64 = 0x0200_0000;
/// The info record that carries the mount id.
pub const FAN_EVENT_INFO_TYPE_MNT: u8 = 7;
/// _IOR(NSIO, 0x5, __u64): the namespace's 64-bit id, as statmount and
/// listmount take it.
const NS_GET_MNTNS_ID: libc::c_ulong = 0x8008_b705;

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const SYS_STATMOUNT: libc::c_long = 457;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const SYS_LISTMOUNT: libc::c_long = 458;

/// listmount: every mount of the namespace.
const LSMT_ROOT: u64 = u64::MAX;
const MNT_ID_REQ_SIZE_VER1: u32 = 32;

const STATMOUNT_SB_BASIC: u64 = 0x1;
const STATMOUNT_MNT_BASIC: u64 = 0x2;
const STATMOUNT_PROPAGATE_FROM: u64 = 0x4;
const STATMOUNT_MNT_ROOT: u64 = 0x8;
const STATMOUNT_MNT_POINT: u64 = 0x10;
const STATMOUNT_FS_TYPE: u64 = 0x20;
const STATMOUNT_MNT_NS_ID: u64 = 0x40;
const STATMOUNT_MNT_OPTS: u64 = 0x80;
const STATMOUNT_FS_SUBTYPE: u64 = 0x100;
const STATMOUNT_SB_SOURCE: u64 = 0x200;

/// A fanotify group that reports mount attach and detach events.
/// Fails with EINVAL on a kernel older than 6.15.
pub fn fanotify_mount_group() -> io::Result<OwnedFd> {
    let flags = libc::FAN_CLASS_NOTIF | FAN_REPORT_MNT | libc::FAN_NONBLOCK | libc::FAN_CLOEXEC;
    // SAFETY: plain integer arguments.
    let fd = unsafe { libc::fanotify_init(flags, libc::O_RDONLY as u32) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds the namespace of `nsfd` (an open /proc/PID/ns/mnt) to the group.
/// The mark does not keep the namespace alive.
pub fn mark_namespace(group: &OwnedFd, nsfd: &impl AsRawFd) -> io::Result<()> {
    // SAFETY: valid fds, a NULL path (the fd is the object).
    let rc = unsafe {
        libc::fanotify_mark(
            group.as_raw_fd(),
            libc::FAN_MARK_ADD | FAN_MARK_MNTNS,
            FAN_MNT_ATTACH | FAN_MNT_DETACH,
            nsfd.as_raw_fd(),
            std::ptr::null(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A namespace's 64-bit id (unique for the life of the system).
pub fn namespace_id(nsfd: &impl AsRawFd) -> io::Result<u64> {
    let mut id = 0u64;
    // SAFETY: the ioctl writes one u64 into `id`.
    let rc = unsafe { libc::ioctl(nsfd.as_raw_fd(), NS_GET_MNTNS_ID as _, &mut id as *mut u64) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(id)
}

/// One mount event as fanotify reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub mask: u64,
    /// The process that caused it (its thread group id).
    pub pid: i32,
    pub mnt_id: u64,
}

/// What one read of the group gave.
#[derive(Debug, Default)]
pub struct Batch {
    pub reports: Vec<Report>,
    /// The group's queue overflowed: events were lost.
    pub overflowed: bool,
}

/// Parses the records of one read(2) of a fanotify group.
pub fn parse(mut buf: &[u8], out: &mut Batch) {
    const META: usize = 24;
    let u16_at = |b: &[u8], o: usize| u16::from_ne_bytes([b[o], b[o + 1]]) as usize;
    let u32_at = |b: &[u8], o: usize| u32::from_ne_bytes(b[o..o + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |b: &[u8], o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    while buf.len() >= META {
        let len = u32_at(buf, 0) as usize;
        if len < META || len > buf.len() {
            return;
        }
        let event = &buf[..len];
        let mask = u64_at(event, 8);
        let pid = u32_at(event, 20) as i32;
        if mask & libc::FAN_Q_OVERFLOW != 0 {
            out.overflowed = true;
        }
        let mut off = u16_at(event, 6).max(META);
        while off + 4 <= len {
            let (kind, rec_len) = (event[off], u16_at(event, off + 2));
            if rec_len < 4 || off + rec_len > len {
                break;
            }
            // struct { header (4 bytes); padding; __u64 mnt_id; }
            if kind == FAN_EVENT_INFO_TYPE_MNT && rec_len >= 16 {
                out.reports.push(Report {
                    mask,
                    pid,
                    mnt_id: u64_at(event, off + 8),
                });
            }
            off += rec_len;
        }
        buf = &buf[len..];
    }
}

/// Reads what the group holds now (non-blocking).
pub fn read_group(group: &OwnedFd, buf: &mut [u8], out: &mut Batch) -> io::Result<()> {
    loop {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(group.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let err = io::Error::last_os_error();
            return match err.kind() {
                io::ErrorKind::WouldBlock => Ok(()),
                io::ErrorKind::Interrupted => continue,
                _ => Err(err),
            };
        }
        if n == 0 {
            return Ok(());
        }
        parse(&buf[..n as usize], out);
    }
}

#[repr(C)]
struct MntIdReq {
    size: u32,
    spare: u32,
    mnt_id: u64,
    param: u64,
    mnt_ns_id: u64,
}

/// A mount as statmount(2) describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mount {
    pub id: u64,
    pub parent_id: u64,
    /// The namespace's 64-bit id.
    pub ns_id: u64,
    /// Where it is mounted, from the root of its namespace.
    pub target: String,
    /// `type` or `type.subtype`.
    pub fstype: String,
    pub source: String,
    /// Per-mount flags (MOUNT_ATTR_*).
    pub attr: u64,
    /// The superblock's own options, as mountinfo's last field shows them.
    pub sb_options: String,
    /// MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE (and combinations).
    pub propagation: u64,
    pub peer_group: u64,
    pub master: u64,
}

impl Mount {
    /// The options as findmnt prints them: the mount's flags, then the
    /// superblock's options.
    pub fn options(&self) -> String {
        let mut o = String::from(if self.attr & libc::MOUNT_ATTR_RDONLY != 0 {
            "ro"
        } else {
            "rw"
        });
        for (bit, name) in [
            (libc::MOUNT_ATTR_NOSUID, "nosuid"),
            (libc::MOUNT_ATTR_NODEV, "nodev"),
            (libc::MOUNT_ATTR_NOEXEC, "noexec"),
        ] {
            if self.attr & bit != 0 {
                o.push(',');
                o.push_str(name);
            }
        }
        match self.attr & libc::MOUNT_ATTR__ATIME {
            libc::MOUNT_ATTR_NOATIME => o.push_str(",noatime"),
            libc::MOUNT_ATTR_STRICTATIME => {}
            _ => o.push_str(",relatime"),
        }
        for (bit, name) in [
            (libc::MOUNT_ATTR_NODIRATIME, "nodiratime"),
            (libc::MOUNT_ATTR_NOSYMFOLLOW, "nosymfollow"),
            (libc::MOUNT_ATTR_IDMAP, "idmapped"),
        ] {
            if self.attr & bit != 0 {
                o.push(',');
                o.push_str(name);
            }
        }
        if !self.sb_options.is_empty() {
            o.push(',');
            o.push_str(&self.sb_options);
        }
        o
    }

    /// True for the root of its namespace (only a namespace's end
    /// detaches it).
    pub fn is_root(&self) -> bool {
        self.parent_id == self.id
    }
}

/// Describes mount `mnt_id` of namespace `ns_id` (0: our own).
pub fn statmount(mnt_id: u64, ns_id: u64, buf: &mut Vec<u64>) -> io::Result<Mount> {
    let req = MntIdReq {
        size: MNT_ID_REQ_SIZE_VER1,
        spare: 0,
        mnt_id,
        param: STATMOUNT_SB_BASIC
            | STATMOUNT_MNT_BASIC
            | STATMOUNT_PROPAGATE_FROM
            | STATMOUNT_MNT_ROOT
            | STATMOUNT_MNT_POINT
            | STATMOUNT_FS_TYPE
            | STATMOUNT_MNT_NS_ID
            | STATMOUNT_MNT_OPTS
            | STATMOUNT_FS_SUBTYPE
            | STATMOUNT_SB_SOURCE,
        mnt_ns_id: ns_id,
    };
    if buf.len() < 1024 {
        buf.resize(1024, 0);
    }
    loop {
        let bytes = buf.len() * 8;
        // SAFETY: req and buf are valid; the kernel writes at most `bytes`.
        let rc = unsafe {
            libc::syscall(
                SYS_STATMOUNT,
                &req as *const MntIdReq,
                buf.as_mut_ptr(),
                bytes,
                0,
            )
        };
        if rc == 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EOVERFLOW) && bytes < (1 << 20) {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        return Err(err);
    }
    // SAFETY: u64s viewed as the bytes the kernel wrote.
    let b: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast(), buf.len() * 8) };
    let u32_at = |o: usize| u32::from_ne_bytes(b[o..o + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let size = (u32_at(0) as usize).min(b.len());
    let mask = u64_at(8);
    // The strings follow the fixed part (512 bytes), at offsets from there.
    const STR: usize = 512;
    let string = |bit: u64, field: usize| -> String {
        if mask & bit == 0 {
            return String::new();
        }
        let start = STR + u32_at(field) as usize;
        let s = b.get(start..size).unwrap_or(&[]);
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        String::from_utf8_lossy(&s[..end]).into_owned()
    };
    let mut fstype = string(STATMOUNT_FS_TYPE, 36);
    let subtype = string(STATMOUNT_FS_SUBTYPE, 120);
    if !subtype.is_empty() {
        fstype.push('.');
        fstype.push_str(&subtype);
    }
    Ok(Mount {
        id: u64_at(40),
        parent_id: u64_at(48),
        ns_id: u64_at(112),
        target: string(STATMOUNT_MNT_POINT, 108),
        fstype,
        source: string(STATMOUNT_SB_SOURCE, 124),
        attr: u64_at(64),
        sb_options: string(STATMOUNT_MNT_OPTS, 4),
        propagation: u64_at(72),
        peer_group: u64_at(80),
        master: u64_at(88),
    })
}

/// The ids of every mount of namespace `ns_id`.
pub fn listmount(ns_id: u64) -> io::Result<Vec<u64>> {
    let mut out = Vec::new();
    let mut chunk = vec![0u64; 512];
    let mut last = 0;
    loop {
        let req = MntIdReq {
            size: MNT_ID_REQ_SIZE_VER1,
            spare: 0,
            mnt_id: LSMT_ROOT,
            param: last,
            mnt_ns_id: ns_id,
        };
        // SAFETY: req and chunk are valid; the kernel writes at most
        // chunk.len() ids.
        let n = unsafe {
            libc::syscall(
                SYS_LISTMOUNT,
                &req as *const MntIdReq,
                chunk.as_mut_ptr(),
                chunk.len(),
                0,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        out.extend_from_slice(&chunk[..n]);
        if n < chunk.len() {
            return Ok(out);
        }
        last = chunk[n - 1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mount_records_and_overflow() {
        let mut buf = Vec::new();
        for (mask, id) in [(FAN_MNT_ATTACH, 7u64), (FAN_MNT_DETACH, 9)] {
            buf.extend_from_slice(&40u32.to_ne_bytes());
            buf.extend_from_slice(&[3, 0]);
            buf.extend_from_slice(&24u16.to_ne_bytes());
            buf.extend_from_slice(&mask.to_ne_bytes());
            buf.extend_from_slice(&(-1i32).to_ne_bytes());
            buf.extend_from_slice(&42i32.to_ne_bytes());
            buf.extend_from_slice(&[FAN_EVENT_INFO_TYPE_MNT, 0]);
            buf.extend_from_slice(&16u16.to_ne_bytes());
            buf.extend_from_slice(&[0; 4]);
            buf.extend_from_slice(&id.to_ne_bytes());
        }
        let mut out = Batch::default();
        parse(&buf, &mut out);
        assert_eq!(out.reports.len(), 2);
        assert_eq!(out.reports[0].mnt_id, 7);
        assert_eq!(out.reports[1].mask, FAN_MNT_DETACH);
        assert_eq!(out.reports[1].pid, 42);
        assert!(!out.overflowed);
        // A cut record is not read past.
        let mut out = Batch::default();
        parse(&buf[..50], &mut out);
        assert_eq!(out.reports.len(), 1);
    }

    #[test]
    fn options_read_like_mountinfo() {
        let m = Mount {
            attr: libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV,
            sb_options: "size=2048k".into(),
            ..Mount::default()
        };
        assert_eq!(m.options(), "rw,nosuid,nodev,relatime,size=2048k");
    }
}
