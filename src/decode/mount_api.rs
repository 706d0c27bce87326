//! The new mount API (fsopen, fsconfig, fsmount, move_mount, open_tree,
//! open_tree_attr, mount_setattr, fspick) and pivot_root, as strace 6.1
//! prints them. Where strace 6.1 is out of date or adds a needless
//! comment we print the clean form; man/strace-differences.md lists each.

use std::fmt::Write;

use super::flags::{push_constant, push_flags, FlagTable};
use super::render::{push_addr, Call};
use crate::event::ArgData;

/// strace reads fsconfig's key and string value at most this far.
const FSCONFIG_STRING_MAX: usize = 256;
/// strace decodes a SET_BINARY value only when its size is sane.
const FSCONFIG_BINARY_MAX: i32 = 1024 * 1024;
/// `struct mount_attr` as first published (MOUNT_ATTR_SIZE_VER0).
const MOUNT_ATTR_SIZE_VER0: u64 = 32;
/// strace shows the bytes of a larger struct up to a page.
const PAGE_SIZE: u64 = 4096;

pub static FSOPEN_FLAGS: FlagTable = FlagTable {
    entries: &[("FSOPEN_CLOEXEC", 1)],
    unknown: "FSOPEN_???",
};

pub static FSMOUNT_FLAGS: FlagTable = FlagTable {
    entries: &[("FSMOUNT_CLOEXEC", 1)],
    unknown: "FSMOUNT_???",
};

/// fsmount's attr_flags and mount_attr's attr_set/attr_clr. strace 6.1's
/// fsmount table lacks the last two; we name them for both calls.
pub static MOUNT_ATTR_FLAGS: FlagTable = FlagTable {
    entries: &[
        ("MOUNT_ATTR_RDONLY", 0x1),
        ("MOUNT_ATTR_NOSUID", 0x2),
        ("MOUNT_ATTR_NODEV", 0x4),
        ("MOUNT_ATTR_NOEXEC", 0x8),
        ("MOUNT_ATTR_NOATIME", 0x10),
        ("MOUNT_ATTR_STRICTATIME", 0x20),
        ("MOUNT_ATTR_NODIRATIME", 0x80),
        ("MOUNT_ATTR_IDMAP", 0x10_0000),
        ("MOUNT_ATTR_NOSYMFOLLOW", 0x20_0000),
    ],
    unknown: "MOUNT_ATTR_???",
};

/// mount_attr's propagation: one of mount(2)'s propagation flags.
pub static MOUNT_ATTR_PROPAGATION: FlagTable = FlagTable {
    entries: &[
        ("MS_UNBINDABLE", 1 << 17),
        ("MS_PRIVATE", 1 << 18),
        ("MS_SLAVE", 1 << 19),
        ("MS_SHARED", 1 << 20),
    ],
    unknown: "MS_???",
};

pub static MOVE_MOUNT_FLAGS: FlagTable = FlagTable {
    entries: &[
        ("MOVE_MOUNT_F_SYMLINKS", 0x1),
        ("MOVE_MOUNT_F_AUTOMOUNTS", 0x2),
        ("MOVE_MOUNT_F_EMPTY_PATH", 0x4),
        ("MOVE_MOUNT_T_SYMLINKS", 0x10),
        ("MOVE_MOUNT_T_AUTOMOUNTS", 0x20),
        ("MOVE_MOUNT_T_EMPTY_PATH", 0x40),
        ("MOVE_MOUNT_SET_GROUP", 0x100),
        // Linux 6.5; unknown to strace 6.1 and to the 6.1 uapi headers.
        ("MOVE_MOUNT_BENEATH", 0x200),
    ],
    unknown: "MOVE_MOUNT_???",
};

/// open_tree and open_tree_attr flags, in strace's order (not bit order).
pub static OPEN_TREE_FLAGS: FlagTable = FlagTable {
    entries: &[
        ("OPEN_TREE_CLONE", 0x1),
        ("OPEN_TREE_CLOEXEC", 0x8_0000),
        ("AT_SYMLINK_NOFOLLOW", 0x100),
        ("AT_REMOVEDIR", 0x200),
        ("AT_SYMLINK_FOLLOW", 0x400),
        ("AT_NO_AUTOMOUNT", 0x800),
        ("AT_EMPTY_PATH", 0x1000),
        ("AT_RECURSIVE", 0x8000),
    ],
    unknown: "OPEN_TREE_???",
};

pub static MOUNT_SETATTR_FLAGS: FlagTable = FlagTable {
    entries: &[
        ("AT_SYMLINK_NOFOLLOW", 0x100),
        ("AT_NO_AUTOMOUNT", 0x800),
        ("AT_EMPTY_PATH", 0x1000),
        ("AT_RECURSIVE", 0x8000),
    ],
    unknown: "AT_???",
};

pub static FSPICK_FLAGS: FlagTable = FlagTable {
    entries: &[
        ("FSPICK_CLOEXEC", 0x1),
        ("FSPICK_SYMLINK_NOFOLLOW", 0x2),
        ("FSPICK_NO_AUTOMOUNT", 0x4),
        ("FSPICK_EMPTY_PATH", 0x8),
    ],
    unknown: "FSPICK_???",
};

const FSCONFIG_SET_FLAG: u32 = 0;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_SET_BINARY: u32 = 2;
const FSCONFIG_SET_PATH: u32 = 3;
const FSCONFIG_SET_PATH_EMPTY: u32 = 4;
const FSCONFIG_SET_FD: u32 = 5;

/// fsconfig's commands.
pub static FSCONFIG_CMDS: FlagTable = FlagTable {
    entries: &[
        ("FSCONFIG_SET_FLAG", 0),
        ("FSCONFIG_SET_STRING", 1),
        ("FSCONFIG_SET_BINARY", 2),
        ("FSCONFIG_SET_PATH", 3),
        ("FSCONFIG_SET_PATH_EMPTY", 4),
        ("FSCONFIG_SET_FD", 5),
        ("FSCONFIG_CMD_CREATE", 6),
        ("FSCONFIG_CMD_RECONFIGURE", 7),
        // Linux 6.6; unknown to strace 6.1 and to the 6.1 uapi headers.
        ("FSCONFIG_CMD_CREATE_EXCL", 8),
    ],
    unknown: "FSCONFIG_???",
};

/// fsopen(fsname, flags)
pub(super) fn fsopen(call: &mut Call) {
    call.string(0);
    call.flags32(1, &FSOPEN_FLAGS);
}

/// fsconfig(fd, cmd, key, value, aux): what key, value and aux are
/// depends on cmd.
pub(super) fn fsconfig(call: &mut Call) {
    let cmd = call.event.arg(1) as u32;
    let aux = call.event.arg(4) as i32;
    call.int(0);
    call.sep();
    push_constant(u64::from(cmd), &FSCONFIG_CMDS, call.out);
    match cmd {
        FSCONFIG_SET_FLAG..=FSCONFIG_SET_FD => call.string_upto(2, FSCONFIG_STRING_MAX),
        _ => call.addr(2),
    }
    match cmd {
        FSCONFIG_SET_STRING => call.string_upto(3, FSCONFIG_STRING_MAX),
        FSCONFIG_SET_PATH | FSCONFIG_SET_PATH_EMPTY => call.path(3),
        FSCONFIG_SET_BINARY if (0..=FSCONFIG_BINARY_MAX).contains(&aux) => call.hex(3),
        _ => call.addr(3),
    }
    match cmd {
        FSCONFIG_SET_PATH | FSCONFIG_SET_PATH_EMPTY => call.dirfd(4),
        _ => call.int(4),
    }
}

/// fsmount(fs_fd, flags, attr_flags)
pub(super) fn fsmount(call: &mut Call) {
    call.int(0);
    call.flags32(1, &FSMOUNT_FLAGS);
    call.flags32(2, &MOUNT_ATTR_FLAGS);
}

/// move_mount(from_dirfd, from_path, to_dirfd, to_path, flags)
pub(super) fn move_mount(call: &mut Call) {
    call.dirfd(0);
    call.path(1);
    call.dirfd(2);
    call.path(3);
    call.flags32(4, &MOVE_MOUNT_FLAGS);
}

/// open_tree(dirfd, path, flags)
pub(super) fn open_tree(call: &mut Call) {
    call.dirfd(0);
    call.path(1);
    call.flags32(2, &OPEN_TREE_FLAGS);
}

/// fspick(dirfd, path, flags)
pub(super) fn fspick(call: &mut Call) {
    call.dirfd(0);
    call.path(1);
    call.flags32(2, &FSPICK_FLAGS);
}

/// pivot_root(new_root, put_old)
pub(super) fn pivot_root(call: &mut Call) {
    call.path(0);
    call.path(1);
}

/// mount_setattr(dirfd, path, flags, attr, size)
pub(super) fn mount_setattr(call: &mut Call) {
    call.dirfd(0);
    call.path(1);
    call.flags32(2, &MOUNT_SETATTR_FLAGS);
    mount_attr(call);
    call.ulong(4);
}

/// open_tree_attr(dirfd, path, flags, attr, size) (Linux 6.15): strace
/// 6.1 does not know it; printed as later strace versions print it.
pub(super) fn open_tree_attr(call: &mut Call) {
    call.dirfd(0);
    call.path(1);
    call.flags32(2, &OPEN_TREE_FLAGS);
    mount_attr(call);
    call.ulong(4);
}

/// Argument 3, a `struct mount_attr` of argument 4's size.
fn mount_attr(call: &mut Call) {
    let size = call.event.arg(4);
    call.sep();
    if size < MOUNT_ATTR_SIZE_VER0 {
        push_addr(call.event.arg(3), call.out);
        return;
    }
    let bytes = match call.event.data(3) {
        ArgData::Whole(b) | ArgData::Truncated(b) if b.len() >= 32 => b,
        ArgData::Null => return call.out.push_str("NULL"),
        ArgData::Unreadable => return call.unreadable(3),
        _ => return push_addr(call.event.arg(3), call.out),
    };
    let field = |n: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[n * 8..n * 8 + 8]);
        u64::from_ne_bytes(word)
    };
    let out = &mut *call.out;
    out.push_str("{attr_set=");
    push_flags(field(0), &MOUNT_ATTR_FLAGS, out);
    out.push_str(", attr_clr=");
    push_flags(field(1), &MOUNT_ATTR_FLAGS, out);
    out.push_str(", propagation=");
    match field(2) {
        // "No change": strace 6.1 adds `/* MS_??? */` here.
        0 => out.push('0'),
        p => push_constant(p, &MOUNT_ATTR_PROPAGATION, out),
    }
    let _ = write!(out, ", userns_fd={}", field(3));
    // A larger struct: its bytes after the first 32, up to a page, when
    // any is not zero (or `???` when they could not be read).
    let end = size.min(PAGE_SIZE) as usize;
    if end > 32 {
        match bytes.get(32..end) {
            None => out.push_str(", ???"),
            Some(tail) if tail.iter().any(|&b| b != 0) => {
                let _ = write!(out, ", /* bytes 32..{} */ ", end - 1);
                super::escape::quote_hex(tail, out);
            }
            Some(_) => {}
        }
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::render::render;
    use crate::decode::uapi::defines;
    use crate::event::build::Sample;
    use crate::event::{ARG_DATA, ARG_NULL, ARG_TRUNCATED, ARG_UNREADABLE};
    use crate::syscalls::Syscall;

    const FDCWD: u64 = -100i64 as u64;

    fn value_of(t: &FlagTable, name: &str) -> u64 {
        t.entries
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} not in table"))
            .1
    }

    /// Every name of `table` has the value `kernel` gives it, except the
    /// listed ones newer than the headers, checked by hand.
    fn check_against(table: &FlagTable, kernel: &dyn Fn(&str) -> Option<u64>, newer: &[&str]) {
        for (name, v) in table.entries {
            if newer.contains(name) {
                assert_eq!(kernel(name), None, "{name} is in the headers now");
                continue;
            }
            let want = kernel(name).unwrap_or_else(|| panic!("{name} unknown"));
            assert_eq!(*v, want, "{name}");
        }
    }

    #[test]
    #[allow(clippy::unnecessary_cast)]
    fn flag_tables_match_libc() {
        let libc_at: &[(&str, u64)] = &[
            ("AT_SYMLINK_NOFOLLOW", libc::AT_SYMLINK_NOFOLLOW as u64),
            ("AT_REMOVEDIR", libc::AT_REMOVEDIR as u64),
            ("AT_SYMLINK_FOLLOW", libc::AT_SYMLINK_FOLLOW as u64),
            ("AT_NO_AUTOMOUNT", libc::AT_NO_AUTOMOUNT as u64),
            ("AT_EMPTY_PATH", libc::AT_EMPTY_PATH as u64),
            ("AT_RECURSIVE", libc::AT_RECURSIVE as u64),
            ("OPEN_TREE_CLONE", libc::OPEN_TREE_CLONE as u64),
            ("OPEN_TREE_CLOEXEC", libc::OPEN_TREE_CLOEXEC as u64),
        ];
        let lookup = |name: &str| libc_at.iter().find(|(n, _)| *n == name).map(|x| x.1);
        check_against(&OPEN_TREE_FLAGS, &lookup, &[]);
        check_against(&MOUNT_SETATTR_FLAGS, &lookup, &[]);
        assert_eq!(libc::AT_FDCWD, -100);
        assert_eq!(
            libc::MS_UNBINDABLE as u64,
            value_of(&MOUNT_ATTR_PROPAGATION, "MS_UNBINDABLE")
        );
        assert_eq!(
            libc::MS_PRIVATE as u64,
            value_of(&MOUNT_ATTR_PROPAGATION, "MS_PRIVATE")
        );
        assert_eq!(
            libc::MS_SLAVE as u64,
            value_of(&MOUNT_ATTR_PROPAGATION, "MS_SLAVE")
        );
        assert_eq!(
            libc::MS_SHARED as u64,
            value_of(&MOUNT_ATTR_PROPAGATION, "MS_SHARED")
        );
    }

    /// Tables libc lacks, against linux/mount.h and linux/fcntl.h.
    #[test]
    fn flag_tables_match_kernel_headers() {
        let mount = defines("linux/mount.h");
        let fcntl = defines("linux/fcntl.h");
        let kernel = |name: &str| mount.get(name).or_else(|| fcntl.get(name)).copied();
        check_against(&FSOPEN_FLAGS, &kernel, &[]);
        check_against(&FSMOUNT_FLAGS, &kernel, &[]);
        check_against(&FSPICK_FLAGS, &kernel, &[]);
        check_against(&MOUNT_ATTR_FLAGS, &kernel, &[]);
        check_against(&MOUNT_ATTR_PROPAGATION, &kernel, &[]);
        check_against(&MOVE_MOUNT_FLAGS, &kernel, &["MOVE_MOUNT_BENEATH"]);
        check_against(&FSCONFIG_CMDS, &kernel, &["FSCONFIG_CMD_CREATE_EXCL"]);
        check_against(&MOUNT_SETATTR_FLAGS, &kernel, &[]);
        // OPEN_TREE_CLOEXEC is O_CLOEXEC, from the arch's fcntl header.
        let open_tree = |name: &str| match name {
            "OPEN_TREE_CLOEXEC" => Some(0o2000000),
            other => kernel(other),
        };
        check_against(&OPEN_TREE_FLAGS, &open_tree, &[]);
        assert_eq!(mount["MOUNT_ATTR_SIZE_VER0"], MOUNT_ATTR_SIZE_VER0);
        for (name, v) in [
            ("FSCONFIG_SET_FLAG", FSCONFIG_SET_FLAG),
            ("FSCONFIG_SET_STRING", FSCONFIG_SET_STRING),
            ("FSCONFIG_SET_BINARY", FSCONFIG_SET_BINARY),
            ("FSCONFIG_SET_PATH", FSCONFIG_SET_PATH),
            ("FSCONFIG_SET_PATH_EMPTY", FSCONFIG_SET_PATH_EMPTY),
            ("FSCONFIG_SET_FD", FSCONFIG_SET_FD),
        ] {
            assert_eq!(mount[name], u64::from(v), "{name}");
        }
    }

    #[test]
    fn fsopen() {
        let s = Sample::new(Syscall::Fsopen, [1, 1, 0, 0, 0, 0], 3).with(0, ARG_DATA, b"tmpfs");
        assert_eq!(render(s), r#"fsopen("tmpfs", FSOPEN_CLOEXEC) = 3"#);
        let s = Sample::new(Syscall::Fsopen, [1, 0, 0, 0, 0, 0], -19).with(0, ARG_DATA, b"nofs");
        assert_eq!(
            render(s),
            r#"fsopen("nofs", 0) = -1 ENODEV (No such device)"#
        );
        // strace 6.1 ignores the upper half of flags.
        let s = Sample::new(Syscall::Fsopen, [1, 0x1_0000_0003, 0, 0, 0, 0], -22)
            .with(0, ARG_DATA, b"x");
        assert_eq!(
            render(s),
            r#"fsopen("x", FSOPEN_CLOEXEC|0x2) = -1 EINVAL (Invalid argument)"#
        );
        let s = Sample::new(Syscall::Fsopen, [0, 0, 0, 0, 0, 0], -14).with(0, ARG_NULL, b"");
        assert_eq!(render(s), "fsopen(NULL, 0) = -1 EFAULT (Bad address)");
        let s = Sample::new(Syscall::Fsopen, [1, 2, 0, 0, 0, 0], -14).with(0, ARG_UNREADABLE, b"");
        assert_eq!(
            render(s),
            "fsopen(0x1, 0x2 /* FSOPEN_??? */) = -1 EFAULT (Bad address)"
        );
    }

    fn fsconfig(args: [u64; 6], ret: i64) -> Sample {
        Sample::new(Syscall::Fsconfig, args, ret)
    }

    #[test]
    fn fsconfig_by_command() {
        let s = fsconfig([3, 1, 10, 11, 0, 0], 0)
            .with(2, ARG_DATA, b"size")
            .with(3, ARG_DATA, b"2m");
        assert_eq!(
            render(s),
            r#"fsconfig(3, FSCONFIG_SET_STRING, "size", "2m", 0) = 0"#
        );
        let s = fsconfig([3, 0, 10, 0, 0, 0], 0).with(2, ARG_DATA, b"ro");
        assert_eq!(
            render(s),
            r#"fsconfig(3, FSCONFIG_SET_FLAG, "ro", NULL, 0) = 0"#
        );
        // SET_FLAG's value is not read: its address is shown.
        let s = fsconfig([4, 0, 10, 0x55ab_6a8e_c034, 7, 0], -22).with(2, ARG_DATA, b"ro");
        assert_eq!(
            render(s),
            r#"fsconfig(4, FSCONFIG_SET_FLAG, "ro", 0x55ab6a8ec034, 7) = -1 EINVAL (Invalid argument)"#
        );
        let s = fsconfig([3, 6, 0, 0, 0, 0], 0)
            .with(2, ARG_NULL, b"")
            .with(3, ARG_NULL, b"");
        assert_eq!(
            render(s),
            "fsconfig(3, FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0"
        );
        let s = fsconfig([4, 7, 0x21, 0x1f, 0, 0], -16).with(2, ARG_DATA, b"k");
        assert_eq!(
            render(s),
            "fsconfig(4, FSCONFIG_CMD_RECONFIGURE, 0x21, 0x1f, 0) = -1 EBUSY (Device or resource busy)"
        );
        let s = fsconfig([4, 8, 0, 0, 0, 0], -16);
        assert_eq!(
            render(s),
            "fsconfig(4, FSCONFIG_CMD_CREATE_EXCL, NULL, NULL, 0) = -1 EBUSY (Device or resource busy)"
        );
        let s = fsconfig([u64::MAX, 9, 0x21, 0x1f, 0, 0], -22);
        assert_eq!(
            render(s),
            "fsconfig(-1, 0x9 /* FSCONFIG_??? */, 0x21, 0x1f, 0) = -1 EINVAL (Invalid argument)"
        );
    }

    #[test]
    fn fsconfig_paths_and_fds() {
        let s = fsconfig([4, 3, 1, 2, FDCWD, 0], -22)
            .with(2, ARG_DATA, b"source")
            .with(3, ARG_DATA, b"/tmp");
        assert_eq!(
            render(s),
            r#"fsconfig(4, FSCONFIG_SET_PATH, "source", "/tmp", AT_FDCWD) = -1 EINVAL (Invalid argument)"#
        );
        let s = fsconfig([4, 4, 1, 2, 5, 0], -22)
            .with(2, ARG_DATA, b"source")
            .with(3, ARG_DATA, b"");
        assert_eq!(
            render(s),
            r#"fsconfig(4, FSCONFIG_SET_PATH_EMPTY, "source", "", 5) = -1 EINVAL (Invalid argument)"#
        );
        // SET_FD's aux is a plain fd: -100 stays a number.
        let s = fsconfig([4, 5, 1, 0, FDCWD, 0], -22).with(2, ARG_DATA, b"source");
        assert_eq!(
            render(s),
            r#"fsconfig(4, FSCONFIG_SET_FD, "source", NULL, -100) = -1 EINVAL (Invalid argument)"#
        );
        let long = vec![b'b'; 4096];
        let s = fsconfig([4, 3, 1, 2, FDCWD, 0], -36)
            .with(2, ARG_DATA, b"source")
            .with(3, ARG_TRUNCATED, &long);
        assert!(render(s).contains(&format!("\"{}\"..., AT_FDCWD)", "b".repeat(4095))));
    }

    #[test]
    fn fsconfig_strings_are_cut_at_256() {
        let k255 = vec![b'k'; 255];
        let k256 = vec![b'k'; 256];
        let s = fsconfig([4, 1, 1, 2, 0, 0], -22)
            .with(2, ARG_DATA, &k255)
            .with(3, ARG_DATA, &k256);
        let k = "k".repeat(255);
        assert_eq!(
            render(s),
            format!(
                r#"fsconfig(4, FSCONFIG_SET_STRING, "{k}", "{k}k"..., 0) = -1 EINVAL (Invalid argument)"#
            )
        );
        let s = fsconfig([4, 1, 1, 2, 0, 0], -16)
            .with(2, ARG_DATA, b"a\n\"b")
            .with(3, ARG_DATA, b"\x011");
        assert_eq!(
            render(s),
            r#"fsconfig(4, FSCONFIG_SET_STRING, "a\n\"b", "\0011", 0) = -1 EBUSY (Device or resource busy)"#
        );
        let s = fsconfig([4, 1, 1, 2, 0, 0], -14)
            .with(2, ARG_UNREADABLE, b"")
            .with(3, ARG_UNREADABLE, b"");
        assert_eq!(
            render(s),
            "fsconfig(4, FSCONFIG_SET_STRING, 0x1, 0x2, 0) = -1 EFAULT (Bad address)"
        );
    }

    #[test]
    fn fsconfig_binary() {
        let s = fsconfig([4, 2, 1, 2, 6, 0], -22)
            .with(2, ARG_DATA, b"bin")
            .with(3, ARG_DATA, b"\x01\xbc\xff\x00bi");
        assert_eq!(
            render(s),
            r#"fsconfig(4, FSCONFIG_SET_BINARY, "bin", "\x01\xbc\xff\x00\x62\x69", 6) = -1 EINVAL (Invalid argument)"#
        );
        let s = fsconfig([4, 2, 1, 2, 0, 0], -22)
            .with(2, ARG_DATA, b"bin")
            .with(3, ARG_DATA, b"");
        assert_eq!(
            render(s),
            r#"fsconfig(4, FSCONFIG_SET_BINARY, "bin", "", 0) = -1 EINVAL (Invalid argument)"#
        );
        // A size strace finds insane: the address only.
        let s = fsconfig([4, 2, 1, 0x55fc, u64::MAX, 0], -22)
            .with(2, ARG_DATA, b"bin")
            .with(3, ARG_UNREADABLE, b"");
        assert_eq!(
            render(s),
            r#"fsconfig(4, FSCONFIG_SET_BINARY, "bin", 0x55fc, -1) = -1 EINVAL (Invalid argument)"#
        );
        let s = fsconfig([4, 2, 1, 0, 3, 0], -22)
            .with(2, ARG_DATA, b"bin")
            .with(3, ARG_NULL, b"");
        assert_eq!(
            render(s),
            r#"fsconfig(4, FSCONFIG_SET_BINARY, "bin", NULL, 3) = -1 EINVAL (Invalid argument)"#
        );
        let big = vec![0xab; 4096];
        let s = fsconfig([4, 2, 1, 2, 5000, 0], -22)
            .with(2, ARG_DATA, b"bin")
            .with(3, ARG_TRUNCATED, &big);
        let text = render(s);
        assert!(text.ends_with(r#"\xab"..., 5000) = -1 EINVAL (Invalid argument)"#));
        assert_eq!(text.matches(r"\xab").count(), 4096);
    }

    #[test]
    fn fsmount() {
        let s = Sample::new(Syscall::Fsmount, [3, 1, 6, 0, 0, 0], 4);
        assert_eq!(
            render(s),
            "fsmount(3, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV) = 4"
        );
        let s = Sample::new(
            Syscall::Fsmount,
            [u64::MAX, 0xffff_ffff, 0xffff_ffff, 0, 0, 0],
            -22,
        );
        assert_eq!(
            render(s),
            "fsmount(-1, FSMOUNT_CLOEXEC|0xfffffffe, MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC|MOUNT_ATTR_NOATIME|MOUNT_ATTR_STRICTATIME|MOUNT_ATTR_NODIRATIME|MOUNT_ATTR_IDMAP|MOUNT_ATTR_NOSYMFOLLOW|0xffcfff40) = -1 EINVAL (Invalid argument)"
        );
        let s = Sample::new(Syscall::Fsmount, [5, 0, 0x40, 0, 0, 0], -22);
        assert_eq!(
            render(s),
            "fsmount(5, 0, 0x40 /* MOUNT_ATTR_??? */) = -1 EINVAL (Invalid argument)"
        );
    }

    #[test]
    fn move_mount() {
        let s = Sample::new(Syscall::MoveMount, [4, 1, FDCWD, 2, 4, 0], 0)
            .with(1, ARG_DATA, b"")
            .with(3, ARG_DATA, b"/mnt/x");
        assert_eq!(
            render(s),
            r#"move_mount(4, "", AT_FDCWD, "/mnt/x", MOVE_MOUNT_F_EMPTY_PATH) = 0"#
        );
        let s = Sample::new(
            Syscall::MoveMount,
            [u64::MAX, 1, FDCWD, 2, 0xffff_ffff, 0],
            -22,
        )
        .with(1, ARG_DATA, b"")
        .with(3, ARG_DATA, b"/x");
        assert_eq!(
            render(s),
            r#"move_mount(-1, "", AT_FDCWD, "/x", MOVE_MOUNT_F_SYMLINKS|MOVE_MOUNT_F_AUTOMOUNTS|MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_SYMLINKS|MOVE_MOUNT_T_AUTOMOUNTS|MOVE_MOUNT_T_EMPTY_PATH|MOVE_MOUNT_SET_GROUP|MOVE_MOUNT_BENEATH|0xfffffc88) = -1 EINVAL (Invalid argument)"#
        );
        let s = Sample::new(Syscall::MoveMount, [FDCWD, 0, FDCWD, 1, 0, 0], -14)
            .with(1, ARG_NULL, b"")
            .with(3, ARG_UNREADABLE, b"");
        assert_eq!(
            render(s),
            "move_mount(AT_FDCWD, NULL, AT_FDCWD, 0x1, 0) = -1 EFAULT (Bad address)"
        );
    }

    #[test]
    fn open_tree_and_fspick() {
        let s = Sample::new(Syscall::OpenTree, [FDCWD, 1, 0x8_8001, 0, 0, 0], 5)
            .with(1, ARG_DATA, b"/a");
        assert_eq!(
            render(s),
            r#"open_tree(AT_FDCWD, "/a", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE) = 5"#
        );
        let s = Sample::new(Syscall::OpenTree, [FDCWD, 1, 0xffff_ffff, 0, 0, 0], -22).with(
            1,
            ARG_DATA,
            b"/nonexist",
        );
        assert_eq!(
            render(s),
            r#"open_tree(AT_FDCWD, "/nonexist", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_SYMLINK_NOFOLLOW|AT_REMOVEDIR|AT_SYMLINK_FOLLOW|AT_NO_AUTOMOUNT|AT_EMPTY_PATH|AT_RECURSIVE|0xfff760fe) = -1 EINVAL (Invalid argument)"#
        );
        let s = Sample::new(Syscall::Fspick, [FDCWD, 1, 1, 0, 0, 0], 6).with(1, ARG_DATA, b"/a");
        assert_eq!(render(s), r#"fspick(AT_FDCWD, "/a", FSPICK_CLOEXEC) = 6"#);
        let s = Sample::new(Syscall::Fspick, [3, 1, 0x1_0000_0018, 0, 0, 0], -22)
            .with(1, ARG_DATA, b"");
        assert_eq!(
            render(s),
            r#"fspick(3, "", FSPICK_EMPTY_PATH|0x10) = -1 EINVAL (Invalid argument)"#
        );
    }

    #[test]
    fn pivot_root() {
        let s = Sample::new(Syscall::PivotRoot, [1, 2, 0, 0, 0, 0], 0)
            .with(0, ARG_DATA, b"/new")
            .with(1, ARG_DATA, b"/new/old");
        assert_eq!(render(s), r#"pivot_root("/new", "/new/old") = 0"#);
        let s = Sample::new(Syscall::PivotRoot, [0, 1, 0, 0, 0, 0], -14)
            .with(0, ARG_NULL, b"")
            .with(1, ARG_UNREADABLE, b"");
        assert_eq!(render(s), "pivot_root(NULL, 0x1) = -1 EFAULT (Bad address)");
    }

    fn attr(set: u64, clr: u64, prop: u64, userns: u64) -> Vec<u8> {
        [set, clr, prop, userns]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect()
    }

    fn setattr(flags: u64, size: u64, ret: i64, attr_state: u8, bytes: &[u8]) -> String {
        let s = Sample::new(
            Syscall::MountSetattr,
            [FDCWD, 1, flags, 0x7ffe_0000, size, 0],
            ret,
        )
        .with(1, ARG_DATA, b"/b")
        .with(3, attr_state, bytes);
        render(s)
    }

    #[test]
    fn mount_setattr() {
        assert_eq!(
            setattr(0x8000, 32, 0, ARG_DATA, &attr(9, 0, 0, 0)),
            r#"mount_setattr(AT_FDCWD, "/b", AT_RECURSIVE, {attr_set=MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOEXEC, attr_clr=0, propagation=0, userns_fd=0}, 32) = 0"#
        );
        assert_eq!(
            setattr(
                0,
                32,
                -22,
                ARG_DATA,
                &attr(0x1_0000_0001, 0x1_0000_0000, 0x1_0004_0000, u64::MAX)
            ),
            r#"mount_setattr(AT_FDCWD, "/b", 0, {attr_set=MOUNT_ATTR_RDONLY|0x100000000, attr_clr=0x100000000 /* MOUNT_ATTR_??? */, propagation=0x100040000 /* MS_??? */, userns_fd=18446744073709551615}, 32) = -1 EINVAL (Invalid argument)"#
        );
        assert_eq!(
            setattr(
                0x1_0000_0001,
                32,
                -22,
                ARG_DATA,
                &attr(0x10_0000, 0x70, 1 << 18, 5)
            ),
            r#"mount_setattr(AT_FDCWD, "/b", 0x1 /* AT_??? */, {attr_set=MOUNT_ATTR_IDMAP, attr_clr=MOUNT_ATTR_NOATIME|MOUNT_ATTR_STRICTATIME|0x40, propagation=MS_PRIVATE, userns_fd=5}, 32) = -1 EINVAL (Invalid argument)"#
        );
    }

    #[test]
    fn mount_setattr_odd_sizes_and_pointers() {
        // Smaller than the first struct: the address only.
        assert_eq!(
            setattr(0, 24, -22, ARG_DATA, &attr(0, 0, 0, 0)[..24]),
            r#"mount_setattr(AT_FDCWD, "/b", 0, 0x7ffe0000, 24) = -1 EINVAL (Invalid argument)"#
        );
        assert_eq!(
            setattr(0, 0, -22, ARG_DATA, b""),
            r#"mount_setattr(AT_FDCWD, "/b", 0, 0x7ffe0000, 0) = -1 EINVAL (Invalid argument)"#
        );
        assert_eq!(
            setattr(0, 32, -14, ARG_NULL, b""),
            r#"mount_setattr(AT_FDCWD, "/b", 0, NULL, 32) = -1 EFAULT (Bad address)"#
        );
        assert_eq!(
            setattr(0, 32, -14, ARG_UNREADABLE, b""),
            r#"mount_setattr(AT_FDCWD, "/b", 0, 0x7ffe0000, 32) = -1 EFAULT (Bad address)"#
        );
        // Larger: the bytes past the first 32 when any is not zero.
        let mut big = attr(0, 0, 0, 0);
        big.extend_from_slice(&[0x34, 0x12, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            setattr(0, 40, -7, ARG_DATA, &big),
            r#"mount_setattr(AT_FDCWD, "/b", 0, {attr_set=0, attr_clr=0, propagation=0, userns_fd=0, /* bytes 32..39 */ "\x34\x12\x00\x00\x00\x00\x00\x00"}, 40) = -1 E2BIG (Argument list too long)"#
        );
        let zeros = vec![0u8; 64];
        assert_eq!(
            setattr(0, 64, -2, ARG_DATA, &zeros),
            r#"mount_setattr(AT_FDCWD, "/b", 0, {attr_set=0, attr_clr=0, propagation=0, userns_fd=0}, 64) = -1 ENOENT (No such file or directory)"#
        );
        // The tail could not be read (only the first 32 bytes were).
        assert_eq!(
            setattr(0, 40, -14, ARG_DATA, &attr(1, 0, 0, 0)),
            r#"mount_setattr(AT_FDCWD, "/b", 0, {attr_set=MOUNT_ATTR_RDONLY, attr_clr=0, propagation=0, userns_fd=0, ???}, 40) = -1 EFAULT (Bad address)"#
        );
        // A huge size: the bytes up to a page.
        let mut page = vec![0u8; 4096];
        page[4095] = 1;
        let text = setattr(0, 0x1_0000_0020, -22, ARG_DATA, &page);
        assert!(
            text.contains(r#"userns_fd=0, /* bytes 32..4095 */ "\x00"#),
            "{text}"
        );
        assert!(text.ends_with(r#"\x01"}, 4294967328) = -1 EINVAL (Invalid argument)"#));
    }

    /// strace 6.1 does not know open_tree_attr (Linux 6.15); the expected
    /// lines follow later strace's decoder, checked by hand.
    #[test]
    fn open_tree_attr() {
        let s = Sample::new(Syscall::OpenTreeAttr, [FDCWD, 1, 0x8_0001, 2, 32, 0], 7)
            .with(1, ARG_DATA, b"/a")
            .with(3, ARG_DATA, &attr(1, 0, 0, 0));
        assert_eq!(
            render(s),
            r#"open_tree_attr(AT_FDCWD, "/a", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC, {attr_set=MOUNT_ATTR_RDONLY, attr_clr=0, propagation=0, userns_fd=0}, 32) = 7"#
        );
        let s = Sample::new(Syscall::OpenTreeAttr, [FDCWD, 1, 1, 0, 0, 0], 7)
            .with(1, ARG_DATA, b"/a")
            .with(3, ARG_NULL, b"");
        assert_eq!(
            render(s),
            r#"open_tree_attr(AT_FDCWD, "/a", OPEN_TREE_CLONE, NULL, 0) = 7"#
        );
    }
}
