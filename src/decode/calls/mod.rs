//! Each traced call's arguments, printed through the printer's
//! primitives: one file per family of calls.

pub mod mount;
pub mod mount_api;
