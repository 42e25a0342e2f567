//! `berth container storage CTR` (also `berth storage CTR`): one row per path of a container
//! with its own backing — what backs it, how long it lives, what the container wrote there —
//! and [`rm`], which on a terminal warns before it discards a writable layer holding more than
//! the threshold and asks for confirmation (never in scripts or pipes, never with `-f`).

use std::io::IsTerminal;

use berth_engine::types::{Backing, ContainerStorage, Lifetime, StoragePath, WritableLayer};
use berth_engine::Engine;
use clap::Args;

use crate::cli::RmArgs;
use crate::error::{CliError, CliResult};
use crate::exit::Exit;
use crate::format::{units, ListFormat, Row};
use crate::output;

/// `container storage`.
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// Format output using a custom template: 'table', 'table TEMPLATE' (one row per path),
    /// 'json' (the whole view, as `GET /containers/{id}/storage` returns it), or 'TEMPLATE'.
    #[arg(long)]
    pub format: Option<String>,
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub name: String,
}

/// The table of `container storage`.
pub const STORAGE: ListFormat = ListFormat {
    table: "table {{.Path}}\t{{.BackedBy}}\t{{.Lifetime}}\t{{.Written}}",
    quiet: "{{.Path}}",
    raw: None,
    headers: &[
        ("Path", "PATH"),
        ("Type", "TYPE"),
        ("BackedBy", "BACKED BY"),
        ("Lifetime", "LIFETIME"),
        ("Written", "WRITTEN"),
        ("Source", "SOURCE"),
        ("Driver", "DRIVER"),
        ("ReadOnly", "READ ONLY"),
    ],
    quiet_overrides_format: false,
};

/// Writable layers split by directory: `system df -v`'s berth section and `container prune
/// --dry-run`.
pub const WRITABLE_LAYERS: ListFormat = ListFormat {
    table: "table {{.ID}}\t{{.Names}}\t{{.Path}}\t{{.Size}}",
    quiet: "{{.ID}}",
    raw: None,
    headers: &[
        ("ID", "CONTAINER ID"),
        ("Names", "NAMES"),
        ("Path", "PATH"),
        ("Size", "SIZE"),
        ("Entries", "ENTRIES"),
    ],
    quiet_overrides_format: false,
};

/// One row per directory of each layer (`-` and `0B` for a layer without changes); sizes with
/// `precision` significant digits, as the table they sit beside prints them.
pub fn layer_rows(layers: &[WritableLayer], precision: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    for l in layers {
        let row = |path: &str, bytes: u64, entries: u64| {
            Row::new("*storage.layerContext")
                .field("ID", crate::format::text::short_id(&l.id).to_string())
                .field("Names", l.name.clone())
                .field("Path", path.to_string())
                .field(
                    "Size",
                    units::human_size_with_precision(bytes as f64, precision),
                )
                .field("Entries", entries.to_string())
        };
        if l.dirs.is_empty() {
            rows.push(row("-", 0, 0));
        }
        let mut dirs: Vec<_> = l.dirs.iter().collect();
        dirs.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
        for d in dirs {
            rows.push(row(&d.path, d.bytes, d.entries));
        }
    }
    rows
}

/// `container prune --dry-run`: what prune would remove, directory by directory; nothing is
/// removed and nothing asked.
pub fn prune_dry_run(engine: &mut Engine, filters: &berth_engine::filters::Filters) -> CliResult {
    let layers = engine.prune_containers_preview(filters)?;
    if !layers.is_empty() {
        println!("Would delete containers:");
        output::print_list(&layer_rows(&layers, 3), None, false, &WRITABLE_LAYERS)?;
        println!();
    }
    let total: u64 = layers.iter().map(|l| l.bytes).sum();
    println!(
        "Total reclaimable space: {}",
        units::human_size(total as f64)
    );
    Ok(Exit::Ok)
}

/// Sizes as `ps -s` prints the writable layer (3 significant digits), so the two agree.
fn size(bytes: u64) -> String {
    units::human_size_with_precision(bytes as f64, 3)
}

fn storage_row(p: &StoragePath) -> Row {
    let backing = serde_json::to_value(p.backing).expect("enums serialize");
    Row::new("*storage.pathContext")
        .field("Path", p.path.clone())
        .field("Type", backing.as_str().unwrap_or_default().to_string())
        .field("BackedBy", p.backed_by.clone())
        .field("Lifetime", p.lifetime.text())
        .field("Written", p.written.map(size).unwrap_or_else(|| "-".into()))
        .field("Source", p.source.clone().unwrap_or_default())
        .field("Driver", p.driver.clone().unwrap_or_default())
        .field("ReadOnly", p.read_only.to_string())
}

/// `berth container storage CTR`.
pub fn storage(engine: &mut Engine, args: &StorageArgs) -> CliResult {
    let view = engine.container_storage(&args.name)?;
    match args.format.as_deref() {
        Some("json") => {
            println!(
                "{}",
                serde_json::to_string(&view).expect("the view serializes")
            );
            return Ok(Exit::Ok);
        }
        Some(f) if !f.is_empty() && f != "table" => {
            let rows: Vec<Row> = view.paths.iter().map(storage_row).collect();
            output::print_list(&rows, Some(f), false, &STORAGE)?;
            return Ok(Exit::Ok);
        }
        _ => {}
    }
    let rows: Vec<Row> = view.paths.iter().map(storage_row).collect();
    output::print_list(&rows, None, false, &STORAGE)?;
    if view.discarded_by_rm > 0 {
        println!(
            "\n`berth rm {}` discards {} written outside volumes.",
            view.name,
            size(view.discarded_by_rm)
        );
    }
    Ok(Exit::Ok)
}

/// The rows `rm` (with `-v`: `rm -v`) would discard, biggest first: the writable layer's
/// directories, and anonymous volumes that go with the container.
pub fn discarded(view: &ContainerStorage, volumes: bool) -> Vec<&StoragePath> {
    let layer_dirs = view
        .paths
        .iter()
        .filter(|p| p.backing == Backing::Layer && p.path != "/")
        .count();
    let mut rows: Vec<&StoragePath> = view
        .paths
        .iter()
        .filter(|p| p.written.unwrap_or(0) > 0)
        .filter(|p| match p.backing {
            // The total row stands for the layer only when no directory splits it.
            Backing::Layer => p.path != "/" || layer_dirs == 0,
            Backing::Volume => {
                p.lifetime == Lifetime::Container
                    || (volumes && p.lifetime == Lifetime::AnonymousVolume)
            }
            _ => false,
        })
        .collect();
    rows.sort_by(|a, b| b.written.cmp(&a.written).then(a.path.cmp(&b.path)));
    rows
}

/// Bytes `rm` (or `rm -v`) discards.
pub fn discarded_bytes(view: &ContainerStorage, volumes: bool) -> u64 {
    view.discarded_by_rm
        + if volumes {
            view.anonymous_volume_bytes
        } else {
            0
        }
}

/// The rows of what `rm` (or `run --rm`) discards, one indented line each, and the path a
/// volume would best go at next time.
fn listing(view: &ContainerStorage, volumes: bool) -> (String, String) {
    let rows = discarded(view, volumes);
    let mut tw = crate::format::TabWriter::docker();
    const SHOWN: usize = 10;
    for p in rows.iter().take(SHOWN) {
        let what = match p.backing {
            Backing::Layer => "writable layer".to_string(),
            _ => p.backed_by.clone(),
        };
        tw.write_str(&format!(
            "  {}\t{}\t{}\n",
            p.path,
            size(p.written.unwrap_or(0)),
            what
        ));
    }
    if rows.len() > SHOWN {
        tw.write_str(&format!("  ({} more)\n", rows.len() - SHOWN));
    }
    let first = rows
        .iter()
        .find(|p| p.backing == Backing::Layer)
        .map(|p| p.path.as_str())
        .unwrap_or("/data");
    let at = if first == "/" { "/data" } else { first };
    (tw.finish(), at.to_string())
}

/// What `rm` prints on a terminal before discarding `view`'s data.
pub fn warning(view: &ContainerStorage, volumes: bool) -> String {
    let name = &view.name;
    let mut text = format!(
        "WARNING! Removing container {name} discards {} of data it wrote:\n",
        size(discarded_bytes(view, volumes))
    );
    let (rows, at) = listing(view, volumes);
    text.push_str(&rows);
    text.push_str(&format!(
        "To keep it: `berth commit {name} IMAGE` (an image with these files), \
         `berth cp {name}:{at} DEST` (a copy on the host),\n\
         or next time mount a volume there: `berth run -v NAME:{at} ...`."
    ));
    text
}

/// What an attached `run --rm` prints on a terminal once its container is gone, when the
/// removal discarded more than the threshold: the same rows as `rm`'s warning.
pub fn run_rm_notice(view: &ContainerStorage) -> String {
    let (rows, at) = listing(view, false);
    format!(
        "berth: --rm discarded {} the container wrote:\n{rows}\
         To keep it next time, mount a volume there (`berth run -v NAME:{at} ...`), or run \
         without --rm and `berth commit` or `berth cp` it before `berth rm`.",
        size(discarded_bytes(view, false))
    )
}

/// `run --rm`, attached: whether to ask for the report of what the removal discards — on a
/// terminal only (stdout and stderr) and unless the threshold is 0, so scripts and pipes see
/// docker's `run --rm`.
pub fn run_rm_wants_report(engine: &Engine) -> bool {
    std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && threshold(engine).is_ok_and(|t| t > 0)
}

/// `run --rm`, attached, once the container is gone: prints what its removal discarded if that
/// was more than the threshold.
pub fn run_rm_report(engine: &Engine, id: &str) {
    let Some(view) = engine.take_discard_report(id) else {
        return;
    };
    let limit = threshold(engine).unwrap_or(0);
    if limit > 0 && discarded_bytes(&view, false) > limit {
        eprintln!("{}", run_rm_notice(&view));
    }
}

/// Whether `rm` may warn: on a terminal only (stdin and stdout), never with `-f`.
fn may_warn(force: bool) -> bool {
    !force && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The warning threshold: `BERTH_RM_WARNING_THRESHOLD` if set, else daemon.json's
/// `rm-warning-threshold`, else 1 MiB; 0 disables the warning.
fn threshold(engine: &Engine) -> Result<u64, CliError> {
    match std::env::var("BERTH_RM_WARNING_THRESHOLD") {
        Ok(v) => berth_engine::config::parse_threshold(&v).ok_or_else(|| {
            CliError::usage(format!(
                "invalid BERTH_RM_WARNING_THRESHOLD {v:?}: want a size such as 1MiB, or 0"
            ))
        }),
        Err(_) => Ok(engine.rm_warning_threshold()),
    }
}

/// `berth rm [-f] [-v] CTR...`: docker's `rm`; on a terminal, without `-f`, a container whose
/// removal would discard more than the threshold is shown and removed only if confirmed.
pub fn rm(engine: &mut Engine, args: &RmArgs) -> CliResult {
    let limit = if may_warn(args.force) {
        threshold(engine)?
    } else {
        0
    };
    let mut exit = Exit::Ok;
    for name in &args.names {
        if limit > 0 && !args.link && !confirmed(engine, name, args.volumes, limit) {
            eprintln!("{name}: not removed");
            exit = Exit::Failure;
            continue;
        }
        let removed = if args.link {
            engine.remove_link(name)
        } else {
            engine.remove_container(name, args.force, args.volumes)
        };
        match removed {
            Ok(()) => println!("{name}"),
            Err(e) => {
                // docker 28 prints a missing container's error but `-f` keeps the exit 0.
                let missing = matches!(e, berth_engine::EngineError::NoSuchContainer(_));
                eprintln!("{}", CliError::from(e).message);
                if !(missing && args.force) {
                    exit = Exit::Failure;
                }
            }
        }
    }
    Ok(exit)
}

/// Asks before `rm` discards more than `limit` bytes of `name`. Anything that prevents the
/// check (no such container, a running one `rm` will refuse) is left for `rm` to report.
fn confirmed(engine: &mut Engine, name: &str, volumes: bool, limit: u64) -> bool {
    let Ok(view) = engine.container_storage(name) else {
        return true;
    };
    if matches!(view.state.as_str(), "running" | "paused" | "restarting") {
        return true;
    }
    if discarded_bytes(&view, volumes) <= limit {
        return true;
    }
    super::confirm(&warning(&view, volumes))
}
