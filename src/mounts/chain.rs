//! What a process's file descriptor stands for in the new mount API: a
//! filesystem context being configured (fsopen, fspick), or a mount
//! (fsmount, open_tree) not yet attached, or attached somewhere.

use super::record::Place;

/// The most option bytes one chain keeps; past it options are left out
/// and the record says so (its options end with `...`).
pub const OPTION_BYTES_MAX: usize = 8192;

/// Options in the order given, bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub items: Vec<Vec<u8>>,
    bytes: usize,
    pub cut: bool,
}

impl Options {
    pub fn push(&mut self, option: Vec<u8>) {
        if self.bytes + option.len() > OPTION_BYTES_MAX {
            self.cut = true;
            return;
        }
        self.bytes += option.len();
        self.items.push(option);
    }

    /// `key`, or `key=value`.
    pub fn push_pair(&mut self, key: &[u8], value: Option<&[u8]>) {
        let mut option = key.to_vec();
        if let Some(value) = value {
            option.push(b'=');
            option.extend_from_slice(value);
        }
        self.push(option);
    }

    /// mount(2)'s data: comma-separated options.
    pub fn from_data(data: &[u8]) -> Options {
        let mut out = Options::default();
        for option in data.split(|&b| b == b',').filter(|o| !o.is_empty()) {
            out.push(option.to_vec());
        }
        out
    }
}

/// One chain of calls on one file descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chain {
    Context(Context),
    Mount(MountFd),
}

impl Chain {
    /// Its record was made, or it never was to make one: when it goes,
    /// nothing is lost.
    pub fn finished(&self) -> bool {
        match self {
            Chain::Context(c) => c.used,
            Chain::Mount(m) => m.attached.is_some(),
        }
    }
}

/// A filesystem context: what fsconfig sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub kind: ContextKind,
    /// The `source` key.
    pub source: Option<Vec<u8>>,
    pub options: Options,
    /// FSCONFIG_CMD_CREATE (or _EXCL) succeeded.
    pub created: bool,
    /// fsmount took it, or a reconfiguration was recorded.
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextKind {
    /// fsopen: a new filesystem of this type.
    New { fstype: Vec<u8> },
    /// fspick: the filesystem mounted here (None: an fd we know nothing of).
    Pick { target: Option<Place> },
}

impl Context {
    pub fn new(kind: ContextKind) -> Context {
        Context {
            kind,
            source: None,
            options: Options::default(),
            created: false,
            used: false,
        }
    }
}

/// A mount file descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountFd {
    pub origin: Origin,
    /// MOUNT_ATTR_* set and cleared (fsmount, open_tree_attr, and
    /// mount_setattr on the fd while it is detached).
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    /// Where it is attached: None while detached.
    pub attached: Option<Place>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// fsmount of a context: a new filesystem.
    New {
        fstype: Vec<u8>,
        source: Option<Vec<u8>>,
        options: Options,
    },
    /// open_tree(OPEN_TREE_CLONE): a copy of the tree at this path.
    Clone { source: Place, recursive: bool },
    /// A mount whose making we did not see (fsmount of a context made
    /// before tracing began, a clone of an fd we know nothing of).
    Unknown,
    /// open_tree without OPEN_TREE_CLONE: the mount already attached at
    /// `attached`.
    Existing,
}

impl MountFd {
    pub fn new(origin: Origin) -> MountFd {
        MountFd {
            origin,
            attr_set: 0,
            attr_clr: 0,
            propagation: 0,
            attached: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_bounded() {
        let mut o = Options::from_data(b"size=1m,,mode=0755");
        assert_eq!(o.items, [b"size=1m".to_vec(), b"mode=0755".to_vec()]);
        for _ in 0..100 {
            o.push_pair(b"k", Some(&[b'v'; 200]));
        }
        assert!(o.cut);
        assert!(o.items.iter().map(Vec::len).sum::<usize>() <= OPTION_BYTES_MAX);
    }
}
