//! The traced calls: their names, tracepoints and argument names. The
//! numbering is `enum call_id` of `bpf/mountsnoop.h`, taken from the
//! skeleton so the two cannot drift.

use crate::skel::types::call_id;

/// One traced system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum Syscall {
    Mount = call_id::CALL_MOUNT.0,
    Umount2 = call_id::CALL_UMOUNT2.0,
    Fsopen = call_id::CALL_FSOPEN.0,
    Fsconfig = call_id::CALL_FSCONFIG.0,
    Fsmount = call_id::CALL_FSMOUNT.0,
    MoveMount = call_id::CALL_MOVE_MOUNT.0,
    OpenTree = call_id::CALL_OPEN_TREE.0,
    MountSetattr = call_id::CALL_MOUNT_SETATTR.0,
    Fspick = call_id::CALL_FSPICK.0,
    PivotRoot = call_id::CALL_PIVOT_ROOT.0,
    OpenTreeAttr = call_id::CALL_OPEN_TREE_ATTR.0,
    /// The old one-argument umount: 32-bit x86 (ia32 `oldumount`) only.
    Umount = call_id::CALL_UMOUNT.0,
}

impl Syscall {
    pub const ALL: [Syscall; call_id::CALL_COUNT.0 as usize] = [
        Syscall::Mount,
        Syscall::Umount2,
        Syscall::Fsopen,
        Syscall::Fsconfig,
        Syscall::Fsmount,
        Syscall::MoveMount,
        Syscall::OpenTree,
        Syscall::MountSetattr,
        Syscall::Fspick,
        Syscall::PivotRoot,
        Syscall::OpenTreeAttr,
        Syscall::Umount,
    ];

    pub fn from_id(id: u32) -> Option<Syscall> {
        Self::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The `enum call_id` number.
    pub fn id(self) -> u32 {
        self as u32
    }

    /// The name strace and the man pages use.
    pub fn name(self) -> &'static str {
        match self {
            Syscall::Mount => "mount",
            Syscall::Umount2 => "umount2",
            Syscall::Fsopen => "fsopen",
            Syscall::Fsconfig => "fsconfig",
            Syscall::Fsmount => "fsmount",
            Syscall::MoveMount => "move_mount",
            Syscall::OpenTree => "open_tree",
            Syscall::MountSetattr => "mount_setattr",
            Syscall::Fspick => "fspick",
            Syscall::PivotRoot => "pivot_root",
            Syscall::OpenTreeAttr => "open_tree_attr",
            Syscall::Umount => "umount",
        }
    }

    pub fn from_name(name: &str) -> Option<Syscall> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The name in `syscalls/sys_enter_<name>`: the kernel's SYSCALL_DEFINE
    /// name, which for umount2 is `umount`. None for the old umount, which
    /// no 64-bit table has (only 32-bit calls can make it).
    pub fn tracepoint(self) -> Option<&'static str> {
        match self {
            Syscall::Umount2 => Some("umount"),
            Syscall::Umount => None,
            other => Some(other.name()),
        }
    }

    /// The calls `--syscall NAME` selects: umount2 brings the old umount
    /// along (both unmount; the old one is umount2 with flags 0).
    pub fn selected_by(name: Syscall) -> &'static [Syscall] {
        match name {
            Syscall::Umount2 => &[Syscall::Umount2, Syscall::Umount],
            _ => std::slice::from_ref(Syscall::ALL.iter().find(|s| **s == name).expect("in ALL")),
        }
    }

    /// mount(2) and umount2(2) exist on every kernel we support; the rest
    /// are left out where the running kernel lacks them.
    pub fn required(self) -> bool {
        matches!(self, Syscall::Mount | Syscall::Umount2)
    }

    /// Argument names, as in the man pages.
    /// The call returns a new fd on success.
    pub fn returns_fd(self) -> bool {
        matches!(
            self,
            Syscall::Fsopen
                | Syscall::Fsmount
                | Syscall::OpenTree
                | Syscall::Fspick
                | Syscall::OpenTreeAttr
        )
    }

    pub fn arg_names(self) -> &'static [&'static str] {
        match self {
            Syscall::Mount => &["source", "target", "filesystemtype", "mountflags", "data"],
            Syscall::Umount2 => &["target", "flags"],
            Syscall::Fsopen => &["fsname", "flags"],
            Syscall::Fsconfig => &["fd", "cmd", "key", "value", "aux"],
            Syscall::Fsmount => &["fd", "flags", "attr_flags"],
            Syscall::MoveMount => &["from_dirfd", "from_path", "to_dirfd", "to_path", "flags"],
            Syscall::OpenTree => &["dirfd", "path", "flags"],
            Syscall::MountSetattr | Syscall::OpenTreeAttr => {
                &["dirfd", "path", "flags", "attr", "size"]
            }
            Syscall::Fspick => &["dirfd", "path", "flags"],
            Syscall::PivotRoot => &["new_root", "put_old"],
            Syscall::Umount => &["target"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for s in Syscall::ALL {
            assert_eq!(Syscall::from_id(s.id()), Some(s));
            assert_eq!(Syscall::from_name(s.name()), Some(s));
        }
        assert_eq!(Syscall::from_id(call_id::CALL_COUNT.0), None);
    }
}
