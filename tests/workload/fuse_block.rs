//! `fuse-block N`: N child processes, each blocked in mount(2) on a path
//! under a FUSE mount that nobody serves (the kernel waits for the
//! daemon's INIT reply, killably). Prints `blocked PID...` once all are
//! asleep in mount, then reads one line on stdin: `kill` SIGKILLs them;
//! anything else, or end of input, closes the FUSE connection, which
//! fails their calls.

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::shared::{cpath, cstr, mkdir};

/// True when `pid` is inside mount(2) (its /proc syscall line starts
/// with the syscall number).
fn in_mount(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .is_ok_and(|s| s.split_whitespace().next() == Some(&libc::SYS_mount.to_string()))
}

pub fn run(base: &Path, args: &[String]) -> Result<(), String> {
    let n: usize = args
        .first()
        .map_or(Ok(3), |a| a.parse())
        .map_err(|e| format!("fuse-block count: {e}"))?;
    let dir = base.join("fuse");
    mkdir(&dir)?;
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map_err(|e| format!("/dev/fuse: {e}"))?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&dev);
    let opts = cstr(format!("fd={fd},rootmode=40000,user_id=0,group_id=0").as_bytes());
    let (name, fuse, none, tmpfs) = (
        cstr(b"mountsnoop-fuse"),
        cstr(b"fuse"),
        cstr(b"none"),
        cstr(b"tmpfs"),
    );
    let dir_c = cpath(&dir);
    let target = cpath(&dir.join("x"));
    // SAFETY: live C strings.
    let rc = unsafe {
        libc::mount(
            name.as_ptr(),
            dir_c.as_ptr(),
            fuse.as_ptr(),
            0,
            opts.as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "mounting fuse: {}",
            std::io::Error::last_os_error()
        ));
    }
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
    while !children.iter().all(|&pid| in_mount(pid)) {
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
