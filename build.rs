//! Compiles the BPF program and generates its Rust skeleton into OUT_DIR.

use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

const SRC: &str = "src/bpf/mountsnoop.bpf.c";

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("mountsnoop.skel.rs");
    SkeletonBuilder::new()
        .source(SRC)
        .clang_args(["-Isrc/bpf", "-Wall", "-Wno-unused-function"])
        .build_and_generate(&out)
        .unwrap_or_else(|err| panic!("building {SRC}: {err:#}"));
    for file in [SRC, "src/bpf/mountsnoop.h", "src/bpf/vmlinux.h"] {
        println!("cargo:rerun-if-changed={file}");
    }
}
