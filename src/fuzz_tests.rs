//! Fuzzing of everything between the perf buffer and stdout: raw sample
//! bytes -> `Event::parse` -> column line, JSON object, detailed block.
//!
//! Whatever the bytes (a kernel bug, a mismatched header, a hostile path),
//! nothing may panic, a column event is one line of printable ASCII whose
//! PID and TID fields are the event's own, a JSON event is one line of
//! valid JSON that gives back the raw strings (invalid UTF-8 as U+FFFD),
//! and a detailed event is one block of one line per field.
//!
//! 2,000 cases per property by default; PROPTEST_CASES=N asks for more
//! (README.md, "Fuzzing").

use proptest::prelude::*;
use serde_json::Value;

use crate::clock::Clock;
use crate::decode::xlat;
use crate::event::{Event, ARG_DATA, ARG_TRUNCATED, ARG_UNTERMINATED};
use crate::output::columns::{ColumnOptions, Columns};
use crate::output::detailed::Detailed;
use crate::output::json::Json;
use crate::output::Format;
use crate::skel::types::event_header;
use crate::syscalls::Syscall;

const DEFAULT_CASES: u32 = 2000;
const HEADER: usize = std::mem::size_of::<event_header>();

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig::with_cases(cases)
}

/// Pieces that have broken terminals, parsers and line-based tools.
const TOKENS: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\r",
    b"\x1b[31m",
    b"\x1b]0;title\x07",
    b"\x1b[2J",
    b"\x9b31m", // the 8-bit CSI
    b"\"",
    b"'",
    b"\\",
    b"\\n",
    b"\t",
    b"\x0b\x0c",
    b"\x7f",
    b"\xff",
    b"\xc3",
    b"\xc3\xa9",
    b"\xe2\x80\xa8", // U+2028 LINE SEPARATOR
    b"\xed\xa0\x80", // an encoded surrogate: invalid UTF-8
    b"\xf0\x9f\x98\x80",
    b"\0",
    b"\x01",
    b"7",
    b" ",
    b"  = 0",
    b"/",
    b"%s%n",
    b"{\"pid\":1}",
    b"mount            1       1       4026531840  mount(\"x\", \"/\", NULL, 0, NULL) = 0",
];

/// Bytes as user memory may hold them: random, built from hostile
/// pieces, or as long as a path can be (and one byte longer).
fn hostile() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..48),
        4 => prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|t| t.concat()),
        1 => (4090usize..4100, prop::collection::vec(prop::sample::select(TOKENS), 0..4))
            .prop_map(|(n, tail)| {
                let mut v = vec![b'a'; n];
                v.extend(tail.concat());
                v
            }),
    ]
}

fn arg_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..64,
        // Flag words: any mix of the low bits, with or without MS_MGC_VAL.
        any::<u32>().prop_map(u64::from),
        any::<u16>().prop_map(|f| 0xc0ed_0000 | u64::from(f)),
        Just((-100i64) as u64),
        Just(u64::MAX),
    ]
}

fn comm() -> impl Strategy<Value = [i8; 16]> {
    hostile().prop_map(|b| {
        let mut c = [0i8; 16];
        for (dst, src) in c.iter_mut().zip(&b) {
            *dst = *src as i8;
        }
        c
    })
}

/// A sample built as the kernel builds one, then perhaps damaged.
#[derive(Debug, Clone)]
struct Structured {
    header: event_header,
    blobs: [Vec<u8>; 6],
    /// arg_len values that need not match the data.
    lying_lens: Option<[u16; 6]>,
    /// Bytes after the data (the kernel never sends any).
    tail: Vec<u8>,
    /// Cut the sample to this fraction of its length (per mille).
    cut: Option<u16>,
}

impl Structured {
    /// The sample's bytes, and whether they are a well-formed event.
    fn bytes(&self) -> (Vec<u8>, bool) {
        let mut header = self.header;
        let mut data = Vec::new();
        for (i, blob) in self.blobs.iter().enumerate() {
            header.ad.len[i] = blob.len() as u16;
            header.ad.off[i] = data.len() as u16;
            if matches!(header.ad.state[i], ARG_DATA | ARG_TRUNCATED) {
                data.extend_from_slice(blob);
            }
        }
        header.data_len = data.len() as u16;
        if let Some(lens) = self.lying_lens {
            header.ad.len = lens;
        }
        // SAFETY: event_header is plain old data.
        let mut out = unsafe { plain::as_bytes(&header) }.to_vec();
        out.extend_from_slice(&data);
        out.extend_from_slice(&self.tail);
        if let Some(cut) = self.cut {
            out.truncate(out.len() * usize::from(cut) / 1000);
        }
        let well_formed = self.lying_lens.is_none()
            && self.cut.is_none()
            && Syscall::from_id(header.call).is_some()
            && header.ad.state.iter().all(|&s| s <= ARG_UNTERMINATED);
        (out, well_formed)
    }
}

fn structured() -> impl Strategy<Value = Structured> {
    let ids = (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>());
    let times = (any::<u64>(), any::<u64>(), any::<u64>());
    let call = prop_oneof![12 => 0u32..11, 1 => any::<u32>()];
    let states = prop::array::uniform6(prop_oneof![30 => 0u8..6, 1 => any::<u8>()]);
    let ret = prop_oneof![-4200i64..16, any::<i64>()];
    let head = (
        ids,
        times,
        (call, any::<u8>()),
        states,
        prop::array::uniform6(arg_value()),
        ret,
        comm(),
        comm(),
    )
        .prop_map(
            |(
                (pid, tid, ppid, uid),
                (start_ns, latency_ns, mnt_ns),
                (call, read_at_exit),
                state,
                args,
                ret,
                comm,
                pcomm,
            )| {
                let mut header = event_header {
                    start_ns,
                    latency_ns,
                    ret,
                    args,
                    mnt_ns,
                    pid,
                    tid,
                    ppid,
                    uid,
                    call,
                    read_at_exit,
                    comm,
                    pcomm,
                    ..Default::default()
                };
                header.ad.state = state;
                header
            },
        );
    let damage = (
        prop_oneof![12 => Just(None), 1 => prop::array::uniform6(any::<u16>()).prop_map(Some)],
        prop_oneof![12 => Just(Vec::new()), 1 => prop::collection::vec(any::<u8>(), 1..32)],
        prop_oneof![12 => Just(None), 1 => (0u16..1000).prop_map(Some)],
    );
    (head, prop::array::uniform6(hostile()), damage).prop_map(
        |(header, blobs, (lying_lens, tail, cut))| Structured {
            header,
            blobs,
            lying_lens,
            tail,
            cut,
        },
    )
}

/// Splits off the first space-separated field.
fn field(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches(' ');
    let end = s.find(' ').unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Renders `event` in every form and checks each; returns the CALL text.
fn check_all_forms(event: &Event, opts: ColumnOptions) -> String {
    let clock = Clock::new();
    let h = &event.header;

    // Columns: one line of printable ASCII; its fixed fields are this
    // event's, so nothing inside a string can pose as another event.
    let mut out = Vec::new();
    Columns::new(opts).event(event, &clock, &mut out);
    let (last, body) = out.split_last().expect("a column line");
    assert_eq!(*last, b'\n');
    assert!(
        body.iter().all(|b| (b' '..=b'~').contains(b)),
        "not one line of printable ASCII: {:?}",
        String::from_utf8_lossy(&out)
    );
    let line = std::str::from_utf8(body).unwrap();
    let mut rest = line;
    let mut next = || {
        let (f, r) = field(rest);
        rest = r;
        f.to_string()
    };
    if opts.timestamp {
        let t = next();
        assert!(t.len() == 8 && &t[2..3] == ":" && &t[5..6] == ":", "{line}");
    }
    if opts.uid {
        assert_eq!(next(), h.uid.to_string(), "{line}");
    }
    assert!(!next().is_empty(), "COMM: {line}");
    assert_eq!(next(), h.pid.to_string(), "{line}");
    assert_eq!(next(), h.tid.to_string(), "{line}");
    if opts.parent {
        assert!(!next().is_empty(), "PCOMM: {line}");
        assert_eq!(next(), h.ppid.to_string(), "{line}");
    }
    assert_eq!(next(), h.mnt_ns.to_string(), "{line}");
    if opts.container {
        assert!(!next().is_empty(), "CONTAINER: {line}");
    }
    if opts.latency {
        assert!(next().contains('.'), "{line}");
    }
    let call = rest.trim_start_matches(' ').to_string();
    assert!(
        call.starts_with(&format!("{}(", event.call.name())),
        "{line}"
    );

    // JSON: one line, valid, with the same CALL text and the raw values.
    let mut out = Vec::new();
    Json::new().event(event, &clock, &mut out);
    assert_eq!(out.last(), Some(&b'\n'));
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
    let v: Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["call"], call.as_str());
    assert_eq!(v["syscall"], event.call.name());
    assert_eq!(v["pid"], h.pid);
    assert_eq!(v["tid"], h.tid);
    assert_eq!(v["ret"], h.ret);
    assert_eq!(
        v["comm"],
        String::from_utf8_lossy(event.comm()).into_owned().as_str()
    );
    assert_json_says_what_call_says(event, &call, &v);

    // Detailed: one block, one line per field, a blank line after it.
    let mut out = Vec::new();
    Detailed::new().event(event, &clock, &mut out);
    let text = String::from_utf8(out).expect("detailed is ASCII");
    assert!(text.ends_with("\n\n"), "{text}");
    assert!(
        text.bytes()
            .all(|b| b == b'\n' || (b' '..=b'~').contains(&b)),
        "{text:?}"
    );
    let fixed = [
        "TIME", "COMM", "PID", "TID", "PPID", "PCOMM", "UID", "MNT_NS", "SYSCALL", "ABI", "SEEN",
    ];
    // Where the arguments are, the cgroup and the container come and go.
    let optional = ["  PATH(", "  FD(", "CGROUP:", "CONTAINER:"];
    let lines: Vec<&str> = text
        .trim_end_matches('\n')
        .split('\n')
        .filter(|l| !optional.iter().any(|o| l.starts_with(o)))
        .collect();
    assert_eq!(
        lines.len(),
        fixed.len() + event.call.arg_names().len() + 3,
        "{text}"
    );
    assert_eq!(lines[2], format!("{:<16}{}", "PID:", h.pid));
    assert_eq!(lines[lines.len() - 1], format!("{:<16}{call}", "CALL:"));
    call
}

fn any_options() -> impl Strategy<Value = ColumnOptions> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(timestamp, parent, uid, latency, container)| ColumnOptions {
                timestamp,
                parent,
                uid,
                latency,
                container,
            },
        )
}

proptest! {
    // Ten times the cases: the rules branch on exact small values.
    #![proptest_config(ProptestConfig { cases: config().cases * 10, ..config() })]

    /// Every call, every argument in every state (raw, NULL, whole,
    /// truncated, unreadable; strings and binary alike), well formed: the
    /// JSON args say what the CALL text says (checked in check_all_forms).
    #[test]
    fn json_agrees_with_call_text(
        call in prop::sample::select(Syscall::ALL.to_vec()),
        states in prop::array::uniform6(0u8..6),
        read_at_exit in any::<u8>(),
        read_after_call in any::<u8>(),
        changed in any::<u8>(),
        mut args in prop::array::uniform6(arg_value()),
        // Often a small command (fsconfig's 0..9) and a small size or aux
        // (mount_attr's, SET_BINARY's): where the rules branch.
        small in (prop::option::of(0u64..10), prop::option::of(0u64..80)),
        blobs in prop::array::uniform6(hostile()),
    ) {
        args[1] = small.0.unwrap_or(args[1]);
        args[4] = small.1.unwrap_or(args[4]);
        let mut s = crate::event::build::Sample::new(call, args, 0);
        s.header.read_at_exit = read_at_exit;
        s.header.read_after_call = read_after_call;
        // Read again at exit: the same bytes, or others.
        for i in 0..6 {
            if changed & (1 << i) != 0 && matches!(states[i], ARG_DATA | ARG_TRUNCATED) {
                let again = if changed & 0x80 != 0 { blobs[i].clone() } else { b"rewritten".to_vec() };
                s = s.again(i, &again);
            }
        }
        for (i, state) in states.into_iter().enumerate() {
            s = s.with(i, state, &blobs[i]);
        }
        let bytes = s.bytes();
        let event = Event::parse(&bytes).expect("a well-formed sample");
        check_all_forms(&event, ColumnOptions::default());
    }
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes at all: parsed or refused, never a panic.
    #[test]
    fn arbitrary_bytes(
        mut bytes in prop::collection::vec(any::<u8>(), 0..HEADER * 3),
        call in prop::option::of(0u8..12),
        opts in any_options(),
    ) {
        // Most random headers name no call; often make them name one.
        if let Some(call) = call {
            let at = std::mem::offset_of!(event_header, call);
            if bytes.len() >= at + 4 {
                bytes[at..at + 4].copy_from_slice(&u32::from(call).to_ne_bytes());
            }
            let states = std::mem::offset_of!(event_header, ad.state);
            for b in bytes.iter_mut().skip(states).take(6) {
                *b %= 7;
            }
        }
        if let Ok(event) = Event::parse(&bytes) {
            check_all_forms(&event, opts);
        }
    }

    /// Samples built as the kernel builds them, with hostile strings and
    /// any header values; some damaged (lengths, extra or missing bytes).
    #[test]
    fn structured_samples(sample in structured(), opts in any_options()) {
        let (bytes, well_formed) = sample.bytes();
        match Event::parse(&bytes) {
            Ok(event) => {
                check_all_forms(&event, opts);
            }
            Err(e) => prop_assert!(!well_formed, "well-formed sample refused: {e:#}"),
        }
    }

    /// Well-formed samples with a few bytes changed anywhere.
    #[test]
    fn mutated_samples(
        sample in structured(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        opts in any_options(),
    ) {
        let (mut bytes, _) = sample.bytes();
        if !bytes.is_empty() {
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
        }
        if let Ok(event) = Event::parse(&bytes) {
            check_all_forms(&event, opts);
        }
    }
}

/// The JSON `args` say what the CALL text says: each argument's text is
/// read back on its own (strace's quoting undone, flag names looked up in
/// the tables) and must give the JSON value: the same bytes, the same
/// numbers, NULL as null; `...` exactly where `arg_state` says
/// "truncated", an address where it says "unreadable" or "unterminated",
/// and "read_at_exit" exactly for data the event says was read then.
fn assert_json_says_what_call_says(event: &Event, call: &str, v: &Value) {
    let names = event.call.arg_names();
    let args = v["args"].as_object().expect("args is an object");
    let states = v["arg_state"].as_object().expect("arg_state is an object");
    let open = call.find('(').expect("a call has (");
    let texts = split_args(&call[open + 1..]);
    assert_eq!(texts.len(), args.len(), "{call}");
    assert_eq!(names.len(), args.len(), "{call}");
    let mut any_cut = false;
    for (i, (name, text)) in names.iter().zip(&texts).enumerate() {
        let json = &args[*name];
        let state: Vec<&str> = states
            .get(*name)
            .map(|s| {
                s.as_array()
                    .expect("a list")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect()
            })
            .unwrap_or_default();
        let has = |s: &str| state.contains(&s);
        let cut = text.starts_with('"') && text.ends_with("\"...");
        any_cut |= cut;
        assert_eq!(cut, has("truncated"), "{name}: {text} in {call}");
        if has("unreadable") || has("unterminated") {
            assert!(text.starts_with("0x"), "{name}: {text}");
        }
        let is_data = text.starts_with('"') || text.starts_with('{');
        let after_call = is_data && event.read_after_call(i);
        assert_eq!(
            has("read_after_call"),
            after_call,
            "{name}: {text} in {call}"
        );
        assert_eq!(
            has("read_at_exit"),
            is_data && event.read_at_exit(i) && !after_call,
            "{name}: {text} in {call}"
        );
        for s in &state {
            assert!(
                [
                    "truncated",
                    "unreadable",
                    "unterminated",
                    "read_at_exit",
                    "read_after_call",
                    "changed_during_call"
                ]
                .contains(s),
                "unknown arg_state {s}"
            );
        }
        assert_eq!(*json, value_of_text(text), "{name}: {text} in {call}");
    }
    assert_eq!(v.get("truncated").is_some(), any_cut, "{call}");
}

/// The argument texts of `name(` + `args) = ret`: split at top-level
/// `, `, outside quotes and braces.
fn split_args(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut in_quote, mut start, mut i) = (0, false, 0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if in_quote {
            match b {
                b'\\' => i += 1,
                b'"' => in_quote = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_quote = true,
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b',' if depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + 2;
                }
                b')' if depth == 0 => {
                    if i > start || !out.is_empty() {
                        out.push(&s[start..i]);
                    }
                    return out;
                }
                _ => {}
            }
        }
        i += 1;
    }
    panic!("no closing parenthesis in {s}");
}

/// What one argument's text says, as the JSON value it must equal.
fn value_of_text(text: &str) -> Value {
    if text == "NULL" {
        return Value::Null;
    }
    if text == "AT_FDCWD" {
        return Value::from(-100);
    }
    if let Some(body) = text.strip_prefix('{') {
        return attr_of_text(body.strip_suffix('}').expect("a struct ends with }"));
    }
    if text.starts_with('"') {
        let body = text.trim_end_matches("...");
        let bytes = unquote(body);
        let all_hex =
            body.len() == 2 + 4 * bytes.len() && body.matches("\\x").count() == bytes.len();
        if all_hex && !bytes.is_empty() {
            return Value::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        }
        return Value::from(String::from_utf8_lossy(&bytes).into_owned());
    }
    if let Ok(n) = text.parse::<i64>() {
        return Value::from(n);
    }
    if let Ok(n) = text.parse::<u64>() {
        return Value::from(n);
    }
    Value::from(flags_of_text(text))
}

/// `NAME|NAME|0x40`, `0x100 /* MNT_??? */` or `0 /* X */` as a number.
fn flags_of_text(text: &str) -> u64 {
    let text = text.split(" /* ").next().unwrap_or(text);
    text.split('|')
        .map(|part| {
            if let Some(hex) = part.strip_prefix("0x") {
                return u64::from_str_radix(hex, 16).expect("hex");
            }
            if part == "0" {
                return 0;
            }
            if part == "MS_MGC_VAL" {
                return xlat::MS_MGC_VAL;
            }
            ALL_TABLES
                .iter()
                .find_map(|t| t.value_of(part))
                .unwrap_or_else(|| panic!("{part} is in no table"))
        })
        .fold(0, |a, b| a | b)
}

const ALL_TABLES: &[&xlat::FlagTable] = &[
    &xlat::MOUNT_FLAGS,
    &xlat::UMOUNT_FLAGS,
    &xlat::FSOPEN_FLAGS,
    &xlat::FSMOUNT_FLAGS,
    &xlat::MOUNT_ATTR_FLAGS,
    &xlat::MOUNT_ATTR_PROPAGATION,
    &xlat::MOVE_MOUNT_FLAGS,
    &xlat::OPEN_TREE_FLAGS,
    &xlat::MOUNT_SETATTR_FLAGS,
    &xlat::FSPICK_FLAGS,
    &xlat::FSCONFIG_CMDS,
];

/// `attr_set=..., attr_clr=..., propagation=..., userns_fd=N[, extra]`.
fn attr_of_text(body: &str) -> Value {
    let mut fields = body.splitn(5, ", ");
    let mut take = |key: &str| {
        let f = fields.next().expect("a field");
        f.strip_prefix(key).expect(key).to_string()
    };
    let mut obj = serde_json::Map::new();
    for key in ["attr_set", "attr_clr", "propagation"] {
        obj.insert(
            key.into(),
            Value::from(flags_of_text(&take(&format!("{key}=")))),
        );
    }
    let userns: u64 = take("userns_fd=").parse().expect("userns_fd");
    obj.insert("userns_fd".into(), Value::from(userns));
    match fields.next() {
        None => {}
        Some("???") => {
            obj.insert("extra".into(), Value::from("unreadable"));
        }
        Some(extra) => {
            let quoted = extra.split_once("*/ ").expect("a bytes comment").1;
            let hex: String = unquote(quoted).iter().map(|b| format!("{b:02x}")).collect();
            obj.insert("extra".into(), Value::from(hex));
        }
    }
    Value::Object(obj)
}

/// Undoes strace's quoting of `"..."`.
fn unquote(text: &str) -> Vec<u8> {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not quoted: {text}"))
        .as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < inner.len() {
        if inner[i] != b'\\' {
            out.push(inner[i]);
            i += 1;
            continue;
        }
        let c = inner[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'f' => out.push(0x0c),
            b'x' => {
                let hex = std::str::from_utf8(&inner[i..i + 2]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                let mut n = 1;
                while n < 3 && i < inner.len() && (b'0'..=b'7').contains(&inner[i]) {
                    v = v * 8 + u32::from(inner[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    out
}

/// A hand-made hostile event passes the same checks, as a sanity check
/// of the checks.
#[test]
fn hostile_event_passes_the_checks() {
    use crate::event::build::Sample;
    let s =
        Sample::new(Syscall::Umount2, [1, 0, 0, 0, 0, 0], 0).with(0, ARG_DATA, b"/a\n\x1b[31m\xff");
    let bytes = s.bytes();
    let event = Event::parse(&bytes).unwrap();
    let call = check_all_forms(&event, ColumnOptions::default());
    assert_eq!(call, r#"umount2("/a\n\33[31m\377", 0) = 0"#);
}
