//! strace's printing primitives, and the one description of a call.
//!
//! A [`Printer`] writes a call's text as strace does and, for each
//! argument, records the span of text it wrote and the typed [`Value`] it
//! printed. The CALL text, the JSON `args` and the detailed block are all
//! read from that one record, so they cannot say different things.

use std::fmt::Write;

use super::escape::{escape_fd_path, quote, quote_hex};
use super::paths::dirfd_slot;
use super::xlat::{push_constant, push_flags, FlagTable, AT_FDCWD};
use crate::event::{ArgData, Event, Name, NAME_CWD};

/// strace reads a path up to PATH_MAX bytes with its NUL: at most 4095
/// characters, then `...`.
const PATH_SHOWN_MAX: usize = 4095;
const EFAULT: i64 = 14;

/// Bytes read from user memory, as far as they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown<'a> {
    pub bytes: &'a [u8],
    /// More followed (strace's `...`).
    pub cut: bool,
}

/// The bytes of a `struct mount_attr` past its first 32, when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrExtra<'a> {
    /// None, or all zero: nothing is printed.
    None,
    /// Printed in hex.
    Bytes(&'a [u8]),
    /// Could not be read (`???`).
    Unreadable,
}

/// `struct mount_attr` as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountAttr<'a> {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
    pub extra: AttrExtra<'a>,
}

/// What one argument's text says, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Value<'a> {
    /// `NULL`.
    #[default]
    Null,
    /// A pointer shown as its address: the call ignores what it points to.
    Addr(u64),
    /// A pointer shown as its address because it could not be read.
    Unreadable(u64),
    /// A string shown as its address: no end as far as strace reads.
    Unterminated(u64),
    /// A quoted string (strace's printstr and printpath).
    Str(Shown<'a>),
    /// Binary data, quoted in hex.
    Binary(Shown<'a>),
    /// A signed number: an int, an fd, a dirfd (AT_FDCWD is -100).
    Int(i64),
    /// An unsigned number, a constant or a set of flags.
    UInt(u64),
    MountAttr(MountAttr<'a>),
}

/// One printed argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Arg<'a> {
    /// Its name in the call's man page.
    pub name: &'static str,
    /// Where its text lies in the string the call was printed into.
    pub start: usize,
    pub end: usize,
    pub value: Value<'a>,
    /// When its memory was read.
    pub read: ReadTime,
    /// Its memory was rewritten while the call ran: what is printed is
    /// what the call started with.
    pub changed: bool,
    /// For an fd or a directory fd: what the kernel side resolved it to
    /// (the working directory for AT_FDCWD): its name slot; None otherwise.
    pub fd_slot: Option<u8>,
}

/// When an argument's memory was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadTime {
    /// As the call started, as the kernel was about to copy it (or not
    /// read at all: a number).
    #[default]
    AtEntry,
    /// Not readable as the call started (a page not yet touched): what it
    /// held as the call returned.
    AtExit,
    /// Not readable by the kernel side at all: read by mountsnoop from
    /// the process's memory after the call.
    AfterCall,
}

/// The description of one call: its arguments as printed, in order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Description<'a> {
    args: [Arg<'a>; 6],
    len: usize,
    /// String arguments we could not read although the kernel could.
    pub unreadable: u32,
}

impl Description<'_> {
    /// Arguments rewritten while their call ran.
    pub fn changed(&self) -> usize {
        self.args().iter().filter(|a| a.changed).count()
    }
}

impl<'a> Description<'a> {
    pub fn args(&self) -> &[Arg<'a>] {
        &self.args[..self.len]
    }

    /// True when any argument was cut at a read limit.
    pub fn cut(&self) -> bool {
        self.args().iter().any(|a| match a.value {
            Value::Str(s) | Value::Binary(s) => s.cut,
            _ => false,
        })
    }
}

/// Writes one call's arguments and records what it wrote.
pub struct Printer<'e, 'a> {
    event: &'e Event<'a>,
    out: &'e mut String,
    desc: Description<'a>,
}

impl<'e, 'a> Printer<'e, 'a> {
    pub fn new(event: &'e Event<'a>, out: &'e mut String) -> Printer<'e, 'a> {
        Printer {
            event,
            out,
            desc: Description::default(),
        }
    }

    pub fn finish(self) -> Description<'a> {
        self.desc
    }

    /// The raw value of argument `i`.
    pub fn raw(&self, i: usize) -> u64 {
        self.event.arg(i)
    }

    /// Prints argument `i` with `show`, which writes its text and returns
    /// its value; keeps both.
    fn arg(&mut self, i: usize, show: impl FnOnce(&mut String, &Event<'a>) -> Value<'a>) {
        if self.desc.len > 0 {
            self.out.push_str(", ");
        }
        let start = self.out.len();
        let value = show(self.out, self.event);
        let name = self.event.call.arg_names().get(i).copied().unwrap_or("?");
        let data = matches!(
            value,
            Value::Str(_) | Value::Binary(_) | Value::MountAttr(_)
        );
        let read = match (data, self.event) {
            (true, e) if e.read_after_call(i) => ReadTime::AfterCall,
            (true, e) if e.read_at_exit(i) => ReadTime::AtExit,
            _ => ReadTime::AtEntry,
        };
        if let Some(slot) = self.desc.args.get_mut(self.desc.len) {
            *slot = Arg {
                name,
                start,
                end: self.out.len(),
                value,
                read,
                changed: data && self.event.changed(i),
                fd_slot: None,
            };
            self.desc.len += 1;
        }
    }

    /// A pointer whose data the call ignores (strace's printaddr).
    pub fn addr(&mut self, i: usize) {
        self.arg(i, |out, e| pointer(e.arg(i), out));
    }

    /// A path argument (strace's printpath).
    pub fn path(&mut self, i: usize) {
        self.data(i, PATH_SHOWN_MAX, PATH_SHOWN_MAX, Text::Quoted);
    }

    /// A C string argument (strace's printstr).
    pub fn string(&mut self, i: usize) {
        self.data(i, usize::MAX, usize::MAX, Text::Quoted);
    }

    /// A C string that strace reads at most `limit` bytes of (its
    /// printstr_ex with a length): longer ones are cut there, with `...`.
    pub fn string_upto(&mut self, i: usize, limit: usize) {
        self.data(i, limit.saturating_sub(1), limit, Text::Quoted);
    }

    /// Binary data, every byte in hex (strace's QUOTE_FORCE_HEX).
    pub fn hex(&mut self, i: usize) {
        self.data(i, usize::MAX, usize::MAX, Text::Hex);
    }

    /// Argument `i`'s data: whole when it has at most `whole_max` bytes,
    /// else its first `keep` bytes and `...`; NULL, or the address, when
    /// there is no data.
    fn data(&mut self, i: usize, whole_max: usize, keep: usize, text: Text) {
        let mut unreadable = false;
        self.arg(i, |out, e| {
            let (bytes, cut) = match e.data(i) {
                ArgData::Whole(b) if b.len() <= whole_max => (b, false),
                ArgData::Whole(b) | ArgData::Truncated(b) => (&b[..b.len().min(keep)], true),
                ArgData::Null => {
                    out.push_str("NULL");
                    return Value::Null;
                }
                ArgData::Unreadable => return unreadable_pointer(e.arg(i), out, &mut unreadable),
                ArgData::Unterminated => return unterminated(e.arg(i), out),
                ArgData::Raw => return pointer(e.arg(i), out),
            };
            let shown = Shown { bytes, cut };
            match text {
                Text::Quoted => quote(bytes, out),
                Text::Hex => quote_hex(bytes, out),
            }
            if cut {
                out.push_str("...");
            }
            match text {
                Text::Quoted => Value::Str(shown),
                Text::Hex => Value::Binary(shown),
            }
        });
        if unreadable {
            self.note_unreadable();
        }
    }

    /// Counts an argument the kernel could read and we could not (when
    /// the kernel could not either, the call failed with EFAULT).
    fn note_unreadable(&mut self) {
        if self.event.header.ret != -EFAULT {
            self.desc.unreadable += 1;
        }
    }

    /// Flags of a C `unsigned int` argument: the kernel and strace both
    /// ignore the upper half of the register.
    pub fn flags32(&mut self, i: usize, table: &FlagTable) {
        self.flags_value(i, u64::from(self.raw(i) as u32), table);
    }

    /// Argument `i` printed as the flags `value` (already taken apart
    /// from the raw register by the caller).
    pub fn flags_value(&mut self, i: usize, value: u64, table: &FlagTable) {
        self.arg(i, |out, _| {
            push_flags(value, table, out);
            Value::UInt(value)
        });
    }

    /// One constant of a C `unsigned int` argument.
    pub fn constant32(&mut self, i: usize, table: &FlagTable) {
        let value = u64::from(self.raw(i) as u32);
        self.arg(i, |out, _| {
            push_constant(value, table, out);
            Value::UInt(value)
        });
    }

    /// Argument `i` printed by `show`, whose number is `value`: for a
    /// rendering no other primitive has (mount(2)'s magic flags).
    pub fn custom(&mut self, i: usize, value: u64, show: impl FnOnce(&mut String)) {
        self.arg(i, |out, _| {
            show(out);
            Value::UInt(value)
        });
    }

    /// A C `int` argument (strace's printfd and PRINT_VAL_D alike).
    pub fn int(&mut self, i: usize) {
        self.arg(i, |out, e| {
            let v = e.arg(i) as i32;
            let _ = write!(out, "{v}");
            Value::Int(i64::from(v))
        });
    }

    /// An fd (strace's printfd): its number, and with -y what it refers to.
    pub fn fd(&mut self, i: usize) {
        self.arg(i, |out, e| {
            let fd = e.arg(i) as i32;
            let _ = write!(out, "{fd}");
            if e.fd_paths {
                push_name(e.name(i), out);
            }
            Value::Int(i64::from(fd))
        });
        self.last_fd_slot(i);
    }

    /// Records what the argument just printed, an fd, refers to.
    fn last_fd_slot(&mut self, slot: usize) {
        if let Some(arg) = self
            .desc
            .len
            .checked_sub(1)
            .and_then(|i| self.desc.args.get_mut(i))
        {
            arg.fd_slot = Some(slot as u8);
        }
    }

    /// A directory fd: AT_FDCWD by name, others as numbers; with -y,
    /// what it refers to (the working directory for AT_FDCWD).
    pub fn dirfd(&mut self, i: usize) {
        self.arg(i, |out, e| {
            let fd = e.arg(i) as i32;
            let name = if fd == AT_FDCWD {
                out.push_str("AT_FDCWD");
                e.name(NAME_CWD)
            } else {
                let _ = write!(out, "{fd}");
                e.name(i)
            };
            if e.fd_paths {
                push_name(name, out);
            }
            Value::Int(i64::from(fd))
        });
        self.last_fd_slot(dirfd_slot(self.event, i));
    }

    /// A C `unsigned long` argument, in decimal.
    pub fn ulong(&mut self, i: usize) {
        self.arg(i, |out, e| {
            let _ = write!(out, "{}", e.arg(i));
            Value::UInt(e.arg(i))
        });
    }

    /// Argument `i`, a struct read as bytes, printed by `show` from those
    /// bytes when they can be: else NULL or the address.
    pub fn structure(
        &mut self,
        i: usize,
        show: impl FnOnce(&'a [u8], &mut String) -> Option<Value<'a>>,
    ) {
        let mut unreadable = false;
        self.arg(i, |out, e| match e.data(i) {
            ArgData::Whole(b) | ArgData::Truncated(b) => {
                show(b, out).unwrap_or_else(|| pointer(e.arg(i), out))
            }
            ArgData::Null => {
                out.push_str("NULL");
                Value::Null
            }
            ArgData::Unreadable => unreadable_pointer(e.arg(i), out, &mut unreadable),
            ArgData::Unterminated => unterminated(e.arg(i), out),
            ArgData::Raw => pointer(e.arg(i), out),
        });
        if unreadable {
            self.note_unreadable();
        }
    }
}

#[derive(Clone, Copy)]
enum Text {
    Quoted,
    Hex,
}

/// A pointer as strace's printaddr prints it, and its value.
fn pointer<'a>(value: u64, out: &mut String) -> Value<'a> {
    push_addr(value, out);
    if value == 0 {
        Value::Null
    } else {
        Value::Addr(value)
    }
}

/// A pointer that could not be read, shown as its address (NULL, which
/// the kernel side never sends as unreadable, stays NULL).
fn unreadable_pointer<'a>(value: u64, out: &mut String, seen: &mut bool) -> Value<'a> {
    if value == 0 {
        return pointer(value, out);
    }
    *seen = true;
    push_addr(value, out);
    Value::Unreadable(value)
}

/// A string too long for strace to find its end, shown as its address.
fn unterminated<'a>(value: u64, out: &mut String) -> Value<'a> {
    if value == 0 {
        return pointer(value, out);
    }
    push_addr(value, out);
    Value::Unterminated(value)
}

/// What an fd refers to, as `strace -y` prints it after the number:
/// `<path>`, with `(deleted)` after a deleted file; a path whose top the
/// kernel-side walk could not reach starts with `...`. Nothing when it
/// was not resolved (strace prints nothing for an fd that is not open).
pub fn push_name(name: Name, out: &mut String) {
    let Some((text, cut)) = name.text() else {
        return;
    };
    out.push('<');
    if cut {
        out.push_str("...");
    }
    escape_fd_path(&text, out);
    out.push('>');
    if name.deleted() {
        out.push_str("(deleted)");
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
