//! The perf buffer, read through libbpf's raw API so that it wakes us
//! when a chunk of data has piled up (a watermark), not for every event:
//! libbpf-rs's builder asks for a wakeup per event, and under a mount
//! storm the wakeups would cost more than the events. No event waits
//! longer than one poll interval: every poll also reads every CPU's
//! buffer, whether it woke us or not.

use std::ffi::c_void;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::time::Duration;

use anyhow::{bail, Result};
use libbpf_sys as sys;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// What the kernel put in a CPU's buffer.
pub enum Record<'a> {
    Sample { cpu: i32, data: &'a [u8] },
    Lost { cpu: i32, count: u64 },
}

type Handler<'h> = Box<dyn FnMut(Record) + 'h>;

pub struct PerfReader<'h> {
    pb: NonNull<sys::perf_buffer>,
    // Boxed twice so the pointer libbpf holds stays put.
    _handler: Box<Handler<'h>>,
}

unsafe extern "C" fn on_record(
    ctx: *mut c_void,
    cpu: i32,
    header: *mut sys::perf_event_header,
) -> sys::bpf_perf_event_ret {
    // SAFETY: ctx is the Handler we registered; header points at a whole
    // record (libbpf copies a record that wraps around the ring).
    unsafe {
        let handler = &mut *(ctx as *mut Handler);
        let body = header.add(1) as *const u8;
        match (*header).type_ {
            sys::PERF_RECORD_SAMPLE => {
                // struct { header; u32 size; u8 data[size]; }
                let size = (body as *const u32).read_unaligned() as usize;
                let data = std::slice::from_raw_parts(body.add(4), size);
                handler(Record::Sample { cpu, data });
            }
            sys::PERF_RECORD_LOST => {
                // struct { header; u64 id; u64 lost; }
                let count = (body.add(8) as *const u64).read_unaligned();
                handler(Record::Lost { cpu, count });
            }
            _ => {}
        }
    }
    sys::LIBBPF_PERF_EVENT_CONT
}

impl<'h> PerfReader<'h> {
    /// Opens a buffer of `pages` pages on every CPU for the
    /// PERF_EVENT_ARRAY `map`, waking us when `watermark` bytes are in it.
    pub fn new(
        map: &impl AsFd,
        pages: usize,
        watermark: u32,
        handler: impl FnMut(Record) + 'h,
    ) -> Result<PerfReader<'h>> {
        let mut attr = sys::perf_event_attr {
            type_: sys::PERF_TYPE_SOFTWARE,
            size: std::mem::size_of::<sys::perf_event_attr>() as u32,
            config: sys::PERF_COUNT_SW_BPF_OUTPUT as u64,
            sample_type: sys::PERF_SAMPLE_RAW as u64,
            ..Default::default()
        };
        attr.__bindgen_anon_1.sample_period = 1;
        attr.set_watermark(1);
        attr.__bindgen_anon_2.wakeup_watermark = watermark;
        let mut handler: Box<Handler<'h>> = Box::new(Box::new(handler));
        let ctx = &mut *handler as *mut Handler as *mut c_void;
        // SAFETY: attr and ctx are valid for the call; libbpf keeps ctx,
        // which lives as long as the PerfReader.
        let pb = unsafe {
            sys::perf_buffer__new_raw(
                map.as_fd().as_raw_fd(),
                pages as sys::size_t,
                &mut attr,
                Some(on_record),
                ctx,
                std::ptr::null(),
            )
        };
        // libbpf returns NULL and sets errno on failure.
        let Some(pb) = NonNull::new(pb) else {
            bail!(
                "opening the perf buffer failed: {}",
                std::io::Error::last_os_error()
            );
        };
        Ok(PerfReader {
            pb,
            _handler: handler,
        })
    }

    /// The epoll fd that is readable when a CPU's buffer passed its
    /// watermark.
    fn epoll_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: pb is valid until drop, and so is its epoll fd.
        unsafe { BorrowedFd::borrow_raw(sys::perf_buffer__epoll_fd(self.pb.as_ptr())) }
    }

    /// Reads every CPU's buffer.
    pub fn consume(&mut self) -> Result<()> {
        // SAFETY: pb is valid until drop.
        let rc = unsafe { sys::perf_buffer__consume(self.pb.as_ptr()) };
        if rc < 0 {
            bail!(
                "reading the perf buffer failed: {}",
                std::io::Error::from_raw_os_error(-rc)
            );
        }
        Ok(())
    }
}

/// Waits up to `timeout` for any buffer of `readers` to pass its
/// watermark, then reads every CPU's buffer of each. A signal ends the
/// wait early, quietly. Returns the kernel time (CLOCK_MONOTONIC, as
/// bpf_ktime_get_ns) taken just before the reading began: every event
/// written before then has been read.
pub fn poll_all(readers: &mut [&mut PerfReader], timeout: Duration) -> Result<u64> {
    let mut fds: Vec<PollFd> = readers
        .iter()
        .map(|r| PollFd::new(r.epoll_fd(), PollFlags::POLLIN))
        .collect();
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    match poll(&mut fds, PollTimeout::from(ms)) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(e) => bail!("waiting for the perf buffers failed: {e}"),
    }
    drop(fds);
    let horizon = crate::clock::Clock::ktime_now();
    for r in readers.iter_mut() {
        r.consume()?;
    }
    Ok(horizon)
}

impl Drop for PerfReader<'_> {
    fn drop(&mut self) {
        // SAFETY: pb came from perf_buffer__new_raw and is freed once.
        unsafe { sys::perf_buffer__free(self.pb.as_ptr()) }
    }
}
