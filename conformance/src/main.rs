//! `berth-conformance`: runs the differential scenarios of `conformance/scenarios` (see
//! `conformance/README.md`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use berth_conformance::engine::Engine;
use berth_conformance::{fixtures, layers, load_suite, Mode};

const USAGE: &str = "\
usage: berth-conformance COMMAND [OPTIONS] [SCENARIO...]

commands:
  check      run scenarios on one engine and compare with the recorded expectations
             (berth by default, or --docker HOST to check that the recordings still hold)
  record     re-record the expectations from a live Docker (--docker HOST); rewrites the files
  diff       run Docker (--docker HOST) and berth live and compare berth with Docker
  list       list the scenarios and the spec §12 behaviours they cover
  fixtures DIR               write the fixture archives (busybox rootfs, spec-* images)
  layer-ls ARCHIVE [INDEX]   list the entries of one layer of a saved image (default: top)
  diff-ids ARCHIVE           print the sha256 of every layer of a saved image

options:
  --berth PATH     berth binary (default: <workspace>/target/debug/berth)
  --docker HOST    Docker daemon, e.g. unix:///run/hdock.sock
  --work DIR       scratch directory (default: /var/tmp/berth-conformance)
  --strict         a scenario needing a berth feature that is missing fails instead of skipping
  --timeout SECS   time limit per command (default: 120)
  --busybox PATH   busybox binary for the fixture image (default: /bin/busybox)
  --docker-name    require `docker` where Docker prints it; by default berth's own program name
                   is accepted in its place (`berth: Error…`, `Run 'berth run --help'`)

SCENARIO selects scenarios whose file name starts with or contains it (e.g. 06 or volume).";

struct Args {
    command: String,
    berth: Option<PathBuf>,
    docker: Option<String>,
    work: PathBuf,
    strict: bool,
    timeout: u64,
    busybox: PathBuf,
    allow_berth_name: bool,
    rest: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        command: it.next().ok_or(USAGE)?,
        berth: None,
        docker: None,
        work: PathBuf::from("/var/tmp/berth-conformance"),
        strict: false,
        timeout: 120,
        busybox: PathBuf::from("/bin/busybox"),
        allow_berth_name: true,
        rest: Vec::new(),
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--berth" => a.berth = Some(PathBuf::from(value("--berth")?)),
            "--docker" => a.docker = Some(value("--docker")?),
            "--work" => a.work = PathBuf::from(value("--work")?),
            "--strict" => a.strict = true,
            "--docker-name" => a.allow_berth_name = false,
            "--timeout" => {
                a.timeout = value("--timeout")?
                    .parse()
                    .map_err(|_| "--timeout needs seconds")?
            }
            "--busybox" => a.busybox = PathBuf::from(value("--busybox")?),
            "-h" | "--help" => return Err(USAGE.to_string()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n\n{USAGE}")),
            _ => a.rest.push(arg),
        }
    }
    Ok(a)
}

fn default_berth() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| berth_conformance::conformance_dir().join("../target"));
    target.join("debug/berth")
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("berth-conformance: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(a: Args) -> Result<ExitCode, String> {
    match a.command.as_str() {
        "fixtures" => {
            let dir = a.rest.first().ok_or("fixtures needs a DIR")?;
            fixtures::build(Path::new(dir), &a.busybox).map_err(|e| e.to_string())?;
            return Ok(ExitCode::SUCCESS);
        }
        "layer-ls" | "diff-ids" => {
            let archive = a.rest.first().ok_or("needs an ARCHIVE")?;
            let image = layers::SavedImage::open(Path::new(archive))
                .map_err(|e| format!("{archive}: {e}"))?;
            let lines = if a.command == "diff-ids" {
                layers::diff_ids(&image)
            } else {
                let index = a
                    .rest
                    .get(1)
                    .map_or(Ok(-1), |s| s.parse::<i64>())
                    .map_err(|_| "INDEX must be a number")?;
                image.layer(index).and_then(|l| layers::list_layer(&l))
            }
            .map_err(|e| format!("{archive}: {e}"))?;
            for l in lines {
                println!("{l}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let suite = load_suite(&a.rest, a.strict, Duration::from_secs(a.timeout))?;
    if a.command == "list" {
        for sc in &suite.scenarios {
            let covers: Vec<String> = sc.covers.iter().map(|c| format!("#{c}")).collect();
            println!("{:<40} {:<10} {}", sc.name, covers.join(","), sc.title);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mode = match a.command.as_str() {
        "check" => Mode::Check,
        "record" => Mode::Record,
        "diff" => Mode::Diff,
        other => return Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    let fixtures_dir = a.work.join("fixtures");
    fixtures::build(&fixtures_dir, &a.busybox).map_err(|e| format!("building fixtures: {e}"))?;
    let berth_bin = a.berth.clone().unwrap_or_else(default_berth);
    let docker = match &a.docker {
        Some(host) => Some(Engine::docker(host, &a.work, &fixtures_dir)?),
        None if mode != Mode::Check => return Err(format!("{} needs --docker HOST", a.command)),
        None => None,
    };
    let berth = match (mode, &docker) {
        (Mode::Record, _) => None,
        (Mode::Check, Some(_)) if a.berth.is_none() => None,
        _ => {
            let mut b = Engine::berth(&berth_bin, &a.work, &fixtures_dir)?;
            b.allow_berth_name = a.allow_berth_name;
            Some(b)
        }
    };
    let primary = match mode {
        Mode::Check => berth.as_ref().or(docker.as_ref()),
        _ => docker.as_ref(),
    }
    .ok_or("nothing to run against")?;
    if mode == Mode::Check && docker.is_some() && berth.is_some() {
        return Err("check takes either --berth or --docker; use diff for both".into());
    }
    println!(
        "berth-conformance {}: {} scenarios on {}",
        a.command,
        suite.scenarios.len(),
        primary.name()
    );
    let report = suite.run(mode, primary, berth.as_ref(), |line| println!("{line}"));
    print!("{}", report.details());
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
