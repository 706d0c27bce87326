//! Command-line flags: what each means, and how it is checked.

use std::path::PathBuf;

use clap::Parser;

use crate::syscalls::Syscall;

/// Trace mount-table changes system-wide: mount(2), umount2(2) and the
/// new mount API, each call printed as strace prints it.
#[derive(Parser, Debug, Clone)]
#[command(name = "mountsnoop", version, about, long_about = None)]
#[command(after_help = "Examples:\n  \
    mountsnoop                      trace every mount-table change on the host\n  \
    mountsnoop -p 181               only calls made by process 181\n  \
    mountsnoop -P -t -U -T          add parent, time, uid and latency columns\n  \
    mountsnoop -x                   only calls that failed\n  \
    mountsnoop --syscall mount,umount2 --json | jq .call\n  \
    mountsnoop --mounts             one line per mount attached, moved, changed, detached\n  \
    mountsnoop --summary --duration 60")]
pub struct Cli {
    /// Trace only this process (its thread group id)
    #[arg(short = 'p', long = "pid", value_name = "PID", value_parser = clap::value_parser!(u32).range(1..))]
    pub pid: Option<u32>,

    /// Trace only this thread
    #[arg(long = "tid", value_name = "TID", value_parser = clap::value_parser!(u32).range(1..))]
    pub tid: Option<u32>,

    /// Trace only calls made by this user id
    #[arg(short = 'u', long = "uid", value_name = "UID")]
    pub uid: Option<u32>,

    /// Trace only processes whose command name is exactly COMM
    #[arg(short = 'n', long = "name", value_name = "COMM", value_parser = parse_comm)]
    pub name: Option<String>,

    /// Trace only calls made in this mount namespace (its inode number)
    #[arg(long = "mntns", value_name = "INUM", value_parser = clap::value_parser!(u64).range(1..))]
    pub mntns: Option<u64>,

    /// Trace only processes in this cgroup v2 directory or below it
    #[arg(long = "cgroup", value_name = "PATH")]
    pub cgroup: Option<PathBuf>,

    /// Trace only cgroups whose v2 id is a key of this pinned BPF hash map
    /// (bcc's cgroupset: key u64 cgroup id, value u64), kept by another
    /// program and read at every call
    #[arg(long = "cgroupmap", value_name = "PATH")]
    pub cgroupmap: Option<PathBuf>,

    /// Trace only mount namespaces whose inode number is a key of this
    /// pinned BPF hash map (bcc's mount_ns_set: key u64, value u32), kept
    /// by another program and read at every call
    #[arg(long = "mntnsmap", value_name = "PATH")]
    pub mntnsmap: Option<PathBuf>,

    /// Show only calls that returned an error
    #[arg(short = 'x', long = "failed")]
    pub failed: bool,

    /// Trace only these calls (comma-separated names)
    #[arg(long = "syscall", value_name = "LIST", value_delimiter = ',', value_parser = SyscallParser,
          hide_possible_values = true)]
    pub syscall: Vec<Syscall>,

    /// Show the parent process: PCOMM and PPID columns
    #[arg(short = 'P', long = "parent_process")]
    pub parent_process: bool,

    /// Start each line with a TIME column (HH:MM:SS, local time)
    #[arg(short = 't', long = "timestamp")]
    pub timestamp: bool,

    /// Add a UID column
    #[arg(short = 'U', long = "print-uid")]
    pub print_uid: bool,

    /// Add a LAT(us) column: how long each call took
    #[arg(short = 'T', long = "latency")]
    pub latency: bool,

    /// Show what each fd refers to, as strace -y does: 3</tmp>,
    /// AT_FDCWD</home>, = 4<anon_inode:[fscontext]> (resolved in the
    /// kernel at the time of the call)
    #[arg(short = 'y', long = "decode-fds")]
    pub decode_fds: bool,

    /// Add a CONTAINER column: the container's 12-digit id, as docker ps
    /// shows it, or its machine or container name, told from the caller's
    /// cgroup path. With ID: only calls made in the containers whose id
    /// starts with ID or whose name is ID
    #[arg(short = 'C', long = "container", value_name = "ID", num_args = 0..=1,
          default_missing_value = "")]
    pub container: Option<String>,

    /// Print one JSON object per event per line, no header
    #[arg(short = 'j', long = "json", conflicts_with = "detailed")]
    pub json: bool,

    /// Print each event as a block, one field per line
    #[arg(short = 'd', long = "detailed")]
    pub detailed: bool,

    /// Count calls, errors and latency per call, print a table at exit
    #[arg(long = "summary", conflicts_with = "detailed")]
    pub summary: bool,

    /// Print only the changes to mount tables, one findmnt-like line each:
    /// as the kernel reports them in every mount namespace (Linux 6.15),
    /// with why each happened (a call, propagation, an automount, the
    /// namespace's end); elsewhere built from the calls (attach, bind,
    /// move, remount, detach), new mount API chains included
    #[arg(long = "mounts", conflicts_with_all = ["json", "detailed", "summary"])]
    pub mounts: bool,

    /// Watch the tables of at most this many mount namespaces, for
    /// --mounts (those beyond are counted and reported)
    #[arg(long = "max-namespaces", value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_namespaces: u32,

    /// Trace for this many seconds, then exit as on Ctrl-C
    #[arg(long = "duration", value_name = "SECS", value_parser = parse_duration)]
    pub duration: Option<f64>,

    /// Exit after printing this many events
    #[arg(long = "max-events", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_events: Option<u64>,

    /// Size of the perf buffer per CPU, in pages (a power of two)
    #[arg(long = "perf-pages", value_name = "PAGES", default_value_t = 256, value_parser = parse_pages)]
    pub perf_pages: usize,

    /// Do not trace 32-bit calls (i386 on x86_64, 32-bit ARM on arm64):
    /// spares every system call on the host the check they cost
    #[arg(long = "no-32bit")]
    pub no_32bit: bool,

    /// Room for calls in flight (entered, not yet returned) at one time
    #[arg(long = "max-inflight", value_name = "N", default_value_t = 10240,
          value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub max_inflight: u32,

    /// Print libbpf's messages and what was left out, on stderr
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Serve Prometheus metrics at http://ADDR/metrics while tracing (ADDR is IP:PORT)
    #[arg(long = "metrics", value_name = "ADDR", value_parser = parse_addr)]
    pub metrics: Option<std::net::SocketAddr>,

    /// Print a completion script for SHELL to stdout and exit
    #[arg(long = "completions", value_name = "SHELL")]
    pub completions: Option<clap_complete::Shell>,
}

/// Writes the completion script for `shell`, generated from the flags
/// above, so it cannot drift from them.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    use clap::CommandFactory;
    clap_complete::generate(shell, &mut Cli::command(), "mountsnoop", out);
}

fn parse_pages(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if n == 0 || !n.is_power_of_two() {
        return Err(format!("{n} is not a power of two"));
    }
    Ok(n)
}

/// parse_syscall, and the names for shell completions.
#[derive(Clone)]
struct SyscallParser;

impl clap::builder::TypedValueParser for SyscallParser {
    type Value = Syscall;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Syscall, clap::Error> {
        let parse: fn(&str) -> Result<Syscall, String> = parse_syscall;
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            Syscall::ALL
                .iter()
                .map(|c| clap::builder::PossibleValue::new(c.name())),
        ))
    }
}

fn parse_syscall(s: &str) -> Result<Syscall, String> {
    Syscall::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Syscall::ALL.iter().map(|c| c.name()).collect();
        format!("unknown call '{s}'; valid calls: {}", names.join(","))
    })
}

/// The kernel keeps 15 bytes of a command name.
fn parse_comm(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 15 {
        return Err("a command name has 1 to 15 bytes (the kernel's TASK_COMM_LEN - 1)".into());
    }
    Ok(s.to_string())
}

fn parse_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("'{s}' is not IP:PORT, such as 127.0.0.1:9101 or [::]:9101"))
}

fn parse_duration(s: &str) -> Result<f64, String> {
    let secs: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("{s} is not a positive number of seconds"));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn flags_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn syscall_list() {
        let cli = Cli::try_parse_from(["mountsnoop", "--syscall", "mount,fsopen"]).unwrap();
        assert_eq!(cli.syscall, vec![Syscall::Mount, Syscall::Fsopen]);
        let err = Cli::try_parse_from(["mountsnoop", "--syscall", "mount,bogus"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("valid calls: mount,umount2,fsopen"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["mountsnoop", "-n", "a-name-longer-than-15"][..],
            &["mountsnoop", "--duration", "0"],
            &["mountsnoop", "--duration", "x"],
            &["mountsnoop", "--max-events", "0"],
            &["mountsnoop", "--json", "--detailed"],
            &["mountsnoop", "--mounts", "--json"],
            &["mountsnoop", "--mounts", "--detailed"],
            &["mountsnoop", "--mounts", "--summary"],
            &["mountsnoop", "--max-namespaces", "0"],
            &["mountsnoop", "--metrics", "localhost"],
            &["mountsnoop", "--metrics", "127.0.0.1:99999"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
