//! [`Template`] is a Go `text/template` interpreter for `--format`, with the docker CLI's extra
//! functions (`json`, `join`, `split`, `title`, `lower`, `upper`, `pad`, `truncate`); it runs over
//! any [`TemplateData`]: plain JSON (`docker inspect`) or a [`Row`] of a listing, whose computed
//! methods take arguments (`{{.Label "com.x"}}`).
//!
//! Why not the `gtmpl` crate: gtmpl 0.7 refuses arguments to anything reached through a field
//! (`X has arguments but cannot be invoked as function`), so `{{.Label "k"}}` is impossible; it
//! prints slices and maps in Rust's form rather than Go's `[a b]`/`map[k:v]`; and its error texts
//! are not Go's. Docker users' templates depend on all three, so this is a small interpreter of
//! the whole language (actions, pipelines, variables, `if`/`with`/`range` with `else`,
//! `break`/`continue`, `define`/`template`/`block`, comments and `{{-`/`-}}` trimming) written
//! against Go's documented semantics.
//!
//! Values are `serde_json::Value`s. JSON objects behave like Go maps (a missing key prints
//! `<no value>`), except on a [`Row`], which behaves like the CLI's Go structs: an unknown field
//! is an error (`can't evaluate field Foo in type *formatter.volumeContext`). JSON `null` prints
//! `map[]`, `[]` or `<nil>` depending on the field's Go type
//! ([`crate::format::gofmt::go_kind_of_field`]).

mod exec;
mod funcs;
mod lex;
mod parse;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use funcs::FuncSet;

/// A template that failed to parse or to execute. The texts are Go's, e.g.
/// `template: :1: unexpected "}" in operand` or
/// `template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type ...`; the docker CLI
/// puts `template parsing error: ` in front (see [`crate::format::FormatError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template text is not valid.
    #[error("{0}")]
    Parse(String),
    /// Execution stopped (unknown field, bad function argument...).
    #[error("{0}")]
    Exec(String),
}

/// Data a template runs over.
pub trait TemplateData {
    /// The data as JSON: where fields are looked up, what `{{json .}}` and `{{.}}` print.
    fn to_value(&self) -> Value;

    /// Calls the computed method `name` with `args` (`{{.Label "k"}}`; also `{{.Label}}` with no
    /// arguments). `None` means there is no such method and fields are tried. An `Err` text is
    /// reported after `executing "" at <.Label>: `.
    fn call(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        None
    }

    /// The Go type name to report when the data is struct-like, so that an unknown field is an
    /// error; `None` gives Go map semantics (an unknown field prints `<no value>`).
    fn struct_name(&self) -> Option<&str> {
        None
    }

    /// Whether `{{json .}}` escapes `<`, `>` and `&` like `json.Marshal` (Docker's listing rows
    /// do: `"\u003cnone\u003e"`).
    fn json_escapes_html(&self) -> bool {
        false
    }
}

impl TemplateData for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

/// A computed method of a [`Row`].
type Method = Box<dyn Fn(&[Value]) -> Result<Value, String>>;

/// One row of a listing (`docker volume ls`, `docker ps`...): named fields, like the niladic
/// methods of the docker CLI's formatter contexts, plus methods with arguments.
///
/// ```
/// use berth_cli::format::{Row, Template};
/// let row = Row::new("*formatter.volumeContext")
///     .field("Name", "data")
///     .field("Driver", "local")
///     .labels([("com.x".to_string(), "1".to_string())].into_iter().collect());
/// let t = Template::parse(r#"{{.Name}} {{.Label "com.x"}} {{.Labels}}"#).unwrap();
/// assert_eq!(t.execute(&row).unwrap(), "data 1 com.x=1");
/// ```
pub struct Row {
    type_name: String,
    fields: BTreeMap<String, Value>,
    methods: BTreeMap<String, (usize, Method)>,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("type_name", &self.type_name)
            .field("fields", &self.fields)
            .field("methods", &self.methods.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Row {
    /// An empty row; `type_name` appears in unknown-field errors (Docker's read
    /// `*formatter.volumeContext`, `*formatter.ContainerContext`...).
    pub fn new(type_name: impl Into<String>) -> Row {
        Row {
            type_name: type_name.into(),
            fields: BTreeMap::new(),
            methods: BTreeMap::new(),
        }
    }

    /// Adds or replaces a field.
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Row {
        self.set(name, value);
        self
    }

    /// Adds or replaces a field in place.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        self.fields.insert(name.to_string(), value.into());
    }

    /// Adds a method taking exactly `nargs` arguments. Wrong counts fail with Go's
    /// `wrong number of args for NAME: want N got M`.
    pub fn method(
        mut self,
        name: &str,
        nargs: usize,
        f: impl Fn(&[Value]) -> Result<Value, String> + 'static,
    ) -> Row {
        self.methods.insert(name.to_string(), (nargs, Box::new(f)));
        self
    }

    /// Adds Docker's label accessors: field `Labels` (sorted `k=v` joined by `,`, `k=` for an empty
    /// value, empty without labels) and method `Label "k"` (the value, or `""`).
    pub fn labels(self, labels: BTreeMap<String, String>) -> Row {
        let joined: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.field("Labels", joined.join(","))
            .method("Label", 1, move |args| match &args[0] {
                Value::String(k) => Ok(Value::String(labels.get(k).cloned().unwrap_or_default())),
                other => Err(format!(
                    "wrong type for value; expected string; got {}",
                    crate::format::gofmt::go_type_name(other)
                )),
            })
    }

    /// The value of a field, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }
}

impl TemplateData for Row {
    fn to_value(&self) -> Value {
        let map: Map<String, Value> = self
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Value::Object(map)
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let (nargs, f) = self.methods.get(name)?;
        if args.len() != *nargs {
            return Some(Err(format!(
                "wrong number of args for {name}: want {nargs} got {}",
                args.len()
            )));
        }
        Some(f(args))
    }

    fn struct_name(&self) -> Option<&str> {
        Some(&self.type_name)
    }

    fn json_escapes_html(&self) -> bool {
        true
    }
}

/// The data a table's title row is rendered from: field name → header text, with Go map
/// semantics and the CLI's `Label` method (`{{.Label "com.example.my-label"}}` → `my label`).
pub(crate) struct HeaderData<'a> {
    pub headers: &'a [(&'a str, &'a str)],
}

impl TemplateData for HeaderData<'_> {
    fn to_value(&self) -> Value {
        let map: Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        Value::Object(map)
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if name != "Label" {
            return None;
        }
        Some(match args {
            [Value::String(label)] => {
                let last = label.rsplit('.').next().unwrap_or_default();
                Ok(Value::String(last.replace(['-', '_'], " ")))
            }
            [other] => Err(format!(
                "wrong type for value; expected string; got {}",
                crate::format::gofmt::go_type_name(other)
            )),
            _ => Err(format!(
                "wrong number of args for Label: want 1 got {}",
                args.len()
            )),
        })
    }
}

/// A parsed Go template.
#[derive(Debug, Clone)]
pub struct Template {
    text: String,
    tree: parse::Tree,
}

impl Template {
    /// Parses `text` with the docker CLI's function set (`templates.Parse`).
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let tree = parse::parse(text, &funcs::has_func).map_err(TemplateError::Parse)?;
        Ok(Template {
            text: text.to_string(),
            tree,
        })
    }

    /// Runs the template over `data` and returns the output.
    pub fn execute(&self, data: &dyn TemplateData) -> Result<String, TemplateError> {
        let (out, r) = exec::execute(
            &self.text,
            &self.tree,
            data,
            FuncSet::Docker,
            exec::MissingKey::Map,
        );
        r.map(|_| out).map_err(TemplateError::Exec)
    }

    /// Runs the template as the docker CLI runs `inspect --format`: over Docker's typed structs
    /// first (an unknown field is an error naming `type_name`; a map's missing key prints
    /// `<no value>`; `{{.SizeRw}}` without sizes prints `<nil>`), then, if that failed and
    /// `raw_fallback` is set, over the plain JSON with `missingkey=error`, whose error is the one
    /// reported (`map has no entry for key "Foo"`).
    pub fn execute_inspect(
        &self,
        data: &Value,
        type_name: &str,
        raw_fallback: bool,
    ) -> Result<String, TemplateError> {
        let typed = exec::MissingKey::Typed(type_name.to_string());
        let (out, r) = exec::execute(&self.text, &self.tree, data, FuncSet::Docker, typed);
        match r {
            Ok(()) => Ok(out),
            Err(e) if !raw_fallback => Err(TemplateError::Exec(e)),
            Err(_) => {
                let strict = exec::MissingKey::Error;
                let (out, r) = exec::execute(&self.text, &self.tree, data, FuncSet::Docker, strict);
                r.map(|_| out).map_err(TemplateError::Exec)
            }
        }
    }

    /// Runs the template over a table's header map. Like the docker CLI, a failure is ignored and
    /// whatever was rendered up to it is the header.
    pub(crate) fn execute_header(&self, headers: &[(&str, &str)]) -> String {
        let data = HeaderData { headers };
        exec::execute(
            &self.text,
            &self.tree,
            &data,
            FuncSet::Header,
            exec::MissingKey::Map,
        )
        .0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(src: &str, data: &dyn TemplateData) -> Result<String, String> {
        Template::parse(src)
            .map_err(|e| e.to_string())?
            .execute(data)
            .map_err(|e| e.to_string())
    }

    fn container() -> Value {
        json!({
            "Id": "4f2a9c",
            "Name": "/web",
            "Config": {
                "Cmd": ["sh", "-c", "x"],
                "Env": null,
                "Labels": {"com.b": "2", "com.a": "1"},
                "Healthcheck": null,
                "Volumes": null,
            },
            "State": {"Running": true, "ExitCode": 0, "Status": "running", "Pid": 1234},
            "Mounts": [
                {"Type": "volume", "Source": "/var/lib/berth/volumes/v/_data", "Destination": "/v", "RW": true},
                {"Type": "bind", "Source": "/host", "Destination": "/b", "RW": false},
            ],
            "HostConfig": {"Binds": null, "Memory": 0, "NanoCpus": 1.5},
            "Size": 1000000.0,
        })
    }

    /// What Docker users write, over `docker inspect`-style JSON (Go map semantics).
    #[test]
    fn inspect_style_templates() {
        let data = container();
        let cases: Vec<(&str, &str)> = vec![
            ("{{.Name}}", "/web"),
            ("{{.Config.Cmd}}", "[sh -c x]"),
            ("{{.Config.Labels}}", "map[com.a:1 com.b:2]"),
            ("{{.Config.Env}}", "[]"),
            ("{{.Config.Volumes}}", "map[]"),
            ("{{.Config.Healthcheck}}", "<nil>"),
            ("{{.HostConfig.Binds}}", "[]"),
            ("{{.Missing}}", "<no value>"),
            ("{{.Missing.Deeper}}", "<no value>"),
            ("{{.Config.Healthcheck.Test}}", "<no value>"),
            ("{{json .Config.Labels}}", r#"{"com.b":"2","com.a":"1"}"#),
            ("{{json .Config.Cmd}}", r#"["sh","-c","x"]"#),
            ("{{join .Config.Cmd \" \"}}", "sh -c x"),
            ("{{range .Mounts}}{{.Source}} {{end}}", "/var/lib/berth/volumes/v/_data /host "),
            ("{{range $i, $m := .Mounts}}{{$i}}={{$m.Destination}};{{end}}", "0=/v;1=/b;"),
            ("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}", "com.a:1,com.b:2,"),
            ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
            ("{{if not .State.Running}}up{{else}}down{{end}}", "down"),
            ("{{if eq .State.ExitCode 0}}ok{{end}}", "ok"),
            ("{{if and .State.Running (gt .State.Pid 1)}}yes{{end}}", "yes"),
            ("{{if or .Missing .Name}}{{.Name}}{{end}}", "/web"),
            ("{{index .Config.Labels \"com.a\"}}", "1"),
            ("{{index .Config.Labels \"nope\"}}", ""),
            ("{{printf \"%s:%d\" .Name .State.Pid}}", "/web:1234"),
            ("{{.Name | printf \"%q\"}}", "\"/web\""),
            ("{{lower \"ABC\"}} {{upper .State.Status}} {{title \"hello world\"}}", "abc RUNNING Hello World"),
            ("{{split \"a,b\" \",\"}}", "[a b]"),
            ("{{truncate .Id 3}}", "4f2"),
            ("{{pad .Name 1 1}}|", " /web |"),
            ("{{println .Name}}", "/web\n"),
            ("{{len .Mounts}}", "2"),
            ("{{$x := .Name}}{{$x}}", "/web"),
            ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
            ("{{with .State}}{{.Status}}{{end}}", "running"),
            ("{{with .Missing}}x{{else}}none{{end}}", "none"),
            ("{{with .Missing}}x{{else with .State}}{{.Pid}}{{end}}", "1234"),
            ("{{if .Missing}}a{{else if .Name}}b{{else}}c{{end}}", "b"),
            ("a  {{- .Name -}}  b", "a/webb"),
            ("{{/* comment */}}x", "x"),
            ("{{\"lit\"}} {{`raw`}} {{42}} {{1.5}} {{1e3}} {{true}} {{'a'}}", "lit raw 42 1.5 1000 true 97"),
            ("{{.Size}}", "1e+06"),
            ("{{.HostConfig.NanoCpus}}", "1.5"),
            ("{{range .Mounts}}{{if not .RW}}{{break}}{{end}}{{.Type}}{{end}}", "volume"),
            ("{{range .Mounts}}{{if .RW}}{{continue}}{{end}}{{.Type}}{{end}}", "bind"),
            ("{{range .Config.Env}}x{{else}}empty{{end}}", "empty"),
            ("{{range 3}}{{.}}{{end}}", "012"),
            ("{{define \"m\"}}<{{.Destination}}>{{end}}{{range .Mounts}}{{template \"m\" .}}{{end}}", "</v></b>"),
            ("{{block \"b\" .Name}}[{{.}}]{{end}}", "[/web]"),
            ("{{(index .Mounts 1).Source}}", "/host"),
            ("{{$.Name}}{{range .Mounts}}{{$.Name}}{{end}}", "/web/web/web"),
            ("{{.State.Status | len}}", "7"),
            ("{{slice .Name 1 3}}", "we"),
            ("{{html \"<x>\"}}", "&lt;x&gt;"),
        ];
        for (src, want) in cases {
            assert_eq!(run(src, &data), Ok(want.to_string()), "{src}");
        }
    }

    /// `docker volume inspect --format` over spec §2.4's objects.
    #[test]
    fn volume_inspect_templates() {
        let plain = json!({"CreatedAt": "2026-11-22T13:57:59Z", "Driver": "local", "Labels": null,
            "Mountpoint": "/var/lib/docker/volumes/spec-v1/_data", "Name": "spec-v1", "Options": null,
            "Scope": "local"});
        let labelled = json!({"Driver": "local", "Labels": {"spec.a": "1", "spec.b": ""},
            "Name": "spec-v5", "Options": {"device": "tmpfs", "o": "size=10m,uid=1000", "type": "tmpfs"}});
        let cases: Vec<(&Value, &str, &str)> = vec![
            (&plain, "{{.Labels}}", "map[]"),
            (&plain, "{{.Options}}", "map[]"),
            (&plain, "{{json .Labels}}", "null"),
            (&plain, "{{len .Labels}}", "0"),
            (&plain, "{{index .Labels \"x\"}}|", "|"),
            (
                &plain,
                "{{range $k, $v := .Labels}}x{{else}}none{{end}}",
                "none",
            ),
            (
                &plain,
                "{{.Name}} {{.Driver}} {{.Scope}} {{.Mountpoint}}",
                "spec-v1 local local /var/lib/docker/volumes/spec-v1/_data",
            ),
            (&plain, "{{.Status}}", "<no value>"),
            (&labelled, "{{.Labels}}", "map[spec.a:1 spec.b:]"),
            (
                &labelled,
                "{{.Options}}",
                "map[device:tmpfs o:size=10m,uid=1000 type:tmpfs]",
            ),
            (&labelled, "{{index .Labels \"spec.a\"}}", "1"),
            (&labelled, "{{.Labels.spec}}", "<no value>"),
            (
                &labelled,
                "{{json .}}",
                r#"{"Driver":"local","Labels":{"spec.a":"1","spec.b":""},"Name":"spec-v5","Options":{"device":"tmpfs","o":"size=10m,uid=1000","type":"tmpfs"}}"#,
            ),
        ];
        for (data, src, want) in cases {
            assert_eq!(run(src, data), Ok(want.to_string()), "{src}");
        }
    }

    #[test]
    fn exec_errors_like_go() {
        let data = container();
        let row = Row::new("*formatter.volumeContext").field("Name", "v");
        let cases: Vec<(&str, &dyn TemplateData, &str)> = vec![
            (
                "{{nil}}",
                &data,
                r#"template: :1:2: executing "" at <nil>: nil is not a command"#,
            ),
            (
                "{{.Foo}}",
                &row,
                r#"template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type *formatter.volumeContext"#,
            ),
            (
                "{{.Name \"x\"}}",
                &row,
                r#"template: :1:2: executing "" at <.Name>: wrong number of args for Name: want 0 got 1"#,
            ),
            (
                "{{.Name.X}}",
                &data,
                r#"template: :1:7: executing "" at <.Name.X>: can't evaluate field X in type string"#,
            ),
            (
                "{{.Name 1}}",
                &data,
                r#"template: :1:2: executing "" at <.Name>: Name is not a method but has arguments"#,
            ),
            (
                "x\n {{len 3}}",
                &data,
                r#"template: :2:3: executing "" at <len>: error calling len: len of type int"#,
            ),
            (
                "{{lower 3}}",
                &data,
                r#"template: :1:2: executing "" at <lower>: wrong type for value; expected string; got int"#,
            ),
            (
                "{{range .Name}}{{end}}",
                &data,
                r#"template: :1:8: executing "" at <{{range .Name}}>: range can't iterate over /web"#,
            ),
            (
                "{{template \"x\"}}",
                &data,
                r#"template: :1:11: executing "" at <{{template "x"}}>: template "x" not defined"#,
            ),
            (
                "{{3 4}}",
                &data,
                r#"template: :1:2: executing "" at <3>: can't give argument to non-function 3"#,
            ),
        ];
        for (src, d, want) in cases {
            assert_eq!(run(src, d), Err(want.to_string()), "{src}");
        }
    }

    #[test]
    fn parse_errors_like_go() {
        let cases = [
            ("{{.Name}", "template: :1: bad character U+007D '}'"),
            ("{{.Name }", r#"template: :1: unexpected "}" in operand"#),
            (
                "{{InvalidFunction}}",
                r#"template: :1: function "InvalidFunction" not defined"#,
            ),
            ("{{if .X}}", "template: :1: unexpected EOF"),
        ];
        for (src, want) in cases {
            assert_eq!(
                Template::parse(src).unwrap_err(),
                TemplateError::Parse(want.into())
            );
        }
    }

    #[test]
    fn rows_methods_and_json() {
        let labels: BTreeMap<String, String> = [("com.x", "1"), ("empty", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let row = Row::new("*formatter.volumeContext")
            .field("Name", "v1")
            .field("Driver", "local")
            .field("Repository", "<none>")
            .labels(labels);
        let cases: Vec<(&str, Result<&str, &str>)> = vec![
            ("{{.Label \"com.x\"}}", Ok("1")),
            ("{{.Label \"nope\"}}", Ok("")),
            ("{{.Labels}}", Ok("com.x=1,empty=")),
            ("{{$.Label \"com.x\"}}", Ok("1")),
            ("{{\"com.x\" | .Label}}", Ok("1")),
            (
                "{{json .}}",
                Ok(
                    r#"{"Driver":"local","Labels":"com.x=1,empty=","Name":"v1","Repository":"\u003cnone\u003e"}"#,
                ),
            ),
            ("{{json .Repository}}", Ok(r#""<none>""#)),
            (
                "{{.Label}}",
                Err(
                    r#"template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0"#,
                ),
            ),
            (
                "{{.Label 3}}",
                Err(
                    r#"template: :1:2: executing "" at <.Label>: wrong type for value; expected string; got int"#,
                ),
            ),
        ];
        for (src, want) in cases {
            assert_eq!(
                run(src, &row),
                want.map(str::to_string).map_err(str::to_string),
                "{src}"
            );
        }
    }

    #[test]
    fn header_rendering() {
        let headers = [
            ("Name", "VOLUME NAME"),
            ("Driver", "DRIVER"),
            ("CreatedSince", "CREATED"),
        ];
        let cases = [
            ("{{.Driver}}\t{{.Name}}", "DRIVER\tVOLUME NAME"),
            ("{{.Label \"com.example.my-label_x\"}}", "my label x"),
            (
                "{{upper .Name}}|{{json .Driver}}|{{truncate .Name 3}}",
                "VOLUME NAME|DRIVER|VOLUME NAME",
            ),
            ("{{pad .Name 1 1}}", " VOLUME NAME "),
            ("{{.Unknown}}", "<no value>"),
            (
                "{{if .CreatedSince}}{{.CreatedSince}}{{else}}N/A{{end}}",
                "CREATED",
            ),
            ("{{.Name}} {{len 3}} {{.Driver}}", "VOLUME NAME "),
        ];
        for (src, want) in cases {
            let t = Template::parse(src).unwrap();
            assert_eq!(t.execute_header(&headers), want, "{src}");
        }
    }

    /// `inspect -f` over Docker's typed structs (issue 18 #3): a struct's unknown field fails (the
    /// raw pass's words when there is one), a field berth's JSON omits prints Go's zero value, a
    /// map's missing key is `<no value>`, a nil pointer `<nil>` and walking into it fails.
    #[test]
    fn inspect_fields_follow_dockers_structs() {
        use crate::format::gotypes;
        let container = json!({
            "Id": "4f2a",
            "Name": "/c",
            "State": {"Status": "running", "Running": true},
            "Config": {"Image": "busybox", "Labels": {"a": "b"},
                "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1500000000}},
            "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {}}, "NanoCpus": 0},
            "NetworkSettings": {"Networks": {"bridge": {"IPAMConfig": null, "IPAddress": "10.0.0.2"}}},
            "Mounts": [{"Type": "bind", "Source": "/h", "Destination": "/b", "RW": true}],
        });
        let run = |data: &Value, ty: &str, src: &str, raw: bool| {
            Template::parse(src)
                .unwrap()
                .execute_inspect(data, ty, raw)
                .map_err(|e| e.to_string())
        };
        let ok = [
            ("{{.State.Status}} {{.State.Running}} {{.State.Paused}}", "running true false"),
            ("{{.HostConfig.Mounts}} {{.HostConfig.Binds}} {{.Config.ExposedPorts}}", "[] [] map[]"),
            ("{{.Config.Labels.a}} {{.Config.Labels.x}}", "b <no value>"),
            ("{{.HostConfig.LogConfig.Config.x}} {{.HostConfig.NanoCPUs}}", "<no value> 0"),
            ("{{.NetworkSettings.Networks.x}} {{.NetworkSettings.IPAddress}}|", "<no value> |"),
            ("{{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Networks.bridge.IPAMConfig}}", "10.0.0.2 <nil>"),
            ("{{.State.Health}} {{.SizeRw}} {{.Config.StopTimeout}}", "<nil> <nil> <nil>"),
            // the typed pass knows `ID`, the raw one `Id`; each works alone
            ("{{.ID}}", "4f2a"),
            ("{{.Id}}", "4f2a"),
            ("{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Timeout}}", "1.5s 0s"),
            ("{{range .Mounts}}{{.Name}}|{{.Driver}}|{{.Source}}{{end}}", "||/h"),
            ("{{.HostConfig.RestartPolicy}}", "{ 0}"),
            ("{{if .HostConfig.RestartPolicy}}y{{end}}{{with .State.Health}}h{{else}}n{{end}}", "yn"),
            ("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}}{{end}}", "bridge=10.0.0.2"),
        ];
        for (src, want) in ok {
            assert_eq!(
                run(&container, gotypes::CONTAINER, src, true).as_deref(),
                Ok(want),
                "{src}"
            );
        }
        let failing = [
            (
                "{{.State.Nope}}",
                r#"template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope""#,
            ),
            (
                "{{.Config.Nope}}",
                r#"template: :1:9: executing "" at <.Config.Nope>: map has no entry for key "Nope""#,
            ),
            (
                "{{.HostConfig.LogConfig.Nope}}",
                r#"template: :1:13: executing "" at <.HostConfig.LogConfig.Nope>: map has no entry for key "Nope""#,
            ),
            (
                "{{.State.Health.Status}}",
                r#"template: :1:8: executing "" at <.State.Health.Status>: map has no entry for key "Health""#,
            ),
            (
                "{{.Mounts.Nope}}",
                r#"template: :1:9: executing "" at <.Mounts.Nope>: can't evaluate field Nope in type interface {}"#,
            ),
            (
                "{{.NetworkSettings.Networks.bridge.IPAMConfig.X}}",
                r#"template: :1:18: executing "" at <.NetworkSettings.Networks.bridge.IPAMConfig.X>: nil pointer evaluating interface {}.X"#,
            ),
        ];
        for (src, want) in failing {
            assert_eq!(
                run(&container, gotypes::CONTAINER, src, true),
                Err(want.to_string()),
                "{src}"
            );
        }
        // Without the raw fallback (volume inspect): the typed pass's own words.
        let volume = json!({"Name": "v", "Driver": "local", "Labels": null});
        let typed = [
            (
                "{{.UsageData.Size}}",
                "nil pointer evaluating *volume.UsageData.Size",
            ),
            (
                "{{.UsageData.Nope}}",
                "can't evaluate field Nope in type *volume.UsageData",
            ),
            (
                "{{.Nope}}",
                "can't evaluate field Nope in type volume.Volume",
            ),
            ("{{.Name.Nope}}", "can't evaluate field Nope in type string"),
        ];
        for (src, want) in typed {
            let err = run(&volume, gotypes::VOLUME, src, false).unwrap_err();
            assert!(err.ends_with(want), "{src}: {err}");
        }
        assert_eq!(
            run(
                &volume,
                gotypes::VOLUME,
                "{{.Labels.x}} {{.Options}} {{.UsageData}} {{.Status}}",
                false
            )
            .as_deref(),
            Ok("<no value> map[] <nil> map[]")
        );
        let image = json!({"Id": "sha256:1", "Config": {"Cmd": ["sh"]},
            "Metadata": {"LastTagTime": "2026-12-06T06:02:07.944845788Z"}});
        assert_eq!(
            run(&image, gotypes::IMAGE, "{{.Config.Shell}} {{.Config.Cmd}} {{.Metadata.LastTagTime}} {{.Metadata}}", true).as_deref(),
            Ok("[] [sh] 2026-12-06 06:02:07.944845788 +0000 UTC {2026-12-06 06:02:07.944845788 +0000 UTC}")
        );
        assert_eq!(
            run(&image, gotypes::IMAGE, "{{.Metadata.Nope}}", true),
            Err(r#"template: :1:11: executing "" at <.Metadata.Nope>: map has no entry for key "Nope""#.to_string())
        );
    }
}
