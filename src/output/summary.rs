//! `--summary`: count instead of printing, like `strace -c`; a table (or
//! one JSON object) at exit.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::{micros, Format};
use crate::clock::Clock;
use crate::decode::errno::{errno_name, error_code};
use crate::decode::Description;
use crate::event::Event;
use crate::syscalls::Syscall;

#[derive(Debug, Default, Clone, Serialize)]
pub struct CallStats {
    pub calls: u64,
    pub errors: u64,
    #[serde(skip)]
    total_latency_ns: u64,
    pub avg_latency_ns: u64,
    pub max_latency_ns: u64,
    pub errors_by_name: BTreeMap<String, u64>,
}

impl CallStats {
    fn add(&mut self, ret: i64, latency_ns: u64) {
        self.calls += 1;
        self.total_latency_ns += latency_ns;
        self.max_latency_ns = self.max_latency_ns.max(latency_ns);
        self.avg_latency_ns = self.total_latency_ns / self.calls;
        if let Some(code) = error_code(ret) {
            self.errors += 1;
            let name = errno_name(code)
                .map(str::to_string)
                .unwrap_or_else(|| format!("errno {code}"));
            *self.errors_by_name.entry(name).or_default() += 1;
        }
    }

    fn merge(&mut self, other: &CallStats) {
        self.calls += other.calls;
        self.errors += other.errors;
        self.total_latency_ns += other.total_latency_ns;
        self.max_latency_ns = self.max_latency_ns.max(other.max_latency_ns);
        self.avg_latency_ns = self.total_latency_ns.checked_div(self.calls).unwrap_or(0);
        for (name, n) in &other.errors_by_name {
            *self.errors_by_name.entry(name.clone()).or_default() += n;
        }
    }
}

pub struct Summary {
    json: bool,
    per_call: BTreeMap<Syscall, CallStats>,
}

impl Summary {
    pub fn new(json: bool) -> Summary {
        Summary {
            json,
            per_call: BTreeMap::new(),
        }
    }

    fn total(&self) -> CallStats {
        let mut t = CallStats::default();
        for s in self.per_call.values() {
            t.merge(s);
        }
        t
    }

    fn table(&self, lost: u64) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{:<16} {:>8} {:>8} {:>12} {:>12}  ERRORS BY NAME",
            "CALL", "CALLS", "ERRORS", "AVG(us)", "MAX(us)"
        );
        let total = self.total();
        let rows = self.per_call.iter().map(|(c, s)| (c.name(), s));
        for (name, s) in rows.chain(std::iter::once(("total", &total))) {
            let errors: Vec<String> = s
                .errors_by_name
                .iter()
                .map(|(e, n)| format!("{e}:{n}"))
                .collect();
            let _ = writeln!(
                t,
                "{:<16} {:>8} {:>8} {:>12} {:>12}  {}",
                name,
                s.calls,
                s.errors,
                micros(s.avg_latency_ns),
                micros(s.max_latency_ns),
                errors.join(",")
            );
        }
        if lost > 0 {
            let _ = writeln!(t, "(and {lost} events lost, not counted above)");
        }
        t
    }
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    calls: BTreeMap<&'static str, &'a CallStats>,
    total: CallStats,
    lost: u64,
}

impl Format for Summary {
    fn event<'a>(
        &mut self,
        event: &Event<'a>,
        _clock: &Clock,
        _out: &mut Vec<u8>,
    ) -> Description<'a> {
        let h = &event.header;
        self.per_call
            .entry(event.call)
            .or_default()
            .add(h.ret, h.latency_ns);
        Description::default()
    }

    fn finish(&mut self, lost: u64, out: &mut Vec<u8>) {
        if self.json {
            let doc = SummaryJson {
                calls: self.per_call.iter().map(|(c, s)| (c.name(), s)).collect(),
                total: self.total(),
                lost,
            };
            let _ = serde_json::to_writer(&mut *out, &doc);
            out.push(b'\n');
        } else {
            out.extend_from_slice(self.table(lost).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build::Sample;

    fn feed(s: &mut Summary, call: Syscall, ret: i64, lat: u64) {
        let mut sample = Sample::new(call, [0; 6], ret);
        sample.header.latency_ns = lat;
        let bytes = sample.bytes();
        s.event(
            &Event::parse(&bytes).unwrap(),
            &Clock::new(),
            &mut Vec::new(),
        );
    }

    #[test]
    fn counts_and_table() {
        let mut s = Summary::new(false);
        feed(&mut s, Syscall::Mount, 0, 1000);
        feed(&mut s, Syscall::Mount, -19, 3000);
        feed(&mut s, Syscall::Umount2, -22, 500);
        let mut out = Vec::new();
        s.finish(0, &mut out);
        let text = String::from_utf8(out).unwrap();
        let mount = text.lines().find(|l| l.starts_with("mount ")).unwrap();
        let f: Vec<&str> = mount.split_whitespace().collect();
        assert_eq!(f, ["mount", "2", "1", "2.000", "3.000", "ENODEV:1"]);
        let total = text.lines().find(|l| l.starts_with("total")).unwrap();
        assert!(total.contains("EINVAL:1,ENODEV:1"), "{total}");
    }

    #[test]
    fn json_object() {
        let mut s = Summary::new(true);
        feed(&mut s, Syscall::Umount2, -22, 500);
        let mut out = Vec::new();
        s.finish(3, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["calls"]["umount2"]["errors_by_name"]["EINVAL"], 1);
        assert_eq!(v["total"]["calls"], 1);
        assert_eq!(v["lost"], 3);
    }
}
