//! `--mounts`: only the changes to mount tables, one findmnt-like line
//! each, after the identity columns of the call that made it:
//!
//! ```text
//! COMM             PID     TID     MNT_NS      CHANGE TARGET FSTYPE SOURCE OPTIONS
//! mount-api        4875    4875    4026532177  + /tmp/x/a tmpfs none rw,nosuid,nodev,size=2m
//! ```
//!
//! CHANGE is `+` attach, `=` bind, `>` move, `~` remount or change, `-`
//! detach. Every line has the same five fields, `-` where a field does
//! not apply; each is escaped as the columns escape COMM (spaces too), so
//! awk's fields stay fields. SOURCE is where the mount came from: the
//! device (or `none`) of an attach, the directory of a bind, the old
//! place of a move.

use std::borrow::Cow;

use super::columns::ColumnOptions;
use super::Format;
use crate::clock::Clock;
use crate::decode::escape::escape;
use crate::decode::{describe, Description};
use crate::event::Event;
use crate::mounts::record::{opposite, Kind, Record};
use crate::mounts::Tracker;

pub struct Mounts {
    opts: ColumnOptions,
    tracker: Tracker,
    line: String,
    /// The CALL text, which describing a call writes and we do not print.
    call: String,
}

impl Mounts {
    pub fn new(opts: ColumnOptions) -> Mounts {
        Mounts {
            opts,
            tracker: Tracker::default(),
            line: String::with_capacity(1024),
            call: String::with_capacity(1024),
        }
    }
}

impl Format for Mounts {
    fn header(&self) -> Option<String> {
        let mut h = self.opts.header();
        h.push_str("CHANGE TARGET FSTYPE SOURCE OPTIONS\n");
        Some(h)
    }

    fn event<'a>(
        &mut self,
        event: &Event<'a>,
        clock: &Clock,
        out: &mut Vec<u8>,
    ) -> Description<'a> {
        self.call.clear();
        let desc = describe(event, &mut self.call);
        if let Some(record) = self.tracker.feed(event, &desc) {
            let line = &mut self.line;
            line.clear();
            self.opts.push(event, clock, line);
            push_record(&record, line);
            line.push('\n');
            out.extend_from_slice(line.as_bytes());
        }
        desc
    }

    fn mounts(&mut self) -> Option<&mut Tracker> {
        Some(&mut self.tracker)
    }
}

/// One field: escaped, never empty, never a lone `-` (which means "none").
fn push_field(bytes: &[u8], line: &mut String) {
    match bytes {
        b"" => line.push_str("\"\""),
        b"-" => line.push_str("\\055"),
        _ => escape(bytes, true, line),
    }
}

/// The five fields after the identity columns.
pub fn push_record(r: &Record, line: &mut String) {
    line.push(r.change.symbol());
    line.push(' ');
    push_field(&r.target.path, line);
    line.push(' ');
    match &r.fstype {
        Some(fstype) => push_field(fstype, line),
        None => line.push('-'),
    }
    line.push(' ');
    let source = match r.change {
        Kind::Move => r.from.as_ref(),
        _ => r.source.as_ref(),
    };
    match source {
        Some(place) => push_field(&place.path, line),
        None => line.push('-'),
    }
    line.push(' ');
    let options = options(r);
    if options.is_empty() {
        line.push('-');
    }
    for (i, option) in options.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        // A comma inside one option must not split it.
        for (j, part) in option.split(|&b| b == b',').enumerate() {
            if j > 0 {
                line.push_str("\\054");
            }
            escape(part, true, line);
        }
    }
}

/// The OPTIONS field, as mount(8) words: attributes, then filesystem
/// options; cleared attributes by their opposites (`rw` for `ro`).
fn options(r: &Record) -> Vec<Cow<'_, [u8]>> {
    let mut out: Vec<Cow<[u8]>> = Vec::new();
    let words = |v: &[Cow<'static, str>], out: &mut Vec<Cow<[u8]>>| {
        out.extend(v.iter().map(|a| Cow::Owned(a.as_bytes().to_vec())));
    };
    match r.change {
        Kind::Move | Kind::Detach => return out,
        Kind::Bind => {
            out.push(Cow::Borrowed(if r.recursive { b"rbind" } else { b"bind" }));
        }
        _ => {}
    }
    words(&r.attributes, &mut out);
    let cleared: Vec<Cow<'static, str>> = r.cleared.iter().map(|c| opposite(c)).collect();
    words(&cleared, &mut out);
    out.extend(r.options.iter().map(|o| Cow::Borrowed(o.as_slice())));
    if let Some(p) = r.propagation {
        out.push(Cow::Borrowed(p.as_bytes()));
    }
    if r.recursive && r.change == Kind::Change {
        out.push(Cow::Borrowed(b"recursive"));
    }
    if r.options_cut {
        out.push(Cow::Borrowed(b"..."));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build::Sample;
    use crate::event::ARG_DATA;
    use crate::mounts::record::Place;
    use crate::syscalls::Syscall;

    fn line(r: &Record) -> String {
        let mut s = String::new();
        push_record(r, &mut s);
        s
    }

    #[test]
    fn one_line_per_change() {
        let mut r = Record::new(Kind::Attach, Place::absolute(b"/tmp/x/a".to_vec()));
        r.fstype = Some(b"tmpfs".to_vec());
        r.source = Some(Place::absolute(b"none".to_vec()));
        r.options = vec![b"size=2m".to_vec()];
        r.attributes = vec!["rw".into(), "nosuid".into(), "nodev".into()];
        assert_eq!(line(&r), "+ /tmp/x/a tmpfs none rw,nosuid,nodev,size=2m");

        let mut r = Record::new(Kind::Move, Place::absolute(b"/new dir".to_vec()));
        r.from = Some(Place::given(b"old\n"));
        assert_eq!(line(&r), "> /new\\40dir - old\\n -");

        let r = Record::new(Kind::Detach, Place::given(b"-"));
        assert_eq!(line(&r), "- \\055 - - -");

        let mut r = Record::new(Kind::Bind, Place::given(b""));
        r.source = Some(Place::absolute(b"/src".to_vec()));
        r.recursive = true;
        r.attributes = vec!["ro".into()];
        assert_eq!(line(&r), "= \"\" - /src rbind,ro");

        let mut r = Record::new(Kind::Change, Place::absolute(b"/m".to_vec()));
        r.attributes = vec!["ro".into()];
        r.cleared = vec!["nosuid".into()];
        r.propagation = Some("private");
        r.recursive = true;
        assert_eq!(line(&r), "~ /m - - ro,suid,private,recursive");

        let mut r = Record::new(Kind::Remount, Place::absolute(b"/m".to_vec()));
        r.options = vec![b"a=b,c".to_vec(), b"d".to_vec()];
        r.options_cut = true;
        assert_eq!(line(&r), "~ /m - - a=b\\054c,d,...");
    }

    #[test]
    fn only_changes_are_printed() {
        let mut m = Mounts::new(ColumnOptions::default());
        let mut out = Vec::new();
        let clock = Clock::new();
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], -22).with(0, ARG_DATA, b"/a");
        m.event(&Event::parse(&s.bytes()).unwrap(), &clock, &mut out);
        assert!(out.is_empty());
        let s = Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0).with(0, ARG_DATA, b"/a");
        m.event(&Event::parse(&s.bytes()).unwrap(), &clock, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "mount            42      43      4026531840  - /a - - -\n"
        );
        assert_eq!(
            m.header().unwrap(),
            "COMM             PID     TID     MNT_NS      CHANGE TARGET FSTYPE SOURCE OPTIONS\n"
        );
    }
}
