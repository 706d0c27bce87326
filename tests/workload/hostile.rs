//! `hostile`: real mounts whose strings are built to break a line-based
//! reader or a terminal: newlines (one followed by a whole fake event
//! line), terminal escapes, quotes, backslashes, invalid UTF-8, a tab,
//! DEL, paths of 4095 bytes (the longest the kernel takes) and 4096 bytes
//! (ENAMETOOLONG), mount data and a source holding such bytes, a command
//! name holding them, and a thread whose command name is empty.
//!
//! tests/suite/hostile.rs holds the same names and the number of calls: keep
//! the three in step.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::core_calls::{long_path, mount, umount2};
use crate::shared::{mkdir, set_comm};

include!("hostile_strings.rs");

pub fn run(base: &Path) -> Result<(), String> {
    set_comm(COMM)?;
    let dirs: Vec<PathBuf> = NAMES
        .iter()
        .map(|n| base.join(OsStr::from_bytes(n)))
        .collect();
    for dir in &dirs {
        mkdir(dir)?;
        mount(Some(b"none"), dir, Some(b"tmpfs"), 0, None);
        umount2(dir, 0);
    }

    // 4095 bytes: the longest path the kernel takes (4096 with its NUL).
    let longest = long_path(base, 4095)?;
    mount(Some(b"none"), &longest, Some(b"tmpfs"), 0, None);
    umount2(&longest, 0);
    // One byte more: ENAMETOOLONG before anything is looked up.
    let mut too_long = longest.into_os_string();
    too_long.push("x");
    let too_long = PathBuf::from(too_long);
    if too_long.as_os_str().len() != 4096 {
        return Err(format!("{} bytes, not 4096", too_long.as_os_str().len()));
    }
    mount(Some(b"none"), &too_long, Some(b"tmpfs"), 0, None);
    umount2(&too_long, 0);

    // Mount data with such bytes: tmpfs refuses the option (EINVAL).
    let plain = &dirs[1];
    mount(
        Some(b"none"),
        plain,
        Some(b"tmpfs"),
        0,
        Some(b"size=1m,\x1b[2J"),
    );
    mount(
        Some(b"none"),
        plain,
        Some(b"tmpfs"),
        0,
        Some(b"size=1m,\n\"\\\xff\t\x7f"),
    );
    // A source with such bytes: tmpfs takes any source.
    mount(
        Some(b"src\n\x1b]0;title\x07\"\xff"),
        plain,
        Some(b"tmpfs"),
        0,
        Some(b"size=1m"),
    );
    umount2(plain, 0);

    // A thread with an empty command name.
    let dir = dirs[6].clone();
    std::thread::spawn(move || -> Result<(), String> {
        set_comm(b"")?;
        mount(Some(b"none"), &dir, Some(b"tmpfs"), 0, None);
        umount2(&dir, 0);
        Ok(())
    })
    .join()
    .map_err(|_| "thread panicked".to_string())??;
    Ok(())
}
