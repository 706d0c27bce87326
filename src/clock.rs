//! Event times: the kernel stamps events with CLOCK_MONOTONIC
//! (bpf_ktime_get_ns); this maps them to wall-clock time with one offset
//! taken at start, so no event needs a clock call of its own.

use chrono::{DateTime, FixedOffset, Local, Offset, Utc};
use nix::time::{clock_gettime, ClockId};

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns.
    offset_ns: i128,
    /// The local time zone's offset, taken once at start (a DST change
    /// during a run is not followed), so no event needs a zone lookup.
    zone: FixedOffset,
}

fn ns(clock: ClockId) -> i128 {
    clock_gettime(clock)
        .map(|t| i128::from(t.tv_sec()) * 1_000_000_000 + i128::from(t.tv_nsec()))
        .unwrap_or(0)
}

impl Clock {
    pub fn new() -> Clock {
        let mono = ns(ClockId::CLOCK_MONOTONIC);
        let real = ns(ClockId::CLOCK_REALTIME);
        Clock {
            offset_ns: real - mono,
            zone: Local::now().offset().fix(),
        }
    }

    /// Wall-clock time of a kernel timestamp.
    pub fn utc(&self, ktime_ns: u64) -> DateTime<Utc> {
        let t = i128::from(ktime_ns) + self.offset_ns;
        let secs = t.div_euclid(1_000_000_000) as i64;
        let nanos = t.rem_euclid(1_000_000_000) as u32;
        DateTime::from_timestamp(secs, nanos).unwrap_or_default()
    }

    pub fn local(&self, ktime_ns: u64) -> DateTime<FixedOffset> {
        self.utc(ktime_ns).with_timezone(&self.zone)
    }

    /// CLOCK_MONOTONIC now, the kernel's clock for event times.
    pub fn ktime_now() -> u64 {
        ns(ClockId::CLOCK_MONOTONIC) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_now_to_now() {
        let clock = Clock::new();
        let mono = ns(ClockId::CLOCK_MONOTONIC) as u64;
        let diff = (clock.utc(mono) - Utc::now()).num_milliseconds().abs();
        assert!(diff < 1000, "{diff} ms off");
    }
}
