//! Command-line flags: what each means, and how it is checked.

use clap::Parser;

/// Trace mount-table changes system-wide: mount(2), umount2(2) and the
/// new mount API, each call printed as strace prints it.
#[derive(Parser, Debug, Clone)]
#[command(name = "mountsnoop", version, about, long_about = None)]
#[command(after_help = "Examples:\n  \
    mountsnoop                 trace every mount and umount on the host\n  \
    mountsnoop -p 181          only calls made by process 181\n  \
    mountsnoop -P -t           add the parent process and a time column")]
pub struct Cli {
    /// Trace only this process (its thread group id), filtered in the kernel
    #[arg(short = 'p', long = "pid", value_name = "PID", value_parser = clap::value_parser!(u32).range(1..))]
    pub pid: Option<u32>,

    /// Show the parent process: PCOMM and PPID columns
    #[arg(short = 'P', long = "parent_process")]
    pub parent_process: bool,

    /// Start each line with a TIME column (HH:MM:SS, local time)
    #[arg(short = 't', long = "timestamp")]
    pub timestamp: bool,

    /// Print libbpf's messages and what was left out, on stderr
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Size of the perf buffer per CPU, in pages (a power of two)
    #[arg(long = "perf-pages", value_name = "PAGES", default_value_t = 256, value_parser = parse_pages)]
    pub perf_pages: usize,
}

fn parse_pages(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if n == 0 || !n.is_power_of_two() {
        return Err(format!("{n} is not a power of two"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn flags_are_consistent() {
        Cli::command().debug_assert();
    }
}
