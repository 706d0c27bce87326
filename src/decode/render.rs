//! One call as strace prints it: `name(args) = ret`.

use std::fmt::Write;

use super::errno::push_return;
use super::escape::{quote, quote_hex};
use super::flags::{mount_flags, push_flags, FlagTable, MountFlags, MOUNT_FLAGS, UMOUNT_FLAGS};
use super::mount_api;
use crate::event::{ArgData, Event};
use crate::syscalls::Syscall;

/// strace reads a path up to PATH_MAX bytes with its NUL: at most 4095
/// characters, then `...`.
const PATH_SHOWN_MAX: usize = 4095;
const EFAULT: i64 = 14;
/// The dirfd that means "the current directory".
const AT_FDCWD: i32 = -100;

/// What rendering noticed that the caller may want to report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Notes {
    /// String arguments we could not read although the kernel could.
    pub unreadable: u32,
    /// Where each printed argument's text lies in the output string.
    pub spans: [(usize, usize); 6],
    /// How many arguments were printed.
    pub args: usize,
}

/// Builds one call's text; keeps the event and what it noticed.
pub(super) struct Call<'e, 'a> {
    pub(super) event: &'e Event<'a>,
    pub(super) out: &'e mut String,
    notes: Notes,
    first: bool,
}

impl Call<'_, '_> {
    /// Starts the next argument.
    pub(super) fn sep(&mut self) {
        if !self.first {
            self.end_arg();
            self.out.push_str(", ");
        }
        self.first = false;
        if let Some(span) = self.notes.spans.get_mut(self.notes.args) {
            span.0 = self.out.len();
        }
    }

    fn end_arg(&mut self) {
        if let Some(span) = self.notes.spans.get_mut(self.notes.args) {
            span.1 = self.out.len();
        }
        self.notes.args += 1;
    }

    /// A pointer printed as strace's printaddr: NULL or hex.
    pub(super) fn addr(&mut self, i: usize) {
        self.sep();
        push_addr(self.event.arg(i), self.out);
    }

    pub(super) fn unreadable(&mut self, i: usize) {
        if self.event.header.ret != -EFAULT {
            self.notes.unreadable += 1;
        }
        push_addr(self.event.arg(i), self.out);
    }

    /// Argument `i`'s data with `show`: whole when it has at most
    /// `whole_max` bytes, else its first `keep` bytes and `...`; NULL, or
    /// the address, when there is no data.
    fn data(&mut self, i: usize, whole_max: usize, keep: usize, show: fn(&[u8], &mut String)) {
        self.sep();
        match self.event.data(i) {
            ArgData::Whole(b) if b.len() <= whole_max => show(b, self.out),
            ArgData::Whole(b) | ArgData::Truncated(b) => {
                show(&b[..b.len().min(keep)], self.out);
                self.out.push_str("...");
            }
            ArgData::Null => self.out.push_str("NULL"),
            ArgData::Unreadable => self.unreadable(i),
            ArgData::Raw => push_addr(self.event.arg(i), self.out),
        }
    }

    /// A path argument (strace's printpath).
    pub(super) fn path(&mut self, i: usize) {
        self.data(i, PATH_SHOWN_MAX, PATH_SHOWN_MAX, quote);
    }

    /// A C string argument (strace's printstr).
    pub(super) fn string(&mut self, i: usize) {
        self.data(i, usize::MAX, usize::MAX, quote);
    }

    /// A C string that strace reads at most `limit` bytes of (its
    /// printstr_ex with a length): longer ones are cut there, with `...`.
    pub(super) fn string_upto(&mut self, i: usize, limit: usize) {
        self.data(i, limit.saturating_sub(1), limit, quote);
    }

    /// Binary data, every byte in hex (strace's QUOTE_FORCE_HEX).
    pub(super) fn hex(&mut self, i: usize) {
        self.data(i, usize::MAX, usize::MAX, quote_hex);
    }

    pub(super) fn flags(&mut self, value: u64, table: &FlagTable) {
        self.sep();
        push_flags(value, table, self.out);
    }

    /// Flags of a C `unsigned int` argument: the kernel and strace both
    /// ignore the upper half of the register.
    pub(super) fn flags32(&mut self, i: usize, table: &FlagTable) {
        self.flags(u64::from(self.event.arg(i) as u32), table);
    }

    /// A C `int` argument (strace's printfd and PRINT_VAL_D alike).
    pub(super) fn int(&mut self, i: usize) {
        self.sep();
        let _ = write!(self.out, "{}", self.event.arg(i) as i32);
    }

    /// A directory fd: AT_FDCWD by name, others as numbers.
    pub(super) fn dirfd(&mut self, i: usize) {
        self.sep();
        match self.event.arg(i) as i32 {
            AT_FDCWD => self.out.push_str("AT_FDCWD"),
            fd => {
                let _ = write!(self.out, "{fd}");
            }
        }
    }

    /// A C `unsigned long` argument, in decimal.
    pub(super) fn ulong(&mut self, i: usize) {
        self.sep();
        let _ = write!(self.out, "{}", self.event.arg(i));
    }
}

/// strace's printaddr.
pub fn push_addr(value: u64, out: &mut String) {
    if value == 0 {
        out.push_str("NULL");
    } else {
        let _ = write!(out, "{value:#x}");
    }
}

/// Appends the CALL text of `event` to `out`.
pub fn render_call(event: &Event, out: &mut String) -> Notes {
    out.push_str(event.call.name());
    out.push('(');
    let mut call = Call {
        event,
        out,
        notes: Notes::default(),
        first: true,
    };
    match event.call {
        Syscall::Mount => mount(&mut call),
        Syscall::Umount2 => {
            call.path(0);
            // umount2's flags are an int.
            call.flags32(1, &UMOUNT_FLAGS);
        }
        Syscall::Fsopen => mount_api::fsopen(&mut call),
        Syscall::Fsconfig => mount_api::fsconfig(&mut call),
        Syscall::Fsmount => mount_api::fsmount(&mut call),
        Syscall::MoveMount => mount_api::move_mount(&mut call),
        Syscall::OpenTree => mount_api::open_tree(&mut call),
        Syscall::MountSetattr => mount_api::mount_setattr(&mut call),
        Syscall::Fspick => mount_api::fspick(&mut call),
        Syscall::PivotRoot => mount_api::pivot_root(&mut call),
        Syscall::OpenTreeAttr => mount_api::open_tree_attr(&mut call),
    }
    if !call.first {
        call.end_arg();
    }
    let notes = call.notes;
    out.push(')');
    push_return(event.header.ret, out);
    notes
}

/// mount(source, target, filesystemtype, mountflags, data), with strace's
/// rules: a remount ignores the type, bind/move/propagation changes ignore
/// type and data (shown as addresses), and the old magic number is named.
fn mount(call: &mut Call) {
    let MountFlags {
        flags,
        old_magic,
        ignore_type,
        ignore_data,
    } = mount_flags(call.event.arg(3));

    call.path(0);
    call.path(1);
    if ignore_type {
        call.addr(2);
    } else {
        call.string(2);
    }
    call.sep();
    if old_magic {
        call.out.push_str("MS_MGC_VAL");
        if flags != 0 {
            call.out.push('|');
        }
    }
    if flags != 0 || !old_magic {
        push_flags(flags, &MOUNT_FLAGS, call.out);
    }
    if ignore_data {
        call.addr(4);
    } else {
        call.string(4);
    }
}

/// Test support: the CALL text of a sample built as the kernel would.
#[cfg(test)]
pub fn render(s: crate::event::build::Sample) -> String {
    let bytes = s.bytes();
    let e = Event::parse(&bytes).expect("a well-formed sample");
    let mut out = String::new();
    render_call(&e, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build::Sample;
    use crate::event::{ARG_DATA, ARG_NULL, ARG_TRUNCATED, ARG_UNREADABLE};

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
    fn spans_cover_each_argument() {
        let s = Sample::new(Syscall::Umount2, [1, 2, 0, 0, 0, 0], 0).with(0, ARG_DATA, b"/a");
        let bytes = s.bytes();
        let e = Event::parse(&bytes).unwrap();
        let mut out = String::new();
        let notes = render_call(&e, &mut out);
        assert_eq!(notes.args, 2);
        let arg = |i: usize| &out[notes.spans[i].0..notes.spans[i].1];
        assert_eq!(arg(0), "\"/a\"");
        assert_eq!(arg(1), "MNT_DETACH");
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
}
