//! bcc's container filters, --cgroupmap and --mntnsmap: hash maps pinned
//! on bpffs (made here with bpftool, as bcc's docs make them), changed
//! while mountsnoop runs; and each wrong map refused in one line.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;

use crate::common::*;

/// Where bpffs is mounted (mounted there first if nothing is).
fn bpffs() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from("/sys/fs/bpf");
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
        let mounted = mounts.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&"/sys/fs/bpf") && f.get(2) == Some(&"bpf")
        });
        if !mounted {
            let ok = Command::new("mount")
                .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
                .status()
                .expect("run mount");
            assert!(ok.success(), "cannot mount bpffs on /sys/fs/bpf");
        }
        dir
    })
}

/// A map made and pinned by bpftool; unpinned (and so freed) on drop.
struct Pinned(PathBuf);

impl Pinned {
    /// `bpftool map create PATH type TYPE key K value V entries 1024 name NAME`.
    fn create(tag: &str, ty: &str, key: u32, value: u32, name: &str) -> Pinned {
        let path = bpffs().join(format!("mountsnoop-test-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let out = Command::new("bpftool")
            .args(["map", "create"])
            .arg(&path)
            .args(["type", ty, "key", &key.to_string(), "value"])
            .args([&value.to_string(), "entries", "1024", "name", name])
            .output()
            .expect("run bpftool (apt-get install bpftool)");
        assert!(
            out.status.success(),
            "bpftool map create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Pinned(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 path")
    }

    /// `bpftool map update pinned PATH key hex ... value hex 0... any`:
    /// the key in host byte order, as bcc's docs give it.
    fn add(&self, key: u64, value_size: usize) {
        let mut args = vec!["map", "update", "pinned", self.path(), "key", "hex"];
        let key = hex(&key.to_ne_bytes());
        args.extend(key.iter().map(String::as_str));
        args.extend(["value", "hex"]);
        args.extend(std::iter::repeat_n("00", value_size));
        args.push("any");
        bpftool(&args);
    }

    /// `bpftool map delete pinned PATH key hex ...`.
    fn remove(&self, key: u64) {
        let mut args = vec!["map", "delete", "pinned", self.path(), "key", "hex"];
        let key = hex(&key.to_ne_bytes());
        args.extend(key.iter().map(String::as_str));
        bpftool(&args);
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn hex(bytes: &[u8]) -> Vec<String> {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bpftool(args: &[&str]) {
    let out = Command::new("bpftool")
        .args(args)
        .output()
        .expect("run bpftool");
    assert!(
        out.status.success(),
        "bpftool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A child cgroup in the cgroup v2 hierarchy; removed on drop (once its
/// processes have exited).
struct Cgroup(PathBuf);

impl Cgroup {
    fn create(tag: &str) -> Cgroup {
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
        let root = mounts
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| f.get(2) == Some(&"cgroup2"))
            .map(|f| PathBuf::from(f[1]))
            .expect("a cgroup2 mount (/sys/fs/cgroup/unified on this host)");
        let dir = root.join(format!("mountsnoop-test-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir(&dir);
        std::fs::create_dir(&dir).unwrap();
        Cgroup(dir)
    }

    /// What bpf_get_current_cgroup_id() returns for its processes: the
    /// kernfs id of its directory, which is its inode number.
    fn id(&self) -> u64 {
        std::fs::metadata(&self.0).unwrap().ino()
    }

    fn enter(&self, pid: u32) {
        std::fs::write(self.0.join("cgroup.procs"), pid.to_string()).unwrap();
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// A `steps` workload: a mount and an umount2 each time the test says.
struct Steps {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    base: String,
}

impl Steps {
    /// Starts it gated; `before` runs with its pid before it makes any
    /// call (to move it into a cgroup).
    fn start(before: impl FnOnce(u32)) -> Steps {
        let mut child = Command::new(workload())
            .args(["gated", "steps"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start workload");
        before(child.id());
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let ready = read_line(&mut stdout);
        let base = ready
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("not ready: {ready:?}"))
            .to_string();
        Steps {
            child,
            stdin: Some(stdin),
            stdout,
            base,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its own mount namespace's inode number.
    fn mnt_ns(&self) -> u64 {
        std::fs::metadata(format!("/proc/{}/ns/mnt", self.pid()))
            .unwrap()
            .ino()
    }

    /// Step `n`, done when it returns.
    fn step(&mut self, n: u32) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{n}").unwrap();
        assert_eq!(read_line(&mut self.stdout), format!("done {n}"));
    }

    /// The two calls of step `n`, as mountsnoop prints them.
    fn calls(&self, n: u32) -> [String; 2] {
        let dir = format!("{}/step", self.base);
        [
            format!(r#"mount("step-{n}", "{dir}", "tmpfs", 0, NULL) = 0"#),
            format!(r#"umount2("{dir}", 0) = 0"#),
        ]
    }

    /// The call it ends with, leaving its namespace.
    fn cleanup_call(&self) -> String {
        format!(r#"umount2("{}", MNT_DETACH) = 0"#, self.base)
    }

    /// Ends its input; waits for it to exit.
    fn end(&mut self) {
        drop(self.stdin.take());
        assert!(self.child.wait().unwrap().success());
    }
}

/// After a failed assertion: end its input, so that it cleans up after
/// itself (its directory in /tmp); kill it only if it does not exit.
impl Drop for Steps {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..250 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_line(r: &mut impl BufRead) -> String {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

/// The calls mountsnoop printed for `pid` (one thread), in order.
fn printed(stdout: &str, pid: u32) -> Vec<String> {
    calls_of_pid(stdout, pid).into_values().flatten().collect()
}

/// Two workloads, `a` and `b`, three steps, a map changed between them:
/// `a`'s key in the map before the start, `b`'s added after step 1, `a`'s
/// removed after step 2. So `a`'s steps 1 and 2 are printed, `b`'s steps
/// 2 and 3 and its clean-up, nothing else.
fn follows_the_map(
    flag: &str,
    map: &Pinned,
    value_size: usize,
    a: &mut Steps,
    key_a: u64,
    b: &mut Steps,
    key_b: u64,
) {
    map.add(key_a, value_size);
    let snoop = Snoop::start(&[flag, map.path()]);
    a.step(1);
    b.step(1);
    map.add(key_b, value_size);
    a.step(2);
    b.step(2);
    map.remove(key_a);
    a.step(3);
    b.step(3);
    a.end();
    b.end();
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let [a2, b2, b3] = [a.calls(2), b.calls(2), b.calls(3)];
    let mut want_a: Vec<String> = a.calls(1).into();
    want_a.extend(a2);
    let mut want_b: Vec<String> = b2.into();
    want_b.extend(b3);
    want_b.push(b.cleanup_call());
    assert_eq!(printed(&done.stdout, a.pid()), want_a, "{}", done.stdout);
    assert_eq!(printed(&done.stdout, b.pid()), want_b, "{}", done.stdout);
}

/// --cgroupmap: calls of a cgroup whose id is a key are shown, others
/// not; a key added while tracing shows later calls, a key removed hides
/// them.
#[test]
fn cgroupmap_follows_the_map_as_it_changes() {
    require_bpf!();
    let map = Pinned::create("cgroupset", "hash", 8, 8, "cgroupset");
    let (cg_a, cg_b) = (Cgroup::create("cg-a"), Cgroup::create("cg-b"));
    assert_ne!(cg_a.id(), cg_b.id());
    let mut a = Steps::start(|pid| cg_a.enter(pid));
    let mut b = Steps::start(|pid| cg_b.enter(pid));
    follows_the_map("--cgroupmap", &map, 8, &mut a, cg_a.id(), &mut b, cg_b.id());
}

/// --mntnsmap: the same for mount namespaces (each workload has its own).
#[test]
fn mntnsmap_follows_the_map_as_it_changes() {
    require_bpf!();
    let map = Pinned::create("mntns", "hash", 8, 4, "mount_ns_set");
    let mut a = Steps::start(|_| ());
    let mut b = Steps::start(|_| ());
    let (ns_a, ns_b) = (a.mnt_ns(), b.mnt_ns());
    assert_ne!(ns_a, ns_b);
    follows_the_map("--mntnsmap", &map, 4, &mut a, ns_a, &mut b, ns_b);
}

/// Both maps, and --pid, AND-ed: a call is shown only when every filter
/// takes it.
#[test]
fn maps_combine_with_the_other_filters() {
    require_bpf!();
    let cgroups = Pinned::create("and-cg", "hash", 8, 8, "cgroupset");
    let namespaces = Pinned::create("and-ns", "hash", 8, 4, "mount_ns_set");
    let (cg_a, cg_b) = (Cgroup::create("and-a"), Cgroup::create("and-b"));
    let mut a = Steps::start(|pid| cg_a.enter(pid));
    let mut b = Steps::start(|pid| cg_b.enter(pid));
    let mut c = Steps::start(|pid| cg_b.enter(pid));
    // a: its cgroup only; b and c: both maps; c: not the --pid.
    cgroups.add(cg_a.id(), 8);
    cgroups.add(cg_b.id(), 8);
    namespaces.add(b.mnt_ns(), 4);
    namespaces.add(c.mnt_ns(), 4);
    let pid_b = b.pid().to_string();
    let snoop = Snoop::start(&[
        "--cgroupmap",
        cgroups.path(),
        "--mntnsmap",
        namespaces.path(),
        "--pid",
        &pid_b,
    ]);
    for w in [&mut a, &mut b, &mut c] {
        w.step(1);
        w.end();
    }
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let mut want: Vec<String> = b.calls(1).into();
    want.push(b.cleanup_call());
    assert_eq!(printed(&done.stdout, b.pid()), want, "{}", done.stdout);
    assert_eq!(printed(&done.stdout, a.pid()), Vec::<String>::new());
    assert_eq!(printed(&done.stdout, c.pid()), Vec::<String>::new());
}

/// -v says which maps filter, and how.
#[test]
fn verbose_names_the_maps() {
    require_bpf!();
    let cgroups = Pinned::create("v-cg", "hash", 8, 8, "cgroupset");
    let namespaces = Pinned::create("v-ns", "hash", 8, 4, "mount_ns_set");
    // Not under Snoop: libbpf's messages (with -v) are not all UTF-8.
    let out = Command::new(MOUNTSNOOP)
        .args(["-v", "--duration", "0.2", "--cgroupmap", cgroups.path()])
        .args(["--mntnsmap", namespaces.path()])
        .output()
        .expect("run mountsnoop");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for (flag, map, whose) in [
        ("--cgroupmap", &cgroups, "cgroup v2 id"),
        ("--mntnsmap", &namespaces, "mount namespace inode number"),
    ] {
        let line = format!(
            "mountsnoop: {flag} {}: only callers whose {whose} is a key of map id ",
            map.path()
        );
        assert!(stderr.contains(&line), "{line:?} in {stderr}");
    }
}

/// Runs mountsnoop with `args` and expects it to refuse them: exit 1, no
/// stdout, one line on stderr that starts `mountsnoop: FLAG PATH: ` and
/// says `why`.
fn assert_refused(cmd: &mut Command, flag: &str, path: &str, why: &str) {
    let out = cmd.output().expect("run mountsnoop");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{flag} {path}: {stderr}");
    assert!(out.stdout.is_empty(), "{flag} {path}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    let head = format!("mountsnoop: {flag} {path}: ");
    assert!(stderr.starts_with(&head), "{stderr}");
    assert!(
        stderr.contains(why),
        "{flag} {path}: wanted {why:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Each wrong map, or no map at all, is one clear line and exit 1.
#[test]
fn wrong_maps_are_refused_in_one_line() {
    require_bpf!();
    let run = |flag: &str, path: &str, why: &str| {
        assert_refused(Command::new(MOUNTSNOOP).args([flag, path]), flag, path, why);
    };
    let missing = bpffs().join(format!("mountsnoop-test-{}-missing", std::process::id()));
    run(
        "--cgroupmap",
        missing.to_str().unwrap(),
        "not a pinned BPF map (No such file or directory)",
    );
    let dir = temp_dir("bcc-maps");
    let file = dir.join("not-a-map");
    std::fs::write(&file, "").unwrap();
    run(
        "--mntnsmap",
        file.to_str().unwrap(),
        "not a pinned BPF map (the file is not on a BPF file system (bpffs))",
    );
    let _ = std::fs::remove_dir_all(dir);
    let array = Pinned::create("array", "array", 4, 8, "cgroupset");
    run(
        "--cgroupmap",
        array.path(),
        "a BPF map of type array, not hash",
    );
    let key4 = Pinned::create("key4", "hash", 4, 8, "cgroupset");
    run(
        "--cgroupmap",
        key4.path(),
        "the map's keys are 4 bytes, not 8",
    );
    let value4 = Pinned::create("value4", "hash", 8, 4, "cgroupset");
    run(
        "--cgroupmap",
        value4.path(),
        "the map's values are 4 bytes, not 8",
    );
    let value8 = Pinned::create("value8", "hash", 8, 8, "mount_ns_set");
    run(
        "--mntnsmap",
        value8.path(),
        "the map's values are 8 bytes, not 4",
    );
}

/// With no bpffs mounted (in a mount namespace of its own, where the
/// test unmounts it), the line says so.
#[test]
fn no_bpffs_mounted_is_said() {
    require_bpf!();
    let path = bpffs().join("cgroupset");
    let path = path.to_str().unwrap();
    let script = format!(
        "while mountpoint -q /sys/fs/bpf; do umount -l /sys/fs/bpf || exit 99; done; \
         exec {MOUNTSNOOP} --cgroupmap {path}"
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
    assert_refused(
        &mut cmd,
        "--cgroupmap",
        path,
        "No such file or directory, and /sys/fs/bpf is not on a BPF file system: is bpffs mounted?",
    );
}
