//! Each argument as a typed value, for formats that print values rather
//! than strace's text (JSON). Follows the same rules as the CALL text:
//! what strace shows as an address is an address here too.

use super::flags::mount_flags;
use crate::event::{ArgData, Event};
use crate::syscalls::Syscall;

/// One argument's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgValue<'a> {
    /// A NULL pointer.
    Null,
    /// Bytes read from user memory (a string without its NUL).
    Bytes(&'a [u8]),
    /// A signed int (fds, dirfds, aux).
    Int(i64),
    /// An unsigned number or a set of flags.
    UInt(u64),
    /// A pointer shown as its address (unreadable, or ignored by the call).
    Addr(u64),
    /// struct mount_attr, as read.
    MountAttr(MountAttr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MountAttr {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
}

impl MountAttr {
    /// The first published layout (MOUNT_ATTR_SIZE_VER0): four u64.
    pub fn from_bytes(b: &[u8]) -> Option<MountAttr> {
        let word = |i: usize| -> Option<u64> {
            Some(u64::from_ne_bytes(
                b.get(i * 8..i * 8 + 8)?.try_into().ok()?,
            ))
        };
        Some(MountAttr {
            attr_set: word(0)?,
            attr_clr: word(1)?,
            propagation: word(2)?,
            userns_fd: word(3)?,
        })
    }
}

/// How one argument is typed.
#[derive(Clone, Copy)]
enum Kind {
    /// A string or path pointer.
    Str,
    /// A pointer whose data is not part of the call (shown as address).
    Ignored,
    Int32,
    UInt32,
    UInt64,
    Attr,
}

/// mount(2)'s type and data are ignored by the kernel for some flags;
/// the same rule as the CALL text (and strace).
fn mount_kinds(raw_flags: u64) -> [Kind; 5] {
    let m = mount_flags(raw_flags);
    let fstype = if m.ignore_type {
        Kind::Ignored
    } else {
        Kind::Str
    };
    let data = if m.ignore_data {
        Kind::Ignored
    } else {
        Kind::Str
    };
    [Kind::Str, Kind::Str, fstype, Kind::UInt64, data]
}

/// fsconfig's value is a string, a blob or nothing depending on cmd.
fn fsconfig_value_kind(cmd: u64) -> Kind {
    match cmd {
        1..=4 => Kind::Str, // SET_STRING, SET_BINARY, SET_PATH, SET_PATH_EMPTY
        _ => Kind::Ignored,
    }
}

fn kinds(event: &Event) -> Vec<Kind> {
    use Kind::*;
    match event.call {
        Syscall::Mount => mount_kinds(event.arg(3)).to_vec(),
        Syscall::Umount2 => vec![Str, UInt32],
        Syscall::Fsopen => vec![Str, UInt32],
        Syscall::Fsconfig => vec![
            Int32,
            UInt32,
            Str,
            fsconfig_value_kind(event.arg(1) & 0xffff_ffff),
            Int32,
        ],
        Syscall::Fsmount => vec![Int32, UInt32, UInt32],
        Syscall::MoveMount => vec![Int32, Str, Int32, Str, UInt32],
        Syscall::OpenTree | Syscall::Fspick => vec![Int32, Str, UInt32],
        Syscall::MountSetattr | Syscall::OpenTreeAttr => vec![Int32, Str, UInt32, Attr, UInt64],
        Syscall::PivotRoot => vec![Str, Str],
    }
}

fn pointer(value: u64) -> ArgValue<'static> {
    if value == 0 {
        ArgValue::Null
    } else {
        ArgValue::Addr(value)
    }
}

/// The arguments of `event`, named as in the man pages, in order.
pub fn arg_values<'a>(event: &Event<'a>) -> Vec<(&'static str, ArgValue<'a>)> {
    let names = event.call.arg_names();
    kinds(event)
        .into_iter()
        .enumerate()
        .map(|(i, kind)| {
            let raw = event.arg(i);
            let value = match kind {
                Kind::Int32 => ArgValue::Int(i64::from(raw as u32 as i32)),
                Kind::UInt32 => ArgValue::UInt(raw & 0xffff_ffff),
                Kind::UInt64 => ArgValue::UInt(raw),
                Kind::Ignored => pointer(raw),
                Kind::Str => match event.data(i) {
                    ArgData::Whole(b) | ArgData::Truncated(b) => ArgValue::Bytes(b),
                    ArgData::Null => ArgValue::Null,
                    ArgData::Raw | ArgData::Unreadable => pointer(raw),
                },
                Kind::Attr => match event.data(i) {
                    ArgData::Whole(b) => MountAttr::from_bytes(b)
                        .map(ArgValue::MountAttr)
                        .unwrap_or(pointer(raw)),
                    _ => pointer(raw),
                },
            };
            (names[i], value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build::Sample;
    use crate::event::{ARG_DATA, ARG_NULL};

    #[test]
    fn mount_values() {
        let s = Sample::new(Syscall::Mount, [1, 2, 3, 4096, 5, 0], 0)
            .with(0, ARG_DATA, b"/a")
            .with(1, ARG_DATA, b"/b")
            .with(2, ARG_NULL, b"");
        let bytes = s.bytes();
        let e = Event::parse(&bytes).unwrap();
        let v = arg_values(&e);
        assert_eq!(v[0], ("source", ArgValue::Bytes(b"/a")));
        assert_eq!(v[2], ("filesystemtype", ArgValue::Addr(3)));
        assert_eq!(v[3], ("mountflags", ArgValue::UInt(4096)));
        assert_eq!(v[4], ("data", ArgValue::Addr(5)));
    }

    #[test]
    fn fds_are_signed_and_attr_is_a_struct() {
        let mut attr = Vec::new();
        for w in [1u64, 0, 0, 0] {
            attr.extend_from_slice(&w.to_ne_bytes());
        }
        let s = Sample::new(
            Syscall::MountSetattr,
            [(-100i64) as u64, 2, 0x8000, 4, 32, 0],
            0,
        )
        .with(1, ARG_DATA, b"/b")
        .with(3, ARG_DATA, &attr);
        let bytes = s.bytes();
        let e = Event::parse(&bytes).unwrap();
        let v = arg_values(&e);
        assert_eq!(v[0], ("dirfd", ArgValue::Int(-100)));
        assert_eq!(
            v[3],
            (
                "attr",
                ArgValue::MountAttr(MountAttr {
                    attr_set: 1,
                    ..Default::default()
                })
            )
        );
        assert_eq!(v[4], ("size", ArgValue::UInt(32)));
    }
}
