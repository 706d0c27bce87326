//! `steps`: calls made when the test says, so that it can change what is
//! traced between them. Prints `ready BASE` once in its namespace; then
//! for each line N on stdin mounts a tmpfs named `step-N` on BASE/step
//! and unmounts it, and prints `done N`. Ends at end of input.

use std::io::{BufRead, Write};
use std::path::Path;

use crate::core_calls::{mount, umount2};
use crate::shared::mkdir;

pub fn run(base: &Path) -> Result<(), String> {
    let dir = base.join("step");
    mkdir(&dir)?;
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| {
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("stdout: {e}"))
    };
    say(format!("ready {}", base.display()))?;
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("stdin: {e}"))?;
        let n = line.trim();
        let source = format!("step-{n}");
        mount(Some(source.as_bytes()), &dir, Some(b"tmpfs"), 0, None);
        umount2(&dir, 0);
        say(format!("done {n}"))?;
    }
    Ok(())
}
