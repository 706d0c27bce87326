//! Shared by the integration tests: start the real mountsnoop, wait until
//! it is ready, run workloads, stop it and parse what it printed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

pub mod containers;

pub const MOUNTSNOOP: &str = env!("CARGO_BIN_EXE_mountsnoop");

/// The test workload (a package of its own, tests/workload), built on
/// first use by this test run's cargo, with the same target directory,
/// target and profile as mountsnoop: it lands next to it. Built once per
/// run; cargo leaves it alone when it is fresh.
pub fn workload() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(build_workload)
}

fn build_workload() -> String {
    let name = "mountsnoop-test-workload";
    // MOUNTSNOOP is TARGET_DIR[/TRIPLE]/PROFILE_DIR/mountsnoop, and
    // CARGO_TARGET_TMPDIR is TARGET_DIR/tmp.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is in the target directory");
    let profile_dir = Path::new(MOUNTSNOOP)
        .parent()
        .expect("mountsnoop's directory");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => panic!("no profile directory in {MOUNTSNOOP}"),
    };
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "--locked",
            "--quiet",
            "-p",
            name,
            "--profile",
            profile,
        ])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    let triple_dir = profile_dir.parent().expect("the profile's parent");
    if triple_dir != target_dir {
        cargo
            .arg("--target")
            .arg(triple_dir.file_name().expect("a target triple"));
    }
    let out = cargo
        .output()
        .expect("run cargo to build the test workload");
    assert!(
        out.status.success(),
        "{cargo:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = profile_dir.join(name);
    assert!(path.is_file(), "{cargo:?} made no {}", path.display());
    path.into_os_string().into_string().expect("a UTF-8 path")
}

/// True when this machine can load BPF programs (we are root). Without
/// it a test skips with a reason, unless MOUNTSNOOP_REQUIRE_BPF=1 (as in
/// CI), where a skip is a failure.
pub fn bpf_available() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    let why = "not root: mountsnoop needs root (or CAP_BPF+CAP_PERFMON) to load its BPF program";
    if std::env::var("MOUNTSNOOP_REQUIRE_BPF").as_deref() == Ok("1") {
        panic!("MOUNTSNOOP_REQUIRE_BPF=1 but {why}");
    }
    eprintln!("SKIPPED: {why}");
    false
}

/// Begins a test that traces: skips it (with a printed reason) where BPF
/// is unusable, and holds the machine until the test ends. All the tests
/// run in one process, side by side. Most look only at the events of the
/// processes they started, and share the machine. `require_bpf!(alone)`
/// is for a test that asserts on all that one mountsnoop printed or said
/// (no event at all, no other line on stderr, nothing lost), or that
/// floods every tracer running: no other tracing test runs beside it.
macro_rules! require_bpf {
    () => {
        let _machine = $crate::common::machine_shared();
        if !$crate::common::bpf_available() {
            return;
        }
    };
    (alone) => {
        let _machine = $crate::common::machine_alone();
        if !$crate::common::bpf_available() {
            return;
        }
    };
}

/// What `require_bpf!` holds. A test that fails poisons it; the others
/// go on all the same.
static MACHINE: RwLock<()> = RwLock::new(());

pub fn machine_shared() -> RwLockReadGuard<'static, ()> {
    MACHINE.read().unwrap_or_else(PoisonError::into_inner)
}

pub fn machine_alone() -> RwLockWriteGuard<'static, ()> {
    MACHINE.write().unwrap_or_else(PoisonError::into_inner)
}

/// A running mountsnoop.
pub struct Snoop {
    child: KillOnDrop,
    /// Reads stdout to its end, unless the test reads it itself.
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr_lines: Receiver<String>,
    stderr_seen: Vec<String>,
}

/// A mountsnoop that a failing test leaves behind is killed, not left
/// tracing (and costing every system call) after the tests.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// What a stopped mountsnoop left.
pub struct Finished {
    pub status: ExitStatus,
    /// Empty when the test read stdout itself.
    pub stdout: String,
    pub stderr: String,
}

impl Snoop {
    /// Starts mountsnoop with `args` and waits for its `Tracing` line;
    /// its stdout is read as it comes, into `Finished::stdout`.
    pub fn start(args: &[&str]) -> Snoop {
        Snoop::start_env(args, &[])
    }

    /// `start`, with `env` set for mountsnoop.
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Snoop {
        let mut snoop = Snoop::spawn(args, env, Stdio::piped());
        let mut out = snoop.take_stdout();
        snoop.stdout = Some(std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        }));
        snoop
    }

    /// Starts mountsnoop with `args` and its stdout sent to `stdout`, and
    /// waits for its `Tracing` line. A piped stdout is the test's to read
    /// (`take_stdout`), or to leave unread.
    pub fn start_to(args: &[&str], stdout: Stdio) -> Snoop {
        Snoop::spawn(args, &[], stdout)
    }

    fn spawn(args: &[&str], env: &[(&str, &str)], stdout: Stdio) -> Snoop {
        let mut child = Command::new(MOUNTSNOOP)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mountsnoop");
        let stderr_lines = stderr_lines(&mut child);
        let mut snoop = Snoop {
            child: KillOnDrop(child),
            stdout: None,
            stderr_lines,
            stderr_seen: Vec::new(),
        };
        snoop.wait_ready();
        snoop
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match self.stderr_lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let ready = line.starts_with("Tracing");
                    self.stderr_seen.push(line);
                    if ready {
                        return;
                    }
                }
                Err(_) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!(
                            "mountsnoop exited with {status} before it was ready: {:?}",
                            self.stderr_seen
                        );
                    }
                }
            }
        }
        panic!("mountsnoop not ready after 60 s: {:?}", self.stderr_seen);
    }

    /// The piped stdout of a mountsnoop from `start_to`.
    pub fn take_stdout(&mut self) -> ChildStdout {
        self.child
            .stdout
            .take()
            .expect("stdout piped, not taken yet")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, signal: Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("signal mountsnoop");
    }

    /// True while mountsnoop has not exited.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    /// Sends `signal` and waits for mountsnoop to exit.
    pub fn stop_with(self, signal: Signal) -> Finished {
        self.signal(signal);
        self.finish()
    }

    pub fn stop(self) -> Finished {
        self.stop_with(Signal::SIGINT)
    }

    /// Waits for mountsnoop to exit by itself (with a 60 s limit).
    pub fn finish(mut self) -> Finished {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("mountsnoop did not exit within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = match self.stdout {
            Some(reader) => String::from_utf8(reader.join().unwrap()).expect("stdout is UTF-8"),
            None => String::new(),
        };
        let mut stderr = self.stderr_seen;
        while let Ok(line) = self.stderr_lines.recv_timeout(Duration::from_millis(500)) {
            stderr.push(line);
        }
        Finished {
            status,
            stdout,
            stderr: stderr.join("\n"),
        }
    }
}

/// Forwards a child's stderr, line by line, to a channel.
fn stderr_lines(child: &mut Child) -> Receiver<String> {
    let err = child.stderr.take().expect("stderr piped");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A workload that waits on stdin before its first call, so that a test
/// can learn its pid and start tracing it first; `release` lets it go.
pub fn gated(scenario: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(workload())
        .arg("gated")
        .args(scenario)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .spawn()
        .expect("start workload")
}

/// Lets a `gated` workload run, and waits for it to succeed.
pub fn release(mut child: Child) {
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert!(child.wait().unwrap().success());
}

/// Runs a workload scenario to completion; returns its pid.
pub fn run_workload(scenario: &str, args: &[&str]) -> u32 {
    run(Command::new(workload()), scenario, args)
}

/// The variable that gives the workload the command name to take (for
/// the --name filter).
pub const WORKLOAD_COMM: &str = "MOUNTSNOOP_WORKLOAD_COMM";

/// `run_workload` with the command name `comm`.
pub fn run_workload_as(comm: &str, scenario: &str, args: &[&str]) -> u32 {
    let mut cmd = Command::new(workload());
    cmd.env(WORKLOAD_COMM, comm);
    run(cmd, scenario, args)
}

fn run(mut workload: Command, scenario: &str, args: &[&str]) -> u32 {
    let mut child = workload
        .arg(scenario)
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .expect("start workload");
    let pid = child.id();
    let status = child.wait().expect("wait for workload");
    assert!(status.success(), "workload {scenario} failed: {status}");
    pid
}

/// The calls of the `core` scenario: 2 namespace set-up, 15 core, 4
/// threads x 10, 1 clean-up; 32 mounts (1 ENODEV) and 26 umount2 (1
/// EINVAL).
pub const CORE_CALLS: usize = 58;

/// The header of the default column output.
pub const HEADER: &str = "COMM             PID     TID     MNT_NS      CALL";

/// Printable ASCII only: what every line of the column output must be.
pub fn printable(line: &str) -> bool {
    line.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// One event line of the default column output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub comm: String,
    pub pid: u32,
    pub tid: u32,
    pub mnt_ns: u64,
    pub call: String,
}

/// Splits off the first whitespace-separated field.
fn field(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ');
    let end = s.find(' ')?;
    Some((&s[..end], &s[end..]))
}

/// Parses `COMM PID TID MNT_NS CALL`; None for the header or junk.
pub fn parse_line(line: &str) -> Option<Line> {
    let (comm, rest) = field(line)?;
    let (pid, rest) = field(rest)?;
    let (tid, rest) = field(rest)?;
    let (mnt_ns, rest) = field(rest)?;
    Some(Line {
        comm: comm.to_string(),
        pid: pid.parse().ok()?,
        tid: tid.parse().ok()?,
        mnt_ns: mnt_ns.parse().ok()?,
        call: rest.trim_start_matches(' ').to_string(),
    })
}

pub fn lines(stdout: &str) -> Vec<Line> {
    stdout.lines().filter_map(parse_line).collect()
}

/// Calls, thread by thread: tid -> CALL column (or strace's line).
pub type Calls = BTreeMap<u32, Vec<String>>;

/// The calls mountsnoop printed for each thread of process `pid`.
pub fn calls_of_pid(stdout: &str, pid: u32) -> Calls {
    let mut out = Calls::new();
    for l in lines(stdout).into_iter().filter(|l| l.pid == pid) {
        out.entry(l.tid).or_default().push(l.call);
    }
    out
}

/// How many calls mountsnoop printed for process `pid`.
pub fn count_of_pid(stdout: &str, pid: u32) -> usize {
    lines(stdout).iter().filter(|l| l.pid == pid).count()
}

/// The calls mountsnoop printed for each of `tids`.
fn calls_of_tids(stdout: &str, tids: &[u32]) -> Calls {
    let mut out = Calls::new();
    for l in lines(stdout).into_iter().filter(|l| tids.contains(&l.tid)) {
        out.entry(l.tid).or_default().push(l.call);
    }
    out
}

/// Every call mountsnoop traces that strace 6.1 can name in `-e trace=`.
pub const STRACE_CALLS: &str =
    "mount,umount2,fsopen,fsconfig,fsmount,move_mount,open_tree,mount_setattr,fspick,pivot_root";

/// Runs `cmd` under strace, tracing `calls`, while a mountsnoop traces
/// everything; returns, for strace's threads, the calls mountsnoop
/// printed, then those strace printed. `tag` names the temporary
/// directory for strace's files.
pub fn mountsnoop_and_strace(tag: &str, calls: &str, cmd: &[&str]) -> (Calls, Calls) {
    let snoop = Snoop::start(&[]);
    let strace = strace_calls(tag, calls, cmd);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let tids: Vec<u32> = strace.keys().copied().collect();
    let ours = calls_of_tids(&done.stdout, &tids);
    (ours, strace)
}

/// strace pads the call to column 40 before ` = `; we print one space.
fn unpad_strace(line: &str) -> String {
    match line.rfind(") ") {
        Some(i) if line[i + 1..].trim_start().starts_with("= ") => {
            format!("{}) {}", &line[..i], line[i + 1..].trim_start())
        }
        _ => line.to_string(),
    }
}

/// Runs `cmd` under `strace -ff -s 8192 -e trace=<calls>` and returns each
/// thread's calls, unpadded, keyed by tid. `tag` names the temporary
/// directory for strace's files.
pub fn strace_calls(tag: &str, calls: &str, cmd: &[&str]) -> Calls {
    strace_calls_env(tag, calls, cmd, &[])
}

/// `strace_calls` with `env` set for `cmd`.
pub fn strace_calls_env(tag: &str, calls: &str, cmd: &[&str], env: &[(&str, &str)]) -> Calls {
    strace_calls_with(tag, calls, &[], cmd, env)
}

/// `strace_calls_env` with strace's own `flags` added (e.g. `-y`).
pub fn strace_calls_with(
    tag: &str,
    calls: &str,
    flags: &[&str],
    cmd: &[&str],
    env: &[(&str, &str)],
) -> Calls {
    let dir = temp_dir(tag);
    let prefix: PathBuf = dir.join("trace");
    let status = Command::new("strace")
        .envs(env.iter().copied())
        .args(flags)
        .args(["-ff", "-qq", "-s", "8192", "-X", "abbrev", "-e"])
        .arg(format!("trace={calls}"))
        .arg("-o")
        .arg(&prefix)
        .args(cmd)
        .status()
        .expect("run strace (apt-get install strace)");
    assert!(status.success(), "strace {cmd:?} failed: {status}");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(tid) = name
            .strip_prefix("trace.")
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let calls: Vec<String> = text
            .lines()
            // Signals, exits and personality changes are not calls.
            .filter(|l| !l.starts_with("+++") && !l.starts_with("---") && !l.starts_with("[ "))
            .map(unpad_strace)
            .collect();
        if !calls.is_empty() {
            out.insert(tid, calls);
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    out
}

/// A fresh directory for one test's files.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mountsnoop-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts that mountsnoop printed, thread by thread, exactly what strace
/// printed; returns the number of calls compared.
pub fn assert_same_calls(ours: &Calls, strace: &Calls) -> usize {
    let tids: BTreeSet<_> = ours.keys().chain(strace.keys()).collect();
    let mut compared = 0;
    for tid in tids {
        let a = ours.get(tid).cloned().unwrap_or_default();
        let b = strace.get(tid).cloned().unwrap_or_default();
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "tid {tid}, call {i}: mountsnoop vs strace");
        }
        assert_eq!(
            a.len(),
            b.len(),
            "tid {tid}: mountsnoop {a:#?}\nstrace {b:#?}"
        );
        compared += a.len();
    }
    compared
}

/// Our line in the form strace 6.1 prints, for each deliberate difference
/// listed in man/mountsnoop.8, DIFFERENCES FROM STRACE.
pub fn as_strace_6_1(line: &str) -> String {
    line
        // strace 6.1 comments the "no change" propagation.
        .replace("propagation=0,", "propagation=0 /* MS_??? */,")
        // Linux 6.6 / 6.5 names strace 6.1 does not know.
        .replace(
            "FSCONFIG_CMD_CREATE_EXCL, NULL,",
            "0x8 /* FSCONFIG_??? */, NULL,",
        )
        .replace(", MOVE_MOUNT_BENEATH)", ", 0x200 /* MOVE_MOUNT_??? */)")
        // strace 6.1's fsmount table lacks MOUNT_ATTR_NOSYMFOLLOW.
        .replace(
            "FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSYMFOLLOW)",
            "FSMOUNT_CLOEXEC, 0x200000 /* MOUNT_ATTR_??? */)",
        )
}

/// Each process's calls, in the order of their pids, as multisets of CALL
/// text with the scenario's directory replaced by BASE and user-space
/// addresses (they move with ASLR from run to run) by ADDR.
pub fn per_process(calls: Vec<(u32, String)>) -> Vec<Vec<String>> {
    let mut by_pid: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    for (pid, call) in calls {
        let call = match call.find("/tmp/mountsnoop-test.") {
            Some(at) => call.replace(&call[at..at + 27], "BASE"),
            None => call,
        };
        by_pid
            .entry(pid)
            .or_default()
            .push(without_addresses(&call));
    }
    by_pid
        .into_values()
        .map(|mut v| {
            v.sort();
            v
        })
        .collect()
}

/// `call` with every pointer-sized hex argument (8 digits or more, an
/// argument of its own: a user-space address, which moves with ASLR from
/// run to run) replaced by ADDR. Flag words stay: they stand after `|`
/// or before a comment.
pub fn without_addresses(call: &str) -> String {
    let mut out = String::new();
    let mut rest = call;
    while let Some(at) = rest.find("0x") {
        let digits = rest[at + 2..]
            .bytes()
            .take_while(u8::is_ascii_hexdigit)
            .count();
        let end = at + 2 + digits;
        let alone_before =
            out.ends_with('(') || rest[..at].ends_with('(') || rest[..at].ends_with(", ");
        let alone_after = rest[end..].starts_with(',') || rest[end..].starts_with(')');
        out.push_str(&rest[..at]);
        if digits >= 8 && alone_before && alone_after {
            out.push_str("ADDR");
        } else {
            out.push_str(&rest[at..end]);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Runs `cmd` under strace (a separate run: strace's own reads fault
/// pages in, so it must not watch mountsnoop's run) and returns its calls
/// as `per_process` takes them.
pub fn strace_run(tag: &str, calls: &str, cmd: &[&str]) -> Vec<(u32, String)> {
    strace_run_env(tag, calls, cmd, &[])
}

/// `strace_run` with `env` set for `cmd`.
pub fn strace_run_env(
    tag: &str,
    calls: &str,
    cmd: &[&str],
    env: &[(&str, &str)],
) -> Vec<(u32, String)> {
    strace_calls_env(tag, calls, cmd, env)
        .into_iter()
        .flat_map(|(tid, calls)| calls.into_iter().map(move |c| (tid, c)))
        .collect()
}

/// The test programs of tests/c, built once per test run into the target
/// directory (tests/c/build.sh); the path of `name`.
pub fn c_program(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let out = Path::new(MOUNTSNOOP)
            .parent()
            .expect("the binary's directory")
            .join("c-tests");
        let status = Command::new("tests/c/build.sh")
            .arg(&out)
            .status()
            .expect("run tests/c/build.sh");
        assert!(status.success(), "tests/c/build.sh failed (see above)");
        out
    });
    dir.join(name)
}

/// Runs a C test program to completion; returns the pids it says made
/// its calls (its `pids ...` line).
pub fn run_c(name: &str, args: &[&str]) -> Vec<u32> {
    let out = Command::new(c_program(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run a C test program");
    assert!(
        out.status.success(),
        "{name} {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("pids "))
        .expect("a pids line");
    line[5..]
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

/// The differential that strace cannot disturb: `cmd` run alone under
/// mountsnoop (`filter` picks its processes: strace is not there to
/// fault pages in as it reads them), then run again, separately, under
/// strace. Returns both as `per_process` multisets, by thread (in the
/// order the threads were made), ours passed through `as_strace` (our
/// deliberate differences from strace 6.1).
pub fn alone_and_strace(
    tag: &str,
    calls: &str,
    filter: &[&str],
    cmd: &[&str],
    env: &[(&str, &str)],
    as_strace: impl Fn(&str) -> String,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    alone_and_strace_with(tag, calls, &[], filter, cmd, env, as_strace)
}

/// `alone_and_strace` with `flags` given to both mountsnoop and strace
/// (`-y`: both show what each fd refers to).
pub fn alone_and_strace_with(
    tag: &str,
    calls: &str,
    flags: &[&str],
    filter: &[&str],
    cmd: &[&str],
    env: &[(&str, &str)],
    as_strace: impl Fn(&str) -> String,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut args = vec!["--json"];
    args.extend_from_slice(flags);
    args.extend_from_slice(filter);
    let snoop = Snoop::start(&args);
    let mut child = Command::new(cmd[0])
        .args(&cmd[1..])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("run the command");
    let root = child.id();
    let status = child.wait().expect("wait for the command");
    assert!(status.success(), "{cmd:?}: {status}");
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let events = json_lines(&done.stdout);
    // The command's process and its descendants, by their parents.
    let id = |v: &serde_json::Value, key: &str| v[key].as_u64().expect("an id") as u32;
    let mut family = BTreeSet::from([root]);
    loop {
        let before = family.len();
        for v in &events {
            if family.contains(&id(v, "ppid")) {
                family.insert(id(v, "pid"));
            }
        }
        if family.len() == before {
            break;
        }
    }
    let ours: Vec<(u32, String)> = events
        .iter()
        .filter(|v| family.contains(&id(v, "pid")))
        // By thread, as strace's files are.
        .map(|v| (id(v, "tid"), as_strace(v["call"].as_str().expect("call"))))
        .collect();
    let theirs: Vec<(u32, String)> = strace_calls_with(tag, calls, flags, cmd, env)
        .into_iter()
        .flat_map(|(tid, calls)| calls.into_iter().map(move |c| (tid, c)))
        .collect();
    (per_process(ours), per_process(theirs))
}

/// Asserts that two `per_process` results are equal, showing only what
/// differs: the calls of each process that one side has more of.
pub fn assert_same_processes(ours: &[Vec<String>], theirs: &[Vec<String>]) {
    assert_eq!(
        ours.len(),
        theirs.len(),
        "processes: ours {ours:#?}\nstrace {theirs:#?}"
    );
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let count = |v: &[String]| {
            let mut m: BTreeMap<String, usize> = BTreeMap::new();
            for c in v {
                *m.entry(c.clone()).or_default() += 1;
            }
            m
        };
        let (ma, mb) = (count(a), count(b));
        let only = |x: &BTreeMap<String, usize>, y: &BTreeMap<String, usize>| -> Vec<String> {
            x.iter()
                .filter(|(c, n)| y.get(*c).copied().unwrap_or(0) < **n)
                .map(|(c, _)| c.clone())
                .collect()
        };
        let (mine, strace) = (only(&ma, &mb), only(&mb, &ma));
        assert!(
            mine.is_empty() && strace.is_empty(),
            "process {i}: only mountsnoop (alone) printed {mine:#?}\nonly strace (separate run) printed {strace:#?}"
        );
    }
}

/// Every line of a `--json` run, parsed.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

/// The events of a `--json` run that processes `pids` made.
pub fn json_events_of(stdout: &str, pids: &[u32]) -> Vec<serde_json::Value> {
    json_lines(stdout)
        .into_iter()
        .filter(|v| pids.contains(&(v["pid"].as_u64().expect("a pid") as u32)))
        .collect()
}
