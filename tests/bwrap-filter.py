#!/usr/bin/python3
"""Writes a flatpak-shaped seccomp filter, built by libseccomp, to FILE
as classic BPF for `bwrap --seccomp FD`: the new mount API refused with
ENOSYS (so callers fall back) and mount, umount2 and pivot_root refused
with EPERM; everything else allowed.

Usage: /usr/bin/python3 tests/bwrap-filter.py FILE
Needs python3-seccomp (Debian's libseccomp binding).
"""
import errno
import sys

import seccomp

f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
for name in ["mount", "umount2", "pivot_root"]:
    f.add_rule(seccomp.ERRNO(errno.EPERM), name)
for name in ["fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
             "open_tree", "mount_setattr"]:
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), name)
with open(sys.argv[1], "wb") as out:
    f.export_bpf(out)
