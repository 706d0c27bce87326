//! What changed in the mount tables, as the kernel reports it (fanotify
//! mount notifications), not only what was called: propagation from
//! other namespaces, kernel automounts, the end of a namespace.

pub mod session;
pub mod sys;
pub mod watch;
