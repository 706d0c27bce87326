//! Which container a process runs in, told from its cgroup paths alone
//! (pure: no runtime socket, no file read).
//!
//! Every runtime names the cgroup of a container after it, in one of a
//! few shapes that depend on the runtime and on its cgroup driver
//! (`cgroupfs`: the runtime makes the directories; `systemd`: the runtime
//! asks systemd for a transient unit, `<prefix>-<id>.scope`). The shapes
//! recognised here, each with where it comes from:
//!
//! | runtime | cgroupfs driver | systemd driver |
//! |---|---|---|
//! | docker | `/docker/<id>` (moby `daemon/oci_linux.go`: cgroup parent `/docker`) | `/system.slice/docker-<id>.scope` (parent `system.slice`, prefix `docker`) |
//! | containerd, CRI (kubelet) | `/kubepods[/<qos>]/pod<uid>/<id>` (kubelet `pkg/kubelet/cm/qos_container_manager_linux.go` makes `kubepods/besteffort`, `kubepods/burstable`, guaranteed pods directly under `kubepods`; containerd's CRI plugin appends the id) | `…/kubepods-<qos>-pod<uid>.slice/cri-containerd-<id>.scope` (containerd `pkg/cri/…/container_create_linux.go`: `<parent>:cri-containerd:<id>`); a cgroupfs driver handed that systemd form keeps it literally: `…:cri-containerd:<id>` |
//! | containerd, plain (ctr, nerdctl) | `/<namespace>/<id>`, e.g. `/default/<id>` (containerd `oci/spec.go`: `filepath.Join("/", ns, id)`) | `/system.slice/nerdctl-<id>.scope` (nerdctl: `system.slice:nerdctl:<id>`) |
//! | CRI-O | `/kubepods/…/pod<uid>/crio-<id>` | `…/crio-<id>.scope`; its monitor is `crio-conmon-<id>.scope` (cri-o `internal/config/cgmgr`) |
//! | podman (libpod) | `/libpod_parent/libpod-<id>` | `/machine.slice/libpod-<id>.scope`, rootless under `user@<uid>.service/user.slice`; its monitor is `libpod-conmon-<id>.scope`, not the container (podman `libpod/runtime_ctr.go`, `pkg/cgroups`); `--cgroups=split` adds `libpod-payload-<id>` |
//! | systemd-nspawn | — | `/machine.slice/systemd-nspawn@<name>.service` (the unit `machinectl start` uses, `units/systemd-nspawn@.service.in`), or `/machine.slice/machine-<name>.scope` (registered with machined, `src/machine/machined-dbus.c`); `<name>` escaped as unit names are (`-` is `\x2d`); nspawn adds `payload` and `supervisor` below (`src/nspawn/nspawn-cgroup.c`) |
//! | LXC, LXD | `/lxc.payload.<name>` (LXC >= 4.0, `src/lxc/cgroups/cgfsng.c`: `lxc.payload.` prefix, and `lxc.monitor.<name>` for the monitor, not the container); `/lxc.payload/<name>` (LXC 3.1, 3.2); `/lxc/<name>` (LXC <= 3.0) | the same paths: LXC makes them itself |
//!
//! Ids of docker, containerd, CRI-O and podman are 64 hex digits: only
//! those are taken, so that an unrelated cgroup named like a prefix (a
//! `docker-compose@.service`, a 32-digit id) is not a container. Where
//! containers nest (a kind node running kubelet pods, LXC running
//! docker), the outermost one is the answer: the one the host's runtime
//! knows, whose `ps` the user runs (as Tracee's
//! `pkg/containers/containers.go` does).
//!
//! Limits: a bare hex id whose parent is neither `docker` nor a
//! `pod<uid>` is taken for plain containerd, though docker with a
//! `--cgroup-parent` of its own gives the same shape; so did Kubernetes'
//! dockershim (removed in Kubernetes 1.24) under `pod<uid>`. libvirt's
//! VMs and containers also register with machined (`machine-qemu…`,
//! `machine-lxc…`): those are not taken for nspawn.

use std::fmt;

/// The runtime that made a container's cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    Docker,
    /// containerd, through CRI (Kubernetes) or on its own (ctr, nerdctl).
    Containerd,
    CriO,
    Podman,
    SystemdNspawn,
    Lxc,
}

impl Runtime {
    /// The runtime's name, as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Podman => "podman",
            Runtime::SystemdNspawn => "systemd-nspawn",
            Runtime::Lxc => "lxc",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A container, as its cgroup path names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Container {
    /// The full id as the runtime knows it: 64 hex digits, or the
    /// machine's or container's name for nspawn and LXC.
    pub id: String,
    pub runtime: Runtime,
    /// What to show: the 12-digit short id (as `docker ps`, `crictl ps`
    /// and `podman ps` show it) for hex ids, else the name.
    pub name: String,
}

/// Digits of the short id `docker ps` shows (moby `pkg/stringid`).
const SHORT_ID: usize = 12;

impl Container {
    fn hex(runtime: Runtime, id: &str) -> Container {
        Container {
            id: id.to_string(),
            runtime,
            name: id[..SHORT_ID].to_string(),
        }
    }

    fn named(runtime: Runtime, name: String) -> Container {
        Container {
            id: name.clone(),
            runtime,
            name,
        }
    }

    /// True when `filter` (a `--container` value) names this container:
    /// its name, or a prefix of its hex id, as `docker`, `crictl` and
    /// `podman` accept one. An empty filter names nothing.
    pub fn matches(&self, filter: &str) -> bool {
        if filter.is_empty() {
            return false;
        }
        filter == self.name
            || filter == self.id
            || (is_hex_id(&self.id) && self.id.starts_with(&filter.to_ascii_lowercase()))
    }
}

/// The container of a process from its cgroup paths, the cgroup v2
/// (unified) path first, then v1 paths (e.g. of the `pids` hierarchy): on
/// a hybrid host a runtime may put a container in v1 hierarchies only,
/// leaving its v2 path the runtime's own. The first path that names a
/// container gives the answer.
pub fn identify<'a>(paths: impl IntoIterator<Item = &'a str>) -> Option<Container> {
    paths.into_iter().find_map(identify_path)
}

/// The container one cgroup path names (its outermost, where they nest).
pub fn identify_path(path: &str) -> Option<Container> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    parts.iter().enumerate().find_map(|(i, part)| {
        let parent = if i > 0 { Some(parts[i - 1]) } else { None };
        let child = parts.get(i + 1).copied();
        component(parent, part, child)
    })
}

/// The cgroup paths of `/proc/PID/cgroup`'s text, in the order
/// `identify` takes them: the v2 path (`0::PATH`), then the v1 `pids`
/// hierarchy's, then the other v1 hierarchies' in the file's order.
// The tracer has the kernel's paths; the tests read /proc/PID/cgroup.
#[allow(dead_code)]
pub fn proc_cgroup_paths(text: &str) -> Vec<&str> {
    let mut v2 = Vec::new();
    let mut pids = Vec::new();
    let mut rest = Vec::new();
    for line in text.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if controllers.is_empty() {
            v2.push(path);
        } else if controllers.split(',').any(|c| c == "pids") {
            pids.push(path);
        } else {
            rest.push(path);
        }
    }
    v2.into_iter().chain(pids).chain(rest).collect()
}

/// 64 hex digits: a docker, containerd, CRI-O or podman id.
fn is_hex_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex_after(part: &str, prefix: &str, suffix: &str) -> Option<String> {
    let id = part.strip_prefix(prefix)?.strip_suffix(suffix)?;
    is_hex_id(id).then(|| id.to_ascii_lowercase())
}

/// The container a path component names, given its neighbours.
fn component(parent: Option<&str>, part: &str, child: Option<&str>) -> Option<Container> {
    use Runtime::*;
    // systemd driver: <prefix>-<id>.scope; cgroupfs driver: <prefix>-<id>.
    const SCOPES: &[(&str, Runtime)] = &[
        ("docker-", Docker),
        ("cri-containerd-", Containerd),
        ("nerdctl-", Containerd),
        ("crio-", CriO),
        ("libpod-payload-", Podman),
        ("libpod-", Podman),
    ];
    for &(prefix, runtime) in SCOPES {
        for suffix in [".scope", ""] {
            if let Some(id) = hex_after(part, prefix, suffix) {
                return Some(Container::hex(runtime, &id));
            }
        }
    }
    // A systemd-form parent handed to a cgroupfs driver, kept literally.
    if let Some((_, id)) = part.rsplit_once(":cri-containerd:") {
        if is_hex_id(id) {
            return Some(Container::hex(Containerd, &id.to_ascii_lowercase()));
        }
    }
    if is_hex_id(part) {
        // Else kubelet's pod<uid> (containerd's CRI plugin: CRI-O says
        // crio-) or containerd's /<namespace>.
        let runtime = if parent == Some("docker") {
            Docker
        } else {
            Containerd
        };
        return Some(Container::hex(runtime, &part.to_ascii_lowercase()));
    }
    if let Some(name) = part
        .strip_prefix("systemd-nspawn@")
        .and_then(|n| n.strip_suffix(".service"))
    {
        return nonempty(unit_unescape(name)).map(|n| Container::named(SystemdNspawn, n));
    }
    if let Some(name) = part
        .strip_prefix("machine-")
        .and_then(|n| n.strip_suffix(".scope"))
    {
        let name = unit_unescape(name);
        // libvirt's machines: qemu-<n>-<name>, lxc-<pid>-<name>.
        if name.starts_with("qemu-") || name.starts_with("lxc-") {
            return None;
        }
        return nonempty(name).map(|n| Container::named(SystemdNspawn, n));
    }
    if let Some(name) = part.strip_prefix("lxc.payload.") {
        return nonempty(name.to_string()).map(|n| Container::named(Lxc, n));
    }
    // LXC 3.1 and 3.2: lxc.payload/<name>; LXC <= 3.0: lxc/<name>.
    if part == "lxc.payload" || part == "lxc" {
        return child.map(|n| Container::named(Lxc, n.to_string()));
    }
    None
}

fn nonempty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A unit name's `\xNN` escapes undone (systemd's `unit_name_escape`
/// writes `-` as `\x2d`, and every byte outside `[A-Za-z0-9:_.]` as
/// `\xNN`).
fn unit_unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x') {
            if let Some(b) = s
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4bc2b2a8ba2b0d7a1e8d9f5e0c6b4a2f1d3c5b7a9e0f2d4c6b8a0e1f3d5c7b";
    const POD: &str = "pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

    fn id(path: &str) -> Option<(Runtime, String, String)> {
        identify_path(path).map(|c| (c.runtime, c.id, c.name))
    }

    fn hex(runtime: Runtime) -> Option<(Runtime, String, String)> {
        Some((runtime, ID.to_string(), ID[..12].to_string()))
    }

    fn named(runtime: Runtime, name: &str) -> Option<(Runtime, String, String)> {
        Some((runtime, name.to_string(), name.to_string()))
    }

    #[test]
    fn docker() {
        // cgroupfs driver (v1, and v2 without systemd).
        assert_eq!(id(&format!("/docker/{ID}")), hex(Runtime::Docker));
        // systemd driver.
        assert_eq!(
            id(&format!("/system.slice/docker-{ID}.scope")),
            hex(Runtime::Docker)
        );
        // Rootless docker: under the user's manager.
        assert_eq!(
            id(&format!(
                "/user.slice/user-1000.slice/user@1000.service/docker-{ID}.scope"
            )),
            hex(Runtime::Docker)
        );
        // Kubernetes' dockershim with the systemd driver.
        assert_eq!(
            id(&format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/docker-{ID}.scope"
            )),
            hex(Runtime::Docker)
        );
        // Upper-case digits are read, the id is given in docker's case.
        assert_eq!(
            id(&format!("/docker/{}", ID.to_uppercase())),
            hex(Runtime::Docker)
        );
    }

    #[test]
    fn containerd_cri() {
        for qos in ["besteffort/", "burstable/", ""] {
            assert_eq!(
                id(&format!("/kubepods/{qos}{POD}/{ID}")),
                hex(Runtime::Containerd),
                "{qos}"
            );
        }
        assert_eq!(
            id(&format!(
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/cri-containerd-{ID}.scope"
            )),
            hex(Runtime::Containerd)
        );
        // The systemd form of the parent under the cgroupfs driver.
        assert_eq!(
            id(&format!(
                "/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice:cri-containerd:{ID}"
            )),
            hex(Runtime::Containerd)
        );
    }

    #[test]
    fn containerd_plain() {
        for ns in ["default", "k8s.io", "buildkit"] {
            assert_eq!(id(&format!("/{ns}/{ID}")), hex(Runtime::Containerd));
        }
        assert_eq!(
            id(&format!("/system.slice/nerdctl-{ID}.scope")),
            hex(Runtime::Containerd)
        );
    }

    #[test]
    fn cri_o() {
        assert_eq!(
            id(&format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/crio-{ID}.scope"
            )),
            hex(Runtime::CriO)
        );
        assert_eq!(
            id(&format!("/kubepods/besteffort/{POD}/crio-{ID}")),
            hex(Runtime::CriO)
        );
        // Its monitor is not the container.
        assert_eq!(id(&format!("/kubepods.slice/crio-conmon-{ID}.scope")), None);
    }

    #[test]
    fn podman() {
        assert_eq!(
            id(&format!("/machine.slice/libpod-{ID}.scope")),
            hex(Runtime::Podman)
        );
        // In a pod, and with systemd in the container (its own subtree).
        assert_eq!(
            id(&format!(
                "/machine.slice/machine-libpod_pod_0123456789abcdef.slice/libpod-{ID}.scope/container"
            )),
            hex(Runtime::Podman)
        );
        assert_eq!(
            id(&format!(
                "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"
            )),
            hex(Runtime::Podman)
        );
        assert_eq!(
            id(&format!("/libpod_parent/libpod-{ID}")),
            hex(Runtime::Podman)
        );
        assert_eq!(
            id(&format!("/machine.slice/libpod-payload-{ID}")),
            hex(Runtime::Podman)
        );
        // conmon, the monitor, is not in the container.
        assert_eq!(
            id(&format!("/machine.slice/libpod-conmon-{ID}.scope")),
            None
        );
        assert_eq!(id("/libpod_parent/conmon"), None);
    }

    #[test]
    fn systemd_nspawn() {
        assert_eq!(
            id("/machine.slice/systemd-nspawn@debian.service"),
            named(Runtime::SystemdNspawn, "debian")
        );
        // nspawn's own sub-cgroups, escaped names.
        assert_eq!(
            id(r"/machine.slice/systemd-nspawn@my\x2dbox.service/payload"),
            named(Runtime::SystemdNspawn, "my-box")
        );
        assert_eq!(
            id(r"/machine.slice/machine-my\x2dbox.scope/payload/init.scope"),
            named(Runtime::SystemdNspawn, "my-box")
        );
        assert_eq!(
            id("/machine.slice/machine-fedora.scope"),
            named(Runtime::SystemdNspawn, "fedora")
        );
        // libvirt's machines, and podman's pod slices, are not nspawn's.
        assert_eq!(id(r"/machine.slice/machine-qemu\x2d1\x2dvm.scope"), None);
        assert_eq!(id(r"/machine.slice/machine-lxc\x2d4242\x2dweb.scope"), None);
        assert_eq!(
            id("/machine.slice/machine-libpod_pod_0123456789abcdef.slice"),
            None
        );
        assert_eq!(id("/machine.slice"), None);
    }

    #[test]
    fn lxc() {
        assert_eq!(id("/lxc.payload.web"), named(Runtime::Lxc, "web"));
        assert_eq!(
            id("/lxc.payload.web/init.scope"),
            named(Runtime::Lxc, "web")
        );
        assert_eq!(id("/lxc.payload/web"), named(Runtime::Lxc, "web"));
        assert_eq!(id("/lxc/web"), named(Runtime::Lxc, "web"));
        // The monitor process is outside the container.
        assert_eq!(id("/lxc.monitor.web"), None);
        assert_eq!(id("/lxc.monitor/web"), None);
        assert_eq!(id("/lxc.payload"), None);
        assert_eq!(id("/lxc"), None);
    }

    #[test]
    fn nested_gives_the_outermost() {
        assert_eq!(
            id(&format!("/lxc.payload.host1/docker/{ID}")),
            named(Runtime::Lxc, "host1")
        );
        let inner = ID.replace('3', "4");
        assert_eq!(
            id(&format!("/docker/{ID}/kubepods/besteffort/{POD}/{inner}")),
            hex(Runtime::Docker)
        );
    }

    #[test]
    fn not_containers() {
        for path in [
            "/",
            "",
            "/init.scope",
            "/system.slice/docker.service",
            "/system.slice/containerd.service",
            "/system.slice/docker-compose@app.service",
            "/user.slice/user-1000.slice/session-2.scope",
            "/process_api/6f90a0564605264c839d7281316e514b",
            &format!("/docker/{}", &ID[..63]),
            &format!("/system.slice/docker-{}x.scope", &ID[..63]),
            &format!("/system.slice/docker-{ID}.service"),
            "/systemd-nspawn@.service",
        ] {
            assert_eq!(id(path), None, "{path}");
        }
    }

    #[test]
    fn v2_first_then_v1() {
        // crun on a hybrid host: in v1 only, v2 left where it was.
        let text = format!(
            "9:name=systemd:/docker/{ID}\n8:pids:/docker/{ID}\n1:cpu:/docker/{ID}\n0::/system.slice/containerd.service\n"
        );
        let paths = proc_cgroup_paths(&text);
        assert_eq!(paths[0], "/system.slice/containerd.service");
        assert_eq!(paths[1], format!("/docker/{ID}"));
        assert_eq!(paths.len(), 4);
        assert_eq!(
            identify(paths).map(|c| (c.runtime, c.id)),
            Some((Runtime::Docker, ID.to_string()))
        );
        // v2 wins where both name one.
        let both = [
            "/machine.slice/systemd-nspawn@a.service/payload",
            "/lxc.payload.b",
        ];
        assert_eq!(identify(both).unwrap().name, "a");
        assert_eq!(identify(["/", "/"]), None);
        // A cgroup v1 line of several controllers, a pids one among them.
        assert_eq!(
            proc_cgroup_paths("3:cpu,cpuacct:/a\n2:blkio,pids:/b\n0::/c\n"),
            ["/c", "/b", "/a"]
        );
    }

    #[test]
    fn filter_by_prefix_or_name() {
        let docker = identify_path(&format!("/docker/{ID}")).unwrap();
        assert!(docker.matches(&ID[..3]));
        assert!(docker.matches(&ID[..12]));
        assert!(docker.matches(ID));
        assert!(docker.matches(&ID[..12].to_uppercase()));
        assert!(!docker.matches(""));
        assert!(!docker.matches("4f4b"));
        assert!(!docker.matches(&format!("{ID}0")));
        let lxc = identify_path("/lxc.payload.web-1").unwrap();
        assert!(lxc.matches("web-1"));
        // A name is matched whole, not by prefix.
        assert!(!lxc.matches("web"));
        let nspawn = identify_path(r"/machine.slice/machine-my\x2dbox.scope").unwrap();
        assert!(nspawn.matches("my-box"));
        assert!(!nspawn.matches(r"my\x2dbox"));
    }

    #[test]
    fn runtime_names() {
        let all = [
            Runtime::Docker,
            Runtime::Containerd,
            Runtime::CriO,
            Runtime::Podman,
            Runtime::SystemdNspawn,
            Runtime::Lxc,
        ];
        let names: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "docker",
                "containerd",
                "cri-o",
                "podman",
                "systemd-nspawn",
                "lxc"
            ]
        );
    }
}
