//! [`GoKind`] and the printers here make JSON values look the way Go's `fmt` and `encoding/json`
//! print the Go values Docker's templates see: `%v` of slices (`[a b]`), maps (`map[k:v]`, sorted
//! keys), floats (`1e+06`), `printf` verbs and JSON with Go's escaping
//! (quoting and float digits come from `berth_go::strconv`).
//!
//! JSON cannot say whether a `null` was a nil map, a nil slice or a nil pointer, yet Go prints
//! them as `map[]`, `[]` and `<nil>`. [`GoKind`] carries that hint; [`go_kind_of_field`] derives it
//! from the field names Docker's API types use.

use berth_go::format_float;
use berth_go::json::JsonStyle;
use serde_json::{Number, Value};

/// The Go type family a JSON value came from, when the JSON alone cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GoKind {
    /// Unknown, or a pointer/interface: `null` prints `<nil>`.
    #[default]
    Any,
    /// A `map[string]string` (labels, options): `null` prints `map[]` and a missing key indexes
    /// to `""`.
    StringMap,
    /// Any other map: `null` prints `map[]`.
    Map,
    /// A slice: `null` prints `[]`.
    Slice,
}

/// The Go kind of a field of Docker's API types, by field name.
pub fn go_kind_of_field(name: &str) -> GoKind {
    match name {
        "Labels" | "Options" | "DriverOpts" | "Annotations" | "Sysctls" | "StorageOpt"
        | "Tmpfs" | "LogConfigConfig" => GoKind::StringMap,
        "Status" | "ExposedPorts" | "Volumes" | "Ports" | "PortBindings" | "Networks" | "Data"
        | "Metadata" => GoKind::Map,
        "Binds" | "Mounts" | "Cmd" | "Entrypoint" | "Env" | "VolumesFrom" | "Links" | "Dns"
        | "DnsOptions" | "DnsSearch" | "ExtraHosts" | "CapAdd" | "CapDrop" | "RepoTags"
        | "RepoDigests" | "Layers" | "OnBuild" | "Shell" | "GroupAdd" | "SecurityOpt"
        | "Devices" | "DeviceRequests" | "DeviceCgroupRules" | "Ulimits" | "Aliases"
        | "DNSNames" | "Args" | "Names" | "Warnings" | "Log" | "MaskedPaths" | "ReadonlyPaths"
        | "VolumesDeleted" | "ImagesDeleted" | "ContainersDeleted" => GoKind::Slice,
        _ => GoKind::Any,
    }
}

/// Go's name for the type of a JSON value, as `%T` and error messages print it.
pub fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(n) if n.is_u64() && n.as_i64().is_none() => "uint64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `fmt.Sprint(v)` (the `%v` verb) of a JSON value whose Go kind is `kind`.
pub fn sprint_value(v: &Value, kind: GoKind) -> String {
    let mut out = String::new();
    write_v(&mut out, v, kind);
    out
}

fn write_v(out: &mut String, v: &Value, kind: GoKind) {
    match v {
        Value::Null => out.push_str(match kind {
            GoKind::StringMap | GoKind::Map => "map[]",
            GoKind::Slice => "[]",
            GoKind::Any => "<nil>",
        }),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_v(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, item, GoKind::Any);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                write_v(out, &map[key.as_str()], go_kind_of_field(key));
            }
            out.push(']');
        }
    }
}

fn number_v(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        format_float(n.as_f64().unwrap_or(0.0), 'g', None)
    }
}

/// `fmt.Sprint(args...)`: operands separated by a space when neither side is a string.
pub fn sprint(args: &[(Value, GoKind)]) -> String {
    let mut out = String::new();
    for (i, (v, kind)) in args.iter().enumerate() {
        if i > 0 && !v.is_string() && !args[i - 1].0.is_string() {
            out.push(' ');
        }
        write_v(&mut out, v, *kind);
    }
    out
}

/// `fmt.Sprintln(args...)`: operands always separated by a space, then a newline.
pub fn sprintln(args: &[(Value, GoKind)]) -> String {
    let parts: Vec<String> = args.iter().map(|(v, k)| sprint_value(v, *k)).collect();
    let mut out = parts.join(" ");
    out.push('\n');
    out
}

/// Go's `encoding/json` of a value, compact. With `escape_html`, `<`, `>` and `&` become
/// `\u003c`, `\u003e`, `\u0026` as `json.Marshal` does; Docker's `json` template function turns
/// that off, but listing rows are marshalled with it on (`"\u003cnone\u003e"`).
pub fn go_json(v: &Value, escape_html: bool) -> String {
    let mut out = String::new();
    write_json(&mut out, v, escape_html);
    out
}

fn write_json(out: &mut String, v: &Value, escape_html: bool) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                out.push_str(&json_float(n.as_f64().unwrap_or(0.0)));
            }
        }
        Value::String(s) => write_json_string(out, s, escape_html),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item, escape_html);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k, escape_html);
                out.push(':');
                write_json(out, item, escape_html);
            }
            out.push('}');
        }
    }
}

fn json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format_float(f, 'e', None);
        // Go writes e-7, not e-07.
        if let Some(pos) = s.find("e-0") {
            return format!("{}e-{}", &s[..pos], &s[pos + 3..]);
        }
        if let Some(pos) = s.find("e+0") {
            return format!("{}e+{}", &s[..pos], &s[pos + 3..]);
        }
        return s;
    }
    format_float(f, 'f', None)
}

fn write_json_string(out: &mut String, s: &str, escape_html: bool) {
    out.push_str(&berth_go::json::quote(
        s,
        JsonStyle::Marshal { escape_html },
    ));
}

/// `fmt.Sprintf(format, args...)` for the verbs and flags templates use.
pub fn sprintf(format: &str, args: &[(Value, GoKind)]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut argi = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '+' => spec.plus = true,
                '-' => spec.minus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        // Width.
        if chars.peek() == Some(&'*') {
            chars.next();
            match args
                .get(argi)
                .and_then(|(v, _)| v.as_i64())
                .filter(|w| w.unsigned_abs() <= MAX_WIDTH as u64)
            {
                Some(w) => {
                    if w < 0 {
                        spec.minus = true;
                    }
                    spec.width = Some(w.unsigned_abs() as usize);
                }
                None => out.push_str("%!(BADWIDTH)"),
            }
            argi += 1;
        } else {
            spec.width = take_number(&mut chars);
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            if chars.peek() == Some(&'*') {
                chars.next();
                match args.get(argi).and_then(|(v, _)| v.as_i64()) {
                    Some(p) if (0..=MAX_WIDTH as i64).contains(&p) => spec.prec = Some(p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                spec.prec = Some(take_number(&mut chars).unwrap_or(0));
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(argi) {
            None => out.push_str(&format!("%!{verb}(MISSING)")),
            Some((v, kind)) => out.push_str(&format_arg(v, *kind, verb, &spec)),
        }
        argi += 1;
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|(v, k)| format!("{}={}", go_type_name(v), sprint_value(v, *k)))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

/// Go refuses widths and precisions beyond a million.
const MAX_WIDTH: usize = 1_000_000;

fn take_number(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(&d) = chars.peek() {
        let Some(digit) = d.to_digit(10) else { break };
        n = Some((n.unwrap_or(0) * 10 + digit as usize).min(MAX_WIDTH));
        chars.next();
    }
    n
}

#[derive(Default, Clone)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

impl Spec {
    fn pad(&self, s: String, numeric: bool) -> String {
        let Some(width) = self.width else { return s };
        let len = s.chars().count();
        if len >= width {
            return s;
        }
        let fill = width - len;
        if self.minus {
            return format!("{s}{}", " ".repeat(fill));
        }
        if self.zero && numeric {
            let (sign, digits) = match s.chars().next() {
                Some(c @ ('+' | '-' | ' ')) => (c.to_string(), s[1..].to_string()),
                _ => (String::new(), s.clone()),
            };
            return format!("{sign}{}{digits}", "0".repeat(fill));
        }
        format!("{}{s}", " ".repeat(fill))
    }

    fn sign(&self, neg: bool, body: String) -> String {
        if neg {
            format!("-{body}")
        } else if self.plus {
            format!("+{body}")
        } else if self.space {
            format!(" {body}")
        } else {
            body
        }
    }
}

fn bad_verb(v: &Value, kind: GoKind, verb: char) -> String {
    if v.is_null() && kind == GoKind::Any {
        return format!("%!{verb}(<nil>)");
    }
    format!("%!{verb}({}={})", go_type_name(v), sprint_value(v, kind))
}

fn format_arg(v: &Value, kind: GoKind, verb: char, spec: &Spec) -> String {
    match v {
        Value::Null if kind == GoKind::Any => match verb {
            'v' => spec.pad("<nil>".into(), false),
            _ => bad_verb(v, kind, verb),
        },
        Value::Null | Value::Array(_) | Value::Object(_) => {
            if verb == 'v' || verb == 's' || verb == 'd' || verb == 'q' {
                spec.pad(compound_verb(v, kind, verb), false)
            } else {
                bad_verb(v, kind, verb)
            }
        }
        Value::Bool(b) => match verb {
            'v' | 't' => spec.pad(b.to_string(), false),
            _ => bad_verb(v, kind, verb),
        },
        Value::String(s) => match verb {
            'v' | 's' => {
                let s = match spec.prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s.clone(),
                };
                spec.pad(s, false)
            }
            'q' => spec.pad(berth_go::quote(s), false),
            'x' | 'X' => {
                let hex: String = s
                    .bytes()
                    .map(|b| {
                        if verb == 'x' {
                            format!("{b:02x}")
                        } else {
                            format!("{b:02X}")
                        }
                    })
                    .collect();
                spec.pad(hex, false)
            }
            _ => bad_verb(v, kind, verb),
        },
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                format_float_verb(f, verb, spec).unwrap_or_else(|| bad_verb(v, kind, verb))
            } else {
                let (neg, mag) = match n.as_i64() {
                    Some(i) => (i < 0, i.unsigned_abs()),
                    None => (false, n.as_u64().unwrap_or(0)),
                };
                format_int_verb(neg, mag, verb, spec).unwrap_or_else(|| bad_verb(v, kind, verb))
            }
        }
    }
}

fn compound_verb(v: &Value, kind: GoKind, verb: char) -> String {
    let elem = |x: &Value| {
        if verb == 'v' {
            sprint_value(x, GoKind::Any)
        } else {
            format_arg(x, GoKind::Any, verb, &Spec::default())
        }
    };
    match v {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(elem).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", k, elem(&map[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        _ => sprint_value(v, kind),
    }
}

fn format_int_verb(neg: bool, mag: u64, verb: char, spec: &Spec) -> Option<String> {
    let body = match verb {
        'v' | 'd' => mag.to_string(),
        'b' => format!("{mag:b}"),
        'o' => {
            if spec.sharp {
                format!("0{mag:o}")
            } else {
                format!("{mag:o}")
            }
        }
        'O' => format!("0o{mag:o}"),
        'x' => {
            if spec.sharp {
                format!("0x{mag:x}")
            } else {
                format!("{mag:x}")
            }
        }
        'X' => {
            if spec.sharp {
                format!("0X{mag:X}")
            } else {
                format!("{mag:X}")
            }
        }
        'c' => {
            return Some(spec.pad(
                char::from_u32(mag as u32).unwrap_or('\u{fffd}').to_string(),
                false,
            ))
        }
        'q' => {
            let c = char::from_u32(mag as u32).unwrap_or('\u{fffd}');
            let quoted = berth_go::quote(&c.to_string());
            let inner = &quoted[1..quoted.len() - 1];
            let inner = if inner == "\\\"" { "\"" } else { inner };
            let inner = if c == '\'' { "\\'" } else { inner };
            return Some(spec.pad(format!("'{inner}'"), false));
        }
        'U' => return Some(spec.pad(format!("U+{mag:04X}"), false)),
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 's' | 't' => return None,
        _ => return None,
    };
    let body = match spec.prec {
        Some(p) if body.len() < p => format!("{}{body}", "0".repeat(p - body.len())),
        _ => body,
    };
    Some(spec.pad(spec.sign(neg, body), spec.prec.is_none()))
}

fn format_float_verb(f: f64, verb: char, spec: &Spec) -> Option<String> {
    let body = match verb {
        'v' | 'g' | 'G' => format_float(f.abs(), if verb == 'G' { 'G' } else { 'g' }, spec.prec),
        'e' | 'E' => format_float(f.abs(), verb, Some(spec.prec.unwrap_or(6))),
        'f' | 'F' => format_float(f.abs(), 'f', Some(spec.prec.unwrap_or(6))),
        _ => return None,
    };
    Some(spec.pad(spec.sign(f.is_sign_negative() && f != 0.0, body), true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_v_printing() {
        let cases: Vec<(Value, GoKind, &str)> = vec![
            (json!("a b"), GoKind::Any, "a b"),
            (json!(42), GoKind::Any, "42"),
            (json!(-7), GoKind::Any, "-7"),
            (
                json!(18446744073709551615u64),
                GoKind::Any,
                "18446744073709551615",
            ),
            (json!(2.5), GoKind::Any, "2.5"),
            (json!(1e21), GoKind::Any, "1e+21"),
            (json!(true), GoKind::Any, "true"),
            (json!(["sh", "-c", "x"]), GoKind::Any, "[sh -c x]"),
            (json!([]), GoKind::Any, "[]"),
            (json!({"b": "2", "a": "1"}), GoKind::Any, "map[a:1 b:2]"),
            (json!({}), GoKind::Any, "map[]"),
            (
                json!({"k": [1, 2], "n": null}),
                GoKind::Any,
                "map[k:[1 2] n:<nil>]",
            ),
            (Value::Null, GoKind::Any, "<nil>"),
            (Value::Null, GoKind::StringMap, "map[]"),
            (Value::Null, GoKind::Map, "map[]"),
            (Value::Null, GoKind::Slice, "[]"),
            (json!({"Labels": null}), GoKind::Any, "map[Labels:map[]]"),
        ];
        for (v, kind, want) in cases {
            assert_eq!(sprint_value(&v, kind), want, "{v}");
        }
    }

    #[test]
    fn sprint_spacing() {
        let args = |vals: Vec<Value>| -> Vec<(Value, GoKind)> {
            vals.into_iter().map(|v| (v, GoKind::Any)).collect()
        };
        assert_eq!(sprint(&args(vec![json!("a"), json!("b")])), "ab");
        assert_eq!(sprint(&args(vec![json!(1), json!(2)])), "1 2");
        assert_eq!(sprint(&args(vec![json!("a"), json!(2)])), "a2");
        assert_eq!(sprintln(&args(vec![json!("a"), json!("b")])), "a b\n");
        assert_eq!(sprintln(&[]), "\n");
    }

    #[test]
    fn printf_verbs() {
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("%s", vec![json!("x")], "x"),
            ("%q", vec![json!("sh -c 'x'")], "\"sh -c 'x'\""),
            ("%d", vec![json!(5)], "5"),
            ("%05d", vec![json!(-42)], "-0042"),
            ("%+d", vec![json!(3)], "+3"),
            ("%x", vec![json!(255)], "ff"),
            ("%#x", vec![json!(255)], "0xff"),
            ("%8.3f|", vec![json!(1.23456)], "   1.235|"),
            ("%-6s|", vec![json!("ab")], "ab    |"),
            ("%6s|", vec![json!("ab")], "    ab|"),
            ("%.2s", vec![json!("abcdef")], "ab"),
            ("%v", vec![json!([1, "a"])], "[1 a]"),
            ("%v", vec![Value::Null], "<nil>"),
            ("%s", vec![Value::Null], "%!s(<nil>)"),
            ("%t", vec![json!(true)], "true"),
            ("%d", vec![json!("x")], "%!d(string=x)"),
            ("%s", vec![json!(5)], "%!s(int=5)"),
            ("%d %d", vec![json!(1)], "1 %!d(MISSING)"),
            ("%d", vec![json!(1), json!("x")], "1%!(EXTRA string=x)"),
            ("100%%", vec![], "100%"),
            ("%c", vec![json!(65)], "A"),
            ("%e", vec![json!(1234.5678)], "1.234568e+03"),
            ("%g", vec![json!(0.5)], "0.5"),
            ("%*d", vec![json!(4), json!(7)], "   7"),
            ("%s", vec![json!(["a", "b"])], "[a b]"),
        ];
        for (fmt, args, want) in cases {
            let args: Vec<(Value, GoKind)> = args.into_iter().map(|v| (v, GoKind::Any)).collect();
            assert_eq!(sprintf(fmt, &args), want, "{fmt}");
        }
    }

    #[test]
    fn json_like_go() {
        let cases: Vec<(Value, bool, &str)> = vec![
            (
                json!({"a": "<none>", "b": 1}),
                true,
                r#"{"a":"\u003cnone\u003e","b":1}"#,
            ),
            (json!({"a": "<none>"}), false, r#"{"a":"<none>"}"#),
            (json!("a&b"), true, r#""a\u0026b""#),
            (json!("line\nnext\u{1}"), false, r#""line\nnext\u0001""#),
            (json!("\u{2028}"), false, r#""\u2028""#),
            (json!(100.0), false, "100"),
            (json!(0.1), false, "0.1"),
            (json!(1e21), false, "1e+21"),
            (json!(1.5e-7), false, "1.5e-7"),
            (json!([1, null, true]), false, "[1,null,true]"),
        ];
        for (v, html, want) in cases {
            assert_eq!(go_json(&v, html), want, "{v}");
        }
    }
}
