//! `untouched`: string arguments on file-backed pages the process has
//! never touched, in calls the kernel refuses before it copies them (bad
//! flags, a bad fd), so nothing faults the pages in: a BPF program, which
//! may not fault, cannot read them; strace, which reads with
//! process_vm_readv, can. Then calls the kernel does read (mount,
//! pivot_root), whose pages the kernel faults in during the call. Made
//! once by this process and once by a forked child, whose file-backed
//! pages are not mapped until it touches them, even where the parent had.

use std::path::Path;

use libc::c_long;

use crate::shared::{cpath, sys};

/// Each string sits this far from the next: the kernel maps up to 64 KiB
/// of already cached neighbours around a faulting page (fault-around), so
/// one call's fault must not map the next call's string.
const SPACING: usize = 64 * 1024;

/// The strings, in the order of their slots in the file.
const STRINGS: &[&[u8]] = &[
    b"/untouched/umount2",
    b"tmpfs",
    b"source",
    b"untouched",
    b"/untouched/from",
    b"/untouched/to",
    b"/untouched/open_tree",
    b"/untouched/fspick",
    b"/untouched/mount_setattr",
    // struct mount_attr: attr_set = MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID.
    b"\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
    b"untouched-src",
    b"/untouched/mount-target",
    b"untouched-type",
    b"size=1m,untouched",
    b"/untouched/new_root",
    b"/untouched/put_old",
];

/// Writes the strings into a file, one per slot, NUL-terminated.
fn write_file(path: &Path) -> Result<(), String> {
    let mut bytes = vec![0u8; SPACING * STRINGS.len()];
    for (i, s) in STRINGS.iter().enumerate() {
        bytes[i * SPACING..i * SPACING + s.len()].copy_from_slice(s);
    }
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Maps the file, read-only and private, without touching it.
fn map(path: &Path) -> Result<*const u8, String> {
    let c = cpath(path);
    // SAFETY: a plain open and mmap of our own file.
    unsafe {
        let fd = libc::open(c.as_ptr(), libc::O_RDONLY);
        if fd < 0 {
            return Err(format!("open: {}", std::io::Error::last_os_error()));
        }
        let p = libc::mmap(
            std::ptr::null_mut(),
            SPACING * STRINGS.len(),
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            fd,
            0,
        );
        libc::close(fd);
        if p == libc::MAP_FAILED {
            return Err(format!("mmap: {}", std::io::Error::last_os_error()));
        }
        Ok(p as *const u8)
    }
}

/// The calls, with every string argument at `base + slot * SPACING`.
fn calls(base: *const u8) {
    let at = |slot: usize| base as c_long + (slot * SPACING) as c_long;
    let bad = 0x8000_0000u32 as c_long;
    // Refused before any copy: the pages stay untouched.
    sys(libc::SYS_umount2, [at(0), bad, 0, 0, 0]);
    sys(libc::SYS_fsopen, [at(1), 0x80, 0, 0, 0]);
    sys(libc::SYS_fsconfig, [-1, 1, at(2), at(3), 0]);
    sys(libc::SYS_move_mount, [-1, at(4), -1, at(5), bad]);
    sys(libc::SYS_open_tree, [-1, at(6), bad, 0, 0]);
    sys(libc::SYS_fspick, [-1, at(7), bad, 0, 0]);
    sys(libc::SYS_mount_setattr, [-1, at(8), bad, at(9), 32]);
    // Copied by the kernel, which faults the pages in during the call.
    sys(libc::SYS_mount, [at(10), at(11), at(12), 0, at(13)]);
    sys(libc::SYS_pivot_root, [at(14), at(15), 0, 0, 0]);
    // mountsnoop reads what its BPF program could not from the process's
    // memory as each event arrives; a process that exits at once may be
    // gone by then (its arguments then stay addresses, counted).
    std::thread::sleep(std::time::Duration::from_millis(300));
}

pub fn run(base: &Path) -> Result<(), String> {
    let file = base.join("strings");
    write_file(&file)?;
    // Written through the page cache: the pages are cached, but mapped
    // into no process until it touches them.
    let mine = map(&file)?;
    calls(mine);

    // The child's own mapping, touched here, before the fork: the child
    // still has to fault each page in.
    let theirs = map(&file)?;
    for slot in 0..STRINGS.len() {
        // SAFETY: within the mapping.
        unsafe { std::ptr::read_volatile(theirs.add(slot * SPACING)) };
    }
    // SAFETY: the child makes syscalls and exits.
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork: {}", std::io::Error::last_os_error())),
        0 => {
            calls(theirs);
            // SAFETY: the child ends here.
            unsafe { libc::_exit(0) }
        }
        child => {
            let mut status = 0;
            // SAFETY: our own child.
            unsafe { libc::waitpid(child, &mut status, 0) };
            Ok(())
        }
    }
}
