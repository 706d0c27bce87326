//! Compiles the BPF program and generates its Rust skeleton into OUT_DIR.
//! The program is built for the target's architecture: its kernel types
//! (`src/bpf/<arch>/vmlinux.h`) and libbpf's register macros
//! (`__TARGET_ARCH_*`) differ between them.

use std::env;
use std::path::PathBuf;

use libbpf_cargo::SkeletonBuilder;

const SRC: &str = "src/bpf/mountsnoop.bpf.c";

fn main() {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets CARGO_CFG_TARGET_ARCH");
    let bpf_arch = match arch.as_str() {
        "x86_64" => "x86",
        "aarch64" => "arm64",
        other => panic!("mountsnoop's BPF program supports x86_64 and aarch64, not {other}"),
    };
    let vmlinux_dir = format!("src/bpf/{arch}");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("mountsnoop.skel.rs");
    SkeletonBuilder::new()
        .source(SRC)
        .clang_args([
            "-Isrc/bpf".to_string(),
            format!("-I{vmlinux_dir}"),
            format!("-D__TARGET_ARCH_{bpf_arch}"),
            "-Wall".to_string(),
            "-Wno-unused-function".to_string(),
        ])
        .build_and_generate(&out)
        .unwrap_or_else(|err| panic!("building {SRC} for {arch}: {err:#}"));
    for file in [
        SRC.to_string(),
        "src/bpf/mountsnoop.h".to_string(),
        format!("{vmlinux_dir}/vmlinux.h"),
    ] {
        println!("cargo:rerun-if-changed={file}");
    }
}
