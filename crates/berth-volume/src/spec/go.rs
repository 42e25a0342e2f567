//! [`quote`], [`clean`], [`csv_first_record`], [`ram_in_bytes`] and their siblings reproduce the
//! Go standard-library functions behind Docker's mount parsing (`strconv.Quote`, `path.Clean`,
//! `encoding/csv`, go-units' `RAMInBytes`, `strconv.ParseBool`...), so that berth accepts the same
//! inputs and prints the same bytes as Docker's Go CLI and daemon.
//!
//! Everything here is pure and total: no input makes these functions panic.

use std::io;

/// Go's `strconv.Quote` (what `%q` prints for a string): double quotes, backslash escapes for
/// quotes, backslashes, control characters and non-printable runes.
///
/// Go's `unicode.IsPrint` needs Unicode category tables that Rust's standard library does not
/// expose; [`is_print`] approximates it (control, separator, format and private-use characters
/// are escaped; unassigned code points are printed as they are).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_print(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `%q` of a `[]string`: `["a" "b"]`.
pub(crate) fn quote_slice(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// An approximation of Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space are printable; controls, other spaces, format characters, surrogates and
/// private-use characters are not.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format = matches!(
        u,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    );
    let private_or_nonchar = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xFDD0..=0xFDEF)
        || (u & 0xFFFE) == 0xFFFE;
    !format && !private_or_nonchar
}

/// Go's `path.Clean`: the shortest path name equivalent to `path` by purely lexical processing.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Abs` with an explicit working directory: `path` joined to `cwd`, cleaned.
pub(crate) fn abs(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        return clean(path);
    }
    if cwd.is_empty() {
        return clean(path);
    }
    clean(&format!("{cwd}/{path}"))
}

/// Go's `strconv.ParseBool`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(s, 8, 32)`: octal digits only, no sign, no prefix, at most 32 bits.
pub(crate) fn parse_octal_u32(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for b in s.bytes() {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        value = value * 8 + u64::from(b - b'0');
        if value > u64::from(u32::MAX) {
            return None;
        }
    }
    u32::try_from(value).ok()
}

/// Go's `strings.ToLower`, which uses Unicode's simple (one rune to one rune) case mapping.
pub(crate) fn to_lower(s: &str) -> String {
    s.chars().map(lower_rune).collect()
}

fn lower_rune(c: char) -> char {
    if c == '\u{130}' {
        // Go maps LATIN CAPITAL LETTER I WITH DOT ABOVE to a plain 'i'.
        return 'i';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// What Go does when it converts a `float64` to an `int64` on amd64 (`CVTTSD2SQ`): truncation
/// toward zero, and the "integer indefinite" value `i64::MIN` for NaN and out-of-range values.
fn f64_to_i64(f: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// go-units' `RAMInBytes` as vendored by docker CLI 28: a number (Go float syntax) with an
/// optional binary unit (`b`, `k`, `kb`, `kib`, `m`, ... `p`, case-insensitive), optionally
/// separated by one space. `None` for anything go-units rejects.
pub(crate) fn ram_in_bytes(s: &str) -> Option<i64> {
    let sep = s.rfind(|c: char| "01234567890. ".contains(c))?;
    let (num, sfx) = if s.as_bytes()[sep] != b' ' {
        (&s[..=sep], &s[sep + 1..])
    } else {
        (&s[..sep], &s[sep + 1..])
    };
    let size = parse_float(num)?;
    if size < 0.0 {
        return None;
    }
    if sfx.is_empty() {
        return Some(f64_to_i64(size));
    }
    if sfx.len() > 3 {
        return None;
    }
    let sfx = to_lower(sfx);
    let sfx = sfx.as_bytes();
    if sfx[0] == b'b' {
        return (sfx.len() == 1).then(|| f64_to_i64(size));
    }
    let mul: f64 = match sfx[0] {
        b'k' => 1024.0,
        b'm' => 1024.0 * 1024.0,
        b'g' => 1024.0 * 1024.0 * 1024.0,
        b't' => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        b'p' => 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let size = size * mul;
    match sfx.len() {
        2 if sfx[1] != b'b' => None,
        3 if &sfx[1..] != b"ib" => None,
        _ => Some(f64_to_i64(size)),
    }
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and hexadecimal (`0x1.8p3`) literals, `_` digit
/// separators where Go's literal syntax allows them, `inf`/`infinity`/`nan`. Out-of-range values
/// are an error, like Go's `ErrRange`.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    if let Some(v) = parse_special(s) {
        return Some(v);
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut negative = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        negative = b[i] == b'-';
        i += 1;
    }
    let hex = i + 2 < b.len() && b[i] == b'0' && (b[i + 1] | 0x20) == b'x';
    if hex {
        i += 2;
    }
    let mut underscores = false;
    let mut saw_dot = false;
    let mut saw_digits = false;
    let mut mantissa = 0f64;
    let mut digits_after_dot: i64 = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'_' => underscores = true,
            b'.' if !saw_dot => saw_dot = true,
            b'.' => break,
            b'0'..=b'9' => {
                saw_digits = true;
                if hex {
                    mantissa = mantissa * 16.0 + f64::from(c - b'0');
                    if saw_dot {
                        digits_after_dot += 1;
                    }
                }
            }
            _ if hex && (b'a'..=b'f').contains(&(c | 0x20)) => {
                saw_digits = true;
                mantissa = mantissa * 16.0 + f64::from((c | 0x20) - b'a' + 10);
                if saw_dot {
                    digits_after_dot += 1;
                }
            }
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    let exp_char = if hex { b'p' } else { b'e' };
    let mut exponent: i64 = 0;
    if i < b.len() && (b[i] | 0x20) == exp_char {
        i += 1;
        let mut sign = 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            if b[i] == b'-' {
                sign = -1;
            }
            i += 1;
        }
        if i >= b.len() || !b[i].is_ascii_digit() {
            return None;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            if b[i] == b'_' {
                underscores = true;
            } else if exponent < 10_000 {
                exponent = exponent * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        exponent *= sign;
    } else if hex {
        return None;
    }
    if underscores && !underscore_ok(&s[..i]) {
        return None;
    }
    if i != b.len() {
        return None;
    }
    let value = if hex {
        let shift = exponent - 4 * digits_after_dot;
        let v = mantissa * 2f64.powi(shift.clamp(-20_000, 20_000) as i32);
        if negative {
            -v
        } else {
            v
        }
    } else {
        let digits: String = s.chars().filter(|c| *c != '_').collect();
        digits.parse::<f64>().ok()?
    };
    value.is_finite().then_some(value)
}

/// Go's `special`: `[+-]inf`, `[+-]infinity` and `nan`, case-insensitive, as the whole string.
fn parse_special(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    }
}

/// Go's `underscoreOK`: `_` may only separate digits (or follow a base prefix).
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        b = &b[1..];
    }
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = (b[1] | 0x20) == b'x';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && (b'a'..=b'f').contains(&(c | 0x20))) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Reads the first record of `input` the way Go's `encoding/csv` `Reader.Read` does with its
/// defaults (comma separator, RFC 4180 quotes, no lazy quotes, blank lines skipped, `\r\n`
/// folded). The error is Go's error text (`EOF`, `parse error on line 1, column 5: ...`).
pub(crate) fn csv_first_record(input: &str) -> Result<Vec<String>, String> {
    let mut reader = CsvLines {
        data: input.as_bytes(),
        offset: 0,
        num_line: 0,
    };

    // Skip empty lines; end of input before any record is io.EOF.
    let mut line = loop {
        match reader.read_line() {
            None => return Err("EOF".to_string()),
            Some(line) if line == b"\n" => continue,
            Some(line) => break line,
        }
    };

    let rec_line = reader.num_line;
    let mut record: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    let mut pos_line = reader.num_line;
    let mut pos_col: usize = 1;
    let parse_error = |start: usize, line: usize, col: usize, msg: &str| {
        if start != line {
            format!("record on line {start}; parse error on line {line}, column {col}: {msg}")
        } else {
            format!("parse error on line {line}, column {col}: {msg}")
        }
    };
    const BARE_QUOTE: &str = "bare \" in non-quoted-field";
    const QUOTE: &str = "extraneous or missing \" in quoted-field";

    'field: loop {
        if line.first() != Some(&b'"') {
            // Non-quoted field.
            let comma = line.iter().position(|&b| b == b',');
            let field_end = comma.unwrap_or(line.len() - length_nl(&line));
            let field = &line[..field_end];
            if let Some(j) = field.iter().position(|&b| b == b'"') {
                return Err(parse_error(
                    rec_line,
                    reader.num_line,
                    pos_col + j,
                    BARE_QUOTE,
                ));
            }
            record.extend_from_slice(field);
            ends.push(record.len());
            match comma {
                Some(i) => {
                    line.drain(..=i);
                    pos_col += i + 1;
                    continue 'field;
                }
                None => break 'field,
            }
        }
        // Quoted field.
        line.remove(0);
        pos_col += 1;
        loop {
            if let Some(i) = line.iter().position(|&b| b == b'"') {
                record.extend_from_slice(&line[..i]);
                line.drain(..=i);
                pos_col += i + 1;
                match line.first() {
                    Some(b'"') => {
                        record.push(b'"');
                        line.remove(0);
                        pos_col += 1;
                    }
                    Some(b',') => {
                        line.remove(0);
                        pos_col += 1;
                        ends.push(record.len());
                        continue 'field;
                    }
                    _ if length_nl(&line) == line.len() => {
                        ends.push(record.len());
                        break 'field;
                    }
                    _ => {
                        return Err(parse_error(rec_line, reader.num_line, pos_col - 1, QUOTE));
                    }
                }
            } else if !line.is_empty() {
                record.extend_from_slice(&line);
                pos_col += line.len();
                line = reader.read_line().unwrap_or_default();
                if !line.is_empty() {
                    pos_line += 1;
                    pos_col = 1;
                }
            } else {
                return Err(parse_error(rec_line, pos_line, pos_col, QUOTE));
            }
        }
    }

    // Fields are cut at ASCII bytes, so each one is valid UTF-8; be lossless anyway.
    let mut fields = Vec::with_capacity(ends.len());
    let mut start = 0;
    for end in ends {
        fields.push(String::from_utf8_lossy(&record[start..end]).into_owned());
        start = end;
    }
    Ok(fields)
}

fn length_nl(b: &[u8]) -> usize {
    usize::from(b.last() == Some(&b'\n'))
}

/// Go's `csv.Reader.readLine` over an in-memory buffer.
struct CsvLines<'a> {
    data: &'a [u8],
    offset: usize,
    num_line: usize,
}

impl CsvLines<'_> {
    /// The next line with its `\n` (`\r\n` folded, a final `\r` dropped), or `None` at the end.
    fn read_line(&mut self) -> Option<Vec<u8>> {
        self.num_line += 1;
        if self.offset >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.offset..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let mut line = rest[..end].to_vec();
        self.offset += end;
        if line.last() != Some(&b'\n') && line.last() == Some(&b'\r') {
            line.pop();
        }
        let n = line.len();
        if n >= 2 && line[n - 2] == b'\r' && line[n - 1] == b'\n' {
            line.truncate(n - 1);
            line[n - 2] = b'\n';
        }
        Some(line)
    }
}

/// The text Go prints for an OS error (`syscall.Errno.Error()`): glibc's message with a
/// lower-case first letter and no "(os error N)" suffix.
pub(crate) fn errno_text(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote("spec v"), r#""spec v""#);
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("a\nb\tc\u{0}\u{7f}"), r#""a\nb\tc\x00\x7f""#);
        assert_eq!(quote("é\u{a0}\u{200b}"), "\"é\\u00a0\\u200b\"");
        assert_eq!(quote("\u{10ffff}"), "\"\\U0010ffff\"");
        assert_eq!(quote_slice(&["bogus", "1"]), r#"["bogus" "1"]"#);
        assert_eq!(quote_slice(&[""]), r#"[""]"#);
    }

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("//", "/"),
            ("/x//y/../z", "/x/z"),
            ("/srv/./ex//b/", "/srv/ex/b"),
            ("a/../..", ".."),
            ("../../a", "../../a"),
            ("/../a", "/a"),
            ("a/./b/", "a/b"),
            ("./", "."),
            ("/a/b/../../..", "/"),
            ("\\", "\\"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
        assert_eq!(abs("/work", "./src/"), "/work/src");
        assert_eq!(abs("/work/a", "../b/src"), "/work/b/src");
        assert_eq!(abs("/", ".hidden"), "/.hidden");
    }

    #[test]
    fn bools_and_octal() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        for bad in ["yes", "maybe", "", "tRUE", " true"] {
            assert_eq!(parse_bool(bad), None);
        }
        assert_eq!(parse_octal_u32("1770"), Some(0o1770));
        assert_eq!(parse_octal_u32("0700"), Some(448));
        assert_eq!(parse_octal_u32("37777777777"), Some(u32::MAX));
        for bad in ["999", "", "+7", "0o7", "7_7", "40000000000", "-1"] {
            assert_eq!(parse_octal_u32(bad), None, "{bad}");
        }
    }

    #[test]
    fn lower_is_simple_case_mapping() {
        assert_eq!(to_lower("TYPE"), "type");
        assert_eq!(to_lower("\u{130}X"), "ix");
        assert_eq!(to_lower("\u{212A}"), "k");
        assert_eq!(to_lower("ΣΑΣ"), "σασ");
    }

    #[test]
    fn ram_in_bytes_matches_go_units() {
        for (input, want) in [
            ("1m", Some(1 << 20)),
            ("2m", Some(2 << 20)),
            ("1048576", Some(1 << 20)),
            ("10", Some(10)),
            ("1k", Some(1024)),
            ("1K", Some(1024)),
            ("1kb", Some(1024)),
            ("1KiB", Some(1024)),
            ("1 MiB", Some(1 << 20)),
            ("1.5k", Some(1536)),
            ("1g", Some(1 << 30)),
            ("1t", Some(1 << 40)),
            ("1p", Some(1 << 50)),
            ("32b", Some(32)),
            ("1\u{212A}", Some(1024)),
            ("1e3", Some(1000)),
            ("1_000", Some(1000)),
            ("0x10p0", Some(16)),
            ("0", Some(0)),
            ("-0", Some(0)),
            ("1 ", Some(1)),
            ("abc", None),
            ("-1", None),
            ("1x", None),
            ("1kbb", None),
            ("1mm", None),
            ("1kab", None),
            ("1bb", None),
            ("", None),
            (" ", None),
            ("1e400", None),
            ("1__0", None),
            ("nan m", Some(i64::MIN)),
            ("1e30", Some(i64::MIN)),
        ] {
            assert_eq!(ram_in_bytes(input), want, "ram_in_bytes({input:?})");
        }
    }

    #[test]
    fn floats_match_go_syntax() {
        assert_eq!(parse_float("1.5"), Some(1.5));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("5."), Some(5.0));
        assert_eq!(parse_float("+5"), Some(5.0));
        assert_eq!(parse_float("0x1.8p1"), Some(3.0));
        assert_eq!(parse_float("0x_1p4"), Some(16.0));
        assert_eq!(parse_float("Inf"), Some(f64::INFINITY));
        for bad in [
            ".", "e5", "1e", "1e+", "0x1", "0x", "1_", "_1", "1._5", "+nan", "infin",
        ] {
            assert_eq!(parse_float(bad), None, "{bad}");
        }
    }

    #[test]
    fn csv_matches_go() {
        let ok = |s: &str| csv_first_record(s).unwrap();
        assert_eq!(ok("type=bind,src=/a"), ["type=bind", "src=/a"]);
        assert_eq!(ok("a,,b,"), ["a", "", "b", ""]);
        assert_eq!(ok("\"a,b\",c"), ["a,b", "c"]);
        assert_eq!(ok("\"a\"\"b\""), ["a\"b"]);
        assert_eq!(ok("\n\na,b\nc,d"), ["a", "b"]);
        assert_eq!(ok("a\r\n"), ["a"]);
        assert_eq!(ok("a\r"), ["a"]);
        assert_eq!(ok("\"a\nb\",c"), ["a\nb", "c"]);
        assert_eq!(ok(" a"), [" a"]);
        assert_eq!(csv_first_record("").unwrap_err(), "EOF");
        assert_eq!(csv_first_record("\n\n").unwrap_err(), "EOF");
        assert_eq!(
            csv_first_record("type=bind,src=a\"b").unwrap_err(),
            "parse error on line 1, column 16: bare \" in non-quoted-field"
        );
        assert_eq!(
            csv_first_record("\"abc").unwrap_err(),
            "parse error on line 1, column 5: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            csv_first_record("\"ab\"c").unwrap_err(),
            "parse error on line 1, column 4: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            csv_first_record("x,\"a\nb").unwrap_err(),
            "record on line 1; parse error on line 2, column 2: extraneous or missing \" in quoted-field"
        );
    }

    #[test]
    fn errno_text_is_go_style() {
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(20)),
            "not a directory"
        );
        assert_eq!(
            errno_text(&io::Error::from_raw_os_error(13)),
            "permission denied"
        );
    }
}
