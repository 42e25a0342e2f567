//! `version`, `info`, `events`, `system df/prune/boot` and `completion`.

use berth_engine::info::{API_VERSION, VERSION};
use berth_engine::Engine;
use serde_json::json;

use crate::cli::{CompletionArgs, CompletionShell, DfArgs, EventsArgs, FormatArg, SystemPruneArgs};
use crate::format::{self, units, Row};

use crate::error::{CliError, CliResult};
use crate::exit::Exit;
use crate::output;

/// `berth -v`.
pub fn short_version() -> String {
    format!("berth version {VERSION}")
}

fn os_arch() -> String {
    let arch = berth_image::import::host_architecture();
    format!("linux/{arch}")
}

/// `berth version` (needs no data root).
pub fn version(args: &FormatArg) -> CliResult {
    let data = json!({
        "Client": {"Version": VERSION, "ApiVersion": API_VERSION, "Os": "linux",
            "Arch": berth_image::import::host_architecture()},
        "Server": {"Version": VERSION, "ApiVersion": API_VERSION, "MinAPIVersion": "1.12",
            "Os": "linux", "Arch": berth_image::import::host_architecture()},
    });
    if let Some(f) = &args.format {
        output::print_template(f, &data, "system.versionInfo")?;
        return Ok(Exit::Ok);
    }
    println!("Client:");
    println!(" Version:           {VERSION}");
    println!(" API version:       {API_VERSION}");
    println!(" OS/Arch:           {}", os_arch());
    println!();
    println!("Server: berth (daemonless engine)");
    println!(" Engine:");
    println!("  Version:          {VERSION}");
    println!("  API version:      {API_VERSION} (minimum version 1.12)");
    println!("  OS/Arch:          {}", os_arch());
    Ok(Exit::Ok)
}

/// `berth info`.
pub fn info(engine: &mut Engine, args: &FormatArg) -> CliResult {
    let info = engine.info()?;
    if let Some(f) = &args.format {
        let data = serde_json::to_value(&info).expect("info serializes");
        output::print_template(f, &data, "system.dockerInfo")?;
        return Ok(Exit::Ok);
    }
    println!("Server:");
    println!(" Containers: {}", info.containers);
    println!("  Running: {}", info.containers_running);
    println!("  Paused: {}", info.containers_paused);
    println!("  Stopped: {}", info.containers_stopped);
    println!(" Images: {}", info.images);
    println!(" Volumes: {}", info.volumes);
    println!(" Server Version: {}", info.server_version);
    println!(" Storage Driver: {}", info.driver);
    for [k, v] in &info.driver_status {
        println!("  {k}: {v}");
    }
    println!(" Logging Driver: {}", info.logging_driver);
    println!(" Cgroup Driver: {}", info.cgroup_driver);
    println!(" Cgroup Version: {}", info.cgroup_version);
    println!(" Plugins:");
    for kind in ["Volume", "Network", "Log"] {
        let names = info
            .plugins
            .get(kind)
            .map(|v| v.join(" "))
            .unwrap_or_default();
        println!("  {kind}: {names}");
    }
    println!(" Swarm: inactive");
    let runtimes: Vec<&str> = info.runtimes.keys().map(String::as_str).collect();
    println!(" Runtimes: {}", runtimes.join(" "));
    println!(" Default Runtime: {}", info.default_runtime);
    println!(" Init Binary: {}", info.init_binary);
    println!(" containerd version: {}", info.containerd_commit.id);
    println!(" runc version: {}", info.runc_commit.id);
    println!(" init version: {}", info.init_commit.id);
    println!(" Security Options:");
    for opt in &info.security_options {
        // `name=seccomp,profile=default` as docker prints it.
        for (i, kv) in opt.split(',').enumerate() {
            let (k, v) = kv.split_once('=').unwrap_or(("", kv));
            if i == 0 {
                println!("  {v}");
            } else {
                let mut key = k.to_string();
                if let Some(first) = key.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                println!("   {key}: {v}");
            }
        }
    }
    println!(" Kernel Version: {}", info.kernel_version);
    println!(" Operating System: {}", info.operating_system);
    println!(" OSType: {}", info.os_type);
    println!(" Architecture: {}", info.architecture);
    println!(" CPUs: {}", info.ncpu);
    println!(
        " Total Memory: {}",
        units::bytes_size(info.mem_total as f64)
    );
    println!(" Name: {}", info.name);
    println!(" ID: {}", info.id);
    println!(" Docker Root Dir: {}", info.docker_root_dir);
    println!(" Debug Mode: {}", info.debug);
    println!(" Registry: {}", info.index_server_address);
    println!(" Labels:");
    println!(" Experimental: {}", info.experimental_build);
    println!(" Insecure Registries:");
    for cidr in info.registry_config["InsecureRegistryCIDRs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
    {
        println!("  {cidr}");
    }
    println!(" Live Restore Enabled: {}", info.live_restore_enabled);
    for w in info.warnings.iter().flatten() {
        eprintln!("{w}");
    }
    Ok(Exit::Ok)
}

/// `docker system df`'s `RECLAIMABLE`: size and share of the total.
fn reclaimable(bytes: u64, total: u64) -> String {
    let size = units::human_size(bytes as f64);
    match (bytes * 100).checked_div(total) {
        Some(pct) => format!("{size} ({pct}%)"),
        None => size,
    }
}

/// `berth system df [-v]`.
pub fn df(engine: &mut Engine, args: &DfArgs) -> CliResult {
    // The volumes go one at a time to the summary's totals or the verbose table; only a custom
    // format over all lists holds them.
    let du = if args.verbose && args.format.is_some() {
        engine.disk_usage()?
    } else {
        engine.disk_usage_without_volumes()?
    };
    if !args.verbose {
        let mut totals = berth_engine::system::VolumeTotals::default();
        engine.for_each_volume_usage(|v| totals.add(&v))?;
        let rows: Vec<Row> = berth_engine::system::summary(&du, &totals)
            .into_iter()
            .map(|(kind, total, active, size, reclaim)| {
                Row::new("*formatter.diskUsageContext")
                    .field("Type", kind)
                    .field("TotalCount", total.to_string())
                    .field("Active", active.to_string())
                    .field("Size", units::human_size(size as f64))
                    .field("Reclaimable", reclaimable(reclaim, size))
            })
            .collect();
        output::print_list(&rows, args.format.as_deref(), false, &format::DISK_USAGE)?;
        return Ok(Exit::Ok);
    }
    let now = chrono::Utc::now();
    let image_rows: Vec<Row> = du
        .images
        .iter()
        .flat_map(|i| {
            let created = chrono::DateTime::from_timestamp(i.created, 0).unwrap_or_default();
            let names: Vec<(String, String)> = if i.repo_tags.is_empty() {
                vec![("<none>".into(), "<none>".into())]
            } else {
                i.repo_tags
                    .iter()
                    .map(|t| {
                        let (r, tag) = t.rsplit_once(':').unwrap_or((t, "<none>"));
                        (r.to_string(), tag.to_string())
                    })
                    .collect()
            };
            names.into_iter().map(move |(repo, tag)| {
                Row::new("*formatter.imageContext")
                    .field("Repository", repo)
                    .field("Tag", tag)
                    .field("ID", format::text::short_id(&i.id).to_string())
                    .field("CreatedSince", units::created_since_at(created, now))
                    .field("Size", units::human_size_with_precision(i.size as f64, 3))
                    .field("SharedSize", units::human_size(i.shared_size as f64))
                    .field(
                        "UniqueSize",
                        units::human_size((i.size - i.shared_size) as f64),
                    )
                    .field("Containers", i.containers.to_string())
            })
        })
        .collect();

    let container_rows: Vec<Row> = du
        .containers
        .iter()
        .map(|c| {
            let created = chrono::DateTime::from_timestamp(c.created, 0).unwrap_or_default();
            Row::new("*formatter.ContainerContext")
                .field("ID", c.id[..12].to_string())
                .field("Image", format::text::ps_image(&c.image, &c.image_id, true))
                .field("Command", format::text::ps_command(&c.command, false))
                .field(
                    "LocalVolumes",
                    c.mounts
                        .iter()
                        .filter(|m| m.kind == "volume")
                        .count()
                        .to_string(),
                )
                .field("Size", units::human_size(c.size_rw.unwrap_or(0) as f64))
                .field("RunningFor", units::created_since_at(created, now))
                .field("Status", c.status.clone())
                .field(
                    "Names",
                    c.names
                        .iter()
                        .map(|n| n.trim_start_matches('/'))
                        .collect::<Vec<_>>()
                        .join(","),
                )
        })
        .collect();
    if let Some(f) = &args.format {
        let volume_rows: Vec<Row> = du.volumes.iter().map(super::volume::volume_row).collect();
        // docker runs a custom format once, over all four lists.
        use crate::format::TemplateData as _;
        let list =
            |rows: &[Row]| serde_json::Value::Array(rows.iter().map(|r| r.to_value()).collect());
        let data = serde_json::json!({
            "Images": list(&image_rows),
            "Containers": list(&container_rows),
            "Volumes": list(&volume_rows),
            "BuildCache": [],
        });
        let template = format::Template::parse(&format::template_string(f))
            .map_err(format::FormatError::from)?;
        let text = template
            .execute_inspect(&data, "*formatter.diskUsageContext", false)
            .map_err(|e| CliError::usage(e.to_string()))?;
        println!("{text}");
        return Ok(Exit::Ok);
    }
    println!("Images space usage:\n");
    output::print_list(&image_rows, Some("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}"), false, &format::IMAGES)?;
    println!("\nContainers space usage:\n");
    output::print_list(&container_rows, Some("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}"), false, &format::CONTAINERS)?;
    println!("\nWritable layers by directory:\n");
    let layer_rows = super::storage::layer_rows(&du.writable_layers, 4);
    output::print_list(&layer_rows, None, false, &super::storage::WRITABLE_LAYERS)?;
    println!("\nLocal Volumes space usage:\n");
    {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
        super::volume::stream_disk_usage_table(engine, &mut out)?;
        out.flush()?;
    }
    println!("\nBuild cache usage: 0B\n");
    println!("CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED");
    Ok(Exit::Ok)
}

/// `berth system prune`: stopped containers, dangling (or, with `-a`, unused) images, and with
/// `--volumes` unused anonymous volumes.
pub fn prune(engine: &mut Engine, args: &SystemPruneArgs) -> CliResult {
    let filters = super::parse_filters(&args.filter, "--filter")?;
    if args.volumes && filters.contains("until") {
        return Err(CliError::usage(
            "ERROR: The \"until\" filter is not supported with \"--volumes\"",
        ));
    }
    let mut warning = String::from("WARNING! This will remove:\n  - all stopped containers\n");
    if args.volumes {
        warning.push_str("  - all anonymous volumes not used by at least one container\n");
    }
    warning.push_str(if args.all {
        "  - all images without at least one container associated to them"
    } else {
        "  - all dangling images"
    });
    if !filters.is_empty() {
        warning.push_str("\n\n  Items to be pruned will be filtered with:");
        for key in ["label", "label!", "until"] {
            for v in filters.get(key) {
                warning.push_str(&format!("\n  - {key}={v}"));
            }
        }
        warning.push('\n');
    }
    if !args.force && !super::confirm(&warning) {
        return Ok(Exit::Ok);
    }
    let (containers, mut space) = engine.prune_containers(&filters)?;
    if !containers.is_empty() {
        println!("Deleted Containers:");
        for c in &containers {
            println!("{c}");
        }
        println!();
    }
    if args.volumes {
        let report = engine.prune_volumes(&filters)?;
        if !report.volumes_deleted.is_empty() {
            println!("Deleted Volumes:");
            for v in &report.volumes_deleted {
                println!("{v}");
            }
            println!();
        }
        space += report.space_reclaimed;
    }
    let mut image_filters = filters.clone();
    image_filters.add("dangling", (!args.all).to_string());
    let images = engine.prune_images(&image_filters)?;
    if !images.images_deleted.is_empty() {
        println!("Deleted Images:");
        for item in &images.images_deleted {
            match item {
                berth_engine::types::ImageDeleteItem::Untagged(n) => println!("untagged: {n}"),
                berth_engine::types::ImageDeleteItem::Deleted(d) => println!("deleted: {d}"),
            }
        }
        println!();
    }
    space += images.space_reclaimed;
    println!("Total reclaimed space: {}", units::human_size(space as f64));
    Ok(Exit::Ok)
}

/// A `--since`/`--until` value in nanoseconds since the epoch (durations count back from now).
fn event_time(flag: &str, value: &Option<String>) -> Result<Option<i64>, CliError> {
    let Some(v) = value else { return Ok(None) };
    let t = berth_go::parse_timestamp(v, chrono::Utc::now())
        .map_err(|e| CliError::usage(format!("invalid value for \"{flag}\": {e}")))?;
    Ok(Some(t.timestamp_nanos_opt().unwrap_or(i64::MAX)))
}

/// One event as the docker CLI prints it without `--format`: its time (local, nanoseconds),
/// type, action, actor ID and sorted attributes.
fn pretty_event(ev: &berth_engine::types::EventMessage) -> String {
    use chrono::TimeZone;
    let mut line = String::new();
    let nanos = if ev.time_nano != 0 {
        ev.time_nano
    } else {
        ev.time.saturating_mul(1_000_000_000)
    };
    if nanos != 0 {
        let t = chrono::Local.timestamp_nanos(nanos);
        let zone = t.format("%:z").to_string();
        let zone = if zone == "+00:00" { "Z".into() } else { zone };
        line.push_str(&format!("{}{zone} ", t.format("%Y-%m-%dT%H:%M:%S%.9f")));
    }
    line.push_str(&format!("{} {} {}", ev.kind, ev.action, ev.actor.id));
    if !ev.actor.attributes.is_empty() {
        let attrs: Vec<String> = ev
            .actor
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        line.push_str(&format!(" ({})", attrs.join(", ")));
    }
    line
}

/// `berth events`: what every berth process recorded (`--since`/`--until`), then, unless
/// `--until` has passed, what they record from now on.
pub fn events(engine: &mut Engine, args: &EventsArgs) -> CliResult {
    use std::io::Write;
    let since = event_time("--since", &args.since)?;
    let until = event_time("--until", &args.until)?;
    berth_engine::events::check_window(
        (args.since.as_deref().unwrap_or(""), since),
        (args.until.as_deref().unwrap_or(""), until),
    )
    .map_err(|e| CliError::from(berth_engine::EngineError::from(e)))?;
    let query = berth_engine::events::EventsQuery {
        since,
        until,
        filters: super::parse_filters(&args.filter, "-f, --filter")?,
    };
    let template = args
        .format
        .as_deref()
        .map(|f| {
            let f = if f == "json" { "{{json .}}" } else { f };
            format::Template::parse(&format::template_string(f))
                .map_err(|e| CliError::usage(format!("template parsing error: {e}")))
        })
        .transpose()?;
    let mut out = std::io::stdout().lock();
    let mut failed = None;
    let mut sink = |ev: &berth_engine::types::EventMessage| -> std::io::Result<()> {
        let line = match &template {
            None => pretty_event(ev),
            Some(t) => {
                let data = serde_json::to_value(ev).expect("events serialize");
                match t.execute(&data) {
                    Ok(s) => s,
                    Err(e) => {
                        failed = Some(format!("template parsing error: {e}"));
                        return Err(std::io::Error::other("template"));
                    }
                }
            }
        };
        writeln!(out, "{line}")?;
        out.flush()
    };
    engine.events(&query, &|| false, &mut sink)?;
    if let Some(e) = failed {
        return Err(CliError::usage(e));
    }
    Ok(Exit::Ok)
}

/// `berth system boot`: one line per container started, and each failure on stderr (the
/// others still start); exits 1 if any failed.
pub fn boot(engine: &mut Engine) -> CliResult {
    let mut failed = false;
    for start in engine.boot()? {
        match start.result {
            Ok(()) => println!("{}", start.name),
            Err(e) => {
                failed = true;
                eprintln!("{}: {}", start.name, CliError::from(e).message);
            }
        }
    }
    Ok(if failed { Exit::Failure } else { Exit::Ok })
}

/// `berth completion SHELL`: the shell's completion script, generated from the grammar.
pub fn completion(args: &CompletionArgs) {
    use clap_complete::{generate, Shell};
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut cmd = crate::parse::grammar();
    generate(shell, &mut cmd, "berth", &mut std::io::stdout());
}

/// `berth gen-man DIR` (hidden): a man page per command and subcommand, from the grammar.
pub fn man_pages(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let cmd = crate::parse::grammar().version(VERSION);
    clap_mangen::generate_to(cmd, dir)
}
