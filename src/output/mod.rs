//! Output formats. Each turns one event into bytes appended to a buffer;
//! none of them touches libbpf or writes to a file itself.

pub mod columns;

use crate::clock::Clock;
use crate::decode::render::Notes;
use crate::event::Event;

/// One way of printing events.
pub trait Format {
    /// The header line (with its newline), if the format has one.
    fn header(&self) -> Option<String>;
    /// Appends one event, exactly one line, to `out`.
    fn event(&mut self, event: &Event, clock: &Clock, out: &mut Vec<u8>) -> Notes;
}
