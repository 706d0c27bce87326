//! Real containers (runc, crun, LXC, systemd-nspawn; tests/common/
//! containers.rs) running the test workload: the container module tells
//! each one's runtime and id or name from the cgroup paths the runtime
//! gave its process, and the workload's mounts inside succeed.
//!
//! On this hybrid host (cgroup v1 controllers, v2 at
//! /sys/fs/cgroup/unified): runc puts the container in the v2 hierarchy
//! and every v1 one; crun (the unified mount hidden from it) in the v1
//! ones only, its v2 path left the runtime's own; LXC in all, v2 and v1;
//! nspawn, kept in its unit, in the unit's hierarchies (v2, name=systemd,
//! pids), its payload moved to `<unit>/payload` in v2 and name=systemd.

// The module under test, pure std: built into this binary as it is.
#[path = "../../src/container.rs"]
mod container;

use crate::common::containers::{Prepared, Runtime, Shape, Spec, Unit};
use crate::common::workload;
use container::{identify, proc_cgroup_paths, Container, Runtime as Rt};

/// The workload, gated, in a `runtime` container: the container module's
/// answer for its process, and the process's /proc/PID/cgroup; then the
/// workload is let go and must succeed (its mounts inside need
/// CAP_SYS_ADMIN).
fn identified(runtime: Runtime, tag: &str) -> (Prepared, Option<Container>, String) {
    // Mounts from inside: not beside a test that asserts on all events.
    let _machine = crate::common::machine_shared();
    let prepared = Spec::new(runtime, &[workload(), "gated", "idle"]).prepare(tag);
    let mut running = prepared.start();
    let text = running.proc_cgroup();
    let running_pid = running.pid();
    let found = identify(proc_cgroup_paths(&text));
    running.release();
    let status = running.wait();
    assert!(status.success(), "{:?}: {status}", prepared.argv);
    eprintln!("{tag}: /proc/{running_pid}/cgroup:\n{text}");
    (prepared, found, text)
}

/// The v2 (unified) line of /proc/PID/cgroup.
fn v2(text: &str) -> &str {
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("a v2 line")
}

/// The line of the v1 hierarchy `name`.
fn v1<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|l| {
            let (_, rest) = l.split_once(':')?;
            let (controllers, path) = rest.split_once(':')?;
            controllers.split(',').any(|c| c == name).then_some(path)
        })
        .unwrap_or_else(|| panic!("no {name} line in {text}"))
}

fn assert_hex(found: Option<Container>, runtime: Rt, id: &str) {
    let found = found.unwrap_or_else(|| panic!("no container found for {runtime}"));
    assert_eq!(found.runtime, runtime);
    assert_eq!(found.id, id);
    assert_eq!(found.name, id[..12]);
    assert!(found.matches(&id[..5]));
}

#[test]
fn runc_docker_shape() {
    let (prepared, found, text) = identified(Runtime::Runc(Shape::Docker), "runc-docker");
    assert_hex(found, Rt::Docker, &prepared.id);
    // runc: v2 and v1.
    assert_eq!(v2(&text), format!("/docker/{}", prepared.id));
    assert_eq!(v1(&text, "pids"), format!("/docker/{}", prepared.id));
}

#[test]
fn runc_kubepods_shape() {
    let (prepared, found, text) = identified(Runtime::Runc(Shape::Kubepods), "runc-kubepods");
    assert_hex(found, Rt::Containerd, &prepared.id);
    assert!(v2(&text).starts_with("/kubepods/besteffort/pod"), "{text}");
    assert!(v1(&text, "pids").ends_with(&prepared.id), "{text}");
}

#[test]
fn crun_docker_shape() {
    let (prepared, found, text) = identified(Runtime::Crun(Shape::Docker), "crun-docker");
    assert_hex(found, Rt::Docker, &prepared.id);
    // crun: v1 only; the v2 path is not the container's.
    assert!(!v2(&text).contains(&prepared.id), "{text}");
    assert_eq!(v1(&text, "pids"), format!("/docker/{}", prepared.id));
}

#[test]
fn crun_kubepods_shape() {
    let (prepared, found, text) = identified(Runtime::Crun(Shape::Kubepods), "crun-kubepods");
    assert_hex(found, Rt::Containerd, &prepared.id);
    assert!(!v2(&text).contains(&prepared.id), "{text}");
    assert!(
        v1(&text, "pids").starts_with("/kubepods/besteffort/pod"),
        "{text}"
    );
}

#[test]
fn lxc() {
    let (prepared, found, text) = identified(Runtime::Lxc, "lxc");
    let found = found.expect("an LXC container");
    assert_eq!(found.runtime, Rt::Lxc);
    assert_eq!(found.id, prepared.id);
    assert_eq!(found.name, prepared.id);
    assert!(found.matches(&prepared.id));
    let path = format!("/lxc.payload.{}", prepared.id);
    assert_eq!(v2(&text), path);
    assert_eq!(v1(&text, "pids"), path);
}

fn nspawn(unit: Unit, tag: &str) {
    let (prepared, found, text) = identified(Runtime::Nspawn(unit), tag);
    let found = found.expect("an nspawn container");
    assert_eq!(found.runtime, Rt::SystemdNspawn);
    // The name unescaped: mountsnoop-PID-N, its unit `mountsnoop\x2dPID…`.
    assert_eq!(found.id, prepared.id);
    assert_eq!(found.name, prepared.id);
    assert!(found.matches(&prepared.id));
    assert!(v2(&text).ends_with("/payload"), "{text}");
    assert!(v2(&text).contains(r"mountsnoop\x2d"), "{text}");
    assert!(v1(&text, "pids").starts_with("/machine.slice/"), "{text}");
}

#[test]
fn nspawn_in_its_service() {
    nspawn(Unit::Service, "nspawn-service");
}

#[test]
fn nspawn_in_a_machine_scope() {
    nspawn(Unit::Scope, "nspawn-scope");
}

/// The container a call was made in, as mountsnoop shows it: JSON's
/// `container` and `cgroup`, the CONTAINER column of -C, and --container
/// choosing one container's calls. The workload's `gated core` waits for
/// a line on stdin, then makes its mount calls inside the container.
const WORKLOAD_COMM_SHOWN: &str = "mountsnoop-test";

fn traced(runtime: Runtime, tag: &str, check: impl Fn(&serde_json::Value, &Prepared)) {
    use crate::common::{json_events_of, Snoop, CORE_CALLS};
    let _machine = crate::common::machine_shared();
    let prepared = Spec::new(runtime, &[workload(), "gated", "core"]).prepare(tag);
    let snoop = Snoop::start(&["--json"]);
    let mut running = prepared.start();
    let pid = running.pid();
    running.release();
    let status = running.wait();
    assert!(status.success(), "{:?}: {status}", prepared.argv);
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    let events = json_events_of(&done.stdout, &[pid]);
    // The runtime's own set-up calls come first, from the same process.
    let workload_calls = events
        .iter()
        .filter(|e| e["comm"] == WORKLOAD_COMM_SHOWN)
        .count();
    assert_eq!(workload_calls, CORE_CALLS, "{tag}: the workload's calls");
    for e in &events {
        check(e, &prepared);
    }
}

#[test]
fn json_names_the_runc_docker_container() {
    traced(Runtime::Runc(Shape::Docker), "json-runc", |e, p| {
        assert_eq!(e["cgroup"], format!("/docker/{}", p.id), "{e}");
        assert_eq!(
            e["container"],
            serde_json::json!({"id": p.id, "runtime": "docker", "name": &p.id[..12]}),
            "{e}"
        );
    });
}

/// crun leaves the v2 path its own on this hybrid host: the container is
/// told from the v1 (pids) path.
#[test]
fn json_names_the_crun_kubepods_container() {
    traced(Runtime::Crun(Shape::Kubepods), "json-crun", |e, p| {
        assert_eq!(e["container"]["runtime"], "containerd", "{e}");
        assert_eq!(e["container"]["id"], p.id, "{e}");
    });
}

#[test]
fn json_names_the_lxc_container() {
    traced(Runtime::Lxc, "json-lxc", |e, p| {
        assert_eq!(e["container"]["runtime"], "lxc", "{e}");
        assert_eq!(e["container"]["name"], p.id, "{e}");
        assert_eq!(e["cgroup"], format!("/lxc.payload.{}", p.id), "{e}");
    });
}

#[test]
fn json_names_the_nspawn_machine() {
    traced(Runtime::Nspawn(Unit::Service), "json-nspawn", |e, _| {
        assert_eq!(e["container"]["runtime"], "systemd-nspawn", "{e}");
        let name = e["container"]["name"].as_str().unwrap();
        assert!(name.starts_with("mountsnoop-"), "{e}");
    });
}

/// Two containers at once: -C shows each call's container; --container
/// with an id prefix shows that container's calls and no other's.
#[test]
fn container_column_and_filter() {
    use crate::common::{count_of_pid, Snoop, CORE_CALLS};
    let _machine = crate::common::machine_shared();
    let runc =
        Spec::new(Runtime::Runc(Shape::Docker), &[workload(), "gated", "core"]).prepare("col-runc");
    let lxc = Spec::new(Runtime::Lxc, &[workload(), "gated", "core"]).prepare("col-lxc");
    let all = Snoop::start(&["-C"]);
    // --container ID adds the column as -C does.
    let only = Snoop::start(&["--container", &runc.id[..7]]);
    let (mut a, mut b) = (runc.start(), lxc.start());
    let (pa, pb) = (a.pid(), b.pid());
    a.release();
    b.release();
    assert!(a.wait().success() && b.wait().success());
    let (all, only) = (all.stop(), only.stop());
    assert!(all
        .stdout
        .starts_with("COMM             PID     TID     MNT_NS      CONTAINER    CALL\n"));
    for (pid, name) in [(pa, &runc.id[..12]), (pb, lxc.id.as_str())] {
        let lines: Vec<&str> = all
            .stdout
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(&pid.to_string()))
            .collect();
        let workload = lines
            .iter()
            .filter(|l| l.starts_with(WORKLOAD_COMM_SHOWN))
            .count();
        assert_eq!(workload, CORE_CALLS, "{}", all.stdout);
        // The runtime's set-up in the container's cgroup, then the workload.
        for l in lines {
            assert_eq!(l.split_whitespace().nth(4), Some(name), "{l}");
        }
    }
    assert!(
        count_of_pid(&only.stdout, pa) >= CORE_CALLS,
        "{}",
        only.stdout
    );
    assert_eq!(count_of_pid(&only.stdout, pb), 0, "{}", only.stdout);
    // Nothing but the runc container's calls (its runtime's processes too).
    for l in only.stdout.lines().skip(1) {
        assert_eq!(l.split_whitespace().nth(4), Some(&runc.id[..12]), "{l}");
    }
}
