// The hostile strings of the `hostile` scenario, shared word for word by
// the workload (tests/workload/hostile.rs) and its test
// (tests/suite/hostile.rs) through include!.

/// Directory names; each gets a tmpfs mounted and unmounted.
pub const NAMES: &[&[u8]] = &[
    b"nl\nmountsnoop-test 1       1       4026531840  umount2(\"x\", 0) = 0\n",
    b"csi\x1b[31mred\x1b[0m",
    b"osc\x1b]0;title\x07",
    b"quotes\"'\"",
    b"back\\slash\\n\\",
    b"bad\xff\xfeutf8\xc3",
    b"tab\there",
    b"del\x7f",
    b"ctl\x017\x1b1\r",
];

/// The command name the scenario runs under (15 bytes, the most a
/// command name holds).
pub const COMM: &[u8] = b"h\n\x1b[31m \"\\\xff\t\x7fxy";
