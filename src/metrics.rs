//! `--metrics ADDR`: counters for Prometheus, served over plain HTTP at
//! `/metrics` by one thread. The exposition is prometheus-client's; the
//! server is the least HTTP/1.1 a scraper needs (one request per
//! connection, then close).

use std::borrow::Cow;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::decode::errno::{errno_name, error_code};
use crate::mounts::Drops;
use crate::syscalls::Syscall;
use crate::tracer::KernelLosses;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    syscall: &'static str,
    /// "ok", or the error's name ("ENOENT").
    result: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LostLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChainLabels {
    reason: &'static str,
}

/// The counters the tracer updates; cheap to clone (shared inside).
#[derive(Clone, Default)]
pub struct Metrics {
    calls: Family<CallLabels, Counter>,
    lost: Family<LostLabels, Counter>,
    in_flight: Gauge,
    chains_dropped: Family<ChainLabels, Counter>,
    chains: Gauge,
    namespaces_not_watched: Gauge,
}

impl Metrics {
    /// Listens on `addr` now (so that a port in use is reported before
    /// anything is loaded), and serves the metrics from a thread.
    pub fn serve(addr: SocketAddr) -> Result<Metrics> {
        let listener = TcpListener::bind(addr)
            .with_context(|| format!("--metrics: cannot listen on {addr}"))?;
        let metrics = Metrics::default();
        let registry = metrics.registry();
        std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    // A scraper that stalls delays the next one only.
                    let _ = respond(stream, &registry);
                }
            })
            .context("--metrics: cannot start the server thread")?;
        Ok(metrics)
    }

    fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("mountsnoop");
        r.register(
            "calls",
            "Calls traced (and printed or counted), by syscall and result (ok or the errno name)",
            self.calls.clone(),
        );
        r.register(
            "events_lost",
            "Calls that were traced but never printed, by reason",
            self.lost.clone(),
        );
        r.register(
            "calls_in_flight",
            "Calls entered and not yet returned (entries of the in-flight map), read every second",
            self.in_flight.clone(),
        );
        r.register(
            "mount_chains_dropped",
            "New mount API chains (fsopen, open_tree, fspick, ...) dropped unfinished, with no mount record, by how that was noticed (--json and --mounts)",
            self.chains_dropped.clone(),
        );
        r.register(
            "mount_chains",
            "New mount API chains held for mount records (--json and --mounts), read every second",
            self.chains.clone(),
        );
        r.register(
            "mount_namespaces_not_watched",
            "With --mounts: mount namespaces whose tables could not be watched (--max-namespaces reached, or marking failed)",
            self.namespaces_not_watched.clone(),
        );
        r.register_collector(Box::new(CpuTime));
        r.register(
            "build",
            "Version of mountsnoop",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        // Zeros from the start: a reason that never occurs is still a
        // series, so that rate() and alerts work before the first loss.
        for reason in ["buffer_full", "output_failed", "exit_only", "malformed"] {
            let _ = self.lost.get_or_create(&LostLabels { reason });
        }
        for reason in ["closed", "exited", "evicted"] {
            let _ = self.chains_dropped.get_or_create(&ChainLabels { reason });
        }
        r
    }

    /// One call rendered.
    pub fn call(&self, call: Syscall, ret: i64) {
        let result = match error_code(ret) {
            None => Cow::Borrowed("ok"),
            Some(code) => match errno_name(code) {
                Some(name) => Cow::Borrowed(name),
                None => Cow::Owned(format!("E{code}")),
            },
        };
        self.calls
            .get_or_create(&CallLabels {
                syscall: call.name(),
                result,
            })
            .inc();
    }

    /// With --mounts: the namespaces not watched so far.
    pub fn namespaces_not_watched(&self, n: u64) {
        self.namespaces_not_watched.set(n as i64);
    }

    /// An event that could not be parsed, so was not rendered.
    pub fn malformed(&self) {
        self.lost
            .get_or_create(&LostLabels {
                reason: "malformed",
            })
            .inc();
    }

    /// The kernel-side losses that grew from `before` to `now`.
    pub fn kernel_losses(&self, before: KernelLosses, now: KernelLosses) {
        for (reason, was, is) in [
            ("exit_only", before.exit_only_lost, now.exit_only_lost),
            ("buffer_full", before.buffer_full, now.buffer_full),
            ("output_failed", before.output_failed, now.output_failed),
        ] {
            self.lost
                .get_or_create(&LostLabels { reason })
                .inc_by(is.saturating_sub(was));
        }
    }

    /// The mount records' chains: dropped so far (totals), held now.
    pub fn mount_chains(&self, drops: Drops, held: usize) {
        for (reason, total) in [
            ("closed", drops.closed),
            ("exited", drops.exited),
            ("evicted", drops.evicted),
        ] {
            let counter = self.chains_dropped.get_or_create(&ChainLabels { reason });
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        self.chains.set(held as i64);
    }

    pub fn in_flight(&self, calls: usize) {
        self.in_flight.set(calls as i64);
    }
}

/// The process's own CPU time (user + system), read at each scrape.
#[derive(Debug)]
struct CpuTime;

impl Collector for CpuTime {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        use nix::sys::resource::{getrusage, UsageWho};
        let Ok(usage) = getrusage(UsageWho::RUSAGE_SELF) else {
            return Ok(());
        };
        let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        let counter = ConstCounter::new(secs(usage.user_time()) + secs(usage.system_time()));
        let metric = encoder.encode_descriptor(
            "cpu",
            "CPU time mountsnoop has used, user and system.",
            Some(&Unit::Seconds),
            counter.metric_type(),
        )?;
        counter.encode(metric)
    }
}

/// Answers one request: the page at /metrics, 404 elsewhere.
fn respond(mut stream: TcpStream, registry: &Registry) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|&b| b == b'\r' || b == b'\n').next();
    let line = String::from_utf8_lossy(line.unwrap_or_default());
    let mut words = line.split(' ');
    let method = words.next().unwrap_or_default();
    let path = words.next().unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    let (status, content_type, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let mut page = String::with_capacity(4096);
            let _ = prometheus_client::encoding::prometheus_text::encode(&mut page, registry);
            (
                "200 OK",
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                page,
            )
        }
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain",
            "mountsnoop serves only /metrics\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics\n".into(),
        ),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        stream.write_all(body.as_bytes())?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_every_metric() {
        let m = Metrics::default();
        m.call(Syscall::Mount, 0);
        m.call(Syscall::Umount2, -2);
        m.call(Syscall::Umount2, -2);
        m.kernel_losses(
            KernelLosses::default(),
            KernelLosses {
                buffer_full: 3,
                ..Default::default()
            },
        );
        m.in_flight(5);
        m.mount_chains(
            Drops {
                evicted: 7,
                ..Default::default()
            },
            3,
        );
        m.mount_chains(
            Drops {
                evicted: 9,
                ..Default::default()
            },
            2,
        );
        let mut page = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut page, &m.registry()).unwrap();
        for line in [
            r#"mountsnoop_calls_total{syscall="mount",result="ok"} 1"#,
            r#"mountsnoop_calls_total{syscall="umount2",result="ENOENT"} 2"#,
            r#"mountsnoop_events_lost_total{reason="buffer_full"} 3"#,
            r#"mountsnoop_events_lost_total{reason="malformed"} 0"#,
            "mountsnoop_calls_in_flight 5",
            r#"mountsnoop_mount_chains_dropped_total{reason="evicted"} 9"#,
            r#"mountsnoop_mount_chains_dropped_total{reason="exited"} 0"#,
            "mountsnoop_mount_chains 2",
            r#"mountsnoop_build_info{version=""#,
            "mountsnoop_cpu_seconds_total ",
        ] {
            assert!(page.contains(line), "{line} in\n{page}");
        }
    }
}
