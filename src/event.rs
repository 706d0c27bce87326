//! Raw perf sample bytes -> a checked view of one event. Pure: no libbpf.

use anyhow::{bail, Result};

use crate::skel::types::{
    abi as abi_id, arg_state, event_header, name_slot, name_state, origin as origin_id,
};
use crate::syscalls::Syscall;

// `enum arg_state` of bpf/mountsnoop.h, as the byte `arg_state[i]` holds.
pub const ARG_RAW: u8 = arg_state::ARG_RAW.0 as u8;
pub const ARG_NULL: u8 = arg_state::ARG_NULL.0 as u8;
pub const ARG_DATA: u8 = arg_state::ARG_DATA.0 as u8;
pub const ARG_TRUNCATED: u8 = arg_state::ARG_TRUNCATED.0 as u8;
pub const ARG_UNREADABLE: u8 = arg_state::ARG_UNREADABLE.0 as u8;
pub const ARG_UNTERMINATED: u8 = arg_state::ARG_UNTERMINATED.0 as u8;
/// In `again_len`: the argument could not be read a second time.
const AGAIN_UNREADABLE: u16 = 0xffff;

/// What an event carries for one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgData<'a> {
    /// Only the raw value (a number, or a pointer we did not follow).
    Raw,
    /// A NULL pointer where data was expected.
    Null,
    /// The data read whole (a string without its NUL, or binary bytes).
    Whole(&'a [u8]),
    /// The data read as far as our limit; there was more.
    Truncated(&'a [u8]),
    /// The pointer could not be read.
    Unreadable,
    /// A string with no end as far as strace reads (it shows the address).
    Unterminated,
}

/// The name slots of `enum name_slot`.
pub const NAME_RET: usize = name_slot::NAME_RET.0 as usize;
pub const NAME_CWD: usize = name_slot::NAME_CWD.0 as usize;
pub const NAME_ROOT: usize = name_slot::NAME_ROOT.0 as usize;
pub const NAME_CGROUP: usize = name_slot::NAME_CGROUP.0 as usize;
pub const NAME_CGROUP_V1: usize = name_slot::NAME_CGROUP_V1.0 as usize;
const NAME_SLOTS: usize = name_slot::NAME_SLOTS.0 as usize;
/// In `names.flags`: the file was deleted.
const NAME_DELETED: u8 = 1;

/// What the kernel side resolved into one name slot, at the time of the
/// call: a path (an fd's, a directory's, a cgroup's), or what makes the
/// name of a file that has no path (an anon inode, a pipe, a socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Name<'a> {
    /// Not asked for.
    #[default]
    None,
    /// A path, as its components the last first, each ended by a NUL.
    Path {
        components: &'a [u8],
        /// The walk stopped short of the root: the top is missing.
        cut: bool,
        /// The file was deleted (strace's `(deleted)`).
        deleted: bool,
    },
    /// A file with a made-up name: its filesystem's magic, its inode
    /// number and its dentry's name.
    Pseudo {
        magic: u64,
        ino: u64,
        name: &'a [u8],
    },
    /// No such open fd.
    NotOpen,
}

/// Filesystems whose files have made-up names (uapi/linux/magic.h).
const ANON_INODE_FS_MAGIC: u64 = 0x0904_1934;
const PIPEFS_MAGIC: u64 = 0x5049_5045;
const SOCKFS_MAGIC: u64 = 0x534f_434b;

impl Name<'_> {
    /// The text /proc/PID/fd would show (without `(deleted)`), and
    /// whether the top of the path is missing. None when nothing was
    /// resolved.
    pub fn text(&self) -> Option<(Vec<u8>, bool)> {
        match *self {
            Name::None | Name::NotOpen => None,
            Name::Path {
                components, cut, ..
            } => {
                let mut path = Vec::with_capacity(components.len() + 1);
                let parts = components.strip_suffix(b"\0").unwrap_or(components);
                if !parts.is_empty() {
                    for part in parts.split(|&b| b == 0).rev() {
                        path.push(b'/');
                        path.extend_from_slice(part);
                    }
                }
                if path.is_empty() {
                    path.push(b'/');
                }
                Some((path, cut))
            }
            Name::Pseudo { magic, ino, name } => Some((
                match magic {
                    ANON_INODE_FS_MAGIC => [b"anon_inode:", name].concat(),
                    PIPEFS_MAGIC => format!("pipe:[{ino}]").into_bytes(),
                    SOCKFS_MAGIC => format!("socket:[{ino}]").into_bytes(),
                    _ => name.to_vec(),
                },
                false,
            )),
        }
    }

    pub fn deleted(&self) -> bool {
        matches!(self, Name::Path { deleted: true, .. })
    }
}

/// Which system call table the call came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// The 64-bit table.
    Native,
    /// The 32-bit table (i386 on x86_64, 32-bit ARM on aarch64).
    Compat,
}

impl Abi {
    /// The ABI's name: the architecture as uname -m and strace say it.
    pub fn name(self) -> &'static str {
        match (self, cfg!(target_arch = "aarch64")) {
            (Abi::Native, false) => "x86_64",
            (Abi::Compat, false) => "i386",
            (Abi::Native, true) => "aarch64",
            (Abi::Compat, true) => "arm",
        }
    }
}

/// How the call was seen (`enum origin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Entry and exit: the call ran.
    Call,
    /// Refused or answered by seccomp before it ran, by the named verdict.
    Seccomp(Verdict),
    /// An exit with no entry and no evidence of seccomp: the call was
    /// running when tracing began, or its entry was dropped.
    EntryNotSeen,
}

/// What seccomp did with a call it did not let run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Errno,
    Trap,
    Kill,
    UserNotif,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Errno => "errno",
            Verdict::Trap => "trap",
            Verdict::Kill => "kill",
            Verdict::UserNotif => "user_notif",
        }
    }
}

/// One traced call, borrowed from the sample it came in.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub header: event_header,
    pub call: Syscall,
    pub abi: Abi,
    pub origin: Origin,
    data: [ArgData<'a>; 6],
    /// Bit i: argument i, read again as the call returned, no longer
    /// held what was read as it started.
    changed: u8,
    /// The sample's data, where the name slots point.
    bytes: &'a [u8],
    /// Print fds with what they refer to (-y), as `strace -y` does.
    pub fd_paths: bool,
}

impl<'a> Event<'a> {
    /// Checks and splits a perf sample. Never panics on any input.
    pub fn parse(sample: &'a [u8]) -> Result<Event<'a>> {
        let size = std::mem::size_of::<event_header>();
        if sample.len() < size {
            bail!("event of {} bytes is shorter than its header", sample.len());
        }
        let mut header = event_header::default();
        if plain::copy_from_bytes(&mut header, sample).is_err() {
            bail!("event header could not be copied");
        }
        let Some(call) = Syscall::from_id(header.call) else {
            bail!("event has unknown call id {}", header.call);
        };
        let abi = match header.abi {
            a if a == abi_id::ABI_NATIVE.0 as u8 => Abi::Native,
            a if a == abi_id::ABI_COMPAT.0 as u8 => Abi::Compat,
            other => bail!("event has unknown abi {other}"),
        };
        let origin = match u32::from(header.origin) {
            o if o == origin_id::ORIGIN_CALL.0 => Origin::Call,
            o if o == origin_id::ORIGIN_SECCOMP_ERRNO.0 => Origin::Seccomp(Verdict::Errno),
            o if o == origin_id::ORIGIN_SECCOMP_TRAP.0 => Origin::Seccomp(Verdict::Trap),
            o if o == origin_id::ORIGIN_SECCOMP_KILL.0 => Origin::Seccomp(Verdict::Kill),
            o if o == origin_id::ORIGIN_SECCOMP_USER_NOTIF.0 => Origin::Seccomp(Verdict::UserNotif),
            o if o == origin_id::ORIGIN_ENTRY_NOT_SEEN.0 => Origin::EntryNotSeen,
            other => bail!("event has unknown origin {other}"),
        };
        let sent = &sample[size..];
        let data_len = usize::from(header.data_len);
        // A perf sample may carry padding after the data.
        let Some(bytes) = sent.get(..data_len) else {
            bail!("event claims {data_len} bytes of data, {} sent", sent.len());
        };
        let mut data = [ArgData::Raw; 6];
        for (i, slot) in data.iter_mut().enumerate() {
            let (off, len) = (usize::from(header.ad.off[i]), usize::from(header.ad.len[i]));
            *slot = match header.ad.state[i] {
                ARG_RAW => ArgData::Raw,
                ARG_NULL => ArgData::Null,
                ARG_UNREADABLE => ArgData::Unreadable,
                ARG_UNTERMINATED => ArgData::Unterminated,
                state @ (ARG_DATA | ARG_TRUNCATED) => {
                    let Some(arg) = bytes.get(off..off + len) else {
                        bail!(
                            "argument {i} claims bytes {off}..{}, of {data_len}",
                            off + len
                        );
                    };
                    if state == ARG_DATA {
                        ArgData::Whole(arg)
                    } else {
                        ArgData::Truncated(arg)
                    }
                }
                other => bail!("argument {i} has unknown state {other}"),
            };
        }
        let mut changed = 0;
        for (i, slot) in data.iter().enumerate() {
            if header.reread & (1 << i) == 0 {
                continue;
            }
            let (ArgData::Whole(was) | ArgData::Truncated(was)) = *slot else {
                bail!("argument {i} was read again but not at first");
            };
            let len = header.again_len[i];
            if len == AGAIN_UNREADABLE {
                continue;
            }
            let off = usize::from(header.again_off[i]);
            let Some(now) = bytes.get(off..off + usize::from(len)) else {
                bail!("argument {i}'s second read claims bytes past the data");
            };
            if now != was {
                changed |= 1 << i;
            }
        }
        // Checked now, made when asked for (most outputs never ask).
        for slot in 0..NAME_SLOTS {
            parse_name(&header, bytes, slot)?;
        }
        Ok(Event {
            header,
            call,
            abi,
            origin,
            data,
            changed,
            bytes,
            fd_paths: false,
        })
    }

    /// The raw value of argument `i`.
    pub fn arg(&self, i: usize) -> u64 {
        self.header.args[i]
    }

    /// What was read from the memory argument `i` points to.
    pub fn data(&self, i: usize) -> ArgData<'a> {
        self.data[i]
    }

    /// Argument `i`'s memory could not be read when the call started and
    /// was read when it returned.
    pub fn read_at_exit(&self, i: usize) -> bool {
        self.header.read_at_exit & (1 << i) != 0
    }

    /// Argument `i`'s memory, read again as the call returned, no longer
    /// held what was read (and is printed) as it started.
    pub fn changed(&self, i: usize) -> bool {
        self.changed & (1 << i) != 0
    }

    /// Argument `i`'s memory could not be read by the kernel side at all,
    /// and was read from the process by user space after the call.
    pub fn read_after_call(&self, i: usize) -> bool {
        self.header.read_after_call & (1 << i) != 0
    }

    /// What name slot `slot` holds (`NAME_ARG0 + i` is argument i's fd).
    pub fn name(&self, slot: usize) -> Name<'a> {
        parse_name(&self.header, self.bytes, slot).unwrap_or(Name::None)
    }

    /// The names were resolved as the call returned (the call was refused
    /// before it ran, or the entry could not keep them).
    pub fn names_at_exit(&self) -> bool {
        self.header.names_at_exit != 0
    }

    pub fn comm(&self) -> &[u8] {
        c_chars(&self.header.comm)
    }

    pub fn pcomm(&self) -> &[u8] {
        c_chars(&self.header.pcomm)
    }
}

/// Name slot `slot` of an event, checked against its data.
fn parse_name<'a>(header: &event_header, bytes: &'a [u8], slot: usize) -> Result<Name<'a>> {
    let n = &header.names;
    if slot >= NAME_SLOTS {
        return Ok(Name::None);
    }
    let state = u32::from(n.state[slot]);
    if state == name_state::NAME_NONE.0 {
        return Ok(Name::None);
    }
    if state == name_state::NAME_NOT_OPEN.0 {
        return Ok(Name::NotOpen);
    }
    let (off, len) = (usize::from(n.off[slot]), usize::from(n.len[slot]));
    let Some(data) = bytes.get(off..off + len) else {
        bail!(
            "name {slot} claims bytes {off}..{}, past the data",
            off + len
        );
    };
    Ok(match state {
        s if s == name_state::NAME_PATH.0 || s == name_state::NAME_PATH_CUT.0 => Name::Path {
            components: data,
            cut: s == name_state::NAME_PATH_CUT.0,
            deleted: n.flags[slot] & NAME_DELETED != 0,
        },
        s if s == name_state::NAME_PSEUDO.0 => {
            let (Some(magic), Some(ino)) = (data.get(..8), data.get(8..16)) else {
                bail!("name {slot} is too short for a pseudo file");
            };
            Name::Pseudo {
                magic: u64::from_ne_bytes(magic.try_into()?),
                ino: u64::from_ne_bytes(ino.try_into()?),
                name: &data[16..],
            }
        }
        other => bail!("name {slot} has unknown state {other}"),
    })
}

/// The bytes of a fixed-size C string up to its NUL.
fn c_chars(chars: &[i8]) -> &[u8] {
    // SAFETY: i8 and u8 have the same size and alignment.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(chars.as_ptr().cast(), chars.len()) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// Test support: builds the bytes of a sample as the kernel would send it.
#[cfg(test)]
pub mod build {
    use super::*;

    #[derive(Clone)]
    pub struct Sample {
        pub header: event_header,
        pub data: Vec<u8>,
    }

    impl Sample {
        pub fn new(call: Syscall, args: [u64; 6], ret: i64) -> Sample {
            let mut header = event_header {
                call: call.id(),
                args,
                ret,
                pid: 42,
                tid: 43,
                ppid: 1,
                mnt_ns: 4026531840,
                ..Default::default()
            };
            for (dst, src) in header.comm.iter_mut().zip(b"mount") {
                *dst = *src as i8;
            }
            Sample {
                header,
                data: Vec::new(),
            }
        }

        pub fn with(mut self, i: usize, state: u8, bytes: &[u8]) -> Sample {
            self.header.ad.state[i] = state;
            self.header.ad.off[i] = self.data.len() as u16;
            self.header.ad.len[i] = bytes.len() as u16;
            self.data.extend_from_slice(bytes);
            self.header.data_len = self.data.len() as u16;
            self
        }

        /// Argument `i` (given with `with`) as read again at exit.
        pub fn again(mut self, i: usize, bytes: &[u8]) -> Sample {
            self.header.reread |= 1 << i;
            self.header.again_off[i] = self.data.len() as u16;
            self.header.again_len[i] = bytes.len() as u16;
            self.data.extend_from_slice(bytes);
            self.header.data_len = self.data.len() as u16;
            self
        }

        /// Name slot `slot` as a path of `components`, the last first.
        pub fn name(self, slot: usize, components: &[&str]) -> Sample {
            self.path_name(slot, components, name_state::NAME_PATH.0 as u8)
        }

        /// The same, walked only part of the way up.
        pub fn cut_name(self, slot: usize, components: &[&str]) -> Sample {
            self.path_name(slot, components, name_state::NAME_PATH_CUT.0 as u8)
        }

        fn path_name(mut self, slot: usize, components: &[&str], state: u8) -> Sample {
            let start = self.data.len();
            for c in components {
                self.data.extend_from_slice(c.as_bytes());
                self.data.push(0);
            }
            self.header.names.state[slot] = state;
            self.header.names.off[slot] = start as u16;
            self.header.names.len[slot] = (self.data.len() - start) as u16;
            self.header.data_len = self.data.len() as u16;
            self
        }

        /// Name slot `slot` as a file with a made-up name.
        pub fn pseudo_name(mut self, slot: usize, magic: u64, ino: u64, name: &str) -> Sample {
            let start = self.data.len();
            self.data.extend_from_slice(&magic.to_ne_bytes());
            self.data.extend_from_slice(&ino.to_ne_bytes());
            self.data.extend_from_slice(name.as_bytes());
            self.header.names.state[slot] = name_state::NAME_PSEUDO.0 as u8;
            self.header.names.off[slot] = start as u16;
            self.header.names.len[slot] = (self.data.len() - start) as u16;
            self.header.data_len = self.data.len() as u16;
            self
        }

        pub fn bytes(&self) -> Vec<u8> {
            // SAFETY: event_header is plain old data.
            let mut out = unsafe { plain::as_bytes(&self.header) }.to_vec();
            out.extend_from_slice(&self.data);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::build::Sample;
    use super::*;

    #[test]
    fn parses_arguments_in_order() {
        let s = Sample::new(Syscall::Mount, [1, 2, 0, 6, 5, 0], 0)
            .with(0, ARG_DATA, b"none")
            .with(1, ARG_TRUNCATED, b"/tmp/x")
            .with(2, ARG_NULL, b"")
            .with(4, ARG_UNREADABLE, b"");
        let bytes = s.bytes();
        let e = Event::parse(&bytes).unwrap();
        assert_eq!(e.call, Syscall::Mount);
        assert_eq!(e.data(0), ArgData::Whole(b"none"));
        assert_eq!(e.data(1), ArgData::Truncated(b"/tmp/x"));
        assert_eq!(e.data(2), ArgData::Null);
        assert_eq!(e.data(3), ArgData::Raw);
        assert_eq!(e.data(4), ArgData::Unreadable);
        assert_eq!(e.comm(), b"mount");
    }

    #[test]
    fn rejects_bad_samples() {
        assert!(Event::parse(&[0u8; 10]).is_err());
        let mut s = Sample::new(Syscall::Mount, [0; 6], 0).with(0, ARG_DATA, b"abc");
        s.header.ad.len[0] = 100;
        assert!(Event::parse(&s.bytes()).is_err());
        let mut s = Sample::new(Syscall::Mount, [0; 6], 0).with(0, ARG_DATA, b"abc");
        s.header.ad.off[0] = 1;
        assert!(Event::parse(&s.bytes()).is_err());
        let mut s = Sample::new(Syscall::Mount, [0; 6], 0).with(0, ARG_DATA, b"abc");
        s.header.data_len = 4;
        assert!(Event::parse(&s.bytes()).is_err());
        let mut s = Sample::new(Syscall::Mount, [0; 6], 0);
        s.header.call = 99;
        assert!(Event::parse(&s.bytes()).is_err());
        let mut s = Sample::new(Syscall::Mount, [0; 6], 0);
        s.header.ad.state[2] = 9;
        assert!(Event::parse(&s.bytes()).is_err());
        let s = Sample::new(Syscall::Mount, [0; 6], 0).again(1, b"x");
        assert!(Event::parse(&s.bytes()).is_err(), "read again, never read");
        let s = Sample::new(Syscall::Mount, [0; 6], 0)
            .with(1, ARG_DATA, b"/a")
            .again(1, b"/b");
        assert!(Event::parse(&s.bytes()).unwrap().changed(1));
        let s = Sample::new(Syscall::Mount, [0; 6], 0)
            .with(1, ARG_DATA, b"/a")
            .again(1, b"/a");
        assert!(!Event::parse(&s.bytes()).unwrap().changed(1));
        let mut s = Sample::new(Syscall::Mount, [0; 6], 0);
        s.header.abi = 2;
        assert!(Event::parse(&s.bytes()).is_err());
        let mut s = Sample::new(Syscall::Mount, [0; 6], 0);
        s.header.origin = 6;
        assert!(Event::parse(&s.bytes()).is_err());
    }
}
