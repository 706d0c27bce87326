//! Everything that turns an event into what is printed: strace's
//! printing primitives, each call's arguments, the flag and constant
//! tables, errno names, string quoting. Pure and unit-tested.
//!
//! [`describe`] is the one entry point: it writes the CALL text and
//! returns the [`Description`] every output form reads.

pub mod calls;
pub mod errno;
pub mod escape;
pub mod paths;
pub mod printer;
#[cfg(test)]
mod uapi;
pub mod xlat;

use crate::event::{Event, NAME_RET};
use crate::syscalls::Syscall;
use calls::{mount, mount_api};
pub use printer::Description;
use printer::Printer;

/// Appends the CALL text of `event` to `out` (`name(args) = ret`), and
/// returns the description of its arguments, whose spans index `out`.
pub fn describe<'a>(event: &Event<'a>, out: &mut String) -> Description<'a> {
    out.push_str(event.call.name());
    out.push('(');
    let mut p = Printer::new(event, out);
    match event.call {
        Syscall::Mount => mount::mount(&mut p),
        Syscall::Umount2 => mount::umount2(&mut p),
        Syscall::Umount => mount::umount(&mut p),
        Syscall::PivotRoot => mount::pivot_root(&mut p),
        Syscall::Fsopen => mount_api::fsopen(&mut p),
        Syscall::Fsconfig => mount_api::fsconfig(&mut p),
        Syscall::Fsmount => mount_api::fsmount(&mut p),
        Syscall::MoveMount => mount_api::move_mount(&mut p),
        Syscall::OpenTree => mount_api::open_tree(&mut p),
        Syscall::MountSetattr => mount_api::mount_setattr(&mut p),
        Syscall::Fspick => mount_api::fspick(&mut p),
        Syscall::OpenTreeAttr => mount_api::open_tree_attr(&mut p),
    }
    let desc = p.finish();
    out.push(')');
    errno::push_return(event.header.ret, out);
    if event.fd_paths && event.header.ret >= 0 && event.call.returns_fd() {
        printer::push_name(event.name(NAME_RET), out);
    }
    desc
}

/// Test support: the CALL text of a sample built as the kernel would.
#[cfg(test)]
pub fn render(s: crate::event::build::Sample) -> String {
    let bytes = s.bytes();
    let e = Event::parse(&bytes).expect("a well-formed sample");
    let mut out = String::new();
    describe(&e, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::printer::{Shown, Value};
    use crate::event::build::Sample;
    use crate::event::ARG_DATA;

    #[test]
    fn spans_cover_each_argument() {
        let s = Sample::new(Syscall::Umount2, [1, 2, 0, 0, 0, 0], 0).with(0, ARG_DATA, b"/a");
        let bytes = s.bytes();
        let e = Event::parse(&bytes).unwrap();
        let mut out = String::new();
        let desc = describe(&e, &mut out);
        assert_eq!(desc.args().len(), 2);
        let arg = |i: usize| &out[desc.args()[i].start..desc.args()[i].end];
        assert_eq!(arg(0), "\"/a\"");
        assert_eq!(arg(1), "MNT_DETACH");
        assert_eq!(desc.args()[0].name, "target");
        assert_eq!(
            desc.args()[0].value,
            Value::Str(Shown {
                bytes: b"/a",
                cut: false
            })
        );
        assert_eq!(desc.args()[1].value, Value::UInt(2));
    }

    fn render_y(s: Sample) -> String {
        let bytes = s.bytes();
        let mut e = Event::parse(&bytes).unwrap();
        e.fd_paths = true;
        let mut out = String::new();
        describe(&e, &mut out);
        out
    }

    /// `strace -y`'s rendering of the same calls (strace 6.1).
    #[test]
    fn fds_as_strace_y_shows_them() {
        use crate::event::NAME_CWD;
        let s = Sample::new(Syscall::Fsopen, [1, 1, 0, 0, 0, 0], 3)
            .with(0, ARG_DATA, b"tmpfs")
            .pseudo_name(NAME_RET, 0x0904_1934, 7, "[fscontext]");
        assert_eq!(
            render_y(s),
            r#"fsopen("tmpfs", FSOPEN_CLOEXEC) = 3<anon_inode:[fscontext]>"#
        );
        let at_fdcwd = -100i64 as u64;
        let s = Sample::new(Syscall::MoveMount, [4, 1, at_fdcwd, 2, 4, 0], 0)
            .with(1, ARG_DATA, b"")
            .with(3, ARG_DATA, b"m")
            .name(0, &[])
            .name(NAME_CWD, &["a b<c>", "tmp"]);
        assert_eq!(
            render_y(s.clone()),
            r#"move_mount(4</>, "", AT_FDCWD</tmp/a b\74c\76>, "m", MOVE_MOUNT_F_EMPTY_PATH) = 0"#
        );
        // Without -y, the same event prints as before.
        assert_eq!(
            render(s),
            r#"move_mount(4, "", AT_FDCWD, "m", MOVE_MOUNT_F_EMPTY_PATH) = 0"#
        );
        // A pipe, an fd not open, a walk cut short.
        let s = Sample::new(Syscall::Fsconfig, [3, 5, 1, 0, 9, 0], -9)
            .with(2, ARG_DATA, b"source")
            .pseudo_name(0, 0x5049_5045, 4022, "")
            .cut_name(4, &["deep"]);
        assert_eq!(
            render_y(s),
            r#"fsconfig(3<pipe:[4022]>, FSCONFIG_SET_FD, "source", NULL, 9<.../deep>) = -1 EBADF (Bad file descriptor)"#
        );
    }

    /// Every call prints exactly as many arguments as its man page names.
    #[test]
    fn every_call_prints_every_argument() {
        for call in Syscall::ALL {
            let bytes = Sample::new(call, [0; 6], 0).bytes();
            let e = Event::parse(&bytes).unwrap();
            let desc = describe(&e, &mut String::new());
            let names: Vec<_> = desc.args().iter().map(|a| a.name).collect();
            assert_eq!(names, call.arg_names(), "{}", call.name());
        }
    }
}
