//! The BPF program's generated skeleton (built into OUT_DIR by build.rs),
//! with the types and enums of `bpf/mountsnoop.h` it carries to Rust.

#![allow(clippy::all, unused_imports, dead_code, non_camel_case_types)]

include!(concat!(env!("OUT_DIR"), "/mountsnoop.skel.rs"));

// SAFETY: plain old data generated from the C header: integers and
// arrays only, valid for any bit pattern.
unsafe impl plain::Plain for types::event_header {}
// SAFETY: as above.
unsafe impl plain::Plain for types::pending_call {}
