//! `rewrite`: the "phantom" evasion of syscall tracers. Each call is made
//! by a thread, with a path under a FUSE mount that nobody serves, so the
//! kernel blocks it in the path lookup after it has copied the
//! arguments. While it is blocked, the main thread rewrites the argument
//! buffers in place; then it closes the FUSE connection, which fails the
//! calls. A tracer that reads the arguments when the call returns prints
//! the new text; the kernel was given the old.
//!
//! Prints `blocked TID...` and `rewritten` as it goes. Every original
//! string holds `orig`/`1m`; every rewritten one `EVIL`/`9m`, same length.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::shared::{in_syscall, mount_unserved_fuse};

/// A NUL-terminated buffer that another thread rewrites in place.
struct Buf(Vec<u8>);

impl Buf {
    fn new(text: &[u8]) -> Buf {
        let mut v = text.to_vec();
        v.push(0);
        Buf(v)
    }
    fn ptr(&self) -> libc::c_long {
        self.0.as_ptr() as libc::c_long
    }
    /// Replaces `from` with `to` (same length) wherever it occurs.
    fn rewrite(&self, from: &[u8], to: &[u8]) {
        assert_eq!(from.len(), to.len());
        let p = self.0.as_ptr() as *mut u8;
        for i in 0..self.0.len().saturating_sub(from.len()) + 1 {
            if self.0.get(i..i + from.len()) == Some(from) {
                for (k, &b) in to.iter().enumerate() {
                    // SAFETY: within the buffer; the other thread is
                    // blocked in the kernel and reads it no more. The
                    // write is volatile: the point is that it happens.
                    unsafe { std::ptr::write_volatile(p.add(i + k), b) };
                }
            }
        }
    }
}

/// One call to block: its number, its six arguments (pointers into the
/// buffers), and the buffers.
struct Blocked {
    nr: libc::c_long,
    args: [libc::c_long; 5],
    bufs: Vec<Arc<Buf>>,
}

pub fn run(base: &Path) -> Result<(), String> {
    let dir = base.join("fuse");
    let dev = mount_unserved_fuse(&dir)?;
    let slow = |leaf: &str| {
        let mut p = dir.as_os_str().as_bytes().to_vec();
        p.extend_from_slice(format!("/orig-{leaf}").as_bytes());
        Arc::new(Buf::new(&p))
    };
    let plain = |text: &[u8]| Arc::new(Buf::new(text));
    let attr = {
        // struct mount_attr { attr_set = MOUNT_ATTR_RDONLY, ... }, 32 bytes.
        let mut v = vec![0u8; 32];
        v[0] = 1;
        Arc::new(Buf(v))
    };
    let calls: Vec<Blocked> = {
        let (src, target, fstype, data) = (
            plain(b"orig-src"),
            slow("mnt"),
            plain(b"tmpfs"),
            plain(b"size=1m,orig"),
        );
        let um = slow("umount");
        let (from, to) = (slow("from"), slow("to"));
        let tree = slow("tree");
        let pick = slow("pick");
        let setattr = slow("setattr");
        let (new_root, put_old) = (slow("newroot"), slow("putold"));
        vec![
            Blocked {
                nr: libc::SYS_mount,
                args: [src.ptr(), target.ptr(), fstype.ptr(), 0, data.ptr()],
                bufs: vec![src, target, fstype, data],
            },
            Blocked {
                nr: libc::SYS_umount2,
                args: [um.ptr(), 0, 0, 0, 0],
                bufs: vec![um],
            },
            Blocked {
                nr: libc::SYS_move_mount,
                args: [
                    libc::AT_FDCWD as _,
                    from.ptr(),
                    libc::AT_FDCWD as _,
                    to.ptr(),
                    0,
                ],
                bufs: vec![from, to],
            },
            Blocked {
                nr: libc::SYS_open_tree,
                args: [libc::AT_FDCWD as _, tree.ptr(), 1, 0, 0],
                bufs: vec![tree],
            },
            Blocked {
                nr: libc::SYS_fspick,
                args: [libc::AT_FDCWD as _, pick.ptr(), 0, 0, 0],
                bufs: vec![pick],
            },
            Blocked {
                nr: libc::SYS_mount_setattr,
                args: [libc::AT_FDCWD as _, setattr.ptr(), 0, attr.ptr(), 32],
                bufs: vec![setattr, attr.clone()],
            },
            Blocked {
                nr: libc::SYS_pivot_root,
                args: [new_root.ptr(), put_old.ptr(), 0, 0, 0],
                bufs: vec![new_root, put_old],
            },
        ]
    };

    let mut threads = Vec::new();
    let mut tids = Vec::new();
    for call in &calls {
        let tid = Arc::new(AtomicI32::new(0));
        let (nr, args, seen) = (call.nr, call.args, tid.clone());
        threads.push(std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            seen.store(unsafe { libc::gettid() }, Ordering::SeqCst);
            // SAFETY: every pointer argument points into a buffer that
            // outlives this thread (the main thread joins it first).
            unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3], args[4]) };
        }));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let t = tid.load(Ordering::SeqCst);
            if t != 0 && in_syscall(t, call.nr) {
                tids.push(t);
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("syscall {} did not block", call.nr));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let list: Vec<String> = tids.iter().map(i32::to_string).collect();
    println!("blocked {}", list.join(" "));

    for call in &calls {
        for buf in &call.bufs {
            buf.rewrite(b"orig", b"EVIL");
            buf.rewrite(b"=1m", b"=9m");
        }
    }
    // MOUNT_ATTR_RDONLY becomes MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV.
    attr.rewrite(&[1], &[6]);
    println!("rewritten");

    // Closing the connection fails every blocked call.
    drop(dev);
    for t in threads {
        t.join()
            .map_err(|_| "a caller thread panicked".to_string())?;
    }
    drop(calls);
    Ok(())
}
