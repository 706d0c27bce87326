//! One change to a mount table, as the builder found it: what JSON's
//! `mount` object and a `--mounts` line say. Names follow findmnt(8) and
//! mount(8): `ro`, `nosuid`, `shared`, ...

// libc's c_ulong and c_uint are u64 and u32 here but not on every target:
// the casts are needed in general.
#![allow(clippy::unnecessary_cast)]

use std::borrow::Cow;

/// What happened to the mount table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A new filesystem mounted (mount(2), or fsopen .. fsmount and
    /// move_mount).
    Attach,
    /// A copy of an existing tree mounted elsewhere (MS_BIND, or
    /// open_tree(OPEN_TREE_CLONE) and move_mount).
    Bind,
    /// A mount moved (MS_MOVE, or move_mount of an attached mount).
    Move,
    /// A filesystem's options or a mount's flags replaced (MS_REMOUNT,
    /// or fspick .. FSCONFIG_CMD_RECONFIGURE).
    Remount,
    /// Some of a mount's attributes or its propagation changed
    /// (mount_setattr, MS_SHARED and the other propagation flags).
    Change,
    /// A mount taken away (umount2).
    Detach,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Attach => "attach",
            Kind::Bind => "bind",
            Kind::Move => "move",
            Kind::Remount => "remount",
            Kind::Change => "change",
            Kind::Detach => "detach",
        }
    }

    /// The first field of a `--mounts` line.
    pub fn symbol(self) -> char {
        match self {
            Kind::Attach => '+',
            Kind::Bind => '=',
            Kind::Move => '>',
            Kind::Remount | Kind::Change => '~',
            Kind::Detach => '-',
        }
    }
}

/// A path as the record gives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    pub path: Vec<u8>,
    /// Not absolute: the path as the call was given it (relative to its
    /// cwd or a dirfd), which the resolver could not make absolute.
    pub relative: bool,
}

impl Place {
    /// A path kept as given: relative unless it starts with `/`.
    pub fn given(path: &[u8]) -> Place {
        Place {
            path: path.to_vec(),
            relative: path.first() != Some(&b'/'),
        }
    }

    /// A path made absolute by the resolver.
    pub fn absolute(path: Vec<u8>) -> Place {
        Place {
            path,
            relative: false,
        }
    }
}

/// One change to the mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub change: Kind,
    /// Where the change is seen: the mount point.
    pub target: Place,
    /// A move's old mount point.
    pub from: Option<Place>,
    /// An attach's filesystem type.
    pub fstype: Option<Vec<u8>>,
    /// An attach's source ("none" when none was given, as the kernel
    /// shows it); a bind's source directory.
    pub source: Option<Place>,
    /// Filesystem options, in the order given (mount(2)'s data split at
    /// commas; fsconfig's keys, `key=value`).
    pub options: Vec<Vec<u8>>,
    /// Options were left out past the builder's limit.
    pub options_cut: bool,
    /// Mount attributes set: for an attach and a mount(2) remount, the
    /// whole set, `rw` or `ro` first.
    pub attributes: Vec<Cow<'static, str>>,
    /// Mount attributes cleared (mount_setattr's attr_clr).
    pub cleared: Vec<Cow<'static, str>>,
    /// The propagation type set: `shared`, `private`, `slave`,
    /// `unbindable`.
    pub propagation: Option<&'static str>,
    /// The change applies to the whole tree below the target (MS_REC,
    /// AT_RECURSIVE).
    pub recursive: bool,
}

impl Record {
    pub fn new(change: Kind, target: Place) -> Record {
        Record {
            change,
            target,
            from: None,
            fstype: None,
            source: None,
            options: Vec::new(),
            options_cut: false,
            attributes: Vec::new(),
            cleared: Vec::new(),
            propagation: None,
            recursive: false,
        }
    }

    /// The names of the fields whose path is not absolute.
    pub fn relative(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.target.relative {
            out.push("target");
        }
        if self.from.as_ref().is_some_and(|p| p.relative) {
            out.push("from");
        }
        if self.source.as_ref().is_some_and(|p| p.relative) {
            out.push("source");
        }
        out
    }
}

/// mount(2) flags that are attributes of the mount or its filesystem,
/// with mount(8)'s names. The others say what to do (MS_BIND, MS_REC, ...)
/// or are the kernel's own.
const MS_ATTRIBUTES: &[(u64, &str)] = &[
    (libc::MS_NOSUID as u64, "nosuid"),
    (libc::MS_NODEV as u64, "nodev"),
    (libc::MS_NOEXEC as u64, "noexec"),
    (libc::MS_SYNCHRONOUS as u64, "sync"),
    (libc::MS_MANDLOCK as u64, "mand"),
    (libc::MS_DIRSYNC as u64, "dirsync"),
    (libc::MS_NOSYMFOLLOW as u64, "nosymfollow"),
    (libc::MS_NOATIME as u64, "noatime"),
    (libc::MS_NODIRATIME as u64, "nodiratime"),
    (libc::MS_SILENT as u64, "silent"),
    (libc::MS_POSIXACL as u64, "posixacl"),
    (libc::MS_RELATIME as u64, "relatime"),
    (libc::MS_I_VERSION as u64, "iversion"),
    (libc::MS_STRICTATIME as u64, "strictatime"),
    (libc::MS_LAZYTIME as u64, "lazytime"),
];

/// The attributes mount(2)'s flags set: the whole set, `rw` or `ro` first.
pub fn ms_attributes(flags: u64) -> Vec<Cow<'static, str>> {
    let mut out = vec![Cow::Borrowed(if flags & libc::MS_RDONLY as u64 != 0 {
        "ro"
    } else {
        "rw"
    })];
    out.extend(
        MS_ATTRIBUTES
            .iter()
            .filter(|(bit, _)| flags & bit != 0)
            .map(|(_, name)| Cow::Borrowed(*name)),
    );
    out
}

/// mount(2)'s propagation flags, mount(8)'s names.
pub fn ms_propagation(flags: u64) -> Option<&'static str> {
    [
        (libc::MS_SHARED as u64, "shared"),
        (libc::MS_PRIVATE as u64, "private"),
        (libc::MS_SLAVE as u64, "slave"),
        (libc::MS_UNBINDABLE as u64, "unbindable"),
    ]
    .into_iter()
    .find(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| name)
}

/// The atime bits of MOUNT_ATTR_*: one mode, not three flags.
const MOUNT_ATTR_ATIME: u64 = 0x70;

/// MOUNT_ATTR_* bits, findmnt's names (`idmapped` as findmnt shows an
/// idmapped mount).
const MOUNT_ATTRIBUTES: &[(u64, &str)] = &[
    (libc::MOUNT_ATTR_RDONLY as u64, "ro"),
    (libc::MOUNT_ATTR_NOSUID as u64, "nosuid"),
    (libc::MOUNT_ATTR_NODEV as u64, "nodev"),
    (libc::MOUNT_ATTR_NOEXEC as u64, "noexec"),
    (libc::MOUNT_ATTR_NOATIME as u64, "noatime"),
    (libc::MOUNT_ATTR_STRICTATIME as u64, "strictatime"),
    (libc::MOUNT_ATTR_NODIRATIME as u64, "nodiratime"),
    (libc::MOUNT_ATTR_IDMAP as u64, "idmapped"),
    (libc::MOUNT_ATTR_NOSYMFOLLOW as u64, "nosymfollow"),
];

/// The names of MOUNT_ATTR_* bits; bits without one in hex.
fn mount_attr_names(bits: u64) -> Vec<Cow<'static, str>> {
    let mut out: Vec<Cow<'static, str>> = MOUNT_ATTRIBUTES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| Cow::Borrowed(*name))
        .collect();
    let known = MOUNT_ATTRIBUTES.iter().fold(0, |acc, (bit, _)| acc | bit);
    if bits & !known != 0 {
        out.push(Cow::Owned(format!("{:#x}", bits & !known)));
    }
    out
}

/// fsmount's attr_flags: the whole set of the new mount, `rw` or `ro`
/// first.
pub fn fsmount_attributes(attr: u64) -> Vec<Cow<'static, str>> {
    let rdonly = libc::MOUNT_ATTR_RDONLY as u64;
    let mut out = vec![Cow::Borrowed(if attr & rdonly != 0 { "ro" } else { "rw" })];
    out.extend(mount_attr_names(attr & !rdonly));
    out
}

/// struct mount_attr's attr_set and attr_clr as (set, cleared). Clearing
/// the whole atime field chooses an atime mode: the one set, `relatime`
/// when none is.
pub fn mount_attr_change(set: u64, clr: u64) -> (Vec<Cow<'static, str>>, Vec<Cow<'static, str>>) {
    if clr & MOUNT_ATTR_ATIME == MOUNT_ATTR_ATIME {
        let mut set_names = mount_attr_names(set & !MOUNT_ATTR_ATIME);
        let mode = match set & MOUNT_ATTR_ATIME {
            0 => Cow::Borrowed("relatime"),
            m => mount_attr_names(m)
                .into_iter()
                .next()
                .unwrap_or(Cow::Borrowed("relatime")),
        };
        set_names.push(mode);
        return (set_names, mount_attr_names(clr & !MOUNT_ATTR_ATIME));
    }
    (mount_attr_names(set), mount_attr_names(clr))
}

/// mount_attr's propagation value (one of the MS_ flags).
pub fn attr_propagation(value: u64) -> Option<&'static str> {
    ms_propagation(value)
}

/// An attribute cleared, as mount(8) says it: `rw` for `ro`, `suid` for
/// `nosuid`, `nostrictatime` for `strictatime`.
pub fn opposite(name: &str) -> Cow<'static, str> {
    match name {
        "ro" => Cow::Borrowed("rw"),
        "strictatime" => Cow::Borrowed("nostrictatime"),
        "idmapped" => Cow::Borrowed("noidmapped"),
        _ => match name.strip_prefix("no") {
            Some(rest) => Cow::Owned(rest.to_string()),
            None => Cow::Owned(format!("no{name}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_flags_as_mount_names_them() {
        let flags = (libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_BIND | libc::MS_LAZYTIME) as u64;
        assert_eq!(ms_attributes(flags), ["ro", "nosuid", "lazytime"]);
        assert_eq!(ms_attributes(0), ["rw"]);
        assert_eq!(ms_propagation(libc::MS_SLAVE as u64), Some("slave"));
        assert_eq!(ms_propagation(libc::MS_REC as u64), None);
    }

    #[test]
    fn mount_attr_bits() {
        assert_eq!(fsmount_attributes(6), ["rw", "nosuid", "nodev"]);
        assert_eq!(fsmount_attributes(0x41), ["ro", "0x40"]);
        let (set, clr) = mount_attr_change(1 | 8, 2);
        assert_eq!(set, ["ro", "noexec"]);
        assert_eq!(clr, ["nosuid"]);
        // The atime field chosen whole.
        let (set, clr) = mount_attr_change(0, 0x70 | 1);
        assert_eq!(set, ["relatime"]);
        assert_eq!(clr, ["ro"]);
        let (set, _) = mount_attr_change(0x20, 0x70);
        assert_eq!(set, ["strictatime"]);
        assert_eq!(opposite("ro"), "rw");
        assert_eq!(opposite("nosuid"), "suid");
        assert_eq!(opposite("relatime"), "norelatime");
    }

    #[test]
    fn relative_fields_are_named() {
        let mut r = Record::new(Kind::Move, Place::given(b"a"));
        r.from = Some(Place::given(b"/b"));
        assert_eq!(r.relative(), ["target"]);
        r.target = Place::absolute(b"/x/a".to_vec());
        r.from = Some(Place::given(b"../b"));
        assert_eq!(r.relative(), ["from"]);
    }
}
