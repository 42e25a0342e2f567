//! `berth stats`: docker's stats command — each container's CPU, memory, network and block I/O
//! use and its process count, as a table redrawn every second or, with `--no-stream`, one
//! sample. The samples are the engine's ([`Engine::container_stats`], what `GET
//! /containers/{id}/stats` streams); this module only turns them into the docker CLI's columns
//! with its arithmetic (CPU % from the change against the host's, memory without the page
//! cache, network and block I/O summed).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_engine::container::{ListOptions, StatsJson, StatsQuery};
use berth_engine::{Engine, EngineOptions};
use serde_json::Value;

use crate::cli::StatsArgs;
use crate::error::{CliError, CliResult};
use crate::exit::Exit;
use crate::format::{self, units, ListFormat, Row};

/// `docker stats`'s formats.
const STATS: ListFormat = ListFormat {
    table: "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
    quiet: "{{.ID}}",
    raw: None,
    headers: &[
        ("Container", "CONTAINER"),
        ("ID", "CONTAINER ID"),
        ("Name", "NAME"),
        ("CPUPerc", "CPU %"),
        ("MemUsage", "MEM USAGE / LIMIT"),
        ("MemPerc", "MEM %"),
        ("NetIO", "NET I/O"),
        ("BlockIO", "BLOCK I/O"),
        ("PIDs", "PIDS"),
    ],
    quiet_overrides_format: false,
};

/// One container shown: how the user named it (or its ID), and its latest sample.
struct Shown {
    container: String,
    id: String,
    name: String,
    latest: Option<StatsJson>,
}

type Table = Arc<Mutex<BTreeMap<String, Shown>>>;

/// `berth stats [-a] [--no-stream] [--no-trunc] [--format F] [CONTAINER...]`.
pub fn stats(opts: EngineOptions, args: &StatsArgs) -> CliResult {
    let formatter = format::Formatter::new(args.format.as_deref().unwrap_or(""), false, &STATS)?;
    let mut engine = Engine::open(opts.clone())
        .map_err(|e| CliError::usage(format!("berth: {e}")).with_exit(Exit::Engine))?;
    let table: Table = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut order = Vec::new();
    let mut threads = Vec::new();
    let mut watch =
        |engine: &mut Engine, order: &mut Vec<String>, container: String| -> Result<(), CliError> {
            let c = engine.inspect_container(&container, false)?;
            if table
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(&c.id)
            {
                return Ok(());
            }
            table.lock().unwrap_or_else(|p| p.into_inner()).insert(
                c.id.clone(),
                Shown {
                    container,
                    id: c.id.clone(),
                    name: c.name.trim_start_matches('/').to_string(),
                    latest: None,
                },
            );
            order.push(c.id.clone());
            let (opts, table, stop, id) = (opts.clone(), table.clone(), stop.clone(), c.id);
            let query = StatsQuery {
                stream: !args.no_stream,
                one_shot: false,
            };
            threads.push(std::thread::spawn(move || {
                let Ok(mut engine) = Engine::open(opts) else {
                    return;
                };
                let gone = || stop.load(Ordering::Relaxed);
                let mut sink = |s: &StatsJson| {
                    if let Some(shown) = table
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_mut(&s.id)
                    {
                        shown.latest = Some(s.clone());
                    }
                    Ok(())
                };
                if let Err(e) = engine.container_stats(&id, query, &gone, &mut sink) {
                    log::debug!("stats of {id}: {e}");
                }
            }));
            Ok(())
        };
    let listed = |engine: &mut Engine| -> Result<Vec<String>, CliError> {
        let list = engine.list_containers(&ListOptions {
            all: args.all,
            limit: None,
            latest: false,
            size: false,
            filters: Default::default(),
        })?;
        Ok(list.into_iter().rev().map(|c| c.id).collect())
    };
    let named = !args.containers.is_empty();
    let initial = if named {
        args.containers.clone()
    } else {
        listed(&mut engine)?
    };
    for c in initial {
        watch(&mut engine, &mut order, c)?;
    }
    let render = |order: &[String]| -> Result<String, CliError> {
        let table = table.lock().unwrap_or_else(|p| p.into_inner());
        let rows: Vec<Row> = order
            .iter()
            .filter_map(|id| table.get(id))
            .map(|s| row(s, args.no_trunc))
            .collect();
        Ok(formatter.render(&rows)?)
    };
    if args.no_stream {
        for t in threads {
            let _ = t.join();
        }
        print!("{}", render(&order)?);
        return Ok(Exit::Ok);
    }
    loop {
        std::thread::sleep(Duration::from_secs(1));
        if !named {
            // Containers that start later join the table; without -a, stopped ones leave it.
            let now = listed(&mut engine)?;
            for id in &now {
                let _ = watch(&mut engine, &mut order, id.clone());
            }
            if !args.all {
                order.retain(|id| now.contains(id));
                table
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain(|id, _| now.contains(id));
            }
        }
        // The docker CLI's redraw: clear the screen, cursor home.
        print!("\x1b[2J\x1b[H{}", render(&order)?);
        use std::io::Write;
        if std::io::stdout().flush().is_err() {
            stop.store(true, Ordering::Relaxed);
            return Ok(Exit::Ok);
        }
    }
}

/// The docker CLI's columns of one container.
fn row(s: &Shown, no_trunc: bool) -> Row {
    let zero = StatsJson::default();
    let st = s.latest.as_ref().unwrap_or(&zero);
    let id = if no_trunc {
        s.id.clone()
    } else {
        format::text::short_id(&s.id).to_string()
    };
    let mem = memory_usage(st);
    let limit = st.memory_stats.limit as f64;
    let mem_perc = if limit > 0.0 {
        mem / limit * 100.0
    } else {
        0.0
    };
    let (rx, tx) = st
        .networks
        .iter()
        .flatten()
        .fold((0u64, 0u64), |(r, t), (_, n)| {
            (r + n.rx_bytes, t + n.tx_bytes)
        });
    let (read, write) = block_io(st);
    // A listed container is known by its ID, shortened like the ID column.
    let container = if s.container == s.id {
        id.clone()
    } else {
        s.container.clone()
    };
    Row::new("*formatter.statsContext")
        .field("Container", container)
        .field("ID", id)
        .field("Name", s.name.clone())
        .field("CPUPerc", format!("{:.2}%", cpu_percent(st)))
        .field(
            "MemUsage",
            format!("{} / {}", units::bytes_size(mem), units::bytes_size(limit)),
        )
        .field("MemPerc", format!("{mem_perc:.2}%"))
        .field("NetIO", in_out(rx, tx))
        .field("BlockIO", in_out(read, write))
        .field("PIDs", Value::from(st.pids_stats.current))
}

/// Two byte counts as the docker CLI prints traffic: `1.2kB / 0B`.
fn in_out(a: u64, b: u64) -> String {
    let size = |n: u64| units::human_size_with_precision(n as f64, 3);
    format!("{} / {}", size(a), size(b))
}

/// The share of the host's CPU time the container used since the previous sample, scaled by the
/// CPUs online (100% = one CPU).
fn cpu_percent(s: &StatsJson) -> f64 {
    let cpu =
        s.cpu_stats.cpu_usage.total_usage as f64 - s.precpu_stats.cpu_usage.total_usage as f64;
    let system = s.cpu_stats.system_cpu_usage as f64 - s.precpu_stats.system_cpu_usage as f64;
    let cpus = match s.cpu_stats.online_cpus {
        0 => s.cpu_stats.cpu_usage.percpu_usage.len() as f64,
        n => f64::from(n),
    };
    if cpu > 0.0 && system > 0.0 {
        cpu / system * cpus * 100.0
    } else {
        0.0
    }
}

/// Memory used less the inactive page cache (cgroup v1's `total_inactive_file`, v2's
/// `inactive_file`), as the docker CLI shows it.
fn memory_usage(s: &StatsJson) -> f64 {
    let usage = s.memory_stats.usage;
    let stats = &s.memory_stats.stats;
    let cache = stats
        .get("total_inactive_file")
        .or_else(|| stats.get("inactive_file"))
        .copied()
        .filter(|c| *c < usage)
        .unwrap_or(0);
    (usage - cache) as f64
}

/// Bytes read and written, summed over devices.
fn block_io(s: &StatsJson) -> (u64, u64) {
    let mut rw = (0, 0);
    for e in s.blkio_stats.io_service_bytes_recursive.iter().flatten() {
        match e.op.to_ascii_lowercase().as_str() {
            "read" => rw.0 += e.value,
            "write" => rw.1 += e.value,
            _ => {}
        }
    }
    rw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_docker_cli_arithmetic() {
        let mut s = StatsJson::default();
        s.cpu_stats.cpu_usage.total_usage = 3_000;
        s.precpu_stats.cpu_usage.total_usage = 1_000;
        s.cpu_stats.system_cpu_usage = 20_000;
        s.precpu_stats.system_cpu_usage = 10_000;
        s.cpu_stats.online_cpus = 2;
        assert!((cpu_percent(&s) - 40.0).abs() < 1e-9);
        s.memory_stats.usage = 10 << 20;
        s.memory_stats.limit = 100 << 20;
        s.memory_stats
            .stats
            .insert("total_inactive_file".into(), 2 << 20);
        assert_eq!(memory_usage(&s), (8 << 20) as f64);
        let shown = Shown {
            container: "web".into(),
            id: "0123456789abcdef0123".into(),
            name: "web".into(),
            latest: Some(s),
        };
        let r = format::Formatter::new("", false, &STATS)
            .unwrap()
            .render(&[row(&shown, false)])
            .unwrap();
        assert_eq!(
            r,
            "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS\n\
             0123456789ab   web       40.00%    8MiB / 100MiB       8.00%     0B / 0B   0B / 0B     0\n"
        );
    }
}
