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

/// A template the docker CLI could not parse: exit 64 (`inspect`, `info` and `version`).
fn template_parse_error(e: crate::format::TemplateError) -> CliError {
    CliError::usage(format!("template parsing error: {e}")).with_exit(crate::exit::Exit::Usage)
}

/// Prints inspect results in the order asked for: a JSON array of the objects found, indented
/// like docker's, or one template line per object; then each failure (`Error: No such object:
/// x`, or a template that failed on that object). As in the docker CLI, a template that printed
/// nothing at all still prints one empty line. Each object comes with the Go type the docker CLI
/// decodes it into (`container.InspectResponse`...); `raw_fallback` is false for the commands
/// that have no raw-JSON fallback (`volume inspect`); see [`Template::execute_inspect`].
pub fn print_inspect(
    items: &[Result<(serde_json::Value, &'static str), String>],
    format: Option<&str>,
    raw_fallback: bool,
) -> Result<crate::exit::Exit, CliError> {
    let mut out = io::stdout().lock();
    let mut errors = Vec::new();
    match format {
        Some(f) => {
            let template = Template::parse(&crate::format::template_string(f))
                .map_err(template_parse_error)?;
            let mut text = String::new();
            for item in items {
                let one = match item {
                    Ok((v, go_type)) => template
                        .execute_inspect(v, go_type, raw_fallback)
                        .map_err(|e| format!("template parsing error: {e}")),
                    Err(line) => Err(line.clone()),
                };
                match one {
                    Ok(t) => {
                        text.push_str(&t);
                        text.push('\n');
                    }
                    Err(e) => errors.push(e),
                }
            }
            if text.is_empty() {
                text.push('\n');
            }
            out.write_all(text.as_bytes())?;
        }
        None => {
            let found: Vec<serde_json::Value> =
                items.iter().flatten().map(|(v, _)| v.clone()).collect();
            errors.extend(items.iter().filter_map(|i| i.as_ref().err().cloned()));
            writeln!(out, "{}", inspect_json(&found))?;
        }
    }
    out.flush()?;
    if errors.is_empty() {
        return Ok(crate::exit::Exit::Ok);
    }
    Err(CliError::usage(errors.join("\n")))
}

/// Docker's inspect layout: 4-space indentation, and `<`, `>`, `&`, U+2028 and U+2029 escaped
/// as Go's `json.Marshal` does (`"\u003cnone\u003e"`).
pub fn inspect_json(items: &[serde_json::Value]) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(&items, &mut ser).expect("values serialize");
    berth_go::json::marshal_escapes(&String::from_utf8(buf).expect("json is utf-8"))
}

/// Prints one value through a Go template (`info --format`, `version --format`), typed as the
/// docker CLI's `type_name` (an unknown field is an error, printed after an empty line).
pub fn print_template(
    format: &str,
    data: &serde_json::Value,
    type_name: &str,
) -> Result<(), CliError> {
    let template =
        Template::parse(&crate::format::template_string(format)).map_err(template_parse_error)?;
    match template.execute_inspect(data, type_name, false) {
        Ok(text) => {
            println!("{text}");
            Ok(())
        }
        Err(e) => {
            println!();
            Err(CliError::usage(e.to_string()))
        }
    }
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

/// Prints `inspect` of several objects (see [`print_inspect`]); exit 1 if any was missing or
/// failed. `get` gives an object's JSON or the error line to print; `go_type` and `raw_fallback`
/// are as in [`print_inspect`].
pub fn inspect_each(
    names: &[String],
    format: Option<&str>,
    go_type: &'static str,
    raw_fallback: bool,
    mut get: impl FnMut(&str) -> Result<serde_json::Value, String>,
) -> Result<crate::exit::Exit, CliError> {
    let items: Vec<_> = names.iter().map(|n| get(n).map(|v| (v, go_type))).collect();
    print_inspect(&items, format, raw_fallback)
}

/// Writes an archive to `-o FILE` — beside it first, then renamed into place, so a failure never
/// leaves a partial file — or to stdout, which docker refuses when it is a terminal. `what`
/// prefixes a failure to open the file (`failed to save image`).
pub fn write_archive(
    output: Option<&std::path::Path>,
    what: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<(), CliError>,
) -> Result<(), CliError> {
    use std::io::IsTerminal;
    let Some(path) = output else {
        if io::stdout().is_terminal() {
            return Err(CliError::usage(
                "cowardly refusing to save to a terminal. Use the -o flag or redirect",
            ));
        }
        let mut w = io::BufWriter::with_capacity(1 << 20, io::stdout().lock());
        write(&mut w)?;
        w.flush()?;
        return Ok(());
    };
    validate_output_path(path).map_err(|e| CliError::usage(format!("{what}: {e}")))?;
    let tmp = path.with_file_name(format!(
        ".{}.berth-tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("archive.tar")
    ));
    let file = std::fs::File::create(&tmp).map_err(|e| {
        CliError::usage(format!("{what}: open {}: {}", path.display(), io_text(&e)))
    })?;
    let mut w = io::BufWriter::with_capacity(1 << 20, file);
    let written = write(&mut w).and_then(|()| {
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The docker CLI's checks of `-o PATH` before anything is written: the directory must exist
/// and be one, and an existing path must be a file or a directory, not a device.
fn validate_output_path(path: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        match std::fs::metadata(dir) {
            Err(e) => {
                return Err(format!(
                    "invalid output path: stat {}: {}",
                    dir.display(),
                    io_text(&e)
                ))
            }
            Ok(m) if !m.is_dir() => {
                return Err(format!(
                    "invalid output path: stat {}: not a directory",
                    dir.display()
                ))
            }
            Ok(_) => {}
        }
    }
    if let Ok(m) = std::fs::metadata(path) {
        let t = m.file_type();
        if t.is_char_device() {
            return Err("cannot write to a character device file".into());
        }
        if t.is_block_device() {
            return Err("cannot write to a block device file".into());
        }
        if t.is_fifo() || t.is_socket() {
            return Err(format!(
                "invalid output path: {:?} must be a directory or a regular file",
                path.display().to_string()
            ));
        }
    }
    Ok(())
}
