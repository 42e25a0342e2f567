//! `volume create/ls/inspect/rm/prune`, printed as the docker CLI prints them.

use std::collections::BTreeMap;

use berth_engine::types::VolumeInfo;
use berth_engine::Engine;
use berth_volume::store::CreateVolume;

use std::io::{self, Write};

use berth_image::progress::{Progress, ProgressReader};

use crate::cli::{
    VolumeCloneArgs, VolumeCreateArgs, VolumeExportArgs, VolumeImportArgs, VolumeInspectArgs,
    VolumeLsArgs, VolumePruneArgs, VolumeRenameArgs, VolumeRmArgs,
};
use crate::progress::TerminalProgress;

use crate::error::{CliError, CliResult};
use crate::exit::Exit;
use crate::format::{self, units, Row};
use crate::output;

/// `k=v` / `k` pairs; docker's `--label` refuses an empty key.
fn labels(flags: &[String]) -> Result<Option<BTreeMap<String, String>>, CliError> {
    if flags.is_empty() {
        return Ok(None);
    }
    let mut out = BTreeMap::new();
    for l in flags {
        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
        if k.is_empty() {
            return Err(CliError::usage(format!(
                "invalid argument \"{l}\" for \"--label\" flag: invalid label '{l}': empty name\n\nUsage:  berth volume create [OPTIONS] [VOLUME]\n\nRun 'berth volume create --help' for more information"

            ))
            .with_exit(Exit::Engine));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(Some(out))
}

/// `berth volume create`.
pub fn create(engine: &mut Engine, args: &VolumeCreateArgs) -> CliResult {
    if args.name.is_some() && args.name_flag.is_some() {
        return Err(CliError::usage(
            "conflicting options: cannot specify a volume-name through both --name and as a positional arg",
        ));
    }
    let options = if args.opt.is_empty() {
        None
    } else {
        Some(
            args.opt
                .iter()
                .map(|o| {
                    let (k, v) = o.split_once('=').unwrap_or((o.as_str(), ""));
                    (k.to_string(), v.to_string())
                })
                .collect(),
        )
    };
    let v = engine.create_volume(&CreateVolume {
        name: args.name.clone().or_else(|| args.name_flag.clone()),
        driver: Some(args.driver.clone()),
        labels: labels(&args.label)?,
        options,
    })?;
    println!("{}", v.name);
    Ok(Exit::Ok)
}

/// The row `volume ls` and `system df -v` print for a volume.
pub fn volume_row(v: &VolumeInfo) -> Row {
    let (links, size) = usage_cells(v);
    Row::new("*formatter.volumeContext")
        .field("Availability", "N/A")
        .field("Driver", v.driver.clone())
        .field("Group", "N/A")
        .field("Links", links)
        .field("Mountpoint", v.mountpoint.clone())
        .field("Name", v.name.clone())
        .field("Scope", v.scope.clone())
        .field("Size", size)
        .field("Status", "N/A")
        .labels(v.labels.clone().unwrap_or_default())
}

/// The `Links` and `Size` cells of a volume (`N/A` without usage data).
fn usage_cells(v: &VolumeInfo) -> (String, String) {
    match &v.usage_data {
        Some(u) => (
            u.ref_count.to_string(),
            if u.size < 0 {
                "N/A".to_string()
            } else {
                units::human_size(u.size as f64)
            },
        ),
        None => ("N/A".into(), "N/A".into()),
    }
}

/// `berth volume ls`.
pub fn ls(engine: &mut Engine, args: &VolumeLsArgs) -> CliResult {
    let filters = super::parse_filters(&args.filter, "-f, --filter")?;
    if let None | Some("" | "table") = args.format.as_deref() {
        let mut listing = Listing::default();
        engine.for_each_volume(&filters, |v| listing.add(&v.driver, v.name))?;
        let mut out = io::BufWriter::with_capacity(64 << 10, io::stdout().lock());
        listing.write(&mut out, args.quiet)?;
        out.flush()?;
        return Ok(Exit::Ok);
    }
    let mut list = engine.list_volumes(&filters)?;
    list.sort_by(|a, b| berth_go::natural_cmp(&a.name, &b.name));
    let rows: Vec<Row> = list.iter().map(volume_row).collect();
    output::print_list(&rows, args.format.as_deref(), args.quiet, &format::VOLUMES)?;
    Ok(Exit::Ok)
}

/// `volume ls` without `--format`: the bytes [`format::VOLUMES`]'s default table (or its `-q`
/// form) prints, written straight from the volumes. A template run over a full row per volume
/// cost 25,000 instructions and 4 KiB of memory a volume; this costs a few hundred instructions,
/// and of each volume only its name is kept (the list must be sorted before the first line, in
/// the docker CLI's natural order, which the store's index does not have), with its driver as
/// an index into the few drivers seen: 100,000 volumes hold a few MiB instead of 50.
#[derive(Default)]
struct Listing {
    drivers: Vec<String>,
    rows: Vec<(u32, Box<str>)>,
}

impl Listing {
    fn add(&mut self, driver: &str, name: String) {
        let d = match self.drivers.iter().position(|d| d == driver) {
            Some(d) => d,
            None => {
                self.drivers.push(driver.to_string());
                self.drivers.len() - 1
            }
        };
        self.rows.push((d as u32, name.into_boxed_str()));
    }

    fn write(mut self, out: &mut impl Write, quiet: bool) -> io::Result<()> {
        self.rows.sort_by(|a, b| berth_go::natural_cmp(&a.1, &b.1));
        if quiet {
            for (_, name) in &self.rows {
                out.write_all(name.as_bytes())?;
                out.write_all(b"\n")?;
            }
            return Ok(());
        }
        let lines: Vec<[&str; 2]> = std::iter::once(["DRIVER", "VOLUME NAME"])
            .chain(
                self.rows
                    .iter()
                    .map(|(d, name)| [self.drivers[*d as usize].as_str(), &**name]),
            )
            .collect();
        format::tabwriter::write_uniform(out, &lines)
    }
}

/// The volumes table of `system df -v` of a list: what [`stream_disk_usage_table`] writes.
#[cfg(test)]
fn disk_usage_table(out: &mut impl Write, list: &[VolumeInfo]) -> io::Result<()> {
    let mut widths = format::tabwriter::UniformWidths::new();
    widths.fit(&DISK_USAGE_TITLE);
    for v in list {
        // The last column, the size, is never padded: its width does not matter.
        widths.fit(&[v.name.as_str(), &usage_cells(v).0, ""]);
    }
    widths.write_line(out, &DISK_USAGE_TITLE)?;
    list.iter()
        .try_for_each(|v| write_disk_usage_row(&widths, out, v))
}

const DISK_USAGE_TITLE: [&str; 3] = ["VOLUME NAME", "LINKS", "SIZE"];

/// The volumes table of `system df -v` (the bytes of [`format::DISK_USAGE_VOLUMES`]'s default
/// table, written straight from the volumes as [`Listing`] does) of every volume of the engine,
/// written as the volumes come: one pass over the records for the column widths, a second that
/// walks the sizes a batch at a time and writes each row. No list is held, so 100,000 volumes
/// take no more memory than 1,000 (a list of them took 100 MiB).
pub fn stream_disk_usage_table(engine: &mut Engine, out: &mut impl Write) -> CliResult {
    let mut widths = format::tabwriter::UniformWidths::new();
    widths.fit(&DISK_USAGE_TITLE);
    engine.for_each_volume_usage_name(|name, refs| {
        widths.fit(&[name, &refs.to_string(), ""]);
    })?;
    widths.write_line(out, &DISK_USAGE_TITLE)?;
    let mut written = Ok(());
    engine.for_each_volume_usage(|v| {
        if written.is_ok() {
            written = write_disk_usage_row(&widths, out, &v);
        }
    })?;
    written?;
    Ok(Exit::Ok)
}

fn write_disk_usage_row(
    widths: &format::tabwriter::UniformWidths<3>,
    out: &mut impl Write,
    v: &VolumeInfo,
) -> io::Result<()> {
    let (links, size) = usage_cells(v);
    widths.write_line(out, &[v.name.as_str(), links.as_str(), size.as_str()])
}

/// `berth volume inspect`.
pub fn inspect(engine: &mut Engine, args: &VolumeInspectArgs) -> CliResult {
    output::inspect_each(
        &args.names,
        args.format.as_deref(),
        crate::format::gotypes::VOLUME,
        false,
        |name| {
            engine
                .inspect_volume(name)
                .map(|v| serde_json::to_value(v).expect("volumes serialize"))
                .map_err(|e| CliError::from(e).message)
        },
    )
}

/// `berth volume rm`.
///
/// The removed names go out in one buffered write (flushed before each error line, so the
/// order on a terminal stays the results' order): `volume rm` of 500 names made 500 `write`
/// calls, one per name, where one does.
pub fn rm(engine: &mut Engine, args: &VolumeRmArgs) -> CliResult {
    let mut exit = Exit::Ok;
    let results = engine.remove_volumes(&args.names, args.force);
    let mut out = io::BufWriter::with_capacity(64 << 10, io::stdout().lock());
    for (name, result) in args.names.iter().zip(results) {
        match result {
            Ok(()) => writeln!(out, "{name}")?,
            Err(e) => {
                out.flush()?;
                eprintln!("{}", CliError::from(e).message);
                exit = Exit::Failure;
            }
        }
    }
    out.flush()?;
    Ok(exit)
}

/// `berth volume prune`.
pub fn prune(engine: &mut Engine, args: &VolumePruneArgs) -> CliResult {
    let mut filters = super::parse_filters(&args.filter, "--filter")?;
    if args.all {
        filters.add("all", "true");
    }
    let all = filters.has_value("all", "true") || filters.has_value("all", "1");
    let warning = if all {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    if !args.force && !super::confirm(warning) {
        return Ok(Exit::Ok);
    }
    let report = engine.prune_volumes(&filters)?;
    // One write for the whole report, not one per deleted volume (as `volume rm`).
    let mut out = io::BufWriter::with_capacity(64 << 10, io::stdout().lock());
    if !report.volumes_deleted.is_empty() {
        writeln!(out, "Deleted Volumes:")?;
        for v in &report.volumes_deleted {
            writeln!(out, "{v}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Total reclaimed space: {}",
        units::human_size(report.space_reclaimed as f64)
    )?;
    out.flush()?;
    Ok(Exit::Ok)
}

/// A writer that reports bytes to a [`Progress`].
struct ProgressWriter<'p, W> {
    inner: W,
    progress: &'p dyn Progress,
}

impl<W: Write> Write for ProgressWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `berth volume export`.
pub fn export(engine: &mut Engine, args: &VolumeExportArgs) -> CliResult {
    let progress = TerminalProgress::new();
    let size = engine.volume_size(&args.name).ok();
    progress.begin(&format!("Exporting {}", args.name), size);
    let exported = output::write_archive(args.output.as_deref(), "failed to export volume", |w| {
        let mut w = ProgressWriter {
            inner: w,
            progress: &progress,
        };
        Ok(engine.export_volume(&args.name, &mut w)?)
    });
    progress.end();
    exported?;
    Ok(Exit::Ok)
}

/// `berth volume import`.
pub fn import(engine: &mut Engine, args: &VolumeImportArgs) -> CliResult {
    let progress = TerminalProgress::new();
    let applied = if args.source == "-" {
        let mut input = berth_store::archive::decompress(io::stdin().lock())?;
        engine.import_volume(&args.name, &mut input, args.force, args.devices)?
    } else {
        let file = std::fs::File::open(&args.source).map_err(|e| {
            CliError::usage(format!("open {}: {}", args.source, output::io_text(&e)))
        })?;
        let total = file.metadata().ok().map(|m| m.len());
        progress.begin(&format!("Importing into {}", args.name), total);
        let reader = ProgressReader::new(io::BufReader::with_capacity(1 << 20, file), &progress);
        let mut input = berth_store::archive::decompress(reader)?;
        let r = engine.import_volume(&args.name, &mut input, args.force, args.devices);
        progress.end();
        r?
    };
    if applied.dropped_devices > 0 {
        eprintln!("{}", dropped_devices(&applied));
    }
    println!("{}", args.name);
    Ok(Exit::Ok)
}

/// What `volume import` says about the device nodes it left out.
fn dropped_devices(a: &berth_store::archive::Applied) -> String {
    let n = a.dropped_devices;
    let mut text = format!(
        "WARNING: left out {n} device node{} of the archive (use --devices to create them):",
        if n == 1 { "" } else { "s" }
    );
    for p in &a.dropped_paths {
        text.push_str("\n  ");
        text.push_str(p);
    }
    if n > a.dropped_paths.len() {
        text.push_str(&format!("\n  ({} more)", n - a.dropped_paths.len()));
    }
    text
}

/// `berth volume clone`.
pub fn clone(engine: &mut Engine, args: &VolumeCloneArgs) -> CliResult {
    let v = engine.clone_volume(&args.source, &args.target, args.force)?;
    println!("{}", v.name);
    Ok(Exit::Ok)
}

/// `berth volume rename`.
pub fn rename(engine: &mut Engine, args: &VolumeRenameArgs) -> CliResult {
    let v = engine.rename_volume(&args.old, &args.new)?;
    println!("{}", v.name);
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(name: &str, driver: &str, labels: &[(&str, &str)]) -> VolumeInfo {
        VolumeInfo {
            created_at: "2026-12-06T08:00:00Z".into(),
            driver: driver.into(),
            labels: (!labels.is_empty()).then(|| {
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            mountpoint: format!("/var/lib/berth/volumes/{name}/_data"),
            name: name.into(),
            options: None,
            scope: "local".into(),
            status: None,
            usage_data: None,
        }
    }

    /// The direct default listing prints exactly what the template path prints for the list
    /// sorted as `volume ls` sorts it, whatever order the volumes came in.
    #[test]
    fn default_listing_is_the_default_template_output() {
        let long = "x".repeat(200);
        let lists = vec![
            vec![],
            vec![volume("a", "local", &[])],
            vec![
                volume("data", "local", &[("com.x", "1")]),
                volume(&long, "local", &[]),
                volume("0f3c", "longer-driver-name", &[]),
                volume("v.1_-2", "", &[]),
            ],
        ];
        for list in lists {
            let mut sorted = list.clone();
            sorted.sort_by(|a, b| berth_go::natural_cmp(&a.name, &b.name));
            let rows: Vec<Row> = sorted.iter().map(volume_row).collect();
            for quiet in [false, true] {
                for source in ["", "table"] {
                    let want = format::Formatter::new(source, quiet, &format::VOLUMES)
                        .unwrap()
                        .render(&rows)
                        .unwrap();
                    let mut listing = Listing::default();
                    for v in &list {
                        listing.add(&v.driver, v.name.clone());
                    }
                    let mut got = Vec::new();
                    listing.write(&mut got, quiet).unwrap();
                    assert_eq!(
                        String::from_utf8(got).unwrap(),
                        want,
                        "{source:?} quiet={quiet}"
                    );
                }
            }
        }
    }

    /// `system df -v`'s direct volume table prints what its template printed.
    #[test]
    fn disk_usage_table_is_the_default_template_output() {
        use berth_engine::types::VolumeUsage;
        let mut list = [
            volume("a", "local", &[]),
            volume(&"y".repeat(80), "local", &[]),
            volume("b", "local", &[]),
        ];
        list[0].usage_data = Some(VolumeUsage {
            ref_count: 2,
            size: 123_456_789,
        });
        list[1].usage_data = Some(VolumeUsage {
            ref_count: 0,
            size: -1,
        });
        for n in 0..=list.len() {
            let rows: Vec<Row> = list[..n].iter().map(volume_row).collect();
            let want = format::Formatter::new("", false, &format::DISK_USAGE_VOLUMES)
                .unwrap()
                .render(&rows)
                .unwrap();
            let mut got = Vec::new();
            disk_usage_table(&mut got, &list[..n]).unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), want);
        }
    }
}
