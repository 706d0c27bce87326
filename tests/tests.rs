//! The integration tests, one binary: the real mountsnoop, the real BPF
//! program, real mount calls made by the test workload (tests/workload)
//! in private mount namespaces. One module per feature under suite/;
//! the helpers they share are in common/, written once.
//!
//! `cargo test --test tests` runs them all but the two long storms, the
//! soak and a million calls in order, which are ignored; .ci/test runs
//! them with `cargo test --test tests -- --ignored suite::soak::
//! suite::order::a_million_calls_print_in_order`. One module alone:
//! `cargo test --test tests suite::core::`.

#[macro_use]
mod common;

mod suite {
    mod bcc_maps;
    mod bwrap;
    mod containers;
    mod core;
    mod entry_reads;
    mod environments;
    mod hostile;
    mod inflight;
    mod losses;
    mod mount_api;
    mod mounts;
    mod order;
    mod packaging;
    mod refused;
    mod scripting;
    mod signals;
    mod soak;
    mod tables;
    mod thirty_two_bit;
    mod r#where;
}
