//! The crash campaign (issue 15): for each storage operation, N `SIGKILL`s at delays spread
//! over the operation's measured duration, then the checks a user would care about — the
//! metadata agrees with the disk, a volume's files are all there or none are (by hash), nothing
//! stays mounted under the root, no berth process or container is left behind — and the next
//! operation repairs what the kill interrupted.
//!
//! CI runs a short campaign (`BERTH_CRASH_KILLS`, default 6 kills per operation); the full one
//! runs by hand: `BERTH_CRASH_KILLS=60 cargo test -p berth-cli --test e2e -- --include-ignored
//! crash:: --nocapture`, which prints one table row per operation.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

/// Kills per operation.
fn kills() -> usize {
    std::env::var("BERTH_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

/// What one campaign saw.
#[derive(Debug, Default)]
struct Tally {
    kills: usize,
    /// Kills that landed while the operation ran (the rest hit before start or after its end).
    mid: usize,
    partial_volumes: usize,
    leaked_processes: usize,
    leaked_mounts: usize,
    orphan_volumes: usize,
    failures: Vec<String>,
}

impl Tally {
    fn row(&self, op: &str) -> String {
        format!(
            "| {op} | {} | {} | {} | {} | {} | {} |",
            self.kills,
            self.mid,
            self.partial_volumes,
            self.leaked_processes,
            self.leaked_mounts,
            self.orphan_volumes
        )
    }
}

/// Runs `args` and kills it with SIGKILL after `delay`; whether it was still running then.
fn run_and_kill(b: &Berth, args: &[&str], delay: Duration) -> bool {
    let mut child = b
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let running = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    running
}

/// How long `args` takes when nothing interrupts it (the median of three runs), with `reset`
/// run before each.
fn duration_of(b: &Berth, args: &[&str], reset: &dyn Fn(&Berth)) -> Duration {
    let mut times = Vec::new();
    for _ in 0..3 {
        reset(b);
        let t = Instant::now();
        b.run(args).ok();
        times.push(t.elapsed());
    }
    reset(b);
    times.sort();
    times[1]
}

/// The `k`-th of `n` delays, spread evenly over `0..1.2 × d` (some land after the end).
fn delay(k: usize, n: usize, d: Duration) -> Duration {
    d.mul_f64(1.2 * k as f64 / n.max(1) as f64)
}

/// Hashes of the files below `dir` (relative path → sha256), as the container sees them.
fn hashes(b: &Berth, vol: &str) -> BTreeMap<String, String> {
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            &format!("{vol}:/v"),
            "busybox",
            "sh",
            "-c",
            "cd /v && find . -type f | sort | xargs -r sha256sum",
        ])
        .ok();
    out.stdout
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(h, p)| (p.to_string(), h.to_string()))
        .collect()
}

/// The processes and mounts a kill may leak below the root.
fn leaks(b: &Berth, t: &mut Tally) {
    let mounts = mounts_under(&b.root());
    if !mounts.is_empty() {
        t.leaked_mounts += mounts.len();
        t.failures.push(format!("mounts left: {mounts:?}"));
    }
    // A `run --rm`'s shim finishes its cleanup just after the CLI returns: only what is
    // still there after a while has leaked.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut procs = processes_of(&b.root());
    while !procs.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        procs = processes_of(&b.root());
    }
    if !procs.is_empty() {
        t.leaked_processes += procs.len();
        t.failures.push(format!("processes left: {procs:?}"));
    }
}

/// An image whose `/data` holds 400 files of 16 KiB and a marker, so that populating a new
/// volume from it takes a measurable while.
fn data_image(b: &Berth) -> BTreeMap<String, String> {
    b.busybox("busybox");
    let src = b.scratch("data-src");
    std::fs::create_dir_all(src.join("data")).unwrap();
    for i in 0..400 {
        std::fs::write(
            src.join(format!("data/f{i:03}")),
            format!("{i}\n").repeat(4096).as_bytes(),
        )
        .unwrap();
    }
    std::fs::write(src.join("data/zz-last"), b"last\n").unwrap();
    let tar = b.scratch("data.tar");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(&src)
        .arg("-cf")
        .arg(&tar)
        .arg("data")
        .status()
        .unwrap();
    assert!(ok.success());
    let bb = b.busybox_tar_path();
    let layered = b.scratch("layered.tar");
    // busybox's files and /data in one root filesystem tar.
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cp {} {} && tar -C {} -rf {} data",
            bb.display(),
            layered.display(),
            src.display(),
            layered.display()
        ))
        .status()
        .unwrap();
    assert!(ok.success());
    b.run(&["import", layered.to_str().unwrap(), "data:1"]).ok();
    b.run(&["volume", "create", "reference"]).ok();
    b.run(&["run", "--rm", "-v", "reference:/data", "data:1", "true"])
        .ok();
    let want = hashes(b, "reference");
    assert_eq!(want.len(), 401);
    want
}

/// Issue 15 item 2: `create -v NEW:/data IMG` killed while it copies the image's `/data` into
/// the new volume leaves the volume whole or empty, never partial, and the next run fills an
/// empty one.
#[test]
fn r15_killed_populate_leaves_the_volume_whole_or_empty() {
    let b = Berth::new();
    let want = data_image(&b);
    let n = kills();
    let reset = |b: &Berth| {
        let _ = b.run(&["rm", "-f", "pop"]);
        let _ = b.run(&["volume", "rm", "-f", "popvol"]);
    };
    let args = [
        "create",
        "--name",
        "pop",
        "-v",
        "popvol:/data",
        "data:1",
        "true",
    ];
    let d = duration_of(&b, &args, &reset);
    let mut t = Tally::default();
    for k in 0..n {
        reset(&b);
        t.kills += 1;
        if run_and_kill(&b, &args, delay(k, n, d)) {
            t.mid += 1;
        }
        let exists = b
            .run(&["volume", "ls", "-q"])
            .ok()
            .stdout
            .lines()
            .any(|l| l == "popvol");
        if exists {
            // Whatever the kill left, a run with the volume sees all of /data or none of it,
            // and a run after it always sees all of it (an empty volume is filled again).
            let got = hashes(&b, "popvol");
            if !got.is_empty() && got != want {
                t.partial_volumes += 1;
                t.failures.push(format!(
                    "kill {k} after {:?}: {} of {} files",
                    delay(k, n, d),
                    got.len(),
                    want.len()
                ));
            }
            let _ = b.run(&["rm", "-f", "pop"]);
            b.run(&["run", "--rm", "-v", "popvol:/data", "data:1", "true"])
                .ok();
            if hashes(&b, "popvol") != want {
                t.partial_volumes += 1;
                t.failures
                    .push(format!("kill {k}: the next run did not fill the volume"));
            }
        }
        leaks(&b, &mut t);
    }
    eprintln!("| operation | kills | mid-operation | partial volumes | leaked processes | leaked mounts | orphan volumes |");
    eprintln!(
        "{}",
        t.row(&format!("create -v NEW:/data (populate, {d:?})"))
    );
    assert!(t.failures.is_empty(), "{:#?}", t.failures);
}
