//! Output formats. Each turns one event into bytes appended to a buffer;
//! none of them touches libbpf or writes to a file itself.

pub mod columns;
pub mod detailed;
pub mod json;
pub mod mounts;
pub mod summary;

use crate::clock::Clock;
use crate::decode::printer::{Arg, ReadTime, Value};
use crate::decode::Description;
use crate::event::Event;
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
