//! [`call`] runs the template functions: Go's builtins (`len`, `index`, `printf`, `eq`...) and
//! the docker CLI's (`json`, `join`, `split`, `title`, `lower`, `upper`, `pad`, `truncate`), plus
//! the header variants the CLI uses to render a table's title row.

use serde_json::Value;

use super::exec::Val;
use crate::format::gofmt::{self, go_json, go_type_name, sprint, sprint_value, GoKind};

/// Which function table a template runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FuncSet {
    /// Rows: the docker CLI's `basicFunctions` on top of Go's builtins.
    Docker,
    /// Table headers: `json`, `split`, `join`, `title`, `lower`, `upper` and `truncate` return
    /// their first argument unchanged so the header text survives (`pad` still pads).
    Header,
}

const NAMES: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne", "json", "split", "join", "title",
    "lower", "upper", "pad", "truncate",
];

/// Whether `name` is a function templates may call.
pub(crate) fn has_func(name: &str) -> bool {
    NAMES.contains(&name)
}

type FResult = Result<Val, String>;

fn arity(name: &str, args: &[Val], want: usize) -> Result<(), String> {
    if args.len() != want {
        return Err(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn at_least(name: &str, args: &[Val], want: usize) -> Result<(), String> {
    if args.len() < want {
        return Err(format!(
            "wrong number of args for {name}: want at least {want} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn type_of(v: &Val) -> &'static str {
    match v {
        Val::Data(d, _) => go_type_name(d),
        _ => "<nil>",
    }
}

fn want_string(v: &Val) -> Result<String, String> {
    match v {
        Val::Data(Value::String(s), _) => Ok(s.clone()),
        Val::Missing => Err("invalid value; expected string".into()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            type_of(other)
        )),
    }
}

fn want_int(v: &Val) -> Result<i64, String> {
    match v {
        Val::Data(Value::Number(n), _) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or(0)),
        Val::Missing => Err("invalid value; expected int".into()),
        other => Err(format!(
            "wrong type for value; expected int; got {}",
            type_of(other)
        )),
    }
}

fn pair(v: &Val) -> (Value, GoKind) {
    match v {
        Val::Data(d, k) => (d.clone(), *k),
        _ => (Value::Null, GoKind::Any),
    }
}

/// Calls function `name`. Errors are the text after Go's `executing ... at <...>: `.
pub(crate) fn call(set: FuncSet, name: &str, args: Vec<Val>) -> FResult {
    if set == FuncSet::Header {
        let passthrough = match name {
            "json" | "title" | "lower" | "upper" => Some(1),
            "split" | "join" | "truncate" => Some(2),
            _ => None,
        };
        if let Some(n) = passthrough {
            arity(name, &args, n)?;
            let s = want_string(&args[0])?;
            if name == "truncate" {
                want_int(&args[1])?;
            } else if n == 2 {
                want_string(&args[1])?;
            }
            return Ok(Val::str(s));
        }
    }
    let wrap = |e: String| format!("error calling {name}: {e}");
    match name {
        "not" => {
            arity(name, &args, 1)?;
            Ok(Val::of(Value::Bool(!truth(&args[0]))))
        }
        "len" => {
            arity(name, &args, 1)?;
            length(&args[0])
                .map(|n| Val::of(Value::from(n)))
                .map_err(wrap)
        }
        "index" => {
            at_least(name, &args, 1)?;
            index(&args[0], &args[1..]).map_err(wrap)
        }
        "slice" => {
            at_least(name, &args, 1)?;
            slice(&args[0], &args[1..]).map_err(wrap)
        }
        "print" => Ok(Val::str(sprint(&args.iter().map(pair).collect::<Vec<_>>()))),
        "println" => Ok(Val::str(gofmt::sprintln(
            &args.iter().map(pair).collect::<Vec<_>>(),
        ))),
        "printf" => {
            at_least(name, &args, 1)?;
            let format = want_string(&args[0])?;
            let rest: Vec<(Value, GoKind)> = args[1..].iter().map(pair).collect();
            Ok(Val::str(gofmt::sprintf(&format, &rest)))
        }
        "html" => Ok(Val::str(html_escape(&eval_args_string(&args)))),
        "js" => Ok(Val::str(js_escape(&eval_args_string(&args)))),
        "urlquery" => Ok(Val::str(berth_go::query_escape(&eval_args_string(&args)))),
        "call" => {
            at_least(name, &args, 1)?;
            Err(wrap(format!("non-function of type {}", type_of(&args[0]))))
        }
        "eq" => {
            at_least(name, &args, 1)?;
            if args.len() == 1 {
                return Err(wrap("missing argument for comparison".into()));
            }
            let mut truth = false;
            for other in &args[1..] {
                if eq(&args[0], other).map_err(wrap)? {
                    truth = true;
                    break;
                }
            }
            Ok(Val::of(Value::Bool(truth)))
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            arity(name, &args, 2)?;
            let (a, b) = (&args[0], &args[1]);
            let r = match name {
                "ne" => eq(a, b).map(|t| !t),
                "lt" => lt(a, b),
                "le" => lt(a, b).and_then(|t| if t { Ok(true) } else { eq(a, b) }),
                "gt" => lt(a, b).and_then(|t| if t { Ok(false) } else { eq(a, b).map(|e| !e) }),
                _ => lt(a, b).map(|t| !t),
            };
            r.map(|t| Val::of(Value::Bool(t))).map_err(wrap)
        }
        "json" => {
            arity(name, &args, 1)?;
            let v = match &args[0] {
                Val::Data(d, _) => d.clone(),
                _ => Value::Null,
            };
            Ok(Val::str(go_json(&v, false)))
        }
        "split" => {
            arity(name, &args, 2)?;
            let s = want_string(&args[0])?;
            let sep = want_string(&args[1])?;
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                s.split(sep.as_str())
                    .map(|p| Value::String(p.to_string()))
                    .collect()
            };
            Ok(Val::Data(Value::Array(parts), GoKind::Slice))
        }
        "join" => {
            arity(name, &args, 2)?;
            let sep = want_string(&args[1])?;
            join(&args[0], &sep).map(Val::str).map_err(wrap)
        }
        "title" => {
            arity(name, &args, 1)?;
            Ok(Val::str(title(&want_string(&args[0])?)))
        }
        "lower" => {
            arity(name, &args, 1)?;
            Ok(Val::str(map_chars(&want_string(&args[0])?, false)))
        }
        "upper" => {
            arity(name, &args, 1)?;
            Ok(Val::str(map_chars(&want_string(&args[0])?, true)))
        }
        "pad" => {
            arity(name, &args, 3)?;
            let s = want_string(&args[0])?;
            let prefix = want_int(&args[1])?;
            let suffix = want_int(&args[2])?;
            if s.is_empty() {
                return Ok(Val::str(s));
            }
            let spaces = |n: i64| " ".repeat(n.max(0) as usize);
            Ok(Val::str(format!("{}{s}{}", spaces(prefix), spaces(suffix))))
        }
        "truncate" => {
            arity(name, &args, 2)?;
            let s = want_string(&args[0])?;
            let n = want_int(&args[1])?;
            if (s.len() as i64) < n {
                return Ok(Val::str(s));
            }
            let mut cut = n.max(0) as usize;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            Ok(Val::str(&s[..cut]))
        }
        _ => Err(format!("{name} is not a defined function")),
    }
}

fn truth(v: &Val) -> bool {
    match v {
        Val::Missing => false,
        Val::Root => true,
        Val::Typed(d, ty) => crate::format::gotypes::truth(d, ty),
        Val::Data(d, _) => match d {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        },
    }
}

fn length(v: &Val) -> Result<usize, String> {
    match v {
        Val::Data(Value::String(s), _) => Ok(s.len()),
        Val::Data(Value::Array(a), _) => Ok(a.len()),
        Val::Data(Value::Object(o), _) => Ok(o.len()),
        Val::Data(Value::Null, GoKind::Map | GoKind::StringMap | GoKind::Slice) => Ok(0),
        Val::Data(Value::Null, _) | Val::Missing => Err("len of nil pointer".into()),
        other => Err(format!("len of type {}", type_of(other))),
    }
}

fn int_index(idx: &Val, len: usize, cap: usize) -> Result<usize, String> {
    match idx {
        Val::Data(Value::Number(n), _) if n.as_i64().is_some() => {
            let i = n.as_i64().unwrap_or(0);
            if i < 0 || i as usize > cap {
                return Err(format!("index out of range: {i}"));
            }
            let _ = len;
            Ok(i as usize)
        }
        Val::Missing | Val::Data(Value::Null, _) => Err("cannot index slice/array with nil".into()),
        other => Err(format!(
            "cannot index slice/array with type {}",
            type_of(other)
        )),
    }
}

fn index(item: &Val, indexes: &[Val]) -> Result<Val, String> {
    let mut item = item.clone();
    if matches!(item, Val::Missing | Val::Data(Value::Null, GoKind::Any)) {
        return Err("index of untyped nil".into());
    }
    for idx in indexes {
        item = match item {
            Val::Data(Value::Array(a), _) => {
                let i = int_index(idx, a.len(), a.len())?;
                if i >= a.len() {
                    return Err(format!("index out of range: {i}"));
                }
                Val::of(a[i].clone())
            }
            Val::Data(Value::String(s), _) => {
                let i = int_index(idx, s.len(), s.len())?;
                if i >= s.len() {
                    return Err(format!("index out of range: {i}"));
                }
                Val::of(Value::from(s.as_bytes()[i]))
            }
            Val::Data(Value::Object(ref o), kind) => {
                let key = match idx {
                    Val::Data(Value::String(k), _) => k.clone(),
                    other => {
                        return Err(format!(
                            "value has type {}; should be string",
                            type_of(other)
                        ))
                    }
                };
                match o.get(&key) {
                    Some(v) => Val::Data(v.clone(), gofmt::go_kind_of_field(&key)),
                    None if kind == GoKind::StringMap => Val::str(""),
                    None => Val::Missing,
                }
            }
            Val::Data(Value::Null, GoKind::StringMap) => Val::str(""),
            Val::Data(Value::Null, GoKind::Map) => Val::Missing,
            Val::Data(Value::Null, GoKind::Slice) => {
                return Err(format!("index out of range: {}", sprint_idx(idx)))
            }
            Val::Missing | Val::Data(Value::Null, _) => return Err("index of nil pointer".into()),
            other => return Err(format!("can't index item of type {}", type_of(&other))),
        };
    }
    Ok(item)
}

fn sprint_idx(v: &Val) -> String {
    match v {
        Val::Data(d, k) => sprint_value(d, *k),
        _ => "<nil>".into(),
    }
}

fn slice(item: &Val, indexes: &[Val]) -> Result<Val, String> {
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let (len, is_str) = match item {
        Val::Data(Value::String(s), _) => (s.len(), true),
        Val::Data(Value::Array(a), _) => (a.len(), false),
        Val::Missing | Val::Data(Value::Null, _) => return Err("slice of untyped nil".into()),
        other => return Err(format!("can't slice item of type {}", type_of(other))),
    };
    if is_str && indexes.len() == 3 {
        return Err("cannot 3-index slice a string".into());
    }
    let mut idx = [0usize, len, len];
    for (i, v) in indexes.iter().enumerate() {
        idx[i] = int_index(v, len, len)?;
    }
    if indexes.len() < 3 {
        idx[2] = len;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match item {
        Val::Data(Value::String(s), _) => {
            Val::str(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned())
        }
        Val::Data(Value::Array(a), k) => Val::Data(Value::Array(a[idx[0]..idx[1]].to_vec()), *k),
        _ => unreachable!("checked above"),
    })
}

/// Go's basic kinds for comparisons.
#[derive(PartialEq, Clone, Copy)]
enum BasicKind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    String,
    Other,
}

fn basic_kind(v: &Val) -> BasicKind {
    match v {
        Val::Missing | Val::Data(Value::Null, _) => BasicKind::Invalid,
        Val::Root => BasicKind::Other,
        Val::Data(d, _) | Val::Typed(d, _) => match d {
            Value::Bool(_) => BasicKind::Bool,
            Value::Number(n) if n.is_f64() => BasicKind::Float,
            Value::Number(n) if n.as_i64().is_some() => BasicKind::Int,
            Value::Number(_) => BasicKind::Uint,
            Value::String(_) => BasicKind::String,
            _ => BasicKind::Other,
        },
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

fn num(v: &Val) -> &serde_json::Number {
    match v {
        Val::Data(Value::Number(n), _) => n,
        _ => unreachable!("numeric kind"),
    }
}

fn eq(a: &Val, b: &Val) -> Result<bool, String> {
    let (ka, kb) = (basic_kind(a), basic_kind(b));
    if ka != kb {
        return match (ka, kb) {
            (BasicKind::Int, BasicKind::Uint) | (BasicKind::Uint, BasicKind::Int) => Ok(false),
            (BasicKind::Invalid, _) | (_, BasicKind::Invalid) => Ok(false),
            _ => Err(BAD_COMPARISON.into()),
        };
    }
    Ok(match ka {
        BasicKind::Invalid => true,
        BasicKind::Bool | BasicKind::String => match (a, b) {
            (Val::Data(x, _), Val::Data(y, _)) => x == y,
            _ => false,
        },
        BasicKind::Int => num(a).as_i64() == num(b).as_i64(),
        BasicKind::Uint => num(a).as_u64() == num(b).as_u64(),
        BasicKind::Float => num(a).as_f64() == num(b).as_f64(),
        BasicKind::Other => {
            let shown = match b {
                Val::Data(d, k) => format!("{}: {}", sprint_value(d, *k), go_type_name(d)),
                _ => String::new(),
            };
            return Err(format!("non-comparable type {shown}"));
        }
    })
}

fn lt(a: &Val, b: &Val) -> Result<bool, String> {
    let (ka, kb) = (basic_kind(a), basic_kind(b));
    for k in [ka, kb] {
        if matches!(k, BasicKind::Invalid | BasicKind::Other) {
            return Err(BAD_COMPARISON_TYPE.into());
        }
    }
    if ka != kb {
        return match (ka, kb) {
            (BasicKind::Int, BasicKind::Uint) => Ok(true),
            (BasicKind::Uint, BasicKind::Int) => Ok(false),
            _ => Err(BAD_COMPARISON.into()),
        };
    }
    Ok(match ka {
        BasicKind::Bool => return Err(BAD_COMPARISON_TYPE.into()),
        BasicKind::Int => num(a).as_i64() < num(b).as_i64(),
        BasicKind::Uint => num(a).as_u64() < num(b).as_u64(),
        BasicKind::Float => num(a).as_f64() < num(b).as_f64(),
        BasicKind::String => match (a, b) {
            (Val::Data(Value::String(x), _), Val::Data(Value::String(y), _)) => x < y,
            _ => false,
        },
        BasicKind::Invalid | BasicKind::Other => unreachable!("rejected above"),
    })
}

fn join(elems: &Val, sep: &str) -> Result<String, String> {
    match elems {
        Val::Missing | Val::Data(Value::Null, _) => Ok(String::new()),
        Val::Data(Value::Array(a), _) => Ok(a
            .iter()
            .map(|e| sprint_value(e, GoKind::Any))
            .collect::<Vec<_>>()
            .join(sep)),
        Val::Data(Value::Object(o), _) => {
            let mut parts: Vec<String> = o
                .iter()
                .map(|(k, v)| sprint_value(v, gofmt::go_kind_of_field(k)))
                .collect();
            parts.sort();
            Ok(parts.join(sep))
        }
        other => Err(format!("expected slice, got {}", type_of(other))),
    }
}

/// Go's deprecated `strings.Title`: upper-cases the first letter of every word.
fn title(s: &str) -> String {
    let is_separator = |c: char| {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphanumeric() {
            return false;
        }
        c.is_whitespace()
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_separator(prev) {
                single_case(c, true)
            } else {
                c
            };
            prev = c;
            out
        })
        .collect()
}

/// Go's simple (one rune to one rune) case mapping.
fn single_case(c: char, upper: bool) -> char {
    let mut mapped: Vec<char> = if upper {
        c.to_uppercase().collect()
    } else {
        c.to_lowercase().collect()
    };
    if mapped.len() == 1 {
        mapped.remove(0)
    } else {
        c
    }
}

fn map_chars(s: &str, upper: bool) -> String {
    s.chars().map(|c| single_case(c, upper)).collect()
}

/// Go's `evalArgs` for html/js/urlquery: a lone string as is, else `fmt.Sprint`.
fn eval_args_string(args: &[Val]) -> String {
    if let [Val::Data(Value::String(s), _)] = args {
        return s.clone();
    }
    sprint(&args.iter().map(pair).collect::<Vec<_>>())
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(x: Value) -> Val {
        Val::of(x)
    }

    fn shown(r: FResult) -> Result<String, String> {
        r.map(|v| match v {
            Val::Data(d, k) => sprint_value(&d, k),
            Val::Missing => "<no value>".into(),
            Val::Root | Val::Typed(..) => "root".into(),
        })
    }

    #[test]
    fn functions() {
        let d = FuncSet::Docker;
        let cases: Vec<(&str, Vec<Val>, Result<&str, &str>)> = vec![
            ("len", vec![v(json!([1, 2]))], Ok("2")),
            ("len", vec![v(json!("héllo"))], Ok("6")),
            ("len", vec![Val::Data(Value::Null, GoKind::Slice)], Ok("0")),
            (
                "len",
                vec![v(json!(3))],
                Err("error calling len: len of type int"),
            ),
            (
                "len",
                vec![],
                Err("wrong number of args for len: want 1 got 0"),
            ),
            ("index", vec![v(json!({"k": "v"})), v(json!("k"))], Ok("v")),
            (
                "index",
                vec![v(json!({"k": "v"})), v(json!("x"))],
                Ok("<no value>"),
            ),
            (
                "index",
                vec![
                    Val::Data(json!({"k": "v"}), GoKind::StringMap),
                    v(json!("x")),
                ],
                Ok(""),
            ),
            (
                "index",
                vec![Val::Data(Value::Null, GoKind::StringMap), v(json!("x"))],
                Ok(""),
            ),
            ("index", vec![v(json!(["a", "b"])), v(json!(1))], Ok("b")),
            (
                "index",
                vec![v(json!(["a", "b"])), v(json!(5))],
                Err("error calling index: index out of range: 5"),
            ),
            (
                "index",
                vec![Val::Missing, v(json!(1))],
                Err("error calling index: index of untyped nil"),
            ),
            (
                "index",
                vec![v(json!([["x", "y"]])), v(json!(0)), v(json!(1))],
                Ok("y"),
            ),
            (
                "slice",
                vec![v(json!("abcdef")), v(json!(1)), v(json!(3))],
                Ok("bc"),
            ),
            ("slice", vec![v(json!([1, 2, 3])), v(json!(1))], Ok("[2 3]")),
            (
                "eq",
                vec![v(json!("a")), v(json!("b")), v(json!("a"))],
                Ok("true"),
            ),
            ("eq", vec![v(json!(1)), v(json!(1))], Ok("true")),
            (
                "eq",
                vec![v(json!(1)), v(json!("1"))],
                Err("error calling eq: incompatible types for comparison"),
            ),
            ("eq", vec![Val::Missing, v(json!("1"))], Ok("false")),
            ("eq", vec![Val::Missing, v(Value::Null)], Ok("true")),
            ("ne", vec![v(json!(true)), v(json!(false))], Ok("true")),
            ("lt", vec![v(json!(1)), v(json!(2))], Ok("true")),
            ("lt", vec![v(json!("b")), v(json!("a"))], Ok("false")),
            ("le", vec![v(json!(2)), v(json!(2))], Ok("true")),
            ("gt", vec![v(json!(2.5)), v(json!(1.5))], Ok("true")),
            ("ge", vec![v(json!(1)), v(json!(2))], Ok("false")),
            (
                "lt",
                vec![v(json!(true)), v(json!(false))],
                Err("error calling lt: invalid type for comparison"),
            ),
            (
                "lt",
                vec![v(json!(1)), v(json!(1.5))],
                Err("error calling lt: incompatible types for comparison"),
            ),
            ("not", vec![v(json!(""))], Ok("true")),
            (
                "print",
                vec![v(json!("a")), v(json!(1)), v(json!(2))],
                Ok("a1 2"),
            ),
            ("println", vec![v(json!("a")), v(json!(1))], Ok("a 1\n")),
            (
                "printf",
                vec![v(json!("%s-%d")), v(json!("x")), v(json!(3))],
                Ok("x-3"),
            ),
            ("json", vec![v(json!({"a": "<b>"}))], Ok(r#"{"a":"<b>"}"#)),
            ("json", vec![Val::Missing], Ok("null")),
            (
                "split",
                vec![v(json!("a,b,c")), v(json!(","))],
                Ok("[a b c]"),
            ),
            ("split", vec![v(json!("")), v(json!(","))], Ok("[]")),
            (
                "join",
                vec![v(json!(["sh", "-c", "x"])), v(json!(" "))],
                Ok("sh -c x"),
            ),
            ("join", vec![v(json!([1, 2])), v(json!(","))], Ok("1,2")),
            (
                "join",
                vec![v(json!({"b": "2", "a": "1"})), v(json!(","))],
                Ok("1,2"),
            ),
            ("join", vec![Val::Missing, v(json!(","))], Ok("")),
            (
                "join",
                vec![v(json!("abc")), v(json!(","))],
                Err("error calling join: expected slice, got string"),
            ),
            (
                "title",
                vec![v(json!("hello wide_world-x"))],
                Ok("Hello Wide_world-X"),
            ),
            ("lower", vec![v(json!("ÀB"))], Ok("àb")),
            ("upper", vec![v(json!("straße"))], Ok("STRAßE")),
            (
                "upper",
                vec![v(json!(3))],
                Err("wrong type for value; expected string; got int"),
            ),
            (
                "pad",
                vec![v(json!("x")), v(json!(1)), v(json!(2))],
                Ok(" x  "),
            ),
            ("pad", vec![v(json!("")), v(json!(1)), v(json!(2))], Ok("")),
            ("truncate", vec![v(json!("abcdef")), v(json!(3))], Ok("abc")),
            ("truncate", vec![v(json!("ab")), v(json!(3))], Ok("ab")),
            (
                "html",
                vec![v(json!("<a href='x'>"))],
                Ok("&lt;a href=&#39;x&#39;&gt;"),
            ),
            ("urlquery", vec![v(json!("a b&c"))], Ok("a+b%26c")),
            ("js", vec![v(json!("a'b<"))], Ok("a\\'b\\u003C")),
        ];
        for (name, args, want) in cases {
            let got = shown(call(d, name, args));
            // split of "" gives [""], which prints as "[]".
            assert_eq!(
                got,
                want.map(str::to_string).map_err(str::to_string),
                "{name}"
            );
        }
    }

    #[test]
    fn header_functions_keep_header_text() {
        let h = FuncSet::Header;
        let cases: Vec<(&str, Vec<Val>, &str)> = vec![
            ("json", vec![Val::str("NAME")], "NAME"),
            ("lower", vec![Val::str("NAME")], "NAME"),
            ("upper", vec![Val::str("Name")], "Name"),
            ("title", vec![Val::str("NAME")], "NAME"),
            ("split", vec![Val::str("NAME"), Val::str(",")], "NAME"),
            ("join", vec![Val::str("NAME"), Val::str(",")], "NAME"),
            (
                "truncate",
                vec![Val::str("CONTAINER ID"), v(json!(3))],
                "CONTAINER ID",
            ),
            (
                "pad",
                vec![Val::str("NAME"), v(json!(1)), v(json!(1))],
                " NAME ",
            ),
        ];
        for (name, args, want) in cases {
            assert_eq!(shown(call(h, name, args)).unwrap(), want, "{name}");
        }
    }
}
