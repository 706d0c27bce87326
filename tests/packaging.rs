//! What installs and runs the tool beyond a checkout: shell completions,
//! the metrics endpoint, the JSON schema. Self-contained (no shared
//! helpers) so that it moves easily.

use std::process::{Command, Output};

const MOUNTSNOOP: &str = env!("CARGO_BIN_EXE_mountsnoop");

fn mountsnoop(args: &[&str]) -> Output {
    Command::new(MOUNTSNOOP)
        .args(args)
        .output()
        .expect("run mountsnoop")
}

/// The long flags `--help` documents.
fn long_flags() -> Vec<String> {
    let help = mountsnoop(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    let mut flags: Vec<String> = text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| {
            let start = l.find("--")? + 2;
            let name: String = l[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            Some(name)
        })
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

#[test]
fn completions_know_every_long_flag() {
    let flags = long_flags();
    assert!(flags.len() > 20, "{flags:?}");
    assert!(flags.contains(&"completions".to_string()));
    for shell in ["bash", "zsh", "fish"] {
        // Needs no root and no BPF: run as whoever runs the tests.
        let out = mountsnoop(&["--completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        assert!(out.stderr.is_empty(), "{shell}: nothing on stderr");
        let script = String::from_utf8(out.stdout).unwrap();
        for flag in &flags {
            let form = match shell {
                "fish" => format!("-l {flag} "),
                _ => format!("--{flag}"),
            };
            assert!(script.contains(&form), "{shell} script lacks --{flag}");
        }
    }
    let bash = mountsnoop(&["--completions", "bash"]).stdout;
    let path = std::env::temp_dir().join(format!("mountsnoop-{}.bash", std::process::id()));
    std::fs::write(&path, bash).unwrap();
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(check.status.success(), "bash -n: {check:?}");
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = mountsnoop(&["--completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
