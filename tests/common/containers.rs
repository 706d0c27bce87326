//! Real containers for the tests, from Debian's packages (runc, crun,
//! lxc, systemd-container), with no image, registry or network: the root
//! file system is an empty directory with the host's /usr bound
//! read-only (and the usual usr-merged links), the directory of the test
//! binaries bound at its own path, and a tmpfs on /tmp. The container
//! runs a host command (the test workload, a tests/c program, a /usr
//! tool) as root, with CAP_SYS_ADMIN, so its mounts succeed.
//!
//! Each runtime is put where a real engine would put it, in the cgroup
//! shapes `mountsnoop`'s container module reads:
//!   - runc and crun with a cgroupfs `cgroupsPath` as docker gives it
//!     (`/docker/<64 hex>`) or as containerd's CRI plugin does for a
//!     kubelet pod (`/kubepods/besteffort/pod<uid>/<64 hex>`). On this
//!     hybrid host crun refuses the unified mount (`cgroups in hybrid
//!     mode not supported`), so it runs in a private mount namespace
//!     where that mount is gone, and uses the v1 hierarchies only.
//!   - LXC: `lxc-execute` with a minimal configuration and no network;
//!     LXC makes `lxc.payload.<name>` itself.
//!   - systemd-nspawn with `--register=no --keep-unit`: it stays in the
//!     cgroup of the unit it runs in, which is made here as systemd makes
//!     `systemd-nspawn@<name>.service` (what `machinectl start` runs) or
//!     machined's `machine-<name>.scope`, in the unified, name=systemd
//!     and pids hierarchies, names escaped as systemd escapes them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::{temp_dir, MOUNTSNOOP};

/// Where a runc or crun container's cgroup goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Docker's cgroupfs driver: `/docker/<id>`.
    Docker,
    /// containerd's CRI plugin under kubelet's cgroupfs driver:
    /// `/kubepods/besteffort/pod<uid>/<id>`.
    Kubepods,
}

/// The unit an nspawn container runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `machine.slice/systemd-nspawn@<name>.service`.
    Service,
    /// `machine.slice/machine-<name>.scope`.
    Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Runc(Shape),
    Crun(Shape),
    Lxc,
    Nspawn(Unit),
}

/// A container to make: its runtime, command and seccomp profile.
pub struct Spec {
    runtime: Runtime,
    args: Vec<String>,
    seccomp: Option<serde_json::Value>,
}

/// One count per container made by this test process, for unique names.
static MADE: AtomicU32 = AtomicU32::new(0);

impl Spec {
    /// A container of `runtime` that runs `args` (an absolute path first).
    pub fn new(runtime: Runtime, args: &[&str]) -> Spec {
        assert!(args[0].starts_with('/'), "{args:?}: an absolute path first");
        Spec {
            runtime,
            args: args.iter().map(|a| a.to_string()).collect(),
            seccomp: None,
        }
    }

    /// The OCI `linux.seccomp` section (runc and crun only).
    pub fn seccomp(mut self, profile: serde_json::Value) -> Spec {
        assert!(
            matches!(self.runtime, Runtime::Runc(_) | Runtime::Crun(_)),
            "seccomp profiles are for OCI runtimes"
        );
        self.seccomp = Some(profile);
        self
    }

    /// Writes the bundle (root file system, configuration) to a fresh
    /// directory named after `tag`; the command line that runs the
    /// container in the foreground is `Prepared::argv`.
    pub fn prepare(self, tag: &str) -> Prepared {
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let hex = format!("{pid:08x}{n:08x}{nanos:048x}");
        let hex = hex[hex.len() - 64..].to_string();
        let dir = temp_dir(&format!("container-{tag}"));
        let rootfs = dir.join("rootfs");
        for d in ["usr", "proc", "dev", "sys", "tmp", "etc"] {
            std::fs::create_dir_all(rootfs.join(d)).unwrap();
        }
        for l in ["bin", "sbin", "lib", "lib64"] {
            std::os::unix::fs::symlink(format!("usr/{l}"), rootfs.join(l)).unwrap();
        }
        let bins = binaries_dir();
        let mut prepared = Prepared {
            argv: Vec::new(),
            id: String::new(),
            runtime: self.runtime,
            dir: dir.clone(),
            cgroups: Vec::new(),
            command: self.args[0].clone(),
        };
        match self.runtime {
            Runtime::Runc(shape) | Runtime::Crun(shape) => {
                let tool = match self.runtime {
                    Runtime::Runc(_) => "runc",
                    _ => "crun",
                };
                let cgroup = match shape {
                    Shape::Docker => format!("/docker/{hex}"),
                    Shape::Kubepods => format!(
                        "/kubepods/besteffort/pod{}-{}-4{}-8{}-{}/{hex}",
                        &hex[0..8],
                        &hex[8..12],
                        &hex[13..16],
                        &hex[17..20],
                        &hex[20..32]
                    ),
                };
                write_oci_config(tool, &dir, &cgroup, &bins, &self.args, self.seccomp);
                // What runc leaves behind: the parents of its cgroup.
                let parent = Path::new(&cgroup).parent().unwrap();
                prepared.cgroups = parent
                    .ancestors()
                    .filter(|p| *p != Path::new("/"))
                    .map(|p| p.to_str().unwrap().to_string())
                    .collect();
                let state = dir.join("state");
                let mut argv: Vec<String> = Vec::new();
                if tool == "crun" {
                    // crun refuses a hybrid host: hide the unified mount.
                    argv.extend(
                        [
                            "unshare",
                            "-m",
                            "--propagation",
                            "private",
                            "sh",
                            "-c",
                            "! mountpoint -q /sys/fs/cgroup/unified || umount /sys/fs/cgroup/unified && exec \"$@\"",
                            "sh",
                        ]
                        .map(String::from),
                    );
                }
                argv.extend([
                    tool.to_string(),
                    "--root".to_string(),
                    state.display().to_string(),
                    "run".to_string(),
                    "--bundle".to_string(),
                    dir.display().to_string(),
                    "--pid-file".to_string(),
                    dir.join("pid").display().to_string(),
                    hex.clone(),
                ]);
                prepared.argv = argv;
                prepared.id = hex;
            }
            Runtime::Lxc => {
                let name = format!("mountsnoop-{pid}-{n}");
                let rel = bins.to_str().unwrap().trim_start_matches('/');
                let config = format!(
                    "lxc.uts.name = {name}\n\
                     lxc.rootfs.path = dir:{root}\n\
                     lxc.mount.entry = /usr usr none bind,ro 0 0\n\
                     lxc.mount.entry = tmpfs tmp tmpfs rw,nosuid,nodev 0 0\n\
                     lxc.mount.entry = {bins} {rel} none bind,ro,create=dir 0 0\n\
                     lxc.mount.auto = proc:rw sys:ro\n\
                     lxc.net.0.type = empty\n\
                     lxc.apparmor.profile = unconfined\n\
                     lxc.log.level = ERROR\n",
                    root = rootfs.display(),
                    bins = bins.display(),
                );
                std::fs::write(dir.join("config"), config).unwrap();
                let mut argv: Vec<String> = [
                    "lxc-execute",
                    "-n",
                    &name,
                    "-P",
                    dir.to_str().unwrap(),
                    "-f",
                    dir.join("config").to_str().unwrap(),
                    "--",
                ]
                .map(String::from)
                .to_vec();
                argv.extend(self.args.iter().cloned());
                prepared.argv = argv;
                prepared.id = name;
            }
            Runtime::Nspawn(unit) => {
                let name = format!("mountsnoop-{pid}-{n}");
                // systemd's unit_name_escape: `-` is `\x2d`.
                let escaped = name.replace('-', r"\x2d");
                let cgroup = match unit {
                    Unit::Service => format!("/machine.slice/systemd-nspawn@{escaped}.service"),
                    Unit::Scope => format!("/machine.slice/machine-{escaped}.scope"),
                };
                // As systemd would: the unit's cgroup in the hierarchies
                // it tracks units in, the runtime moved into it.
                let mut join = String::new();
                for hierarchy in UNIT_HIERARCHIES {
                    let path = format!("/sys/fs/cgroup/{hierarchy}{cgroup}");
                    std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("mkdir {path}: {e}"));
                    join.push_str(&format!("echo $$ > '{path}/cgroup.procs' && "));
                }
                for sub in ["/payload", "/supervisor", ""] {
                    prepared.cgroups.push(format!("{cgroup}{sub}"));
                }
                prepared.cgroups.push("/machine.slice".to_string());
                let mut argv: Vec<String> = [
                    "sh",
                    "-c",
                    &format!("{join}exec \"$@\""),
                    "sh",
                    "systemd-nspawn",
                    "--register=no",
                    "--keep-unit",
                    "--quiet",
                    "--console=pipe",
                    "-M",
                    &name,
                    "-D",
                    rootfs.to_str().unwrap(),
                    "--bind-ro=/usr",
                    &format!("--bind-ro={}", bins.display()),
                    "--",
                ]
                .map(String::from)
                .to_vec();
                argv.extend(self.args.iter().cloned());
                prepared.argv = argv;
                prepared.id = name;
            }
        }
        prepared
    }
}

/// The hierarchies systemd keeps a unit's cgroup in on this hybrid host
/// (v2 for tracking, name=systemd, pids for TasksAccounting=).
const UNIT_HIERARCHIES: [&str; 3] = ["unified", "systemd", "pids"];

/// The directory of mountsnoop, the test workload and tests/c's programs
/// (bound into containers at its own path).
pub fn binaries_dir() -> PathBuf {
    Path::new(MOUNTSNOOP).parent().unwrap().to_path_buf()
}

/// `config.json` from the runtime's own `spec`, changed for the test.
fn write_oci_config(
    tool: &str,
    dir: &Path,
    cgroup: &str,
    bins: &Path,
    args: &[String],
    seccomp: Option<serde_json::Value>,
) {
    let out = Command::new(tool)
        .arg("spec")
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {tool} (apt-get install {tool}): {e}"));
    assert!(
        out.status.success(),
        "{tool} spec: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join("config.json");
    let mut c: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    c["root"] = serde_json::json!({"path": "rootfs", "readonly": false});
    let process = &mut c["process"];
    process["terminal"] = false.into();
    process["args"] = serde_json::json!(args);
    for set in ["bounding", "effective", "permitted"] {
        let caps = process["capabilities"][set].as_array_mut().unwrap();
        caps.push("CAP_SYS_ADMIN".into());
    }
    let mounts = c["mounts"].as_array_mut().unwrap();
    mounts.push(serde_json::json!({
        "destination": "/usr", "type": "bind", "source": "/usr",
        "options": ["rbind", "ro"]
    }));
    // /tmp first: the binaries may live under /tmp (a checkout there), and
    // a tmpfs mounted after them would hide them.
    mounts.push(serde_json::json!({
        "destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
        "options": ["nosuid", "nodev"]
    }));
    mounts.push(serde_json::json!({
        "destination": bins, "type": "bind", "source": bins,
        "options": ["rbind", "ro"]
    }));
    c["linux"]["cgroupsPath"] = cgroup.into();
    if let Some(profile) = seccomp {
        c["linux"]["seccomp"] = profile;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
}

/// A container ready to run; cleaned up when dropped.
pub struct Prepared {
    /// The command line that runs the container in the foreground, until
    /// its command exits, with the command's exit status.
    pub argv: Vec<String>,
    /// The id as the runtime knows it: 64 hex digits for runc and crun,
    /// the container's (machine's) name for LXC and nspawn.
    pub id: String,
    runtime: Runtime,
    dir: PathBuf,
    /// cgroups (relative to a hierarchy's root) to remove after it, the
    /// deepest first.
    cgroups: Vec<String>,
    command: String,
}

impl Prepared {
    pub fn argv(&self) -> Vec<&str> {
        self.argv.iter().map(String::as_str).collect()
    }

    /// Starts the container, with its command's stdin piped, and waits
    /// until its command runs (has been exec'd).
    pub fn start(&self) -> Running<'_> {
        let child = Command::new(&self.argv[0])
            .args(&self.argv[1..])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {:?}: {e}", self.argv));
        let mut running = Running {
            child,
            pid: 0,
            prepared: self,
        };
        running.pid = running.find_command();
        running
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        match self.runtime {
            Runtime::Runc(_) | Runtime::Crun(_) => {
                let tool = if matches!(self.runtime, Runtime::Runc(_)) {
                    "runc"
                } else {
                    "crun"
                };
                let _ = Command::new(tool)
                    .arg("--root")
                    .arg(self.dir.join("state"))
                    .args(["delete", "-f", &self.id])
                    .stderr(Stdio::null())
                    .status();
            }
            Runtime::Lxc => {
                let _ = Command::new("lxc-stop")
                    .args(["-k", "-n", &self.id, "-P"])
                    .arg(&self.dir)
                    .stderr(Stdio::null())
                    .status();
            }
            Runtime::Nspawn(_) => {
                let _ = std::fs::remove_dir(format!("/run/systemd/nspawn/propagate/{}", self.id));
            }
        }
        // Best effort: a cgroup another test still uses stays.
        for cgroup in &self.cgroups {
            if let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") {
                for h in hierarchies.flatten() {
                    let _ = std::fs::remove_dir(format!("{}{cgroup}", h.path().display()));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A started container.
pub struct Running<'a> {
    child: Child,
    pid: u32,
    prepared: &'a Prepared,
}

impl Running<'_> {
    /// The host pid of the container's command.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The text of `/proc/PID/cgroup` of the container's command.
    pub fn proc_cgroup(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/cgroup", self.pid)).unwrap()
    }

    /// The command's stdin.
    pub fn stdin(&mut self) -> &mut ChildStdin {
        self.child.stdin.as_mut().unwrap()
    }

    /// Sends a line to the command's stdin (lets a `gated` workload go).
    pub fn release(&mut self) {
        self.stdin().write_all(b"go\n").unwrap();
    }

    /// Waits for the container to end; its runtime's exit status.
    pub fn wait(mut self) -> ExitStatus {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "container still running after 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls until the container's command has been exec'd; its pid.
    fn find_command(&mut self) -> u32 {
        let comm: String = Path::new(&self.prepared.command)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .chars()
            .take(15)
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{:?} ended before its command ran: {status}",
                    self.prepared.argv
                );
            }
            let candidates = match self.prepared.runtime {
                Runtime::Runc(_) | Runtime::Crun(_) => {
                    std::fs::read_to_string(self.prepared.dir.join("pid"))
                        .ok()
                        .and_then(|p| p.trim().parse().ok())
                        .into_iter()
                        .collect()
                }
                Runtime::Lxc | Runtime::Nspawn(_) => descendants(self.child.id()),
            };
            for pid in candidates {
                let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                if name.trim_end() == comm && in_other_pid_ns(pid) {
                    return pid;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no {comm} in {:?} after 60 s", self.prepared.argv);
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // The command is the container's pid 1 (lxc's is its child,
            // whose end ends it): killing it ends the container.
            if self.pid != 0 {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(self.pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = self.child.wait();
        }
    }
}

/// Every process below `pid`, by /proc/*/stat's parent.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces and parens.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        if let Some(ppid) = after.split(' ').nth(1).and_then(|s| s.parse::<u32>().ok()) {
            parents.push((p, ppid));
        }
    }
    let mut family = vec![pid];
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    family.remove(0);
    family
}

fn in_other_pid_ns(pid: u32) -> bool {
    let ours = std::fs::read_link("/proc/self/ns/pid").ok();
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    theirs.is_some() && theirs != ours
}
