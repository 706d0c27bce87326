//! mount(2), umount2(2) and pivot_root(2), as strace prints them.

use crate::decode::printer::Printer;
use crate::decode::xlat::{
    mount_flags, push_flags, MountFlags, MOUNT_FLAGS, MS_MGC_VAL, UMOUNT_FLAGS,
};

/// mount(source, target, filesystemtype, mountflags, data), with strace's
/// rules: a remount ignores the type, bind/move/propagation changes ignore
/// type and data (shown as addresses), and the old magic number is named.
pub fn mount(p: &mut Printer) {
    let MountFlags {
        flags,
        old_magic,
        ignore_type,
        ignore_data,
    } = mount_flags(p.raw(3));

    p.path(0);
    p.path(1);
    if ignore_type {
        p.addr(2);
    } else {
        p.string(2);
    }
    // The number the text stands for: the kernel (and strace) drop
    // everything but the low 16 bits once they see the magic.
    let shown = if old_magic { MS_MGC_VAL | flags } else { flags };
    p.custom(3, shown, |out| {
        if old_magic {
            out.push_str("MS_MGC_VAL");
            if flags != 0 {
                out.push('|');
            }
        }
        if flags != 0 || !old_magic {
            push_flags(flags, &MOUNT_FLAGS, out);
        }
    });
    if ignore_data {
        p.addr(4);
    } else {
        p.string(4);
    }
}

/// umount2(target, flags): flags is an int.
pub fn umount2(p: &mut Printer) {
    p.path(0);
    p.flags32(1, &UMOUNT_FLAGS);
}

/// pivot_root(new_root, put_old)
pub fn pivot_root(p: &mut Printer) {
    p.path(0);
    p.path(1);
}

#[cfg(test)]
mod tests {
    use crate::decode::render;
    use crate::event::build::Sample;
    use crate::event::{ARG_DATA, ARG_NULL, ARG_TRUNCATED, ARG_UNREADABLE};
    use crate::syscalls::Syscall;

    fn mount(args: [u64; 6], ret: i64) -> Sample {
        Sample::new(Syscall::Mount, args, ret)
    }

    #[test]
    fn tmpfs_mount_with_flags_and_data() {
        let s = mount([1, 2, 3, 6, 5, 0], 0)
            .with(0, ARG_DATA, b"none")
            .with(1, ARG_DATA, b"/tmp/x")
            .with(2, ARG_DATA, b"tmpfs")
            .with(4, ARG_DATA, b"size=1m");
        assert_eq!(
            render(s),
            r#"mount("none", "/tmp/x", "tmpfs", MS_NOSUID|MS_NODEV, "size=1m") = 0"#
        );
    }

    #[test]
    fn remount_and_bind() {
        let s = mount([0, 2, 0, 1 | 32 | 4096, 0, 0], 0)
            .with(0, ARG_NULL, b"")
            .with(1, ARG_DATA, b"/a")
            .with(2, ARG_NULL, b"")
            .with(4, ARG_NULL, b"");
        assert_eq!(
            render(s),
            r#"mount(NULL, "/a", NULL, MS_RDONLY|MS_REMOUNT|MS_BIND, NULL) = 0"#
        );
        let s = mount([1, 2, 0, 0xc0ed_0000 | 4096, 0, 0], 0)
            .with(0, ARG_DATA, b"/a")
            .with(1, ARG_DATA, b"/b");
        assert_eq!(
            render(s),
            r#"mount("/a", "/b", NULL, MS_MGC_VAL|MS_BIND, NULL) = 0"#
        );
    }

    #[test]
    fn ignored_arguments_print_as_addresses() {
        // strace: mount(NULL, "/x", 0x3, MS_REMOUNT, 0x4) = -1 EFAULT
        let s = mount([0, 2, 3, 32, 4, 0], -14)
            .with(0, ARG_NULL, b"")
            .with(1, ARG_DATA, b"/x")
            .with(2, ARG_UNREADABLE, b"")
            .with(4, ARG_UNREADABLE, b"");
        assert_eq!(
            render(s),
            r#"mount(NULL, "/x", 0x3, MS_REMOUNT, 0x4) = -1 EFAULT (Bad address)"#
        );
        let s = mount([1, 2, 3, 4096, 4, 0], -14)
            .with(0, ARG_DATA, b"/a")
            .with(1, ARG_DATA, b"/x");
        assert_eq!(
            render(s),
            r#"mount("/a", "/x", 0x3, MS_BIND, 0x4) = -1 EFAULT (Bad address)"#
        );
    }

    #[test]
    fn magic_alone_and_failures() {
        let s = mount([1, 2, 3, 0xc0ed_0000, 0, 0], -2)
            .with(0, ARG_DATA, b"none")
            .with(1, ARG_DATA, b"/nonexist")
            .with(2, ARG_DATA, b"tmpfs")
            .with(4, ARG_NULL, b"");
        assert_eq!(
            render(s),
            r#"mount("none", "/nonexist", "tmpfs", MS_MGC_VAL, NULL) = -1 ENOENT (No such file or directory)"#
        );
        let s = mount([1, 2, 3, 0, 0, 0], -19)
            .with(0, ARG_DATA, b"none")
            .with(1, ARG_DATA, b"/x")
            .with(2, ARG_DATA, b"bogusfs")
            .with(4, ARG_NULL, b"");
        assert_eq!(
            render(s),
            r#"mount("none", "/x", "bogusfs", 0, NULL) = -1 ENODEV (No such device)"#
        );
    }

    #[test]
    fn unreadable_pointers_print_as_addresses() {
        let s = mount([1, 2, 3, 0, 4, 0], -14)
            .with(0, ARG_UNREADABLE, b"")
            .with(1, ARG_UNREADABLE, b"")
            .with(2, ARG_UNREADABLE, b"")
            .with(4, ARG_UNREADABLE, b"");
        assert_eq!(
            render(s),
            "mount(0x1, 0x2, 0x3, 0, 0x4) = -1 EFAULT (Bad address)"
        );
    }

    #[test]
    fn long_paths_are_cut_as_strace_cuts_them() {
        let long = vec![b'a'; 4096];
        let s =
            Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], -36).with(0, ARG_TRUNCATED, &long);
        let text = render(s);
        assert!(text.starts_with(&format!("umount2(\"{}\"...,", "a".repeat(4095))));
        let exact = vec![b'b'; 4095];
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0).with(0, ARG_DATA, &exact);
        assert_eq!(
            render(s),
            format!("umount2(\"{}\", 0) = 0", "b".repeat(4095))
        );
    }

    #[test]
    fn umount2() {
        let s = Sample::new(Syscall::Umount2, [1, 2, 0, 0, 0, 0], 0).with(0, ARG_DATA, b"/a");
        assert_eq!(render(s), r#"umount2("/a", MNT_DETACH) = 0"#);
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], -22).with(0, ARG_DATA, b"/a");
        assert_eq!(
            render(s),
            r#"umount2("/a", 0) = -1 EINVAL (Invalid argument)"#
        );
        let s = Sample::new(Syscall::Umount2, [1, 0x100, 0, 0, 0, 0], -22).with(0, ARG_DATA, b"/x");
        assert_eq!(
            render(s),
            r#"umount2("/x", 0x100 /* MNT_??? */) = -1 EINVAL (Invalid argument)"#
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
}
