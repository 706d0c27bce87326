//! The integration tests, one binary: the real mountsnoop, the real BPF
//! program, real mount calls made by the test workload (tests/workload)
//! in private mount namespaces. One module per feature under suite/;
//! the helpers they share are in common/, written once.
//!
//! `cargo test --test tests` runs them all but the soak, which storms
//! for 30 s and is ignored; .ci/test runs it on its own with
//! `cargo test --test tests -- --ignored suite::soak::`. One module
//! alone: `cargo test --test tests suite::core::`.

#[macro_use]
mod common;

mod suite {
    mod bwrap;
    mod core;
    mod environments;
    mod hostile;
    mod inflight;
    mod losses;
    mod mount_api;
    mod scripting;
    mod signals;
    mod soak;
}
