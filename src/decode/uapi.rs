//! Test support: the `#define NAME value` constants of a kernel uapi
//! header, so flag tables can be checked against the kernel's own numbers
//! where the libc crate has none.

#![cfg(test)]

use std::collections::HashMap;

/// Parses `/usr/include/<header>` (Debian's linux-libc-dev) into its
/// numeric defines; simple `(1<<n)` forms and names of other defines too.
/// Enumerators written `NAME = value,` (one a line) count as defines.
pub fn defines(header: &str) -> HashMap<String, u64> {
    let path = format!("/usr/include/{header}");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (install linux-libc-dev)"));
    let mut out: HashMap<String, u64> = HashMap::new();
    for line in text.lines() {
        if let Some((name, value)) = enumerator(line) {
            if let Some(v) = parse_value(value, &out) {
                out.insert(name.to_string(), v);
            }
            continue;
        }
        let mut words = line.split_whitespace();
        if words.next() != Some("#define") {
            continue;
        }
        let (Some(name), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        if let Some(v) = parse_value(value, &out) {
            out.insert(name.to_string(), v);
        }
    }
    out
}

/// `\tNAME = value,\t/* comment */` -> (NAME, value).
fn enumerator(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once('=')?;
    let name = name.trim();
    let value = rest.split(',').next()?.trim();
    let is_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    (is_name && rest.contains(',')).then_some((name, value))
}

fn parse_value(text: &str, known: &HashMap<String, u64>) -> Option<u64> {
    let t = text.trim_start_matches('(').trim_end_matches(')');
    if let Some((base, shift)) = t.split_once("<<") {
        return Some(parse_number(base)? << parse_number(shift)?);
    }
    parse_number(t).or_else(|| known.get(t).copied())
}

fn parse_number(t: &str) -> Option<u64> {
    let t = t.trim().trim_end_matches(['U', 'L', 'u', 'l']);
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(neg) = t.strip_prefix('-') {
        neg.parse::<i64>().ok().map(|v| (-v) as u64)
    } else if t.len() > 1 && t.starts_with('0') {
        u64::from_str_radix(&t[1..], 8).ok()
    } else {
        t.parse().ok()
    }
}
