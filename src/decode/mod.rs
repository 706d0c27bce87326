//! Everything that turns raw values into text: flag tables, errno names,
//! string quoting, and each call's argument list. Pure and unit-tested.

pub mod args;
pub mod errno;
pub mod escape;
pub mod flags;
mod mount_api;
pub mod render;
mod uapi;
