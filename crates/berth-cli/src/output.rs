//! The one place commands print structured output through: listings via
//! [`crate::format::Formatter`] (`table`, `json`, Go templates, `-q`), inspect arrays (indented
//! JSON like docker's, or a template per object), and Go-style error texts.

use std::io::{self, Write};

use crate::error::CliError;
use crate::format::{Formatter, ListFormat, Row, Template};

impl From<crate::format::FormatError> for CliError {
    fn from(e: crate::format::FormatError) -> Self {
        CliError::usage(e.to_string())
    }
}

/// Prints listing rows per `--format` (`None` = the default table) and `-q`.
pub fn print_list(
    rows: &[Row],
    format: Option<&str>,
    quiet: bool,
    spec: &ListFormat,
) -> Result<(), CliError> {
    let f = Formatter::new(format.unwrap_or(""), quiet, spec)?;
    f.write(&mut io::stdout().lock(), rows)?;
    Ok(())
}

/// Prints inspect results: a JSON array indented like docker's, or one template line per item.
pub fn print_inspect(items: &[serde_json::Value], format: Option<&str>) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match format {
        Some(f) => {
            let template = Template::parse(&crate::format::template_string(f))
                .map_err(|e| CliError::usage(format!("template parsing error: {e}")))?;
            for item in items {
                let text = template
                    .execute(item)
                    .map_err(|e| CliError::usage(format!("template parsing error: {e}")))?;
                writeln!(out, "{text}")?;
            }
        }
        None => writeln!(out, "{}", inspect_json(items))?,
    }
    Ok(())
}

/// Docker's inspect layout: 4-space indentation, and `<`, `>`, `&` escaped as Go's
/// `json.Marshal` does (`"\u003cnone\u003e"`).
pub fn inspect_json(items: &[serde_json::Value]) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(&items, &mut ser).expect("values serialize");
    String::from_utf8(buf)
        .expect("json is utf-8")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Prints one value through a Go template (`info --format`, `version --format`).
pub fn print_template(format: &str, data: &serde_json::Value) -> Result<(), CliError> {
    print_inspect(std::slice::from_ref(data), Some(format))
}

/// `CreatedAt` as docker prints it: `2026-11-24 10:36:55 +0000 UTC`.
pub fn docker_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string()
}

/// An I/O error as Go prints it (`no such file or directory`).
pub fn io_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let s = io::Error::from_raw_os_error(code).to_string();
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
        None => e.to_string(),
    }
}
