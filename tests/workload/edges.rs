//! `edges`: strings that end where memory ends, as strace's own tests
//! make them. A path of 4096 bytes with no NUL, followed by an unmapped
//! page, in every path argument of every call: the kernel takes PATH_MAX
//! bytes and finds no end (ENAMETOOLONG); strace prints 4095 bytes and
//! `...`. A filesystem type of 8192 bytes with no NUL before an unmapped
//! page: strace cannot read as far as it wants and prints the address.

use libc::c_long;

use crate::shared::sys;

const PAGE: usize = 4096;

/// `pages` pages filled with `fill`, followed by one unmapped page.
fn before_hole(pages: usize, fill: u8) -> Result<*mut u8, String> {
    // SAFETY: an anonymous mapping we own; the last page is unmapped
    // again so that the next byte after the filled pages faults.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            (pages + 1) * PAGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return Err(format!("mmap: {}", std::io::Error::last_os_error()));
        }
        let p = p as *mut u8;
        std::ptr::write_bytes(p, fill, pages * PAGE);
        if libc::munmap(p.add(pages * PAGE).cast(), PAGE) != 0 {
            return Err(format!("munmap: {}", std::io::Error::last_os_error()));
        }
        Ok(p)
    }
}

pub fn run(_base: &std::path::Path) -> Result<(), String> {
    let path = before_hole(1, b'p')? as c_long;
    let fstype = before_hole(2, b'f')? as c_long;
    let none = c"none".as_ptr() as c_long;
    let tmpfs = c"tmpfs".as_ptr() as c_long;
    let dot = c"/nonexistent-mountsnoop".as_ptr() as c_long;
    let source = c"source".as_ptr() as c_long;
    let fdcwd = libc::AT_FDCWD as c_long;
    let attr = [0u64; 4];
    let attr = attr.as_ptr() as c_long;

    sys(libc::SYS_mount, [path, dot, tmpfs, 0, 0]);
    sys(libc::SYS_mount, [none, path, tmpfs, 0, 0]);
    sys(libc::SYS_umount2, [path, 0, 0, 0, 0]);
    sys(libc::SYS_move_mount, [fdcwd, path, fdcwd, dot, 0]);
    sys(libc::SYS_move_mount, [fdcwd, dot, fdcwd, path, 0]);
    sys(libc::SYS_open_tree, [fdcwd, path, 0, 0, 0]);
    sys(libc::SYS_fspick, [fdcwd, path, 0, 0, 0]);
    sys(libc::SYS_mount_setattr, [fdcwd, path, 0, attr, 32]);
    sys(libc::SYS_pivot_root, [path, dot, 0, 0, 0]);
    sys(libc::SYS_pivot_root, [dot, path, 0, 0, 0]);
    let fd = {
        // SAFETY: a static string.
        unsafe { libc::syscall(libc::SYS_fsopen, tmpfs, 0) as c_long }
    };
    sys(libc::SYS_fsconfig, [fd, 3, source, path, fdcwd]);
    if fd >= 0 {
        // SAFETY: our own fd.
        unsafe { libc::close(fd as i32) };
    }
    // The 8192-byte filesystem type.
    sys(libc::SYS_mount, [none, dot, fstype, 0, 0]);
    Ok(())
}
