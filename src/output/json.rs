//! `--json`: one JSON object per event per line, every key always there.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::Format;
use crate::clock::Clock;
use crate::decode::args::{arg_values, ArgValue, MountAttr};
use crate::decode::errno::{errno_name, error_code};
use crate::decode::render::{render_call, Notes};
use crate::event::Event;

pub struct Json {
    call: String,
}

impl Json {
    pub fn new() -> Json {
        Json {
            call: String::with_capacity(1024),
        }
    }
}

/// Bytes from user memory as a JSON string: invalid UTF-8 becomes U+FFFD.
fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

struct Args<'a>(Vec<(&'static str, ArgValue<'a>)>);

impl Serialize for Args<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            match value {
                ArgValue::Null => map.serialize_entry(name, &())?,
                ArgValue::Bytes(b) => map.serialize_entry(name, &lossy(b))?,
                ArgValue::Int(v) => map.serialize_entry(name, v)?,
                ArgValue::UInt(v) | ArgValue::Addr(v) => map.serialize_entry(name, v)?,
                ArgValue::MountAttr(a) => map.serialize_entry(name, &AttrObject(a))?,
            }
        }
        map.end()
    }
}

struct AttrObject<'a>(&'a MountAttr);

impl Serialize for AttrObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("attr_set", &self.0.attr_set)?;
        map.serialize_entry("attr_clr", &self.0.attr_clr)?;
        map.serialize_entry("propagation", &self.0.propagation)?;
        map.serialize_entry("userns_fd", &self.0.userns_fd)?;
        map.end()
    }
}

#[derive(Serialize)]
struct Record<'a> {
    timestamp: String,
    comm: std::borrow::Cow<'a, str>,
    pid: u32,
    tid: u32,
    ppid: u32,
    pcomm: std::borrow::Cow<'a, str>,
    uid: u32,
    mnt_ns: u64,
    syscall: &'static str,
    args: Args<'a>,
    ret: i64,
    error: Option<&'static str>,
    latency_ns: u64,
    call: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

impl Format for Json {
    fn event(&mut self, event: &Event, clock: &Clock, out: &mut Vec<u8>) -> Notes {
        self.call.clear();
        let notes = render_call(event, &mut self.call);
        let h = &event.header;
        let error = error_code(h.ret).and_then(errno_name);
        let record = Record {
            timestamp: clock
                .utc(h.start_ns)
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            comm: lossy(event.comm()),
            pid: h.pid,
            tid: h.tid,
            ppid: h.ppid,
            pcomm: lossy(event.pcomm()),
            uid: h.uid,
            mnt_ns: h.mnt_ns,
            syscall: event.call.name(),
            args: Args(arg_values(event)),
            ret: h.ret,
            error,
            latency_ns: h.latency_ns,
            call: &self.call,
            truncated: event.truncated(),
        };
        // Serializing plain data into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &record);
        out.push(b'\n');
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build::Sample;
    use crate::event::{ARG_DATA, ARG_TRUNCATED};
    use crate::syscalls::Syscall;

    fn json(s: Sample) -> serde_json::Value {
        let bytes = s.bytes();
        let e = Event::parse(&bytes).unwrap();
        let mut out = Vec::new();
        Json::new().event(&e, &Clock::new(), &mut out);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn every_key_is_there() {
        let v = json(Sample::new(Syscall::Umount2, [1, 2, 0, 0, 0, 0], -2).with(
            0,
            ARG_DATA,
            b"/a\n\xff",
        ));
        assert_eq!(v["syscall"], "umount2");
        assert_eq!(v["args"]["target"], "/a\n\u{fffd}");
        assert_eq!(v["args"]["flags"], 2);
        assert_eq!(v["ret"], -2);
        assert_eq!(v["error"], "ENOENT");
        assert_eq!(
            v["call"],
            r#"umount2("/a\n\377", MNT_DETACH) = -1 ENOENT (No such file or directory)"#
        );
        for key in [
            "timestamp",
            "comm",
            "pid",
            "tid",
            "ppid",
            "pcomm",
            "uid",
            "mnt_ns",
            "syscall",
            "args",
            "ret",
            "error",
            "latency_ns",
            "call",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert!(v.get("truncated").is_none());
        let ts = v["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.len() == 27, "{ts}");
    }

    #[test]
    fn success_has_null_error_and_truncation_is_flagged() {
        let v = json(Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0).with(
            0,
            ARG_TRUNCATED,
            b"/x",
        ));
        assert_eq!(v["error"], serde_json::Value::Null);
        assert_eq!(v["truncated"], true);
    }
}
