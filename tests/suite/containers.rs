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
