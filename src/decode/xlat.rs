//! Flag and constant tables, printed the way strace prints them.
//!
//! A flag set prints its known names, in the table's order, joined by `|`;
//! bits no name covers follow in hex (`MS_RDONLY|0x200`). When no name
//! matches at all strace adds a comment naming the table
//! (`0x100 /* MNT_??? */`), and so do we. Zero prints as `0`.
//!
//! Values come from the `libc` crate wherever it has the name, so they are
//! the kernel's own; the few it lacks are written here and tested against
//! the uapi headers.

// libc's c_ulong and c_uint are u64 and u32 here but not on every target:
// the casts are needed in general even where they are not here.
#![allow(clippy::unnecessary_cast)]

use std::fmt::Write;

/// One table: names in the order strace prints them, and the name of
/// the unknown entry (`MS_???`).
pub struct FlagTable {
    pub entries: &'static [(&'static str, u64)],
    pub unknown: &'static str,
}

impl FlagTable {
    /// The value of `name`, if the table has it.
    #[cfg(test)]
    pub fn value_of(&self, name: &str) -> Option<u64> {
        self.entries.iter().find(|(n, _)| *n == name).map(|e| e.1)
    }
}

/// `("NAME", libc::NAME as u64), ...`: the name and the number from one token.
macro_rules! from_libc {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), libc::$name as u64)),*]
    };
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

// ---- mount(2) and umount2(2) ----

/// mount(2) flags, strace's table and order. MS_VERBOSE and MS_SILENT
/// share a bit; strace names it MS_SILENT. The kernel-internal bits
/// MS_SUBMOUNT .. MS_NOUSER are not in libc.
pub static MOUNT_FLAGS: FlagTable = FlagTable {
    entries: &[
        ("MS_RDONLY", libc::MS_RDONLY as u64),
        ("MS_NOSUID", libc::MS_NOSUID as u64),
        ("MS_NODEV", libc::MS_NODEV as u64),
        ("MS_NOEXEC", libc::MS_NOEXEC as u64),
        ("MS_SYNCHRONOUS", libc::MS_SYNCHRONOUS as u64),
        ("MS_REMOUNT", libc::MS_REMOUNT as u64),
        ("MS_MANDLOCK", libc::MS_MANDLOCK as u64),
        ("MS_DIRSYNC", libc::MS_DIRSYNC as u64),
        ("MS_NOSYMFOLLOW", libc::MS_NOSYMFOLLOW as u64),
        ("MS_NOATIME", libc::MS_NOATIME as u64),
        ("MS_NODIRATIME", libc::MS_NODIRATIME as u64),
        ("MS_BIND", libc::MS_BIND as u64),
        ("MS_MOVE", libc::MS_MOVE as u64),
        ("MS_REC", libc::MS_REC as u64),
        ("MS_SILENT", libc::MS_SILENT as u64),
        ("MS_POSIXACL", libc::MS_POSIXACL as u64),
        ("MS_UNBINDABLE", libc::MS_UNBINDABLE as u64),
        ("MS_PRIVATE", libc::MS_PRIVATE as u64),
        ("MS_SLAVE", libc::MS_SLAVE as u64),
        ("MS_SHARED", libc::MS_SHARED as u64),
        ("MS_RELATIME", libc::MS_RELATIME as u64),
        ("MS_KERNMOUNT", libc::MS_KERNMOUNT as u64),
        ("MS_I_VERSION", libc::MS_I_VERSION as u64),
        ("MS_STRICTATIME", libc::MS_STRICTATIME as u64),
        ("MS_LAZYTIME", libc::MS_LAZYTIME as u64),
        ("MS_SUBMOUNT", 1 << 26),
        ("MS_NOREMOTELOCK", 1 << 27),
        ("MS_NOSEC", 1 << 28),
        ("MS_BORN", 1 << 29),
        ("MS_ACTIVE", libc::MS_ACTIVE as u64),
        ("MS_NOUSER", 1 << 31),
    ],
    unknown: "MS_???",
};

/// The old magic number some callers still put in the top half of flags.
pub const MS_MGC_VAL: u64 = libc::MS_MGC_VAL as u64;
const MS_MGC_MSK: u64 = libc::MS_MGC_MSK as u64;

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
    const IGNORES_TYPE_AND_DATA: u64 = (libc::MS_BIND
        | libc::MS_MOVE
        | libc::MS_UNBINDABLE
        | libc::MS_PRIVATE
        | libc::MS_SLAVE
        | libc::MS_SHARED) as u64;
    let old_magic = raw & MS_MGC_MSK == MS_MGC_VAL;
    // As in the kernel and strace (which zero-extend ~MS_MGC_MSK from an
    // unsigned int): with the magic, only the low 16 bits are flags.
    let flags = if old_magic { raw & 0xffff } else { raw };
    let remount = flags & libc::MS_REMOUNT as u64 != 0;
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
    entries: from_libc![MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW],
    unknown: "MNT_???",
};

// ---- the new mount API ----

pub static FSOPEN_FLAGS: FlagTable = FlagTable {
    entries: from_libc![FSOPEN_CLOEXEC],
    unknown: "FSOPEN_???",
};

pub static FSMOUNT_FLAGS: FlagTable = FlagTable {
    entries: from_libc![FSMOUNT_CLOEXEC],
    unknown: "FSMOUNT_???",
};

/// fsmount's attr_flags and mount_attr's attr_set/attr_clr. strace 6.1's
/// fsmount table lacks the last two; we name them for both calls.
pub static MOUNT_ATTR_FLAGS: FlagTable = FlagTable {
    entries: from_libc![
        MOUNT_ATTR_RDONLY,
        MOUNT_ATTR_NOSUID,
        MOUNT_ATTR_NODEV,
        MOUNT_ATTR_NOEXEC,
        MOUNT_ATTR_NOATIME,
        MOUNT_ATTR_STRICTATIME,
        MOUNT_ATTR_NODIRATIME,
        MOUNT_ATTR_IDMAP,
        MOUNT_ATTR_NOSYMFOLLOW,
    ],
    unknown: "MOUNT_ATTR_???",
};

/// mount_attr's propagation: one of mount(2)'s propagation flags.
pub static MOUNT_ATTR_PROPAGATION: FlagTable = FlagTable {
    entries: from_libc![MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED],
    unknown: "MS_???",
};

/// MOVE_MOUNT_BENEATH (Linux 6.5) is unknown to strace 6.1; we name it.
pub static MOVE_MOUNT_FLAGS: FlagTable = FlagTable {
    entries: from_libc![
        MOVE_MOUNT_F_SYMLINKS,
        MOVE_MOUNT_F_AUTOMOUNTS,
        MOVE_MOUNT_F_EMPTY_PATH,
        MOVE_MOUNT_T_SYMLINKS,
        MOVE_MOUNT_T_AUTOMOUNTS,
        MOVE_MOUNT_T_EMPTY_PATH,
        MOVE_MOUNT_SET_GROUP,
        MOVE_MOUNT_BENEATH,
    ],
    unknown: "MOVE_MOUNT_???",
};

/// open_tree and open_tree_attr flags, in strace's order (not bit order).
pub static OPEN_TREE_FLAGS: FlagTable = FlagTable {
    entries: from_libc![
        OPEN_TREE_CLONE,
        OPEN_TREE_CLOEXEC,
        AT_SYMLINK_NOFOLLOW,
        AT_REMOVEDIR,
        AT_SYMLINK_FOLLOW,
        AT_NO_AUTOMOUNT,
        AT_EMPTY_PATH,
        AT_RECURSIVE,
    ],
    unknown: "OPEN_TREE_???",
};

pub static MOUNT_SETATTR_FLAGS: FlagTable = FlagTable {
    entries: from_libc![
        AT_SYMLINK_NOFOLLOW,
        AT_NO_AUTOMOUNT,
        AT_EMPTY_PATH,
        AT_RECURSIVE
    ],
    unknown: "AT_???",
};

pub static FSPICK_FLAGS: FlagTable = FlagTable {
    entries: from_libc![
        FSPICK_CLOEXEC,
        FSPICK_SYMLINK_NOFOLLOW,
        FSPICK_NO_AUTOMOUNT,
        FSPICK_EMPTY_PATH,
    ],
    unknown: "FSPICK_???",
};

pub const FSCONFIG_SET_FLAG: u32 = libc::FSCONFIG_SET_FLAG as u32;
pub const FSCONFIG_SET_STRING: u32 = libc::FSCONFIG_SET_STRING as u32;
pub const FSCONFIG_SET_BINARY: u32 = libc::FSCONFIG_SET_BINARY as u32;
pub const FSCONFIG_SET_PATH: u32 = libc::FSCONFIG_SET_PATH as u32;
pub const FSCONFIG_SET_PATH_EMPTY: u32 = libc::FSCONFIG_SET_PATH_EMPTY as u32;
pub const FSCONFIG_SET_FD: u32 = libc::FSCONFIG_SET_FD as u32;

/// fsconfig's commands. FSCONFIG_CMD_CREATE_EXCL (Linux 6.6) is unknown
/// to strace 6.1; we name it.
pub static FSCONFIG_CMDS: FlagTable = FlagTable {
    entries: from_libc![
        FSCONFIG_SET_FLAG,
        FSCONFIG_SET_STRING,
        FSCONFIG_SET_BINARY,
        FSCONFIG_SET_PATH,
        FSCONFIG_SET_PATH_EMPTY,
        FSCONFIG_SET_FD,
        FSCONFIG_CMD_CREATE,
        FSCONFIG_CMD_RECONFIGURE,
        FSCONFIG_CMD_CREATE_EXCL,
    ],
    unknown: "FSCONFIG_???",
};

/// `struct mount_attr` as first published.
pub const MOUNT_ATTR_SIZE_VER0: u64 = libc::MOUNT_ATTR_SIZE_VER0 as u64;

/// The dirfd that means "the current directory".
pub const AT_FDCWD: i32 = libc::AT_FDCWD;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::uapi::defines;

    fn flags(v: u64, t: &FlagTable) -> String {
        let mut s = String::new();
        push_flags(v, t, &mut s);
        s
    }

    /// The names libc lacks, against the kernel's uapi header; the rest
    /// come from libc and are checked there too, where the header has them.
    #[test]
    fn tables_match_kernel_headers() {
        let mount = defines("linux/mount.h");
        let fcntl = defines("linux/fcntl.h");
        let kernel = |name: &str| mount.get(name).or_else(|| fcntl.get(name)).copied();
        for table in [
            &MOUNT_FLAGS,
            &FSOPEN_FLAGS,
            &FSMOUNT_FLAGS,
            &FSPICK_FLAGS,
            &MOUNT_ATTR_FLAGS,
            &MOUNT_ATTR_PROPAGATION,
            &MOVE_MOUNT_FLAGS,
            &FSCONFIG_CMDS,
            &MOUNT_SETATTR_FLAGS,
            &OPEN_TREE_FLAGS,
        ] {
            for (name, v) in table.entries {
                // Names newer than the build host's headers, and
                // OPEN_TREE_CLOEXEC (O_CLOEXEC, from the arch's header).
                if let Some(want) = kernel(name) {
                    assert_eq!(*v, want, "{name}");
                } else {
                    assert!(
                        [
                            "MOVE_MOUNT_BENEATH",
                            "FSCONFIG_CMD_CREATE_EXCL",
                            "OPEN_TREE_CLOEXEC"
                        ]
                        .contains(name),
                        "{name} is neither in libc nor in the headers"
                    );
                }
            }
        }
        assert_eq!(MOUNT_FLAGS.entries.len(), 31);
        assert_eq!(mount["MOUNT_ATTR_SIZE_VER0"], MOUNT_ATTR_SIZE_VER0);
        assert_eq!(
            OPEN_TREE_FLAGS.value_of("OPEN_TREE_CLOEXEC"),
            Some(0o2000000)
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

    #[test]
    fn constants_as_strace_prints_them() {
        let mut s = String::new();
        push_constant(6, &FSCONFIG_CMDS, &mut s);
        assert_eq!(s, "FSCONFIG_CMD_CREATE");
        s.clear();
        push_constant(99, &FSCONFIG_CMDS, &mut s);
        assert_eq!(s, "0x63 /* FSCONFIG_??? */");
    }
}
