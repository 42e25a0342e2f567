//! Go's `strconv` as Docker's code meets it: [`quote`] (`%q`), [`quote_rune`], [`unquote`], [`parse_bool`],
//! [`parse_octal_u32`], [`parse_float`] (Go's literal syntax, errors worded like Go's
//! `*NumError`) and [`format_float`] (`%g`, `%e`, `%f` digits).
//!
//! Everything here is pure and total: no input makes these functions panic.

/// Go's `strconv.Quote` (what `%q` prints for a string): double quotes, backslash escapes for
/// quotes, backslashes, control characters and non-printable runes.
///
/// Go's `unicode.IsPrint` needs Unicode category tables that Rust's standard library does not
/// expose; [`is_print`] approximates it (control, separator, format and private-use characters
/// are escaped; unassigned code points are printed as they are).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune` of `rune(v)` (what `%q` prints for an integer): single quotes, the
/// same escapes as [`quote`] (with `'` escaped instead of `"`); a value that is no Unicode scalar
/// value (negative, a surrogate, above U+10FFFF) is U+FFFD, as in Go.
pub fn quote_rune(v: i64) -> String {
    let c = u32::try_from(v)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut out = String::with_capacity(8);
    out.push('\'');
    push_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

/// Appends `c` as Go's `appendEscapedRune` does inside a literal delimited by `quote`.
fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        c if c == quote || c == '\\' => {
            out.push('\\');
            out.push(c);
        }
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

/// `%q` of a `[]string`: `["a" "b"]`.
pub fn quote_slice(items: &[&str]) -> String {
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

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(s, 8, 32)`: octal digits only, no sign, no prefix, at most 32 bits.
pub fn parse_octal_u32(s: &str) -> Option<u32> {
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

/// A number Go's `strconv.ParseFloat` refuses, worded like Go's `*strconv.NumError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumError {
    /// Not a Go float literal.
    #[error("strconv.ParseFloat: parsing {}: invalid syntax", quote(.0))]
    Syntax(String),
    /// A valid literal whose value does not fit a `float64`.
    #[error("strconv.ParseFloat: parsing {}: value out of range", quote(.0))]
    Range(String),
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and hexadecimal (`0x1.8p3`) literals, `_` digit
/// separators where Go's literal syntax allows them, `inf`/`infinity`/`nan`. Out-of-range values
/// are an error, like Go's `ErrRange`.
pub fn parse_float(s: &str) -> Result<f64, NumError> {
    if let Some(v) = parse_special(s) {
        return Ok(v);
    }
    match parse_literal(s) {
        None => Err(NumError::Syntax(s.to_string())),
        Some(v) if v.is_finite() => Ok(v),
        Some(_) => Err(NumError::Range(s.to_string())),
    }
}

/// A decimal or hexadecimal float literal without the special names; `None` for bad syntax, an
/// infinite value when the literal is out of range.
fn parse_literal(s: &str) -> Option<f64> {
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
    Some(value)
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

/// What Go's `strconv.Unquote` answers for a malformed literal (`strconv.ErrSyntax`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid syntax")]
pub struct SyntaxError;

/// Go's `strconv.Unquote` for `"..."`, `` `...` `` and `'.'` literals.
pub fn unquote(s: &str) -> Result<String, SyntaxError> {
    let invalid = || SyntaxError;
    if s.len() >= 2 && s.starts_with('`') && s.ends_with('`') {
        return Ok(s[1..s.len() - 1].replace('\r', ""));
    }
    let quote = s.chars().next().ok_or_else(invalid)?;
    if !(quote == '"' || quote == '\'') || !s.ends_with(quote) || s.len() < 2 {
        return Err(invalid());
    }
    let body = &s[1..s.len() - 1];
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or_else(invalid)?;
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Result<u32, SyntaxError> {
            let digits: String = chars.by_ref().take(n).collect();
            if digits.len() != n {
                return Err(invalid());
            }
            u32::from_str_radix(&digits, 16).map_err(|_| invalid())
        };
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '\'' | '"' => out.push(e),
            'x' => out.push(char::from_u32(hex(&mut chars, 2)?).ok_or_else(invalid)?),
            'u' => out.push(char::from_u32(hex(&mut chars, 4)?).ok_or_else(invalid)?),
            'U' => out.push(char::from_u32(hex(&mut chars, 8)?).ok_or_else(invalid)?),
            '0'..='7' => {
                let rest: String = chars.by_ref().take(2).collect();
                let v = u32::from_str_radix(&format!("{e}{rest}"), 8).map_err(|_| invalid())?;
                out.push(char::from_u32(v).ok_or_else(invalid)?);
            }
            _ => return Err(invalid()),
        }
    }
    if quote == '\'' && out.chars().count() != 1 {
        return Err(invalid());
    }
    Ok(out)
}

/// The digits of a float: `digits` (no trailing zeros, empty for zero) and the position of the
/// decimal point `dp` (value = 0.digits × 10^dp).
struct Decimal {
    digits: Vec<u8>,
    dp: i32,
}

/// Shortest round-trip digits, or `sig` significant digits correctly rounded.
fn decimal_digits(f: f64, sig: Option<usize>) -> Decimal {
    let f = f.abs();
    if f == 0.0 {
        return Decimal {
            digits: Vec::new(),
            dp: 0,
        };
    }
    let s = match sig {
        None => format!("{f:e}"),
        Some(n) => format!("{:.*e}", n.max(1) - 1, f),
    };
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    Decimal {
        digits,
        dp: exp + 1,
    }
}

/// Digits at fixed precision: `prec` digits after the point, correctly rounded.
fn fixed_digits(f: f64, prec: usize) -> Decimal {
    let s = format!("{:.*}", prec, f.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
    let mut dp = int.len() as i32;
    while digits.first() == Some(&b'0') {
        digits.remove(0);
        dp -= 1;
    }
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        dp = 0;
    }
    Decimal { digits, dp }
}

fn digit_at(d: &Decimal, i: i32) -> char {
    if i >= 0 && (i as usize) < d.digits.len() {
        d.digits[i as usize] as char
    } else {
        '0'
    }
}

fn fmt_e(d: &Decimal, prec: usize, upper: bool) -> String {
    let mut out = String::new();
    out.push(if d.digits.is_empty() {
        '0'
    } else {
        d.digits[0] as char
    });
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(digit_at(d, i as i32));
        }
    }
    out.push(if upper { 'E' } else { 'e' });
    let exp = if d.digits.is_empty() { 0 } else { d.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
    out
}

fn fmt_f(d: &Decimal, prec: usize) -> String {
    let mut out = String::new();
    if d.dp > 0 {
        for i in 0..d.dp {
            out.push(digit_at(d, i));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i32 {
            out.push(digit_at(d, d.dp + i));
        }
    }
    out
}

/// `strconv.FormatFloat(f, verb, prec, 64)` for verbs `e E f F g G`; `prec` `None` = shortest.
pub fn format_float(f: f64, verb: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = f.is_sign_negative() && f != 0.0;
    let body = match verb {
        'e' | 'E' => {
            let d = decimal_digits(f, prec.map(|p| p + 1));
            let p = prec.unwrap_or(d.digits.len().saturating_sub(1));
            fmt_e(&d, p, verb == 'E')
        }
        'f' | 'F' => match prec {
            Some(p) => fmt_f(&fixed_digits(f, p), p),
            None => {
                let d = decimal_digits(f, None);
                let p = (d.digits.len() as i32 - d.dp).max(0) as usize;
                fmt_f(&d, p)
            }
        },
        _ => {
            let shortest = prec.is_none();
            let d = decimal_digits(f, prec.map(|p| p.max(1)));
            let nd = d.digits.len() as i32;
            let mut p: i32 = match prec {
                None => nd,
                Some(p) => p.max(1) as i32,
            };
            let mut eprec = p;
            if eprec > nd && nd >= d.dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = d.dp - 1;
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(&d, (p - 1).max(0) as usize, verb == 'G')
            } else {
                if p > d.dp {
                    p = nd;
                }
                fmt_f(&d, (p - d.dp).max(0) as usize)
            }
        }
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Go 1.19's `fmt.Sprintf("%q", int64(v))` prints.
    #[test]
    fn quote_rune_matches_go() {
        for (v, want) in [
            (3, "'\\x03'"),
            (39, "'\\''"),
            (34, "'\"'"),
            (92, "'\\\\'"),
            (160, "'\\u00a0'"),
            (-1, "'\u{fffd}'"),
            (128512, "'\u{1f600}'"),
            (55296, "'\u{fffd}'"),
            (10, "'\\n'"),
            (127, "'\\x7f'"),
            (133, "'\\u0085'"),
            (1114112, "'\u{fffd}'"),
            (65, "'A'"),
        ] {
            assert_eq!(quote_rune(v), want, "{v}");
        }
    }

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
    fn quoting() {
        let cases = [
            ("sh", "\"sh\""),
            ("sh -c 'sleep…", "\"sh -c 'sleep…\""),
            ("a\"b\\c", "\"a\\\"b\\\\c\""),
            ("tab\there\n", "\"tab\\there\\n\""),
            ("\u{1b}[0m", "\"\\x1b[0m\""),
            ("\u{7f}", "\"\\x7f\""),
            ("nb\u{a0}sp", "\"nb\\u00a0sp\""),
            ("héllo 世界", "\"héllo 世界\""),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "{input:?}");
        }
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
    fn floats_match_go_syntax() {
        assert_eq!(parse_float("1.5"), Ok(1.5));
        assert_eq!(parse_float(".5"), Ok(0.5));
        assert_eq!(parse_float("5."), Ok(5.0));
        assert_eq!(parse_float("+5"), Ok(5.0));
        assert_eq!(parse_float("0x1.8p1"), Ok(3.0));
        assert_eq!(parse_float("0x_1p4"), Ok(16.0));
        assert_eq!(parse_float("Inf"), Ok(f64::INFINITY));
        assert_eq!(
            parse_float("1e400").unwrap_err().to_string(),
            r#"strconv.ParseFloat: parsing "1e400": value out of range"#
        );
        assert_eq!(
            parse_float("1.2.3").unwrap_err().to_string(),
            r#"strconv.ParseFloat: parsing "1.2.3": invalid syntax"#
        );
        for bad in [
            ".", "e5", "1e", "1e+", "0x1", "0x", "1_", "_1", "1._5", "+nan", "infin",
        ] {
            assert_eq!(parse_float(bad), Err(NumError::Syntax(bad.into())), "{bad}");
        }
    }

    #[test]
    fn floats_like_strconv() {
        let cases: &[(f64, char, Option<usize>, &str)] = &[
            (0.0, 'g', None, "0"),
            (1.0, 'g', None, "1"),
            (1.5, 'g', None, "1.5"),
            (100.0, 'g', None, "100"),
            (123456.0, 'g', None, "123456"),
            (1000000.0, 'g', None, "1e+06"),
            (1234567.0, 'g', None, "1.234567e+06"),
            (0.0001, 'g', None, "0.0001"),
            (0.00001, 'g', None, "1e-05"),
            (1.5e-7, 'g', None, "1.5e-07"),
            (-2.5, 'g', None, "-2.5"),
            (102.4, 'g', Some(4), "102.4"),
            (4.86, 'g', Some(3), "4.86"),
            (1.98, 'g', Some(3), "1.98"),
            (1.5, 'g', Some(4), "1.5"),
            (6.0, 'g', Some(4), "6"),
            (999.95, 'g', Some(4), "1000"),
            (999.5, 'g', Some(3), "1e+03"),
            (1.2345, 'f', Some(2), "1.23"),
            (2.5, 'f', Some(0), "2"),
            (0.25, 'f', Some(1), "0.2"),
            (3.0, 'f', Some(6), "3.000000"),
            (1234.5678, 'e', Some(2), "1.23e+03"),
            (0.5, 'f', None, "0.5"),
        ];
        for &(f, verb, prec, want) in cases {
            assert_eq!(format_float(f, verb, prec), want, "{f} {verb} {prec:?}");
        }
    }

    #[test]
    fn unquote_matches_go() {
        assert_eq!(unquote(r#""a\tb\"c\u00e9""#).unwrap(), "a\tb\"cé");
        assert_eq!(unquote("`raw\\n`").unwrap(), "raw\\n");
        assert_eq!(unquote("'x'").unwrap(), "x");
        assert_eq!(unquote(r#""\q""#), Err(SyntaxError));
    }
}
