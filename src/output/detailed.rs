//! `--detailed`: libbpf-tools' block form, one field per line, a blank
//! line after each event. Values are escaped, so each stays on its line.

use std::fmt::Write;

use super::columns::push_comm;
use super::{micros, Format};
use crate::clock::Clock;
use crate::decode::errno::push_return;
use crate::decode::escape::escape;
use crate::decode::{describe, Description};
use crate::event::{Event, Origin};
use crate::output::{arg_state, cgroup_paths, container_in, places};

pub struct Detailed {
    call: String,
    block: String,
}

impl Detailed {
    pub fn new() -> Detailed {
        Detailed {
            call: String::new(),
            block: String::new(),
        }
    }
}

impl Format for Detailed {
    fn event<'a>(
        &mut self,
        event: &Event<'a>,
        clock: &Clock,
        out: &mut Vec<u8>,
    ) -> Description<'a> {
        self.call.clear();
        let desc = describe(event, &mut self.call);
        let h = &event.header;
        let b = &mut self.block;
        b.clear();
        let field = |b: &mut String, name: &str| {
            let _ = write!(b, "{:<16}", format!("{name}:"));
        };
        field(b, "TIME");
        let _ = writeln!(
            b,
            "{}",
            clock.local(h.start_ns).format("%Y-%m-%d %H:%M:%S%.6f")
        );
        field(b, "COMM");
        push_comm(event.comm(), b);
        b.push('\n');
        for (name, value) in [("PID", h.pid), ("TID", h.tid), ("PPID", h.ppid)] {
            field(b, name);
            let _ = writeln!(b, "{value}");
        }
        field(b, "PCOMM");
        push_comm(event.pcomm(), b);
        b.push('\n');
        field(b, "UID");
        let _ = writeln!(b, "{}", h.uid);
        field(b, "MNT_NS");
        let _ = writeln!(b, "{}", h.mnt_ns);
        field(b, "SYSCALL");
        let _ = writeln!(b, "{}", event.call.name());
        field(b, "ABI");
        let _ = writeln!(b, "{}", event.abi.name());
        field(b, "SEEN");
        let _ = writeln!(
            b,
            "{}",
            match event.origin {
                Origin::Call => "entry and exit".to_string(),
                Origin::Seccomp(v) => format!("exit only: seccomp {}", v.name()),
                Origin::EntryNotSeen => "exit only: entry not seen".to_string(),
            }
        );
        let (places, ret_path) = places(event, &desc);
        let late = if event.names_at_exit() {
            "  (resolved_at_exit)"
        } else {
            ""
        };
        for arg in desc.args() {
            field(b, &arg.name.to_uppercase());
            let _ = write!(b, "{}", &self.call[arg.start..arg.end]);
            let states: Vec<&str> = arg_state(arg).collect();
            if !states.is_empty() {
                let _ = write!(b, "  ({})", states.join(", "));
            }
            b.push('\n');
            // Where it is: a path made absolute, what an fd refers to.
            for place in places.iter().filter(|p| p.arg == arg.name) {
                if let Some(r) = &place.absolute {
                    field(b, &format!("  PATH({})", arg.name.to_uppercase()));
                    escape(&r.path, false, b);
                    let _ = writeln!(b, "{}", if r.from_kernel { late } else { "" });
                }
                if let Some(fd) = &place.fd {
                    field(b, &format!("  FD({})", arg.name.to_uppercase()));
                    escape(fd.as_bytes(), false, b);
                    let _ = writeln!(b, "{late}");
                }
            }
        }
        field(b, "RET");
        let mut ret = String::new();
        push_return(h.ret, &mut ret);
        let _ = writeln!(b, "{}", ret.trim_start_matches(" = "));
        if let Some(ret) = ret_path {
            field(b, "  FD(RET)");
            escape(ret.as_bytes(), false, b);
            b.push('\n');
        }
        let cgroups = cgroup_paths(event);
        if let Some(cgroup) = cgroups.first() {
            field(b, "CGROUP");
            escape(cgroup.as_bytes(), false, b);
            b.push('\n');
        }
        if let Some(c) = container_in(&cgroups) {
            field(b, "CONTAINER");
            let _ = write!(b, "{} ", c.runtime.as_str());
            escape(c.name.as_bytes(), true, b);
            b.push('\n');
        }
        field(b, "LAT(us)");
        let _ = writeln!(b, "{}", micros(h.latency_ns));
        field(b, "CALL");
        let _ = writeln!(b, "{}", self.call);
        b.push('\n');
        out.extend_from_slice(b.as_bytes());
        desc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::build::Sample;
    use crate::event::ARG_DATA;
    use crate::syscalls::Syscall;

    #[test]
    fn one_field_per_line() {
        let s = Sample::new(Syscall::Umount2, [1, 2, 0, 0, 0, 0], -22).with(0, ARG_DATA, b"/a\nb");
        let bytes = s.bytes();
        let e = Event::parse(&bytes).unwrap();
        let mut out = Vec::new();
        Detailed::new().event(&e, &Clock::new(), &mut out);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"TARGET:         \"/a\\nb\""), "{text}");
        assert!(lines.contains(&"FLAGS:          MNT_DETACH"), "{text}");
        assert!(
            lines.contains(&"RET:            -1 EINVAL (Invalid argument)"),
            "{text}"
        );
        assert!(lines.contains(&"SYSCALL:        umount2"), "{text}");
        assert!(text.ends_with("\n\n"));
    }
}
