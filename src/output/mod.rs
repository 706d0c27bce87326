//! Output formats. Each turns one event into bytes appended to a buffer;
//! none of them touches libbpf or writes to a file itself.

pub mod columns;
pub mod detailed;
pub mod json;
pub mod mounts;
pub mod summary;
pub mod table;

use crate::clock::Clock;
use crate::container::{self, Container};
use crate::decode::paths::{self, Resolved};
use crate::decode::printer::{Arg, ReadTime, Value};
use crate::decode::Description;
use crate::event::{Event, Name, NAME_CGROUP, NAME_CGROUP_V1, NAME_RET};
use crate::mounts::Tracker;

/// One way of printing events.
pub trait Format {
    /// The header line (with its newline), if the format has one.
    fn header(&self) -> Option<String> {
        None
    }
    /// Appends one event to `out`: exactly one line, except for the
    /// block form, which is one block. Returns the call's description
    /// (the sink reports what it could not read).
    fn event<'a>(&mut self, event: &Event<'a>, clock: &Clock, out: &mut Vec<u8>)
        -> Description<'a>;
    /// Appends what is printed at exit (the summary's table).
    fn finish(&mut self, _lost: u64, _out: &mut Vec<u8>) {}
    /// The builder of mount records, in the forms that show them: the
    /// sink sweeps it for chains left unfinished.
    fn mounts(&mut self) -> Option<&mut Tracker> {
        None
    }
}

/// How an argument's value came to be what it is, when that is not
/// simply "read whole as the call started": for JSON's `arg_state` and
/// the detailed block. Empty for most arguments.
pub fn arg_state(arg: &Arg) -> impl Iterator<Item = &'static str> {
    let state = match arg.value {
        Value::Unreadable(_) => Some("unreadable"),
        Value::Unterminated(_) => Some("unterminated"),
        Value::Str(s) | Value::Binary(s) if s.cut => Some("truncated"),
        _ => None,
    };
    let read = match arg.read {
        ReadTime::AtEntry => None,
        ReadTime::AtExit => Some("read_at_exit"),
        ReadTime::AfterCall => Some("read_after_call"),
    };
    state
        .into_iter()
        .chain(read)
        .chain(arg.changed.then_some("changed_during_call"))
}

/// The caller's cgroup paths as the kernel side read them: v2 first,
/// then its pids cgroup where that is a v1 hierarchy. A path whose walk
/// stopped short of the root starts with `...`.
pub fn cgroup_paths(event: &Event) -> Vec<String> {
    [NAME_CGROUP, NAME_CGROUP_V1]
        .into_iter()
        .filter_map(|slot| name_text(event.name(slot)))
        .collect()
}

/// The container the caller runs in, told from its cgroup paths.
pub fn container_of(event: &Event) -> Option<Container> {
    container_in(&cgroup_paths(event))
}

/// The container that cgroup paths (as `cgroup_paths` gives them) name.
pub fn container_in(paths: &[String]) -> Option<Container> {
    container::identify(paths.iter().map(String::as_str))
}

/// A name as text for JSON and the detailed block: as /proc/PID/fd shows
/// it, with ` (deleted)` after a deleted file, `...` first where the top
/// of the path is missing.
pub fn name_text(name: Name) -> Option<String> {
    let (text, cut) = name.text()?;
    let mut s = String::from_utf8_lossy(&text).into_owned();
    if cut {
        s.insert_str(0, "...");
    }
    if name.deleted() {
        s.push_str(" (deleted)");
    }
    Some(s)
}

/// One argument's place in the file system, beyond its printed value:
/// the absolute form of a path argument, what an fd argument refers to
/// (with -y).
pub struct Place {
    pub arg: &'static str,
    pub absolute: Option<Resolved>,
    pub fd: Option<String>,
}

/// The places of the call's arguments, in order, and (with -y) what the
/// returned fd refers to.
pub fn places(event: &Event, desc: &Description) -> (Vec<Place>, Option<String>) {
    let mut out = Vec::new();
    for (i, arg) in desc.args().iter().enumerate() {
        let absolute = paths::absolute(event, i);
        let fd = if event.fd_paths {
            arg.fd_slot
                .and_then(|slot| name_text(event.name(usize::from(slot))))
        } else {
            None
        };
        if absolute.is_some() || fd.is_some() {
            out.push(Place {
                arg: arg.name,
                absolute,
                fd,
            });
        }
    }
    let ret = (event.fd_paths && event.header.ret >= 0 && event.call.returns_fd())
        .then(|| name_text(event.name(NAME_RET)))
        .flatten();
    (out, ret)
}

/// Appends nanoseconds as microseconds with three decimals.
pub fn push_micros(ns: u64, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(out, "{}.{:03}", ns / 1000, ns % 1000);
}

/// Nanoseconds as microseconds with three decimals.
pub fn micros(ns: u64) -> String {
    let mut s = String::new();
    push_micros(ns, &mut s);
    s
}
