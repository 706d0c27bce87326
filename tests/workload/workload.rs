//! mountsnoop-test-workload: makes real mount calls for the tests.
//!
//! Usage: mountsnoop-test-workload SCENARIO [ARGS...]
//!
//! Every scenario runs in a private mount namespace of its own, on a
//! tmpfs under a fresh directory in /tmp, so nothing it mounts is seen
//! outside. Exits 0 when the scenario ran (the calls may fail on purpose).

// libc's c_ulong and friends are u64 only on 64-bit targets: the casts stay.
#![allow(clippy::unnecessary_cast)]

mod core_calls;
mod edges;
mod fuse_block;
mod hop;
mod hostile;
mod mount_api;
mod mounts;
mod ns;
mod rewrite;
mod shared;
mod steps;
mod tables;
mod untouched;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.as_slice();
    // `gated SCENARIO ...`: wait for a line on stdin first, so a test can
    // learn our pid and start tracing it before any call is made.
    if args.first().map(String::as_str) == Some("gated") {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        args = &args[1..];
    }
    let Some(scenario) = args.first() else {
        eprintln!("usage: mountsnoop-test-workload SCENARIO [ARGS...]");
        return ExitCode::from(2);
    };
    // A command name of the test's choosing, for the --name filter.
    if let Ok(comm) = std::env::var("MOUNTSNOOP_WORKLOAD_COMM") {
        let _ = shared::set_comm(comm.as_bytes());
    }
    // `attempt`: calls that fail, made where we are, with no privileges
    // needed: for tests that run the workload as another user.
    if scenario == "attempt" {
        core_calls::attempt();
        return ExitCode::SUCCESS;
    }
    let base = match ns::private_tmpfs() {
        Ok(base) => base,
        Err(e) => {
            eprintln!("mountsnoop-test-workload: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match scenario.as_str() {
        "core" => core_calls::run(&base),
        "storm" => core_calls::storm(&base, &args[1..]),
        "mount-api" => mount_api::run(&base),
        "mounts" => mounts::run(&base),
        "fsopen-storm" => mounts::storm(&args[1..]),
        "hostile" => hostile::run(&base),
        "fuse-block" => fuse_block::run(&base, &args[1..]),
        "rewrite" => rewrite::run(&base),
        "untouched" => untouched::run(&base),
        "edges" => edges::run(&base),
        "hop" => hop::run(&base, &args[1..]),
        "steps" => steps::run(&base),
        "tables" => tables::run(&base, &args[1..]),
        "idle" => Ok(()),
        "getppid" => getppid(&args[1..]),
        other => Err(format!("unknown scenario {other}")),
    };
    ns::cleanup(&base);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mountsnoop-test-workload: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A seccomp filter of 20 rules: 20 calls no workload makes refused
/// with EPERM, every other call allowed.
fn seccomp_20_rules() -> Result<(), String> {
    // Classic BPF: load the call number, compare it with each refused
    // one, allow at the end.
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    const ALLOW: u32 = 0x7fff_0000;
    const ERRNO_EPERM: u32 = 0x0005_0000 | 1;
    let refused: Vec<u32> = (500..520).collect();
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let mut prog = vec![ins(LD_W_ABS, 0, 0, 0)];
    for (i, nr) in refused.iter().enumerate() {
        // Jump to the EPERM return, past the remaining tests and ALLOW.
        let to_eperm = (refused.len() - i) as u8;
        prog.push(ins(JEQ_K, to_eperm, 0, *nr));
    }
    prog.push(ins(RET_K, 0, 0, ALLOW));
    prog.push(ins(RET_K, 0, 0, ERRNO_EPERM));
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_mut_ptr(),
    };
    // SAFETY: plain prctl calls; fprog points at a live program.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog) != 0
        {
            return Err(format!("seccomp: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// `getppid N`: N getppid calls, an unrelated syscall, timed; prints the
/// nanoseconds per call (the benchmark's cost of tracing to the rest of
/// the system).
fn getppid(args: &[String]) -> Result<(), String> {
    let n: u64 = args
        .first()
        .ok_or("getppid needs a count")?
        .parse()
        .map_err(|e| format!("getppid count: {e}"))?;
    // `getppid N filtered`: under a seccomp filter of 20 rules, as a
    // container's process is (every one of its syscalls runs the filter).
    if args.get(1).map(String::as_str) == Some("filtered") {
        seccomp_20_rules()?;
    }
    let start = std::time::Instant::now();
    for _ in 0..n {
        // SAFETY: getppid has no preconditions. The raw syscall: libc
        // might cache it.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    println!("{:.1}", start.elapsed().as_nanos() as f64 / n as f64);
    Ok(())
}
