//! [`Formatter`] prints listings exactly like the docker CLI: `--format` Go templates run by
//! [`Template`], `table` output aligned by [`TabWriter`], `json`, `raw` and `-q`; plus the units
//! ([`units::human_size`], [`units::human_duration`]...) and short forms ([`text::short_id`],
//! [`text::ps_command`]) that Docker's columns use.
//!
//! A listing command describes itself with a [`ListFormat`] (presets: [`VOLUMES`], [`IMAGES`],
//! [`CONTAINERS`]...), builds one [`Row`] per object (fields named like the docker CLI's, methods
//! such as `Label "k"`), and calls [`Formatter::new`]`(format, quiet, &SPEC)?.write(out, &rows)`.
//! `docker inspect --format` runs [`Template::parse`] and [`Template::execute`] directly over the
//! inspect JSON (`serde_json::Value` implements [`TemplateData`]).

/// Format resolution and table/JSON/raw rendering of listing rows.
pub mod formatter;
/// Go `fmt`/`encoding/json` printing of JSON values (`[a b]`, `map[k:v]`, `%q`, floats).
pub mod gofmt;
/// Docker's API structs as the docker CLI decodes inspect JSON into them (template field rules).
pub mod gotypes;
/// Go-compatible elastic tabstops with Docker's settings.
pub mod tabwriter;
/// The Go `text/template` interpreter with the docker CLI's functions.
pub mod template;
/// Short IDs, `…` truncation and the quoted `ps` command column.
pub mod text;
/// go-units sizes and durations (shared with the engine, which words `ps` statuses with them).
pub use berth_go::units;

pub use formatter::{
    resolve_format, template_string, FormatError, Formatter, ListFormat, CONTAINERS, DISK_USAGE,
    DISK_USAGE_VOLUMES, IGNORING_CUSTOM_FORMAT_WARNING, IMAGES, IMAGES_WITH_DIGESTS, VOLUMES,
};
pub use tabwriter::TabWriter;
pub use template::{Row, Template, TemplateData, TemplateError};
