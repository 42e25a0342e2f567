//! Go's JSON string encoders as Docker's output shows them: [`push_string`] and [`quote`] write a
//! string the way `encoding/json` does (`json.Marshal`, what `inspect` and a template's `{{json
//! .}}` print) or the way Docker's json-file log driver does (its own encoder, which writes a
//! tab as `\u0009` where `encoding/json` writes `\t`); [`marshal_escapes`] gives serde_json's
//! output the escapes `encoding/json` adds.
//!
//! Written by hand because the differences are the point: serde_json escapes neither HTML
//! characters nor U+2028/U+2029, and no crate copies the log driver's choices.

/// Which of Go's encoders to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// `encoding/json`: `\"` `\\` `\n` `\r` `\t` `\b` `\f`, other control characters and
    /// U+2028/U+2029 as `\uXXXX`, and `<` `>` `&` too when `escape_html` (Go's default).
    Marshal {
        /// Escape `<`, `>` and `&` (`json.Marshal`; off for an `Encoder` with
        /// `SetEscapeHTML(false)`).
        escape_html: bool,
    },
    /// Docker's json-file log driver: `\"` `\\` `\n` `\r`; every other control character,
    /// `<` `>` `&` and U+2028/U+2029 as `\uXXXX`.
    JsonLog,
}

/// How one character is written.
enum Escape {
    /// As itself.
    No,
    /// A two-character escape (`\n`).
    Short(&'static str),
    /// `\uXXXX`.
    Unicode(u32),
}

fn escape(c: char, style: JsonStyle) -> Escape {
    let (short_controls, html) = match style {
        JsonStyle::Marshal { escape_html } => (true, escape_html),
        JsonStyle::JsonLog => (false, true),
    };
    match c {
        '"' => Escape::Short("\\\""),
        '\\' => Escape::Short("\\\\"),
        '\n' => Escape::Short("\\n"),
        '\r' => Escape::Short("\\r"),
        '\t' if short_controls => Escape::Short("\\t"),
        '\u{8}' if short_controls => Escape::Short("\\b"),
        '\u{c}' if short_controls => Escape::Short("\\f"),
        '<' | '>' | '&' if html => Escape::Unicode(c as u32),
        '\u{2028}' | '\u{2029}' => Escape::Unicode(c as u32),
        c if (c as u32) < 0x20 => Escape::Unicode(c as u32),
        _ => Escape::No,
    }
}

/// Appends `bytes` as a JSON string (quotes included) in `style`; invalid UTF-8 becomes
/// `\ufffd`, as Go writes it.
pub fn push_string(out: &mut Vec<u8>, bytes: &[u8], style: JsonStyle) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut plain = 0;
        for (i, c) in valid.char_indices() {
            let e = escape(c, style);
            if matches!(e, Escape::No) {
                continue;
            }
            out.extend_from_slice(&valid.as_bytes()[plain..i]);
            plain = i + c.len_utf8();
            match e {
                Escape::Short(s) => out.extend_from_slice(s.as_bytes()),
                Escape::Unicode(u) => {
                    out.extend_from_slice(b"\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(HEX[((u >> shift) & 0xf) as usize]);
                    }
                }
                Escape::No => {}
            }
        }
        out.extend_from_slice(&valid.as_bytes()[plain..]);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

/// `s` as a JSON string (quotes included) in `style`.
pub fn quote(s: &str, style: JsonStyle) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    push_string(&mut out, s.as_bytes(), style);
    String::from_utf8(out).expect("escaping keeps UTF-8")
}

/// serde_json's output with the escapes `json.Marshal` adds: `<`, `>`, `&`, U+2028 and U+2029
/// as `\uXXXX`. Those characters only occur inside strings, so the rest is untouched.
pub fn marshal_escapes(serialized: &str) -> String {
    let mut out = String::with_capacity(serialized.len());
    for c in serialized.chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARSHAL: JsonStyle = JsonStyle::Marshal { escape_html: true };

    #[test]
    fn marshal_writes_gos_escapes() {
        // Go 1.22+: fmt.Println(string(json.Marshal("...")))
        assert_eq!(
            quote("a<b>&c \"q\" é\\\n\t\u{8}\u{c}\u{1}\u{2028}\u{7f}", MARSHAL),
            "\"a\\u003cb\\u003e\\u0026c \\\"q\\\" é\\\\\\n\\t\\b\\f\\u0001\\u2028\u{7f}\""
        );
    }

    #[test]
    fn html_is_kept_without_escape_html() {
        let style = JsonStyle::Marshal { escape_html: false };
        assert_eq!(quote("<a&b>\u{2029}", style), "\"<a&b>\\u2029\"");
    }

    #[test]
    fn the_log_driver_writes_tabs_and_invalid_bytes_its_way() {
        let mut out = Vec::new();
        push_string(&mut out, b"x\x01y\tz\r\n\xff<", JsonStyle::JsonLog);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"x\\u0001y\\u0009z\\r\\n\\ufffd\\u003c\""
        );
    }

    #[test]
    fn serde_output_gets_marshals_escapes() {
        let v = "{\"a\":\"<none> & \u{2028}\"}";
        assert_eq!(
            marshal_escapes(v),
            "{\"a\":\"\\u003cnone\\u003e \\u0026 \\u2028\"}"
        );
    }
}
