//! Image commands: `import`, `load`, `save`, `images`, `rmi`, `tag`, `history`, `image inspect`,
//! `image prune`, printed the way the docker CLI prints them.

use std::fs::File;
use std::io;

use berth_engine::image::SaveFormat;
use berth_engine::types::ImageDeleteItem;
use berth_engine::Engine;
use berth_image::import::ImportOptions;

use crate::cli::{
    HistoryArgs, ImageInspectArgs, ImagePruneArgs, ImagesArgs, ImportArgs, LoadArgs, RmiArgs,
    SaveArgs, TagArgs,
};
use crate::error::{CliError, CliResult};
use crate::exit::Exit;
use crate::format::{self, units, Row};
use crate::output;
use crate::progress::TerminalProgress;

/// `berth import`.
pub fn import(engine: &mut Engine, args: &ImportArgs) -> CliResult {
    let opts = ImportOptions {
        changes: args.change.clone(),
        message: args.message.clone(),
    };
    let id = if args.source == "-" {
        engine.import_image(io::stdin().lock(), args.reference.as_deref(), &opts)?
    } else {
        let file = File::open(&args.source).map_err(|e| {
            CliError::usage(format!("open {}: {}", args.source, output::io_text(&e)))
        })?;
        engine.import_image(
            io::BufReader::with_capacity(1 << 20, file),
            args.reference.as_deref(),
            &opts,
        )?
    };
    println!("{id}");
    Ok(Exit::Ok)
}

/// `berth load`.
pub fn load(engine: &mut Engine, args: &LoadArgs) -> CliResult {
    let progress = TerminalProgress::new();
    let loaded = match &args.input {
        Some(path) => {
            let file = File::open(path).map_err(|e| {
                CliError::usage(format!("open {}: {}", path.display(), output::io_text(&e)))
            })?;
            engine.load_images(file, &progress)?
        }
        None => {
            if io::IsTerminal::is_terminal(&io::stdin()) {
                return Err(CliError::usage(
                    "requested load from stdin, but stdin is empty",
                ));
            }
            engine.load_images(io::stdin().lock(), &progress)?
        }
    };
    if !args.quiet {
        for image in loaded {
            for (tag, old) in &image.replaced {
                println!(
                    "The image {tag} already exists, renaming the old one with ID {old} to empty string"
                );
            }
            if image.tags.is_empty() {
                println!("Loaded image ID: {}", image.id);
            }
            for tag in &image.tags {
                println!("Loaded image: {tag}");
            }
        }
    }
    Ok(Exit::Ok)
}

/// `berth save`.
pub fn save(engine: &mut Engine, args: &SaveArgs) -> CliResult {
    let format = match args.format.as_str() {
        "docker" | "docker-archive" => SaveFormat::Docker,
        "oci" | "oci-archive" => SaveFormat::Oci,
        other => {
            return Err(CliError::usage(format!(
                "invalid --format {other:?}: must be \"docker\" or \"oci-archive\""
            )))
        }
    };
    let progress = TerminalProgress::new();
    output::write_archive(args.output.as_deref(), "failed to save image", |w| {
        engine.save_images(&args.images, format, w, &progress)?;
        Ok(())
    })?;
    Ok(Exit::Ok)
}

/// `berth images`.
pub fn images(engine: &mut Engine, args: &ImagesArgs) -> CliResult {
    let mut filters = super::parse_filters(&args.filter, "-f, --filter")?;
    if let Some(r) = &args.reference {
        filters.add("reference", r.clone());
    }
    let summaries = engine.list_images(args.all, &filters)?;
    let mut rows = Vec::new();
    for s in &summaries {
        let id = if args.no_trunc {
            s.id.clone()
        } else {
            format::text::short_id(&s.id).to_string()
        };
        let created = chrono::DateTime::from_timestamp(s.created, 0).unwrap_or_default();
        let mut names: Vec<(String, String)> = s
            .repo_tags
            .iter()
            .map(|t| match t.rsplit_once(':') {
                Some((r, tag)) if !tag.contains('/') => (r.to_string(), tag.to_string()),
                _ => (t.clone(), "<none>".into()),
            })
            .collect();
        if names.is_empty() {
            names.push(("<none>".into(), "<none>".into()));
        }
        for (repo, tag) in names {
            let digest = s
                .repo_digests
                .iter()
                .find(|d| d.starts_with(&format!("{repo}@")))
                .and_then(|d| d.split_once('@').map(|(_, d)| d.to_string()))
                .unwrap_or_else(|| "<none>".into());
            rows.push(
                Row::new("*formatter.imageContext")
                    .field("Containers", "N/A")
                    .field("CreatedAt", output::docker_time(&created))
                    .field("CreatedSince", units::created_since(created))
                    .field("Digest", digest)
                    .field("ID", id.clone())
                    .field("Repository", repo)
                    .field("SharedSize", "N/A")
                    .field("Size", units::human_size_with_precision(s.size as f64, 3))
                    .field("Tag", tag)
                    .field("UniqueSize", "N/A")
                    .field("VirtualSize", units::human_size(s.virtual_size as f64)),
            );
        }
    }
    if args.quiet && args.format.is_none() {
        // `-q` prints each image once, however many names it has.
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.get("ID").cloned()));
    }
    let spec = if args.digests {
        &format::IMAGES_WITH_DIGESTS
    } else {
        &format::IMAGES
    };
    output::print_list(&rows, args.format.as_deref(), args.quiet, spec)?;
    Ok(Exit::Ok)
}

/// `berth rmi`: every image is tried; failures are printed and make the exit 1.
pub fn rmi(engine: &mut Engine, args: &RmiArgs) -> CliResult {
    let mut exit = Exit::Ok;
    for name in &args.images {
        match engine.remove_image(name, args.force) {
            Ok(items) => {
                for item in items {
                    match item {
                        ImageDeleteItem::Untagged(n) => println!("Untagged: {n}"),
                        ImageDeleteItem::Deleted(d) => println!("Deleted: {d}"),
                    }
                }
            }
            Err(e) => {
                eprintln!("{}", CliError::from(e).message);
                exit = Exit::Failure;
            }
        }
    }
    Ok(exit)
}

/// `berth tag`.
pub fn tag(engine: &mut Engine, args: &TagArgs) -> CliResult {
    // The CLI checks the target's syntax before asking the daemon, with its own wording.
    match berth_image::reference::Reference::parse(&args.target) {
        Err(e) => return Err(CliError::usage(e.cli_message(&args.target))),
        // A digest in the target is refused by the CLI too, without the daemon prefix.
        Ok(r) if r.digest().is_some() => {
            return Err(CliError::usage(
                berth_image::reference::ReferenceError::TagWithDigest.to_string(),
            ))
        }
        Ok(_) => {}
    }

    engine.tag_image(&args.source, &args.target)?;
    Ok(Exit::Ok)
}

/// `berth history`.
pub fn history(engine: &mut Engine, args: &HistoryArgs) -> CliResult {
    let items = engine.image_history(&args.image)?;
    let rows: Vec<Row> = items
        .iter()
        .map(|h| {
            let created = chrono::DateTime::from_timestamp(h.created, 0).unwrap_or_default();
            let id = if args.no_trunc || h.id == "<missing>" {
                h.id.clone()
            } else {
                format::text::short_id(&h.id).to_string()
            };
            let created_by = if args.no_trunc {
                h.created_by.clone()
            } else {
                format::text::truncate_with_ellipsis(&h.created_by, 45)
            };
            Row::new("*formatter.historyContext")
                .field("ID", id)
                .field(
                    "CreatedSince",
                    if args.human {
                        units::created_since(created)
                    } else {
                        created.to_rfc3339()
                    },
                )
                .field("CreatedAt", created.to_rfc3339())
                .field("CreatedBy", created_by)
                .field(
                    "Size",
                    if args.human {
                        units::human_size_with_precision(h.size as f64, 3)
                    } else {
                        h.size.to_string()
                    },
                )
                .field("Comment", h.comment.clone())
        })
        .collect();
    output::print_list(&rows, args.format.as_deref(), args.quiet, &HISTORY)?;
    Ok(Exit::Ok)
}

/// `docker history`'s formats.
const HISTORY: format::ListFormat = format::ListFormat {
    table: "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
    quiet: "{{.ID}}",
    raw: None,
    headers: &[
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
        ("Comment", "COMMENT"),
    ],
    quiet_overrides_format: false,
};

/// `berth image inspect`.
pub fn inspect(engine: &mut Engine, args: &ImageInspectArgs) -> CliResult {
    output::inspect_each(
        &args.images,
        args.format.as_deref(),
        crate::format::gotypes::IMAGE,
        true,
        |name| {
            engine
                .inspect_image(name)
                .map(|i| serde_json::to_value(i).expect("inspect types serialize"))
                .map_err(|e| format!("Error response from daemon: no such image: {name}: {e}"))
        },
    )
}

/// `berth image prune`.
pub fn prune(engine: &mut Engine, args: &ImagePruneArgs) -> CliResult {
    let mut filters = super::parse_filters(&args.filter, "--filter")?;
    // The docker CLI always says which images: dangling ones, or with -a every unused one.
    filters.add("dangling", (!args.all).to_string());
    let warning = if args.all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !args.force && !super::confirm(warning) {
        return Ok(Exit::Ok);
    }
    let report = engine.prune_images(&filters)?;
    if !report.images_deleted.is_empty() {
        println!("Deleted Images:");
        for item in &report.images_deleted {
            match item {
                ImageDeleteItem::Untagged(n) => println!("untagged: {n}"),
                ImageDeleteItem::Deleted(d) => println!("deleted: {d}"),
            }
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        units::human_size(report.space_reclaimed as f64)
    );
    Ok(Exit::Ok)
}
