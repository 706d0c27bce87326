//! The last try at an argument the kernel side could not read: the page
//! it lies on was never touched (the kernel refused the call before
//! copying it, so nothing faulted it in), and a BPF program may not fault.
//! As the event arrives we read the process's memory with
//! process_vm_readv, which may fault, by the rules the BPF program used
//! (its `kind` and `len`), and mark the argument as read after the call.

use std::io::IoSliceMut;
use std::sync::OnceLock;

use nix::sys::uio::{process_vm_readv, RemoteIoVec};
use nix::unistd::Pid;

use crate::skel::types::{event_header, read_kind};

const READ_PATH: u8 = read_kind::READ_PATH.0 as u8;
const READ_STRING: u8 = read_kind::READ_STRING.0 as u8;
const READ_BLOB: u8 = read_kind::READ_BLOB.0 as u8;
const READ_MOUNT_ATTR: u8 = read_kind::READ_MOUNT_ATTR.0 as u8;
const MOUNT_ATTR_SIZE_VER0: usize = 32;
const PAGE: usize = 4096;

/// What a second read found.
enum Found {
    Whole(Vec<u8>),
    Truncated(Vec<u8>),
}

/// Rewrites `sample` into `out` with what could now be read of its
/// unreadable arguments appended to its data (their state, offset and
/// length set, their bit in `read_after_call`). Returns false, and leaves
/// `out` alone, when there was nothing to read again or nothing could be.
pub fn complete(sample: &[u8], out: &mut Vec<u8>) -> bool {
    if !in_host_pid_namespace() {
        return false;
    }
    let size = std::mem::size_of::<event_header>();
    let mut header = event_header::default();
    if plain::copy_from_bytes(&mut header, sample).is_err() {
        return false;
    }
    let data_len = usize::from(header.data_len);
    let Some(data) = sample.get(size..size + data_len) else {
        return false;
    };
    let unread: Vec<usize> = (0..6)
        .filter(|&i| header.ad.state[i] == crate::event::ARG_UNREADABLE && header.args[i] != 0)
        .collect();
    if unread.is_empty() {
        return false;
    }
    let pid = Pid::from_raw(header.tid as i32);
    let mut extra = Vec::new();
    for i in unread {
        let (addr, want) = (header.args[i] as usize, usize::from(header.ad.len[i]));
        let found = match header.ad.kind[i] {
            READ_PATH | READ_STRING => read_string(pid, addr, want),
            READ_BLOB => read_bytes(pid, addr, want).map(Found::Whole),
            READ_MOUNT_ATTR => read_bytes(pid, addr, want)
                .or_else(|| read_bytes(pid, addr, MOUNT_ATTR_SIZE_VER0))
                .map(Found::Whole),
            _ => None,
        };
        let Some(found) = found else { continue };
        let (bytes, state) = match found {
            Found::Whole(b) => (b, crate::event::ARG_DATA),
            Found::Truncated(b) => (b, crate::event::ARG_TRUNCATED),
        };
        let (Ok(off), Ok(len)) = (
            u16::try_from(data_len + extra.len()),
            u16::try_from(bytes.len()),
        ) else {
            continue;
        };
        header.ad.state[i] = state;
        header.ad.off[i] = off;
        header.ad.len[i] = len;
        header.read_after_call |= 1 << i;
        extra.extend_from_slice(&bytes);
    }
    if header.read_after_call == 0 {
        return false;
    }
    let Ok(total) = u16::try_from(data_len + extra.len()) else {
        return false;
    };
    header.data_len = total;
    out.clear();
    // SAFETY: event_header is plain old data.
    out.extend_from_slice(unsafe { plain::as_bytes(&header) });
    out.extend_from_slice(data);
    out.extend_from_slice(&extra);
    true
}

/// Events name threads by their ids in the host's PID namespace; in any
/// other (a container without the host's PIDs) the same number may be
/// another process, whose memory must never be printed as the caller's.
fn in_host_pid_namespace() -> bool {
    static IN_HOST: OnceLock<bool> = OnceLock::new();
    *IN_HOST.get_or_init(|| {
        // "NSpid:\t<pid>" lists one id per nested namespace.
        std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .is_some_and(|ids| ids.split_whitespace().count() == 1)
        })
    })
}

/// `len` bytes at `addr` of process `pid`, all or nothing.
fn read_bytes(pid: Pid, addr: usize, len: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let n = process_vm_readv(
        pid,
        &mut [IoSliceMut::new(&mut buf)],
        &[RemoteIoVec { base: addr, len }],
    )
    .ok()?;
    (n == len).then_some(buf)
}

/// A C string of at most `max` bytes with its NUL, read page by page (a
/// read that crosses into an unmapped page fails as a whole). With no NUL
/// in `max` bytes it is cut at `max - 1`, as the BPF program's read cuts
/// it (for a path, as the kernel and strace do).
fn read_string(pid: Pid, addr: usize, max: usize) -> Option<Found> {
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < max {
        let chunk = (PAGE - at % PAGE).min(max - out.len());
        let bytes = read_bytes(pid, at, chunk)?;
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            out.extend_from_slice(&bytes[..nul]);
            return Some(Found::Whole(out));
        }
        out.extend_from_slice(&bytes);
        at += chunk;
    }
    out.truncate(max - 1);
    Some(Found::Truncated(out))
}
