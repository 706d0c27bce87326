//! Quoting of strings from user memory, byte for byte as strace quotes them.
//!
//! Printable ASCII stays as it is, apart from `"` and `\`; `\t \n \v \f \r`
//! get their letters; every other byte (control, DEL, non-ASCII) becomes
//! octal, with three digits when a digit follows so it cannot be misread.
//! The result is always printable ASCII on one line.

/// Appends `bytes` to `out` in double quotes, escaped as strace does.
pub fn quote(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len() + 2);
    out.push('"');
    escape_with(bytes, b"", out);
    out.push('"');
}

/// Appends what an fd refers to as `strace -y` prints it between `<` and
/// `>`: escaped as a string, without quotes, with `<` and `>` in octal
/// too, so that the text cannot end early.
pub fn escape_fd_path(bytes: &[u8], out: &mut String) {
    escape_with(bytes, b"<>", out);
}

/// Appends `bytes` escaped as strace escapes a string, without quotes;
/// with `space_too`, a space is escaped as well (`\40`), for a value that
/// must stay one whitespace-separated field.
pub fn escape(bytes: &[u8], space_too: bool, out: &mut String) {
    escape_with(bytes, if space_too { b" " } else { b"" }, out);
}

/// strace's escaping, with the printable characters in `octal` written in
/// octal as well.
fn escape_with(bytes: &[u8], octal: &[u8], out: &mut String) {
    for (i, &b) in bytes.iter().enumerate() {
        if octal.contains(&b) {
            let next_is_digit = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            push_octal(b, next_is_digit, out);
            continue;
        }
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            b' '..=b'~' => out.push(b as char),
            _ => {
                let next_is_digit = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                push_octal(b, next_is_digit, out);
            }
        }
    }
}

/// Appends `bytes` in double quotes, every byte as `\xNN` (strace's
/// QUOTE_FORCE_HEX, used for binary values).
pub fn quote_hex(bytes: &[u8], out: &mut String) {
    use std::fmt::Write;
    out.reserve(bytes.len() * 4 + 2);
    out.push('"');
    for b in bytes {
        let _ = write!(out, "\\x{b:02x}");
    }
    out.push('"');
}

fn push_octal(b: u8, full_width: bool, out: &mut String) {
    out.push('\\');
    let digits = [b >> 6, (b >> 3) & 7, b & 7];
    let skip = if full_width {
        0
    } else {
        digits.iter().take(2).take_while(|&&d| d == 0).count()
    };
    for d in &digits[skip..] {
        out.push((b'0' + d) as char);
    }
}

#[cfg(test)]
mod tests {
    use super::{escape, escape_fd_path, quote, quote_hex};

    fn q(bytes: &[u8]) -> String {
        let mut s = String::new();
        quote(bytes, &mut s);
        s
    }

    // Expected strings are strace 6.1's output for the same bytes.
    #[test]
    fn matches_strace() {
        assert_eq!(q(b"a\x01b"), r#""a\1b""#);
        assert_eq!(q(b"a\x011"), r#""a\0011""#);
        assert_eq!(
            q(b"\x07\x08\t\n\x0b\x0c\r\x1b[31m"),
            r#""\7\10\t\n\v\f\r\33[31m""#
        );
        assert_eq!(q(b"q\"\\"), r#""q\"\\""#);
        assert_eq!(q(b"\x80\xff\xc3\xa9"), r#""\200\377\303\251""#);
        assert_eq!(q(b"x\x7f"), r#""x\177""#);
        assert_eq!(q(b""), r#""""#);
        assert_eq!(q(b"\x00"), r#""\0""#);
        assert_eq!(q(b"\x009"), r#""\0009""#);
    }

    /// strace 6.1 -y on a directory named `a b<c>d\ne\377\q`.
    #[test]
    fn fd_paths_as_strace_prints_them() {
        let mut s = String::new();
        escape_fd_path(b"/tmp/a b<c>d\ne\xff\\q\"x", &mut s);
        assert_eq!(s, r#"/tmp/a b\74c\76d\ne\377\\q\"x"#);
        s.clear();
        escape(b"a b", true, &mut s);
        assert_eq!(s, r"a\40b");
    }

    #[test]
    fn hex_as_strace_prints_binary() {
        let mut s = String::new();
        quote_hex(b"\x01\xbc\xff\x00bi", &mut s);
        assert_eq!(s, r#""\x01\xbc\xff\x00\x62\x69""#);
        s.clear();
        quote_hex(b"", &mut s);
        assert_eq!(s, r#""""#);
    }

    #[test]
    fn output_is_one_line_of_printable_ascii() {
        let all: Vec<u8> = (0..=255u8).collect();
        let s = q(&all);
        assert!(s.bytes().all(|b| (b' '..=b'~').contains(&b)), "{s}");
    }
}
