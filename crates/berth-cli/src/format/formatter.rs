//! [`Formatter`] turns a listing command's rows into what the docker CLI prints for its
//! `--format` value: the default table, `table <template>` (title row + aligned columns), `json`
//! (one compact object per line), `raw`, any other template (one line per row, no title), or the
//! `-q` form. A command describes its formats once in a [`ListFormat`].

use std::io::{self, Write};

use super::tabwriter::TabWriter;
use super::template::{Template, TemplateData, TemplateError};

/// How one listing command prints, as the docker CLI defines it for that command.
#[derive(Debug, Clone, Copy)]
pub struct ListFormat {
    /// The default `table ...` format.
    pub table: &'static str,
    /// The `-q` format, e.g. `{{.Name}}`.
    pub quiet: &'static str,
    /// The `raw` formats (normal, quiet), for commands that have one.
    pub raw: Option<(&'static str, &'static str)>,
    /// Title of each field in table formats. A field missing here gets `<no value>` as its title,
    /// exactly as in the docker CLI.
    pub headers: &'static [(&'static str, &'static str)],
    /// Whether `-q` overrides a custom `--format` (`docker ps` does, after printing
    /// [`IGNORING_CUSTOM_FORMAT_WARNING`]); otherwise the custom format wins (`volume ls`,
    /// `images`).
    pub quiet_overrides_format: bool,
}

/// What `docker ps` prints on stderr when both `--format` and `-q` are given.
pub const IGNORING_CUSTOM_FORMAT_WARNING: &str =
    "WARNING: Ignoring custom format, because both --format and --quiet are set.";

/// `docker volume ls`.
pub const VOLUMES: ListFormat = ListFormat {
    table: "table {{.Driver}}\t{{.Name}}",
    quiet: "{{.Name}}",
    raw: Some((
        "name: {{.Name}}\\ndriver: {{.Driver}}\\n",
        "name: {{.Name}}",
    )),
    headers: &[
        ("ID", "ID"),
        ("Name", "VOLUME NAME"),
        ("Group", "GROUP"),
        ("Driver", "DRIVER"),
        ("Scope", "SCOPE"),
        ("Availability", "AVAILABILITY"),
        ("Mountpoint", "MOUNTPOINT"),
        ("Labels", "LABELS"),
        ("Links", "LINKS"),
        ("Size", "SIZE"),
        ("Status", "STATUS"),
    ],
    quiet_overrides_format: false,
};

/// The `Local Volumes space usage:` section of `docker system df -v`.
pub const DISK_USAGE_VOLUMES: ListFormat = ListFormat {
    table: "table {{.Name}}\t{{.Links}}\t{{.Size}}",
    ..VOLUMES
};

const IMAGE_HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
];

/// `docker images`.
pub const IMAGES: ListFormat = ListFormat {
    table: "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}",
    quiet: "{{.ID}}",
    raw: Some((
        "repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n",
        "image_id: {{.ID}}",
    )),
    headers: IMAGE_HEADERS,
    quiet_overrides_format: false,
};

/// `docker images --digests`.
pub const IMAGES_WITH_DIGESTS: ListFormat = ListFormat {
    table: "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}",
    raw: Some((
        "repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n",
        "image_id: {{.ID}}",
    )),
    ..IMAGES
};

/// `docker ps` (add `\t{{.Size}}` to `table` for `-s`).
pub const CONTAINERS: ListFormat = ListFormat {
    table: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
    quiet: "{{.ID}}",
    raw: Some((
        "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n",
        "container_id: {{.ID}}",
    )),
    headers: &[
        ("ID", "CONTAINER ID"),
        ("Names", "NAMES"),
        ("Image", "IMAGE"),
        ("Command", "COMMAND"),
        ("CreatedAt", "CREATED AT"),
        ("RunningFor", "CREATED"),
        ("Ports", "PORTS"),
        ("State", "STATE"),
        ("Status", "STATUS"),
        ("Size", "SIZE"),
        ("Labels", "LABELS"),
        ("Mounts", "MOUNTS"),
        ("LocalVolumes", "LOCAL VOLUMES"),
        ("Networks", "NETWORKS"),
        ("Platform", "PLATFORM"),
        ("HealthStatus", "HEALTH STATUS"),
    ],
    quiet_overrides_format: true,
};

/// `docker system df` (the summary table).
pub const DISK_USAGE: ListFormat = ListFormat {
    table: "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
    quiet: "{{.Type}}",
    raw: None,
    headers: &[
        ("Type", "TYPE"),
        ("TotalCount", "TOTAL"),
        ("Active", "ACTIVE"),
        ("Size", "SIZE"),
        ("Reclaimable", "RECLAIMABLE"),
    ],
    quiet_overrides_format: false,
};

/// A `--format` that cannot be used. `Display` is the docker CLI's text.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The template does not parse, or failed on a row (the CLI says "parsing" for both).
    #[error("template parsing error: {0}")]
    Template(#[from] TemplateError),
    /// Writing the output failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The format string a command uses for `--format source` (empty when not given) and `-q`.
pub fn resolve_format(source: &str, quiet: bool, spec: &ListFormat) -> String {
    match source {
        "" | "table" => if quiet { spec.quiet } else { spec.table }.to_string(),
        "raw" if spec.raw.is_some() => {
            let (raw, raw_quiet) = spec.raw.unwrap_or_default();
            if quiet { raw_quiet } else { raw }.to_string()
        }
        custom if quiet && spec.quiet_overrides_format => {
            let _ = custom;
            spec.quiet.to_string()
        }
        custom => custom.to_string(),
    }
}

/// A resolved output format, ready to print rows.
#[derive(Debug, Clone)]
pub struct Formatter {
    template: Template,
    table: bool,
    headers: &'static [(&'static str, &'static str)],
}

impl Formatter {
    /// Resolves `--format source` and `-q` for the command described by `spec` and parses the
    /// template.
    pub fn new(source: &str, quiet: bool, spec: &ListFormat) -> Result<Formatter, FormatError> {
        Formatter::from_format(&resolve_format(source, quiet, spec), spec.headers)
    }

    /// A formatter for an already resolved format string (`table ...`, `json`, a template).
    pub fn from_format(
        format: &str,
        headers: &'static [(&'static str, &'static str)],
    ) -> Result<Formatter, FormatError> {
        let template = Template::parse(&template_string(format))?;
        Ok(Formatter {
            template,
            table: format.starts_with("table"),
            headers,
        })
    }

    /// Renders every row (each followed by a newline); tables get their title row and aligned
    /// columns. Nothing is produced if any row fails. A table with no rows is its title row.
    pub fn render<D: TemplateData>(&self, rows: &[D]) -> Result<String, FormatError> {
        let mut body = String::new();
        for row in rows {
            body.push_str(&self.template.execute(row)?);
            body.push('\n');
        }
        if !self.table {
            return Ok(body);
        }
        let mut tw = TabWriter::docker();
        tw.write_str(&self.template.execute_header(self.headers));
        tw.write_str("\n");
        tw.write_str(&body);
        Ok(tw.finish())
    }

    /// [`Formatter::render`] to a writer.
    pub fn write<W: Write, D: TemplateData>(
        &self,
        out: &mut W,
        rows: &[D],
    ) -> Result<(), FormatError> {
        let text = self.render(rows)?;
        out.write_all(text.as_bytes())?;
        Ok(())
    }
}

/// The docker CLI's `Format.templateString`: `json` → `{{json .}}`, the `table` prefix dropped,
/// surrounding spaces trimmed, and the two-character escapes `\t` and `\n` made real.
pub fn template_string(format: &str) -> String {
    match format {
        "table" => return String::new(),
        "json" => return "{{json .}}".into(),
        _ => {}
    }
    let body = format.strip_prefix("table").unwrap_or(format);
    body.trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::template::Row;
    use std::collections::BTreeMap;

    fn volume(name: &str, driver: &str) -> Row {
        Row::new("*formatter.volumeContext")
            .field("Availability", "N/A")
            .field("Driver", driver)
            .field("Group", "N/A")
            .field("Links", "N/A")
            .field("Mountpoint", format!("/var/lib/berth/volumes/{name}/_data"))
            .field("Name", name)
            .field("Scope", "local")
            .field("Size", "N/A")
            .field("Status", "N/A")
            .labels(BTreeMap::new())
    }

    fn render(source: &str, quiet: bool, rows: &[Row]) -> Result<String, String> {
        Formatter::new(source, quiet, &VOLUMES)
            .and_then(|f| f.render(rows))
            .map_err(|e| e.to_string())
    }

    /// docker/cli's TestVolumeContextWrite, with berth's rows.
    #[test]
    fn volume_formats_like_docker() {
        let rows = vec![volume("foobar_baz", "foo"), volume("foobar_bar", "bar")];
        let cases: Vec<(&str, bool, Result<&str, &str>)> = vec![
            (
                "{{InvalidFunction}}",
                false,
                Err(
                    r#"template parsing error: template: :1: function "InvalidFunction" not defined"#,
                ),
            ),
            (
                "{{nil}}",
                false,
                Err(
                    r#"template parsing error: template: :1:2: executing "" at <nil>: nil is not a command"#,
                ),
            ),
            (
                "",
                false,
                Ok("DRIVER    VOLUME NAME\nfoo       foobar_baz\nbar       foobar_bar\n"),
            ),
            (
                "table",
                false,
                Ok("DRIVER    VOLUME NAME\nfoo       foobar_baz\nbar       foobar_bar\n"),
            ),
            ("table", true, Ok("foobar_baz\nfoobar_bar\n")),
            ("", true, Ok("foobar_baz\nfoobar_bar\n")),
            (
                "table {{.Name}}",
                false,
                Ok("VOLUME NAME\nfoobar_baz\nfoobar_bar\n"),
            ),
            (
                "table {{.Name}}",
                true,
                Ok("VOLUME NAME\nfoobar_baz\nfoobar_bar\n"),
            ),
            (
                "raw",
                false,
                Ok("name: foobar_baz\ndriver: foo\n\nname: foobar_bar\ndriver: bar\n\n"),
            ),
            ("raw", true, Ok("name: foobar_baz\nname: foobar_bar\n")),
            ("{{.Name}}", false, Ok("foobar_baz\nfoobar_bar\n")),
            ("{{.Name}}", true, Ok("foobar_baz\nfoobar_bar\n")),
            (
                "table {{.Name}}\\t{{.Labels}}",
                false,
                Ok("VOLUME NAME   LABELS\nfoobar_baz    \nfoobar_bar    \n"),
            ),
            (
                "{{.Name}}\\t{{.Driver}}",
                false,
                Ok("foobar_baz\tfoo\nfoobar_bar\tbar\n"),
            ),
            (
                "table {{.Bogus}}",
                false,
                Err(
                    r#"template parsing error: template: :1:2: executing "" at <.Bogus>: can't evaluate field Bogus in type *formatter.volumeContext"#,
                ),
            ),
            (
                "json",
                false,
                Ok(concat!(
                    r#"{"Availability":"N/A","Driver":"foo","Group":"N/A","Labels":"","Links":"N/A","Mountpoint":"/var/lib/berth/volumes/foobar_baz/_data","Name":"foobar_baz","Scope":"local","Size":"N/A","Status":"N/A"}"#,
                    "\n",
                    r#"{"Availability":"N/A","Driver":"bar","Group":"N/A","Labels":"","Links":"N/A","Mountpoint":"/var/lib/berth/volumes/foobar_bar/_data","Name":"foobar_bar","Scope":"local","Size":"N/A","Status":"N/A"}"#,
                    "\n"
                )),
            ),
            (
                "{{json .Name}}",
                false,
                Ok("\"foobar_baz\"\n\"foobar_bar\"\n"),
            ),
        ];
        for (source, quiet, want) in cases {
            assert_eq!(
                render(source, quiet, &rows),
                want.map(str::to_string).map_err(str::to_string),
                "{source:?} quiet={quiet}"
            );
        }
    }

    #[test]
    fn json_keys_match_spec_2_3() {
        let out = render("json", false, &[volume("v", "local")]).unwrap();
        let obj: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(out.trim_end()).unwrap();
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "Availability",
                "Driver",
                "Group",
                "Labels",
                "Links",
                "Mountpoint",
                "Name",
                "Scope",
                "Size",
                "Status"
            ]
        );
    }

    #[test]
    fn labels_and_label_columns() {
        let labels: BTreeMap<String, String> = [("spec.a", "1"), ("spec.b", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let rows = vec![
            volume("spec-v5", "local").labels(labels),
            volume("other", "local"),
        ];
        let out = render(
            "table {{.Name}}\t{{.Labels}}\t{{.Label \"spec.a\"}}",
            false,
            &rows,
        )
        .unwrap();
        assert_eq!(
            out,
            "VOLUME NAME   LABELS             a\nspec-v5       spec.a=1,spec.b=   1\nother                            \n"
        );
    }

    #[test]
    fn empty_listing_prints_the_title_row() {
        assert_eq!(render("", false, &[]).unwrap(), "DRIVER    VOLUME NAME\n");
        assert_eq!(render("{{.Name}}", false, &[]).unwrap(), "");
    }

    #[test]
    fn unknown_header_is_no_value() {
        let rows = vec![Row::new("*formatter.volumeContext")
            .field("Name", "v")
            .field("Extra", "x")];
        assert_eq!(
            render("table {{.Name}}\t{{.Extra}}", false, &rows).unwrap(),
            "VOLUME NAME   <no value>\nv             x\n"
        );
    }

    #[test]
    fn images_default_table() {
        let row = |repo: &str, tag: &str, id: &str, created: &str, size: &str| {
            Row::new("*formatter.imageContext")
                .field("Repository", repo)
                .field("Tag", tag)
                .field("ID", id)
                .field("CreatedSince", created)
                .field("Size", size)
        };
        let rows = vec![
            row("busybox", "latest", "adb5f1ec7e9b", "2 weeks ago", "4.86MB"),
            row("<none>", "<none>", "0123456789ab", "", "1.98MB"),
        ];
        let out = Formatter::new("", false, &IMAGES)
            .unwrap()
            .render(&rows)
            .unwrap();
        assert_eq!(
            out,
            "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n\
             busybox      latest    adb5f1ec7e9b   2 weeks ago   4.86MB\n\
             <none>       <none>    0123456789ab   N/A           1.98MB\n"
        );
        let json = Formatter::new("json", false, &IMAGES)
            .unwrap()
            .render(&rows[1..])
            .unwrap();
        assert!(
            json.contains(r#""Repository":"\u003cnone\u003e""#),
            "{json}"
        );
    }

    #[test]
    fn ps_quiet_overrides_custom_format() {
        let rows = vec![Row::new("*formatter.ContainerContext")
            .field("ID", "4f2a9c3b1d0e")
            .field("Names", "web")];
        let quiet = Formatter::new("{{.Names}}", true, &CONTAINERS).unwrap();
        assert_eq!(quiet.render(&rows).unwrap(), "4f2a9c3b1d0e\n");
        let images_quiet = resolve_format("{{.Repository}}", true, &IMAGES);
        assert_eq!(images_quiet, "{{.Repository}}");
    }

    #[test]
    fn template_strings() {
        let cases = [
            ("table", ""),
            ("json", "{{json .}}"),
            ("table {{.Name}}\\t{{.Driver}}", "{{.Name}}\t{{.Driver}}"),
            ("  {{.Name}}\\n  ", "{{.Name}}\n"),
            ("{{json .}}", "{{json .}}"),
            ("table\t{{.X}}", "\t{{.X}}"),
        ];
        for (format, want) in cases {
            assert_eq!(template_string(format), want, "{format:?}");
        }
    }
}
