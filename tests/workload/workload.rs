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

/// `getppid N`: N getppid calls, an unrelated syscall, timed; prints the
/// nanoseconds per call (the benchmark's cost of tracing to the rest of
/// the system).
fn getppid(args: &[String]) -> Result<(), String> {
    let n: u64 = args
        .first()
        .ok_or("getppid needs a count")?
        .parse()
        .map_err(|e| format!("getppid count: {e}"))?;
    let start = std::time::Instant::now();
    for _ in 0..n {
        // SAFETY: getppid has no preconditions. The raw syscall: libc
        // might cache it.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
    println!("{:.1}", start.elapsed().as_nanos() as f64 / n as f64);
    Ok(())
}
