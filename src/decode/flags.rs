//! Flag and constant tables, printed the way strace prints them.
//!
//! A flag set prints its known names, in the table's order, joined by `|`;
//! bits no name covers follow in hex (`MS_RDONLY|0x200`). When no name
//! matches at all strace adds a comment naming the table
//! (`0x100 /* MNT_??? */`), and so do we. Zero prints as `0`.

use std::fmt::Write;

/// One table: names in the order strace prints them, and the name of
/// the unknown entry (`MS_???`).
pub struct FlagTable {
    pub entries: &'static [(&'static str, u64)],
    pub unknown: &'static str,
}

/// Appends `value` as a set of flags from `table`.
pub fn push_flags(value: u64, table: &FlagTable, out: &mut String) {
    if value == 0 {
        out.push('0');
        return;
    }
    let mut rest = value;
    let mut first = true;
    for &(name, bits) in table.entries {
        if bits != 0 && value & bits == bits && rest & bits != 0 {
            if !first {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bits;
            first = false;
        }
    }
    if rest != 0 {
        if first {
            let _ = write!(out, "{rest:#x} /* {} */", table.unknown);
        } else {
            let _ = write!(out, "|{rest:#x}");
        }
    }
}

/// Appends `value` as one constant from `table`, or in hex with strace's
/// comment when the table has no name for it (C's `%#x`: zero is `0`).
pub fn push_constant(value: u64, table: &FlagTable, out: &mut String) {
    match table.entries.iter().find(|(_, v)| *v == value) {
        Some((name, _)) => out.push_str(name),
        None if value == 0 => {
            let _ = write!(out, "0 /* {} */", table.unknown);
        }
        None => {
            let _ = write!(out, "{value:#x} /* {} */", table.unknown);
        }
    }
}

/// mount(2) flags, strace's table and order. MS_VERBOSE and MS_SILENT
/// share a bit; strace names it MS_SILENT.
pub static MOUNT_FLAGS: FlagTable = FlagTable {
    entries: &[
        ("MS_RDONLY", 1),
        ("MS_NOSUID", 2),
        ("MS_NODEV", 4),
        ("MS_NOEXEC", 8),
        ("MS_SYNCHRONOUS", 16),
        ("MS_REMOUNT", 32),
        ("MS_MANDLOCK", 64),
        ("MS_DIRSYNC", 128),
        ("MS_NOSYMFOLLOW", 256),
        ("MS_NOATIME", 1024),
        ("MS_NODIRATIME", 2048),
        ("MS_BIND", 4096),
        ("MS_MOVE", 8192),
        ("MS_REC", 16384),
        ("MS_SILENT", 32768),
        ("MS_POSIXACL", 1 << 16),
        ("MS_UNBINDABLE", 1 << 17),
        ("MS_PRIVATE", 1 << 18),
        ("MS_SLAVE", 1 << 19),
        ("MS_SHARED", 1 << 20),
        ("MS_RELATIME", 1 << 21),
        ("MS_KERNMOUNT", 1 << 22),
        ("MS_I_VERSION", 1 << 23),
        ("MS_STRICTATIME", 1 << 24),
        ("MS_LAZYTIME", 1 << 25),
        ("MS_SUBMOUNT", 1 << 26),
        ("MS_NOREMOTELOCK", 1 << 27),
        ("MS_NOSEC", 1 << 28),
        ("MS_BORN", 1 << 29),
        ("MS_ACTIVE", 1 << 30),
        ("MS_NOUSER", 1 << 31),
    ],
    unknown: "MS_???",
};

/// The old magic number some callers still put in the top half of flags.
pub const MS_MGC_VAL: u64 = 0xc0ed_0000;
pub const MS_MGC_MSK: u64 = 0xffff_0000;

/// What strace (and the kernel) make of mount(2)'s flags argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountFlags {
    /// The flags without the old magic number.
    pub flags: u64,
    /// The old magic number MS_MGC_VAL was in the top half.
    pub old_magic: bool,
    /// The kernel ignores the filesystem type (strace shows its address).
    pub ignore_type: bool,
    /// The kernel ignores the data (strace shows its address).
    pub ignore_data: bool,
}

/// A remount ignores the type; bind, move and propagation changes ignore
/// type and data.
pub fn mount_flags(raw: u64) -> MountFlags {
    const MS_REMOUNT: u64 = 32;
    const IGNORES_TYPE_AND_DATA: u64 = 4096 | 8192 | (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);
    let old_magic = raw & MS_MGC_MSK == MS_MGC_VAL;
    // As in the kernel and strace (which zero-extend ~MS_MGC_MSK from an
    // unsigned int): with the magic, only the low 16 bits are flags.
    let flags = if old_magic { raw & 0xffff } else { raw };
    let remount = flags & MS_REMOUNT != 0;
    let moves = flags & IGNORES_TYPE_AND_DATA != 0;
    MountFlags {
        flags,
        old_magic,
        ignore_type: remount || moves,
        ignore_data: !remount && moves,
    }
}

/// umount2(2) flags.
pub static UMOUNT_FLAGS: FlagTable = FlagTable {
    entries: &[
        ("MNT_FORCE", 1),
        ("MNT_DETACH", 2),
        ("MNT_EXPIRE", 4),
        ("UMOUNT_NOFOLLOW", 8),
    ],
    unknown: "MNT_???",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(v: u64, t: &FlagTable) -> String {
        let mut s = String::new();
        push_flags(v, t, &mut s);
        s
    }

    fn value_of(t: &FlagTable, name: &str) -> u64 {
        t.entries.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    #[allow(clippy::unnecessary_cast)] // c_ulong is u64 only on 64-bit targets
    fn mount_flags_match_libc() {
        let expected: &[(&str, libc::c_ulong)] = &[
            ("MS_RDONLY", libc::MS_RDONLY),
            ("MS_NOSUID", libc::MS_NOSUID),
            ("MS_NODEV", libc::MS_NODEV),
            ("MS_NOEXEC", libc::MS_NOEXEC),
            ("MS_SYNCHRONOUS", libc::MS_SYNCHRONOUS),
            ("MS_REMOUNT", libc::MS_REMOUNT),
            ("MS_MANDLOCK", libc::MS_MANDLOCK),
            ("MS_DIRSYNC", libc::MS_DIRSYNC),
            ("MS_NOSYMFOLLOW", libc::MS_NOSYMFOLLOW),
            ("MS_NOATIME", libc::MS_NOATIME),
            ("MS_NODIRATIME", libc::MS_NODIRATIME),
            ("MS_BIND", libc::MS_BIND),
            ("MS_MOVE", libc::MS_MOVE),
            ("MS_REC", libc::MS_REC),
            ("MS_SILENT", libc::MS_SILENT),
            ("MS_POSIXACL", libc::MS_POSIXACL),
            ("MS_UNBINDABLE", libc::MS_UNBINDABLE),
            ("MS_PRIVATE", libc::MS_PRIVATE),
            ("MS_SLAVE", libc::MS_SLAVE),
            ("MS_SHARED", libc::MS_SHARED),
            ("MS_RELATIME", libc::MS_RELATIME),
            ("MS_KERNMOUNT", libc::MS_KERNMOUNT),
            ("MS_I_VERSION", libc::MS_I_VERSION),
            ("MS_STRICTATIME", libc::MS_STRICTATIME),
            ("MS_LAZYTIME", libc::MS_LAZYTIME),
            ("MS_ACTIVE", libc::MS_ACTIVE),
        ];
        for (name, v) in expected {
            assert_eq!(value_of(&MOUNT_FLAGS, name), *v as u64, "{name}");
        }
        assert_eq!(MS_MGC_VAL, libc::MS_MGC_VAL as u64);
        assert_eq!(MS_MGC_MSK, libc::MS_MGC_MSK as u64);
    }

    /// Flags libc lacks are checked against the kernel's uapi header.
    #[test]
    fn mount_flags_match_kernel_header() {
        let header = super::super::uapi::defines("linux/mount.h");
        let mut checked = 0;
        for (name, v) in MOUNT_FLAGS.entries {
            let want = header
                .get(*name)
                .unwrap_or_else(|| panic!("{name} not in header"));
            assert_eq!(*v, *want, "{name}");
            checked += 1;
        }
        assert_eq!(checked, 31);
    }

    #[test]
    fn umount_flags_match_libc() {
        assert_eq!(value_of(&UMOUNT_FLAGS, "MNT_FORCE"), libc::MNT_FORCE as u64);
        assert_eq!(
            value_of(&UMOUNT_FLAGS, "MNT_DETACH"),
            libc::MNT_DETACH as u64
        );
        assert_eq!(
            value_of(&UMOUNT_FLAGS, "MNT_EXPIRE"),
            libc::MNT_EXPIRE as u64
        );
        assert_eq!(
            value_of(&UMOUNT_FLAGS, "UMOUNT_NOFOLLOW"),
            libc::UMOUNT_NOFOLLOW as u64
        );
    }

    #[test]
    fn flag_sets_as_strace_prints_them() {
        assert_eq!(flags(0, &MOUNT_FLAGS), "0");
        assert_eq!(flags(6, &MOUNT_FLAGS), "MS_NOSUID|MS_NODEV");
        assert_eq!(flags(4096, &MOUNT_FLAGS), "MS_BIND");
        assert_eq!(flags(8192, &MOUNT_FLAGS), "MS_MOVE");
        assert_eq!(flags(1 | 512, &MOUNT_FLAGS), "MS_RDONLY|0x200");
        assert_eq!(flags(512, &MOUNT_FLAGS), "0x200 /* MS_??? */");
        assert_eq!(flags(0x100, &UMOUNT_FLAGS), "0x100 /* MNT_??? */");
        assert_eq!(
            flags(15, &UMOUNT_FLAGS),
            "MNT_FORCE|MNT_DETACH|MNT_EXPIRE|UMOUNT_NOFOLLOW"
        );
        assert_eq!(
            flags(0xffff_ffff_ffff_fdff, &MOUNT_FLAGS)
                .rsplit('|')
                .next(),
            Some("0xffffffff00000000")
        );
    }
}
