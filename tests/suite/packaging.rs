//! What installs and runs the tool beyond a checkout: shell completions,
//! the metrics endpoint, the JSON schema.

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};

use crate::common::*;

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
    // Each script is valid for its shell (zsh and fish: .ci/deps), and
    // completes a flag when sourced.
    let dir = std::env::temp_dir().join(format!("mountsnoop-completions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (shell, check, try_it) in [
        (
            "bash",
            &["-n"][..],
            r#"source "$0"; COMP_WORDS=(mountsnoop --met); COMP_CWORD=1; _mountsnoop mountsnoop --met mountsnoop; echo "${COMPREPLY[@]}""#,
        ),
        ("zsh", &["-n"], ""),
        (
            "fish",
            &["--no-execute"],
            r#"source $argv[1]; complete -C "mountsnoop --met""#,
        ),
    ] {
        let path = dir.join(shell);
        std::fs::write(&path, mountsnoop(&["--completions", shell]).stdout).unwrap();
        let out = Command::new(shell)
            .args(check)
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("{shell} (apt-get install {shell}): {e}"));
        assert!(out.status.success(), "{shell} {check:?}: {out:?}");
        if try_it.is_empty() {
            continue;
        }
        let mut cmd = Command::new(shell);
        match shell {
            "bash" => cmd.arg("-c").arg(try_it).arg(&path),
            _ => cmd.arg("-c").arg(try_it).arg("--").arg(&path),
        };
        let out = cmd.output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.starts_with("--metrics"),
            "{shell} completes --met as {said:?}: {out:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = mountsnoop(&["--completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// A port nobody listens on (now).
/// A port for --metrics that nobody else will take meanwhile: below the
/// ephemeral range (client sockets, this test's scrapes included, take
/// ports from 32768 up), one per call, and free when chosen.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20_000 + (std::process::id() % 1000) as u16 * 10,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The body of GET /metrics, checked to be a 200 in Prometheus text.
fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to --metrics");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    body.to_string()
}

/// `promtool check metrics` (Debian package prometheus) accepts the page.
fn promtool_accepts(page: &str) {
    use std::io::Write;
    // apt-get install prometheus
    let mut child = spawn_piped(Command::new("promtool").args(["check", "metrics"]));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n{page}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Spawns `cmd` with stdin, stdout and stderr piped.
fn spawn_piped(cmd: &mut Command) -> std::process::Child {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// The samples of metric `name`: labels text -> value.
fn samples(page: &str, name: &str) -> BTreeMap<String, f64> {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let labels = series.strip_prefix(name)?;
            (labels.is_empty() || labels.starts_with('{'))
                .then(|| (labels.to_string(), value.parse().unwrap()))
        })
        .collect()
}

fn sum(page: &str, name: &str) -> u64 {
    samples(page, name).values().sum::<f64>() as u64
}

/// A storm against a reader that stalls, then drains: what the metrics
/// count is what was printed, by call and result, plus what was
/// reported lost, and adds up to the calls made.
#[test]
fn metrics_count_printed_plus_lost() {
    require_bpf!(alone); // a storm of 40,003 calls
    use std::io::Read;
    let comm = "storm-metrics";
    let pairs = 20_000;
    let made = 2 * pairs + 3;
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let args = [
        "--json",
        "-n",
        comm,
        "--perf-pages",
        "16",
        "--metrics",
        &addr,
    ];
    let mut snoop = Snoop::start_to(&args, Stdio::piped());

    let mut storm = Command::new(workload())
        .args(["storm", &pairs.to_string()])
        .env(WORKLOAD_COMM, comm)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let during = scrape(port);
    promtool_accepts(&during);
    assert!(storm.wait().unwrap().success());

    // Now read stdout: the tracer catches up, and reads its loss
    // counters every second.
    let mut out = snoop.take_stdout();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let page = loop {
        let page = scrape(port);
        let counted =
            sum(&page, "mountsnoop_calls_total") + sum(&page, "mountsnoop_events_lost_total");
        if counted == made || std::time::Instant::now() > deadline {
            break page;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    promtool_accepts(&page);
    snoop.signal(nix::sys::signal::Signal::SIGINT);
    let stdout = out_reader.join().unwrap();
    let done = snoop.finish();
    let stderr = done.stderr;
    assert!(done.status.success(), "{stderr}");

    // What was printed, by call and result, as the metric labels it.
    let mut printed: BTreeMap<String, f64> = BTreeMap::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let result = v["error"].as_str().unwrap_or("ok");
        let labels = format!(
            r#"{{syscall="{}",result="{result}"}}"#,
            v["syscall"].as_str().unwrap()
        );
        *printed.entry(labels).or_default() += 1.0;
    }
    assert_eq!(samples(&page, "mountsnoop_calls_total"), printed, "{page}");
    let lost = sum(&page, "mountsnoop_events_lost_total");
    let reported: u64 = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("Lost ")?
                .strip_suffix(" events in total")?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    eprintln!(
        "made {made}, printed {}, lost {lost}",
        stdout.lines().count()
    );
    assert_eq!(lost, reported, "{stderr}\n{page}");
    assert!(
        lost > 0,
        "a stalled reader must make the kernel drop events"
    );
    assert_eq!(stdout.lines().count() as u64 + lost, made, "{page}");
    assert_eq!(
        samples(&page, "mountsnoop_events_lost_total")[r#"{reason="buffer_full"}"#] as u64,
        lost
    );
    for name in [
        "mountsnoop_calls_in_flight",
        "mountsnoop_cpu_seconds_total",
        "mountsnoop_build_info",
    ] {
        assert_eq!(samples(&page, name).len(), 1, "{name}: {page}");
    }
    assert!(samples(&page, "mountsnoop_cpu_seconds_total")[""] > 0.0);
    assert_eq!(samples(&page, "mountsnoop_calls_in_flight")[""], 0.0);
}

/// A port in use: one line, exit 1, before anything is loaded (also
/// without root, since nothing else is tried first).
#[test]
fn metrics_port_in_use_is_one_line_and_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = mountsnoop(&["--metrics", &addr]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn metrics_bad_addr_is_a_usage_error() {
    for bad in ["9101", "localhost:9101", "127.0.0.1:70000", "1.2.3:80"] {
        let out = mountsnoop(&["--metrics", bad]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("is not IP:PORT"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// A Python tool of the tests: from .ci/deps's venv, else from PATH.
fn python_tool(name: &str) -> String {
    let venv = format!("{}/.ci/venv/bin/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::path::Path::new(&venv).exists() {
        venv
    } else {
        name.to_string()
    }
}

/// Validates each line of `jsonl` against `schema` with check-jsonschema.
fn assert_valid(jsonl: &str, schema: &str, tag: &str) {
    let dir = std::env::temp_dir().join(format!("mountsnoop-schema-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<_> = jsonl
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let path = dir.join(format!("{i:06}.json"));
            std::fs::write(&path, line).unwrap();
            path
        })
        .collect();
    assert!(!files.is_empty());
    let schema = format!("{}/docs/{schema}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python_tool("check-jsonschema"))
        .arg("--schemafile")
        .arg(&schema)
        .args(&files)
        .output()
        .expect("check-jsonschema (.ci/deps installs it)");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{schema}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Stops mountsnoop, which must exit 0; returns what it printed.
fn stop(snoop: Snoop) -> String {
    let done = snoop.stop();
    assert!(done.status.success(), "{}", done.stderr);
    done.stdout
}

/// Real --json output of the core calls, the new mount API and hostile
/// strings (cut, unreadable, invalid UTF-8) is valid against the schema
/// shipped in docs/; so is --summary --json.
#[test]
fn json_output_matches_the_schema() {
    require_bpf!();
    let snoop = Snoop::start(&["--json"]);
    let mut pids = Vec::new();
    for scenario in ["core", "mount-api", "hostile"] {
        pids.push(u64::from(run_workload(scenario, &[])));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stdout = stop(snoop);
    // Only our processes' lines: the host may be busy with storms.
    let ours: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            pids.contains(&v["pid"].as_u64().unwrap())
        })
        .collect();
    let parsed: Vec<serde_json::Value> = ours
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let calls: std::collections::BTreeSet<&str> = parsed
        .iter()
        .map(|v| v["syscall"].as_str().unwrap())
        .collect();
    assert!(calls.len() >= 8, "{calls:?}");
    assert!(parsed.iter().any(|v| v["error"].is_string()));
    assert!(parsed.iter().any(|v| v["truncated"] == true));
    assert!(parsed.iter().any(|v| v["args"]
        .as_object()
        .unwrap()
        .values()
        .any(|a| a.is_object())));
    eprintln!("{} events of {} calls validated", ours.len(), calls.len());
    assert_valid(&ours.join("\n"), "json-schema.json", "events");

    let snoop = Snoop::start(&["--summary", "--json"]);
    for scenario in ["core", "mount-api"] {
        run_workload(scenario, &[]);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let summary = stop(snoop);
    assert_eq!(summary.lines().count(), 1, "{summary}");
    assert_valid(&summary, "summary-json-schema.json", "summary");
}

/// Calls hanging in mount(2) under a FUSE mount nobody serves show in
/// the in-flight gauge, and leave it when killed (counted as EINTR);
/// with --summary, where nothing is printed per event, the counts are
/// the summary's.
#[test]
fn metrics_show_calls_in_flight_in_summary_mode() {
    require_bpf!();
    use std::io::{BufRead, Write};
    let comm = "inflight-metric";
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let snoop = Snoop::start(&[
        "--summary",
        "--json",
        "-n",
        comm,
        "--syscall",
        "mount",
        "--metrics",
        &addr,
    ]);
    let mut workload = spawn_piped(
        Command::new(workload())
            .args(["fuse-block", "3"])
            .env(WORKLOAD_COMM, comm),
    );
    let mut line = String::new();
    std::io::BufReader::new(workload.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("blocked "), "{line:?}");
    let wait_for = |what: &dyn Fn(&str) -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let page = scrape(port);
            if what(&page) {
                return page;
            }
            assert!(std::time::Instant::now() < deadline, "{page}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    let gauge = |page: &str| samples(page, "mountsnoop_calls_in_flight")[""];
    wait_for(&|page| gauge(page) == 3.0);
    workload.stdin.take().unwrap().write_all(b"kill\n").unwrap();
    assert!(workload.wait().unwrap().success());
    let eintr = r#"{syscall="mount",result="EINTR"}"#;
    let page = wait_for(&|page| {
        gauge(page) == 0.0 && samples(page, "mountsnoop_calls_total").get(eintr) == Some(&3.0)
    });
    let summary: serde_json::Value = serde_json::from_str(&stop(snoop)).unwrap();
    assert_eq!(
        summary["calls"]["mount"]["calls"].as_u64().unwrap(),
        sum(&page, "mountsnoop_calls_total"),
        "{summary}\n{page}"
    );
    assert_eq!(summary["calls"]["mount"]["errors_by_name"]["EINTR"], 3);
}
