//! `hop MODE WORKERS CALLS`: calls that each start on another CPU than
//! the one before, so that a thread's events land in every CPU's buffer
//! in turn. MODE `procs` forks WORKERS processes, `threads` starts
//! WORKERS threads; each makes CALLS failing mounts (nothing to clean up)
//! with data `seq=N`, N counting from 0. MODE `chain` runs CALLS new-API
//! chains (fsopen, fsconfig, fsmount, move_mount, umount2) in this
//! thread, moving to the other CPU before every step.

use std::ffi::CString;
use std::path::Path;

use libc::c_long;

use crate::shared::{cpath, mkdir, sys};

fn cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

/// Moves the calling thread to CPU `cpu`.
fn move_to(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; 0 is this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// CALLS failing mounts, each on the next CPU, tagged `seq=N`.
fn hops(calls: u64) {
    let n = cpus();
    let none = c"none";
    let nowhere = c"/nonexistent-mountsnoop-hop";
    let tmpfs = c"tmpfs";
    for seq in 0..calls {
        move_to(seq as usize % n);
        let data = CString::new(format!("seq={seq}")).expect("no NUL");
        // SAFETY: live C strings.
        unsafe {
            libc::mount(
                none.as_ptr(),
                nowhere.as_ptr(),
                tmpfs.as_ptr(),
                0,
                data.as_ptr().cast(),
            )
        };
    }
}

/// CALLS chains, a step per CPU in turn.
fn chains(base: &Path, calls: u64) -> Result<(), String> {
    let n = cpus();
    let dir = base.join("chain");
    mkdir(&dir)?;
    let dirc = cpath(&dir);
    let (tmpfs, size, empty) = (c"tmpfs", c"size", c"");
    let mut step = 0usize;
    let mut hop = || {
        move_to(step % n);
        step += 1;
    };
    for seq in 0..calls {
        hop();
        let fd = sys(libc::SYS_fsopen, [tmpfs.as_ptr() as c_long, 1, 0, 0, 0]);
        let value = CString::new(format!("{}k", seq + 1)).expect("no NUL");
        hop();
        sys(
            libc::SYS_fsconfig,
            [fd, 1, size.as_ptr() as c_long, value.as_ptr() as c_long, 0],
        );
        hop();
        sys(libc::SYS_fsconfig, [fd, 6, 0, 0, 0]);
        hop();
        let mfd = sys(libc::SYS_fsmount, [fd, 1, 0, 0, 0]);
        hop();
        sys(
            libc::SYS_move_mount,
            [
                mfd,
                empty.as_ptr() as c_long,
                libc::AT_FDCWD as c_long,
                dirc.as_ptr() as c_long,
                4,
            ],
        );
        hop();
        sys(libc::SYS_umount2, [dirc.as_ptr() as c_long, 0, 0, 0, 0]);
        // SAFETY: our own fds.
        unsafe {
            libc::close(mfd as i32);
            libc::close(fd as i32);
        }
    }
    Ok(())
}

pub fn run(base: &Path, args: &[String]) -> Result<(), String> {
    let usage = "hop procs|threads|chain WORKERS CALLS";
    let mode = args.first().ok_or(usage)?;
    let num = |i: usize| -> Result<u64, String> {
        args.get(i)
            .ok_or(usage)?
            .parse()
            .map_err(|e| format!("{usage}: {e}"))
    };
    let (workers, calls) = (num(1)?, num(2)?);
    match mode.as_str() {
        "procs" => {
            let mut children = Vec::new();
            for _ in 0..workers {
                // SAFETY: the child makes syscalls and exits.
                match unsafe { libc::fork() } {
                    -1 => return Err(format!("fork: {}", std::io::Error::last_os_error())),
                    0 => {
                        hops(calls);
                        // SAFETY: the child ends here.
                        unsafe { libc::_exit(0) }
                    }
                    pid => children.push(pid),
                }
            }
            for pid in children {
                let mut status = 0;
                // SAFETY: our own child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
            }
            Ok(())
        }
        // `tt`: threads, under another name for the tests.
        "threads" | "tt" => {
            let threads: Vec<_> = (0..workers)
                .map(|_| std::thread::spawn(move || hops(calls)))
                .collect();
            for t in threads {
                t.join().map_err(|_| "a thread panicked".to_string())?;
            }
            Ok(())
        }
        "chain" => chains(base, calls),
        other => Err(format!("{usage}: unknown mode {other}")),
    }
}
