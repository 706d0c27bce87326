//! `--json`: one JSON object per event per line, every key always there.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::Format;
use crate::clock::Clock;
use crate::decode::errno::{errno_name, error_code};
use crate::decode::printer::{AttrExtra, Value};
use crate::decode::{describe, Description};
use crate::event::{Event, Name, Origin, NAME_CGROUP};
use crate::mounts::record::Record as MountRecord;
use crate::mounts::Tracker;
use crate::output::{arg_state, cgroup_paths, container_in, places, Place};

pub struct Json {
    call: String,
    tracker: Tracker,
}

impl Json {
    pub fn new() -> Json {
        Json {
            call: String::with_capacity(1024),
            tracker: Tracker::default(),
        }
    }
}

/// Bytes from user memory as a JSON string: invalid UTF-8 becomes U+FFFD.
fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// The arguments, read from the call's description: the same values
/// the CALL text shows.
struct Args<'d, 'a>(&'d Description<'a>);

impl Serialize for Args<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let args = self.0.args();
        let mut map = s.serialize_map(Some(args.len()))?;
        for arg in args {
            map.serialize_entry(arg.name, &ArgValue(&arg.value))?;
        }
        map.end()
    }
}

/// The arguments whose value is not simply what was read whole (and
/// whose place was resolved only as the call returned).
struct ArgStates<'d, 'a> {
    desc: &'d Description<'a>,
    places: &'d [Place],
    names_at_exit: bool,
}

impl Serialize for ArgStates<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for arg in self.desc.args() {
            let late = self.names_at_exit
                && self.places.iter().any(|p| {
                    p.arg == arg.name
                        && (p.fd.is_some() || p.absolute.as_ref().is_some_and(|r| r.from_kernel))
                });
            let states: Vec<&str> = arg_state(arg)
                .chain(late.then_some("resolved_at_exit"))
                .collect();
            if !states.is_empty() {
                map.serialize_entry(arg.name, &states)?;
            }
        }
        map.end()
    }
}

/// Each path argument's absolute form, by argument name.
struct Paths<'d>(&'d [Place]);

impl Serialize for Paths<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for p in self.0 {
            if let Some(r) = &p.absolute {
                map.serialize_entry(p.arg, &lossy(&r.path))?;
            }
        }
        map.end()
    }
}

/// With -y, what each fd argument referred to, and `ret` for the fd the
/// call returned.
struct FdPaths<'d> {
    places: &'d [Place],
    ret: Option<&'d str>,
}

impl Serialize for FdPaths<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for p in self.places {
            if let Some(fd) = &p.fd {
                map.serialize_entry(p.arg, fd)?;
            }
        }
        if let Some(ret) = self.ret {
            map.serialize_entry("ret", ret)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ContainerJson<'c> {
    id: &'c str,
    runtime: &'static str,
    name: &'c str,
}

struct ArgValue<'v, 'a>(&'v Value<'a>);

impl Serialize for ArgValue<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Addr(v) | Value::Unreadable(v) | Value::Unterminated(v) | Value::UInt(v) => {
                s.serialize_u64(*v)
            }
            Value::Int(v) => s.serialize_i64(*v),
            Value::Str(shown) => s.serialize_str(&lossy(shown.bytes)),
            Value::Binary(shown) => s.serialize_str(&hex(shown.bytes)),
            Value::MountAttr(a) => {
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("attr_set", &a.attr_set)?;
                map.serialize_entry("attr_clr", &a.attr_clr)?;
                map.serialize_entry("propagation", &a.propagation)?;
                map.serialize_entry("userns_fd", &a.userns_fd)?;
                match a.extra {
                    AttrExtra::None => {}
                    AttrExtra::Bytes(b) => map.serialize_entry("extra", &hex(b))?,
                    AttrExtra::Unreadable => map.serialize_entry("extra", "unreadable")?,
                }
                map.end()
            }
        }
    }
}

/// The change to a mount table a call made: the `mount` object.
struct Mount<'r>(&'r MountRecord);

impl Serialize for Mount<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let path = |p: &crate::mounts::record::Place| lossy(&p.path).into_owned();
        let mut options: Vec<std::borrow::Cow<str>> = r.options.iter().map(|o| lossy(o)).collect();
        if r.options_cut {
            options.push("...".into());
        }
        let mut map = s.serialize_map(Some(11))?;
        map.serialize_entry("change", r.change.name())?;
        map.serialize_entry("target", &path(&r.target))?;
        map.serialize_entry("from", &r.from.as_ref().map(path))?;
        map.serialize_entry("fstype", &r.fstype.as_deref().map(lossy))?;
        map.serialize_entry("source", &r.source.as_ref().map(path))?;
        map.serialize_entry("options", &options)?;
        map.serialize_entry("attributes", &r.attributes)?;
        map.serialize_entry("cleared", &r.cleared)?;
        map.serialize_entry("propagation", &r.propagation)?;
        map.serialize_entry("recursive", &r.recursive)?;
        map.serialize_entry("relative", &r.relative())?;
        map.end()
    }
}

/// Binary data as lowercase hex digits, two per byte.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
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
    abi: &'static str,
    args: Args<'a, 'a>,
    arg_state: ArgStates<'a, 'a>,
    /// Each path argument made absolute, as of the time of the call.
    paths: Paths<'a>,
    /// With -y: what each fd referred to at the time of the call.
    fd_paths: FdPaths<'a>,
    /// The caller's cgroup (v2) path.
    cgroup: Option<&'a str>,
    /// The container the caller runs in, from its cgroup paths.
    container: Option<ContainerJson<'a>>,
    ret: i64,
    error: Option<&'static str>,
    latency_ns: u64,
    call: &'a str,
    /// How seccomp answered a call it did not let run; null when it ran.
    seccomp: Option<&'static str>,
    /// False for a call seen only as it returned (refused by seccomp, or
    /// already running when tracing began).
    entry_seen: bool,
    /// The change to a mount table this call made; null for most calls.
    mount: Option<Mount<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

impl Format for Json {
    fn event<'a>(
        &mut self,
        event: &Event<'a>,
        clock: &Clock,
        out: &mut Vec<u8>,
    ) -> Description<'a> {
        self.call.clear();
        let desc = describe(event, &mut self.call);
        let mount = self.tracker.feed(event, &desc);
        let h = &event.header;
        let error = error_code(h.ret).and_then(errno_name);
        let (places, ret_path) = places(event, &desc);
        let cgroups = cgroup_paths(event);
        let container = container_in(&cgroups);
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
            abi: event.abi.name(),
            args: Args(&desc),
            arg_state: ArgStates {
                desc: &desc,
                places: &places,
                names_at_exit: event.names_at_exit(),
            },
            paths: Paths(&places),
            fd_paths: FdPaths {
                places: &places,
                ret: ret_path.as_deref(),
            },
            // The v2 path: the first unless only a v1 one was read.
            cgroup: cgroups
                .first()
                .filter(|_| event.name(NAME_CGROUP) != Name::None)
                .map(String::as_str),
            container: container.as_ref().map(|c| ContainerJson {
                id: &c.id,
                runtime: c.runtime.as_str(),
                name: &c.name,
            }),
            ret: h.ret,
            error,
            latency_ns: h.latency_ns,
            call: &self.call,
            seccomp: match event.origin {
                Origin::Seccomp(v) => Some(v.name()),
                _ => None,
            },
            entry_seen: event.origin == Origin::Call,
            mount: mount.as_ref().map(Mount),
            truncated: desc.cut(),
        };
        // Serializing plain data into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &record);
        out.push(b'\n');
        desc
    }

    fn mounts(&mut self) -> Option<&mut Tracker> {
        Some(&mut self.tracker)
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
            "abi",
            "seccomp",
            "entry_seen",
            "mount",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        // A failed call changed no mount table.
        assert_eq!(v["mount"], serde_json::Value::Null);
        assert!(v.get("truncated").is_none());
        let ts = v["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.len() == 27, "{ts}");
    }

    /// What once differed between the CALL text and the JSON args.
    #[test]
    fn args_are_what_the_call_text_shows() {
        use crate::event::{ARG_NULL, ARG_UNREADABLE};
        // RECONFIGURE ignores key: the text shows its address, so does JSON.
        let v = json(
            Sample::new(Syscall::Fsconfig, [4, 7, 0x21, 0x1f, 0, 0], -16).with(2, ARG_DATA, b"k"),
        );
        assert_eq!(v["args"]["key"], 0x21);
        assert!(v["call"]
            .as_str()
            .unwrap()
            .contains("RECONFIGURE, 0x21, 0x1f"));
        // A binary value is hex in both.
        let v = json(
            Sample::new(Syscall::Fsconfig, [4, 2, 1, 2, 3, 0], 0)
                .with(2, ARG_DATA, b"bin")
                .with(3, ARG_DATA, b"\x01\xbcb"),
        );
        assert_eq!(v["args"]["value"], "01bc62");
        assert!(v["call"].as_str().unwrap().contains(r#""\x01\xbc\x62""#));
        // An unreadable string: the address, and says so.
        let v = json(
            Sample::new(Syscall::Umount2, [0x1000, 0, 0, 0, 0, 0], 0).with(0, ARG_UNREADABLE, b""),
        );
        assert_eq!(v["args"]["target"], 0x1000);
        assert_eq!(v["arg_state"]["target"], serde_json::json!(["unreadable"]));
        let v = json(Sample::new(Syscall::Umount2, [0, 0, 0, 0, 0, 0], 0).with(0, ARG_NULL, b""));
        assert_eq!(v["args"]["target"], serde_json::Value::Null);
        assert_eq!(v["arg_state"], serde_json::json!({}));
    }

    #[test]
    fn a_change_has_its_mount_object() {
        let v =
            json(Sample::new(Syscall::Umount2, [1, 2, 0, 0, 0, 0], 0).with(0, ARG_DATA, b"x\xff"));
        assert_eq!(
            v["mount"],
            serde_json::json!({
                "change": "detach", "target": "x\u{fffd}", "from": null, "fstype": null,
                "source": null, "options": [], "attributes": [], "cleared": [],
                "propagation": null, "recursive": false, "relative": ["target"],
            })
        );
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
