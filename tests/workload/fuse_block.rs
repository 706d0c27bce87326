//! `fuse-block N`: N child processes, each blocked in mount(2) on a path
//! under a FUSE mount that nobody serves (the kernel waits for the
//! daemon's INIT reply, killably). Prints `blocked PID...` once all are
//! asleep in mount, then reads one line on stdin: `kill` SIGKILLs them;
//! anything else, or end of input, closes the FUSE connection, which
//! fails their calls.

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::shared::{cpath, cstr, in_syscall, mount_unserved_fuse};

pub fn run(base: &Path, args: &[String]) -> Result<(), String> {
    let n: usize = args
        .first()
        .map_or(Ok(3), |a| a.parse())
        .map_err(|e| format!("fuse-block count: {e}"))?;
    let dir = base.join("fuse");
    let dev = mount_unserved_fuse(&dir)?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&dev);
    let (none, tmpfs) = (cstr(b"none"), cstr(b"tmpfs"));
    let target = cpath(&dir.join("x"));
    let mut children = Vec::new();
    for _ in 0..n {
        // SAFETY: the child only closes an fd, makes one syscall and exits.
        match unsafe { libc::fork() } {
            -1 => return Err(format!("fork: {}", std::io::Error::last_os_error())),
            0 => unsafe {
                // Only the parent may hold the connection open.
                libc::close(fd);
                libc::mount(
                    none.as_ptr(),
                    target.as_ptr(),
                    tmpfs.as_ptr(),
                    0,
                    std::ptr::null(),
                );
                libc::_exit(0);
            },
            pid => children.push(pid),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !children.iter().all(|&pid| in_syscall(pid, libc::SYS_mount)) {
        if Instant::now() > deadline {
            return Err("children did not block in mount".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let pids: Vec<String> = children.iter().map(i32::to_string).collect();
    let mut out = std::io::stdout();
    let _ = writeln!(out, "blocked {}", pids.join(" "));
    let _ = out.flush();

    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    let reap = |children: &[i32]| {
        for &pid in children {
            let mut status = 0;
            // SAFETY: our own children.
            unsafe { libc::waitpid(pid, &mut status, 0) };
        }
    };
    if line.trim() == "kill" {
        for &pid in &children {
            // SAFETY: our own children.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // Reaped before the connection closes, so they die by the signal.
        reap(&children);
        drop(dev);
    } else {
        drop(dev);
        reap(&children);
    }
    Ok(())
}
