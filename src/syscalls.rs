//! The traced calls: their names, tracepoints and argument names. The
//! numbering is `enum call_id` of `bpf/mountsnoop.h`.

/// One traced system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Syscall {
    Mount = 0,
    Umount2 = 1,
    Fsopen = 2,
    Fsconfig = 3,
    Fsmount = 4,
    MoveMount = 5,
    OpenTree = 6,
    MountSetattr = 7,
    Fspick = 8,
    PivotRoot = 9,
    OpenTreeAttr = 10,
}

impl Syscall {
    pub const ALL: [Syscall; 11] = [
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
    ];

    pub fn from_id(id: u32) -> Option<Syscall> {
        Self::ALL.get(id as usize).copied()
    }

    /// The `enum call_id` number (tests build samples with it).
    #[cfg(test)]
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
        }
    }

    pub fn from_name(name: &str) -> Option<Syscall> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The name in `syscalls/sys_enter_<name>`: the kernel's SYSCALL_DEFINE
    /// name, which for umount2 is `umount`.
    pub fn tracepoint(self) -> &'static str {
        match self {
            Syscall::Umount2 => "umount",
            other => other.name(),
        }
    }

    /// mount(2) and umount2(2) exist on every kernel we support; the rest
    /// are left out where the running kernel lacks them.
    pub fn required(self) -> bool {
        matches!(self, Syscall::Mount | Syscall::Umount2)
    }

    /// Argument names, as in the man pages.
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Syscall;

    #[test]
    fn ids_round_trip() {
        for s in Syscall::ALL {
            assert_eq!(Syscall::from_id(s.id()), Some(s));
            assert_eq!(Syscall::from_name(s.name()), Some(s));
        }
        assert_eq!(Syscall::from_id(11), None);
    }
}
