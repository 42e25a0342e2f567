//! The crash campaign (issue 15): for each storage operation, N `SIGKILL`s at delays spread
//! over the operation's measured duration, then the checks a user would care about — the
//! metadata agrees with the disk, a volume's files are all there or none are (by hash), nothing
//! stays mounted under the root, no berth process or container is left behind — and the next
//! operation repairs what the kill interrupted.
//!
//! Operations: populate (`create -v NEW:/data`), `run` (attached, `-d`, `--rm`), `rm -v` of a
//! stopped and `rm -f -v` of a running container, `volume create/rm/clone/rename/import`,
//! `load`, `import`, `commit`, `rmi`, `cp`. After each kill: the repair pass (the next berth
//! command), then the audit — no journal entry left open, containers, layers (every one
//! referenced), blobs and volumes agree with their directories, no staging left, no anonymous
//! volume nobody references, no mount but a running container's root, no process but a running
//! container's shim — and every container is removed and the audit runs again.
//!
//! CI runs a short campaign (`BERTH_CRASH_KILLS`, default 3 kills per operation, 48 in all); the
//! full one runs by hand: `BERTH_CRASH_KILLS=20 cargo test -p berth-cli --test e2e --
//! --include-ignored crash:: --nocapture --test-threads=3` (320 kills, about 10 minutes), which
//! prints one table row per operation. The checks read the metadata with the `sqlite3` CLI.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

/// Kills per operation.
fn kills() -> usize {
    std::env::var("BERTH_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
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
    /// Rows without files, files or directories without rows, journal entries left open,
    /// staging left behind, unreferenced layers (the audit's other findings).
    inconsistencies: usize,
    failures: Vec<String>,
}

const TABLE_HEAD: &str = "| operation | kills | mid-operation | partial volumes | leaked processes | leaked mounts | orphan volumes | other inconsistencies |";

impl Tally {
    fn row(&self, op: &str) -> String {
        format!(
            "| {op} | {} | {} | {} | {} | {} | {} | {} |",
            self.kills,
            self.mid,
            self.partial_volumes,
            self.leaked_processes,
            self.leaked_mounts,
            self.orphan_volumes,
            self.inconsistencies
        )
    }

    /// Prints the table row and fails the test on any finding.
    fn report(&self, op: &str, d: Duration) {
        eprintln!("{TABLE_HEAD}");
        eprintln!("{}", self.row(&format!("{op} ({d:.2?})")));
        assert!(self.failures.is_empty(), "{op}: {:#?}", self.failures);
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

/// `sqlite3 -readonly` over the root's metadata: the rows of `sql`, columns split on `|`.
/// The campaign reads the database as an outside checker would, next to the files on disk.
fn rows(b: &Berth, sql: &str) -> Vec<Vec<String>> {
    b.sqlite(&["-readonly"], sql)
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect()
}

/// The names in directory `dir` (none if it does not exist).
fn names_in(dir: &std::path::Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The repair pass (any berth command opens the root and finishes what a kill left half
/// done), then the audit of metadata against the disk, the mounts and the processes: every
/// finding is counted in `t` under its column.
fn repair_and_audit(b: &Berth, t: &mut Tally, what: &str) {
    b.run(&["ps", "-aq"]).ok();
    let root = b.root();
    let mut other = Vec::new();
    // Mounts: only the root filesystems of containers whose process runs; processes: only
    // the shims of running containers. A shim may still be starting its container, or a
    // `run --rm` shim finishing its cleanup: only what stays has leaked.
    let deadline = Instant::now() + Duration::from_secs(15);
    let (stray_mounts, stray) = loop {
        let running: BTreeSet<String> = rows(b, "SELECT id, status FROM containers")
            .into_iter()
            .filter(|r| matches!(r[1].as_str(), "running" | "paused" | "restarting"))
            .map(|r| r[0].clone())
            .collect();
        let mut allowed: BTreeSet<String> = running
            .iter()
            .map(|id| {
                root.join("layers")
                    .join(id)
                    .join("merged")
                    .display()
                    .to_string()
            })
            .collect();
        // A size-limited writable layer's filesystem stays mounted while its container exists.
        let existing = rows(b, "SELECT id FROM containers");
        for r in &existing {
            let quota = root.join("layers").join(&r[0]).join("quota");
            if quota.exists() {
                allowed.insert(quota.display().to_string());
            }
        }
        let stray_mounts: Vec<String> = mounts_under(&root)
            .into_iter()
            .filter(|m| !allowed.contains(m))
            .collect();
        let legit: BTreeSet<i32> = running.iter().flat_map(|id| shim_pids(id)).collect();
        let stray: Vec<i32> = processes_of(&root)
            .into_iter()
            .filter(|p| !legit.contains(p))
            .collect();
        // No journal entry survives the repair: their owners are dead (a shim still starting
        // its container closes the entry of the `run` that launched it once it runs).
        let journal = rows(b, "SELECT kind, key FROM journal");
        // A running `--rm` container's shim removes it the moment its process ends (`true`
        // ends at once): the audit waits for that rather than read the rows and the disk
        // while the removal moves them.
        let finishing = rows(
            b,
            "SELECT id FROM containers WHERE json_extract(host_config, '$.AutoRemove')",
        )
        .into_iter()
        .any(|r| !shim_pids(&r[0]).is_empty());
        let done = stray.is_empty() && stray_mounts.is_empty() && journal.is_empty() && !finishing;
        if done || Instant::now() > deadline {
            for r in journal {
                other.push(format!("journal entry left open: {r:?}"));
            }
            break (stray_mounts, stray);
        }
        std::thread::sleep(Duration::from_millis(100));
        b.run(&["ps", "-aq"]).ok();
    };
    for m in stray_mounts {
        t.leaked_mounts += 1;
        t.failures.push(format!("{what}: mount left: {m}"));
    }
    // Loop devices: only those of the size-limited layers of containers that exist (a volume's
    // goes with its mount, which is a stray by now).
    let existing: BTreeSet<String> = rows(b, "SELECT id FROM containers")
        .into_iter()
        .map(|r| {
            root.join("layers")
                .join(&r[0])
                .join("quota.img")
                .display()
                .to_string()
        })
        .collect();
    let loop_deadline = Instant::now() + Duration::from_secs(10);
    let stray_loops = loop {
        let stray: Vec<String> = crate::storage_quota::loops_under(&root)
            .into_iter()
            .filter(|l| !existing.contains(l))
            .collect();
        // udev may hold a freed device a moment.
        if stray.is_empty() || Instant::now() > loop_deadline {
            break stray;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for l in stray_loops {
        t.leaked_mounts += 1;
        t.failures.push(format!("{what}: loop device left on {l}"));
    }
    if !stray.is_empty() {
        t.leaked_processes += stray.len();
        let cmds: Vec<String> = stray
            .iter()
            .map(|p| {
                String::from_utf8_lossy(
                    &std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default(),
                )
                .replace('\0', " ")
            })
            .collect();
        t.failures.push(format!("{what}: processes left: {cmds:?}"));
    }
    // With every operation settled, the metadata and the disk must agree.
    // Per-process staging of dead processes is gone.
    for n in names_in(&root.join("tmp")) {
        other.push(format!("staging left: tmp/{n}"));
    }
    // Containers: a row, a directory, a writable and an init layer, or none of them.
    let ctrs = rows(b, "SELECT id, status FROM containers");
    let ids: BTreeSet<String> = ctrs.iter().map(|r| r[0].clone()).collect();
    let dirs = names_in(&root.join("containers"));
    for id in ids.symmetric_difference(&dirs) {
        other.push(format!("container {id}: row and directory disagree"));
    }
    // A run directory (under the exec root) or runtime state only for a container with a row.
    for sub in ["containers", "runtime-berth"] {
        for id in names_in(&b.exec_root().join(sub)) {
            if !id.starts_with('.') && !ids.contains(&id) {
                other.push(format!(
                    "container {id}: {sub} under the exec root without a row"
                ));
            }
        }
    }
    // Layers: every layer directory belongs to a layer row or a container, and back.
    let layer_rows = rows(
        b,
        "SELECT cache_id, chain_id, \
         EXISTS(SELECT 1 FROM images i WHERE i.top_layer = l.chain_id) \
         OR EXISTS(SELECT 1 FROM containers c WHERE c.top_layer = l.chain_id) \
         OR EXISTS(SELECT 1 FROM layers p WHERE p.parent = l.chain_id) FROM layers l",
    );
    let mut want_layers: BTreeSet<String> = layer_rows.iter().map(|r| r[0].clone()).collect();
    for r in &layer_rows {
        if r[2] != "1" {
            other.push(format!("layer {} is referenced by nothing", r[1]));
        }
    }
    for id in &ids {
        want_layers.insert(id.clone());
    }
    // A container's init layer: its own `<id>-init`, or the one shared by the containers on
    // its image's top layer, `<cache_id>-init`, which must be complete (its last placeholder
    // is there: a killed builder's half-built one is never used).
    for r in rows(b, "SELECT id, init_layer FROM containers") {
        let init = root.join("layers").join(&r[1]).join("diff");
        if std::fs::symlink_metadata(init.join("etc/mtab")).is_err() {
            other.push(format!(
                "container {}: init layer {} incomplete",
                r[0], r[1]
            ));
        }
        want_layers.insert(r[1].clone());
    }
    let mut layer_dirs = names_in(&root.join("layers"));
    layer_dirs.remove("l");
    // A layer's shared init layer stays with it (made by the first container on it).
    for r in &layer_rows {
        let init = format!("{}-init", r[0]);
        if layer_dirs.contains(&init) {
            if std::fs::symlink_metadata(root.join("layers").join(&init).join("diff/etc/mtab"))
                .is_err()
            {
                other.push(format!("shared init layer {init} incomplete"));
            }
            want_layers.insert(init);
        }
    }
    for id in want_layers.symmetric_difference(&layer_dirs) {
        other.push(format!("layer {id}: row and directory disagree"));
    }
    for link in names_in(&root.join("layers/l")) {
        if !root.join("layers/l").join(&link).exists() {
            other.push(format!("dangling layer link l/{link}"));
        }
    }
    // Blobs: only finished ones, named by their digest.
    for n in names_in(&root.join("blobs/sha256")) {
        if n.len() != 64 || !n.bytes().all(|c| c.is_ascii_hexdigit()) {
            other.push(format!("blob staging left: {n}"));
        }
    }
    // Volumes: a row and a data directory, or neither; no staging beside the data.
    let vols: BTreeSet<String> = rows(b, "SELECT name FROM volumes")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let vol_dirs = names_in(&root.join("volumes"));
    for v in vols.symmetric_difference(&vol_dirs) {
        other.push(format!("volume {v}: row and directory disagree"));
    }
    for v in &vol_dirs {
        for n in names_in(&root.join("volumes").join(v)) {
            if n != "_data" {
                other.push(format!("volume {v}: {n} left beside _data"));
            }
        }
    }
    // Anonymous volumes nobody references: what a half-done `rm -v` leaves.
    for r in rows(
        b,
        "SELECT name FROM volumes v WHERE anonymous \
         AND NOT EXISTS(SELECT 1 FROM container_volumes r WHERE r.volume = v.name)",
    ) {
        t.orphan_volumes += 1;
        t.failures
            .push(format!("{what}: anonymous volume {} orphaned", r[0]));
        // Counted once: the next kills start without it.
        b.run(&["volume", "rm", &r[0]]).ok();
    }
    if !other.is_empty() {
        t.inconsistencies += other.len();
        t.failures.push(format!("{what}: {other:?}"));
    }
}

/// Removes every container (and its anonymous volumes) and checks that nothing they had is
/// left: no process, no mount.
fn remove_all(b: &Berth, t: &mut Tally, what: &str) {
    let ids = b.run(&["ps", "-aq"]).ok().stdout;
    let ids: Vec<&str> = ids.lines().collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f", "-v"];
        args.extend(ids);
        b.run(&args).ok();
    }
    repair_and_audit(b, t, &format!("{what}, after rm -f -v of every container"));
}

/// One operation's campaign: `n` kills of `args` at delays spread over its duration, each
/// after `reset`, followed by the repair pass, the audit, the operation's own `check` (which
/// counts partial volumes), and the removal of every container.
fn campaign(
    b: &Berth,
    op: &str,
    args: &[&str],
    reset: &dyn Fn(&Berth),
    check: &mut dyn FnMut(&Berth, &mut Tally, &str),
) {
    let n = kills();
    let d = duration_of(b, args, reset);
    let mut t = Tally::default();
    for k in 0..n {
        reset(b);
        t.kills += 1;
        let at = delay(k, n, d);
        if run_and_kill(b, args, at) {
            t.mid += 1;
        }
        let what = format!("kill {k} after {at:.2?}");
        repair_and_audit(b, &mut t, &what);
        check(b, &mut t, &what);
        remove_all(b, &mut t, &what);
    }
    t.report(op, d);
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

/// Whether volume `name` exists.
fn volume_exists(b: &Berth, name: &str) -> bool {
    b.run(&["volume", "ls", "-q"])
        .ok()
        .stdout
        .lines()
        .any(|l| l == name)
}

/// Whether container `name` exists.
fn container_exists(b: &Berth, name: &str) -> bool {
    b.run(&["ps", "-a", "--format", "{{.Names}}"])
        .ok()
        .stdout
        .lines()
        .any(|l| l == name)
}

/// Counts a partial volume: `got` is neither all of `want` nor (when `empty_ok`) nothing.
fn whole_or_empty(
    t: &mut Tally,
    what: &str,
    vol: &str,
    got: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
    empty_ok: bool,
) {
    if got != want && !(empty_ok && got.is_empty()) {
        t.partial_volumes += 1;
        t.failures.push(format!(
            "{what}: volume {vol} holds {} of {} files",
            got.len(),
            want.len()
        ));
    }
}

/// Issue 15 item 2: `create -v NEW:/data IMG` killed while it copies the image's `/data` into
/// the new volume leaves the volume whole or empty, never partial, and the next run fills an
/// empty one.
#[test]
fn r15_killed_populate_leaves_the_volume_whole_or_empty() {
    let b = Berth::new();
    let want = data_image(&b);
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
    campaign(
        &b,
        "create -v NEW:/data (populate)",
        &args,
        &reset,
        &mut |b, t, what| {
            if volume_exists(b, "popvol") {
                // Whatever the kill left, a run with the volume sees all of /data or none of it,
                // and a run after it always sees all of it (an empty volume is filled again).
                whole_or_empty(t, what, "popvol", &hashes(b, "popvol"), &want, true);
                let _ = b.run(&["rm", "-f", "pop"]);
                b.run(&["run", "--rm", "-v", "popvol:/data", "data:1", "true"])
                    .ok();
                let got = hashes(b, "popvol");
                whole_or_empty(
                    t,
                    &format!("{what}, next run"),
                    "popvol",
                    &got,
                    &want,
                    false,
                );
            }
        },
    );
}

/// Issue 15 item 3: `run` (attached) killed at any point — while it creates, while its shim
/// creates the process, before it attaches and starts it — leaves no shim or runtime process
/// and no mount behind a container that does not run, after the repair pass and after `rm -f`.
#[test]
fn r15_killed_run_leaks_no_shim_or_mount() {
    let b = Berth::new();
    b.busybox("busybox");
    let reset = |b: &Berth| {
        let _ = b.run(&["rm", "-f", "rr"]);
    };
    let args = ["run", "--name", "rr", "busybox", "true"];
    campaign(&b, "run (attached)", &args, &reset, &mut |_, _, _| {});
}

/// `run -d` and `run --rm` killed at any point: the same audit.
#[test]
fn r15_killed_run_detached_or_rm_leaks_nothing() {
    let b = Berth::new();
    b.busybox("busybox");
    let reset = |b: &Berth| {
        let _ = b.run(&["rm", "-f", "rr"]);
    };
    let args = ["run", "-d", "--name", "rr", "busybox", "sleep", "30"];
    campaign(&b, "run -d", &args, &reset, &mut |_, _, _| {});
    let args = ["run", "--rm", "--name", "rr", "busybox", "true"];
    campaign(&b, "run --rm", &args, &reset, &mut |_, _, _| {});
}

/// Issue 13: `run --storage-opt size=` and `rm -f` of such a container killed at any point
/// leave no loop device or mount of a container that does not exist (the repair pass releases
/// them with the layer's files).
#[test]
fn r13_killed_run_or_rm_of_a_size_limited_layer_leaks_no_loop_device() {
    let b = Berth::new();
    b.busybox("busybox");
    let reset = |b: &Berth| {
        let _ = b.run(&["rm", "-f", "rq"]);
    };
    let args = [
        "run",
        "-d",
        "--name",
        "rq",
        "--storage-opt",
        "size=8m",
        "busybox",
        "sleep",
        "30",
    ];
    campaign(
        &b,
        "run -d --storage-opt size=8m",
        &args,
        &reset,
        &mut |_, _, _| {},
    );
    let reset = |b: &Berth| {
        let _ = b.run(&["rm", "-f", "rq"]);
        b.run(&[
            "run",
            "-d",
            "--name",
            "rq",
            "--storage-opt",
            "size=8m",
            "busybox",
            "sleep",
            "30",
        ])
        .ok();
    };
    campaign(
        &b,
        "rm -f (size-limited layer)",
        &["rm", "-f", "rq"],
        &reset,
        &mut |_, _, _| {},
    );
}

/// Issue 15 item 4: `rm -v` killed at any point removes the container and its anonymous
/// volume together or neither: never a container without its volume's files, never an
/// anonymous volume nobody can reach.
#[test]
fn r15_killed_rm_v_leaves_no_orphan_volume() {
    let b = Berth::new();
    let want = data_image(&b);
    let reset = |b: &Berth| {
        let _ = b.run(&["rm", "-f", "-v", "rv"]);
        b.run(&["create", "--name", "rv", "-v", "/data", "data:1", "true"])
            .ok();
    };
    let check = &mut |b: &Berth, t: &mut Tally, what: &str| {
        if container_exists(b, "rv") {
            let i = b.inspect("rv");
            let vol = i["Mounts"][0]["Name"].as_str().unwrap().to_string();
            whole_or_empty(t, what, &vol, &hashes(b, &vol), &want, false);
        }
    };
    campaign(&b, "rm -v (stopped)", &["rm", "-v", "rv"], &reset, check);
    let reset_running = |b: &Berth| {
        let _ = b.run(&["rm", "-f", "-v", "rv"]);
        b.run(&[
            "run", "-d", "--name", "rv", "-v", "/data", "data:1", "sleep", "60",
        ])
        .ok();
    };
    campaign(
        &b,
        "rm -f -v (running)",
        &["rm", "-f", "-v", "rv"],
        &reset_running,
        check,
    );
}

/// Volume verbs killed at any point leave a volume whole or absent (or, for import, its old
/// content or its new content in full).
#[test]
fn r15_killed_volume_verbs_leave_whole_volumes() {
    let b = Berth::new();
    let want = data_image(&b);
    let fill = |b: &Berth, name: &str| {
        b.run(&["volume", "create", name]).ok();
        b.run(&[
            "run",
            "--rm",
            "-v",
            &format!("{name}:/data"),
            "data:1",
            "true",
        ])
        .ok();
    };
    let clear = |b: &Berth| {
        for v in ["v1", "v2"] {
            let _ = b.run(&["volume", "rm", "-f", v]);
        }
    };
    // volume create: nothing to copy, but a row and a directory to make.
    campaign(
        &b,
        "volume create",
        &["volume", "create", "v1"],
        &clear,
        &mut |b, t, what| {
            if volume_exists(b, "v1") {
                whole_or_empty(t, what, "v1", &hashes(b, "v1"), &BTreeMap::new(), false);
            }
        },
    );
    // volume rm of a full volume.
    let reset = |b: &Berth| {
        clear(b);
        fill(b, "v1");
    };
    campaign(
        &b,
        "volume rm",
        &["volume", "rm", "v1"],
        &reset,
        &mut |b, t, what| {
            if volume_exists(b, "v1") {
                whole_or_empty(t, what, "v1", &hashes(b, "v1"), &want, false);
            }
        },
    );
    // volume clone: the copy is whole or absent, the source untouched.
    campaign(
        &b,
        "volume clone",
        &["volume", "clone", "v1", "v2"],
        &reset,
        &mut |b, t, what| {
            whole_or_empty(t, what, "v1", &hashes(b, "v1"), &want, false);
            if volume_exists(b, "v2") {
                whole_or_empty(t, what, "v2", &hashes(b, "v2"), &want, false);
            }
        },
    );
    // volume rename: exactly one of the names, with everything.
    campaign(
        &b,
        "volume rename",
        &["volume", "rename", "v1", "v2"],
        &reset,
        &mut |b, t, what| {
            let names: Vec<&str> = ["v1", "v2"]
                .into_iter()
                .filter(|v| volume_exists(b, v))
                .collect();
            if names.len() != 1 {
                t.inconsistencies += 1;
                t.failures
                    .push(format!("{what}: volumes after rename: {names:?}"));
            }
            for v in names {
                whole_or_empty(t, what, v, &hashes(b, v), &want, false);
            }
        },
    );
    // volume import over the full volume: its old content or the new one, never a mix.
    let tar = b.scratch("import.tar");
    let src = b.scratch("import-src");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..300 {
        std::fs::write(
            src.join(format!("n{i:03}")),
            format!("new {i}\n").repeat(2048),
        )
        .unwrap();
    }
    let ok = Command::new("tar")
        .arg("-C")
        .arg(&src)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(ok.success());
    let new: BTreeMap<String, String> = {
        b.run(&["volume", "create", "probe"]).ok();
        b.run(&["volume", "import", "probe", tar.to_str().unwrap()])
            .ok();
        let h = hashes(&b, "probe");
        b.run(&["volume", "rm", "probe"]).ok();
        h
    };
    assert_eq!(new.len(), 300);
    let args = ["volume", "import", "v1", tar.to_str().unwrap()];
    campaign(&b, "volume import", &args, &reset, &mut |b, t, what| {
        let got = hashes(b, "v1");
        if got != new {
            whole_or_empty(t, what, "v1", &got, &want, false);
        }
    });
}

/// Image verbs killed at any point leave an image whole (every layer) or absent, and no layer
/// that nothing references.
#[test]
fn r15_killed_image_verbs_leave_whole_images() {
    let b = Berth::new();
    b.busybox("busybox");
    let (archive, _) = three_layer_archive("three:1");
    let archive_path = b.scratch("three.tar");
    std::fs::write(&archive_path, &archive).unwrap();
    let layers_of = |b: &Berth, image: &str| -> Option<usize> {
        let out = b.run(&[
            "image",
            "inspect",
            "--format",
            "{{len .RootFS.Layers}}",
            image,
        ]);
        (out.code == 0).then(|| out.stdout.trim().parse().unwrap())
    };
    let reset = |b: &Berth| {
        let _ = b.run(&["rmi", "-f", "three:1"]);
    };
    let args = ["load", "-i", archive_path.to_str().unwrap()];
    campaign(&b, "load", &args, &reset, &mut |b, t, what| {
        if let Some(n) = layers_of(b, "three:1") {
            if n != 3 {
                t.inconsistencies += 1;
                t.failures.push(format!("{what}: three:1 has {n} layers"));
            }
        }
    });
    let reset = |b: &Berth| {
        let _ = b.run(&["rmi", "-f", "imp:1"]);
    };
    let bb = b.busybox_tar_path();
    let args = ["import", bb.to_str().unwrap(), "imp:1"];
    campaign(&b, "import", &args, &reset, &mut |_, _, _| {});
    // commit of a container that changed files.
    let reset = |b: &Berth| {
        let _ = b.run(&["rmi", "-f", "snap:1"]);
        let _ = b.run(&["rm", "-f", "cm"]);
        b.run(&[
            "run",
            "--name",
            "cm",
            "busybox",
            "sh",
            "-c",
            "mkdir /w && for i in $(seq 200); do echo $i > /w/$i; done",
        ])
        .ok();
    };
    campaign(
        &b,
        "commit",
        &["commit", "cm", "snap:1"],
        &reset,
        &mut |b, t, what| {
            if layers_of(b, "snap:1").is_some() {
                let n = b
                    .run(&["run", "--rm", "snap:1", "sh", "-c", "ls /w | wc -l"])
                    .ok();
                if n.stdout.trim() != "200" {
                    t.inconsistencies += 1;
                    t.failures
                        .push(format!("{what}: snap:1 holds {} files", n.stdout.trim()));
                }
            }
        },
    );
    // rmi of the loaded image.
    let reset = |b: &Berth| {
        let _ = b.run(&["rmi", "-f", "three:1"]);
        b.run(&["load", "-i", archive_path.to_str().unwrap()]).ok();
    };
    campaign(&b, "rmi", &["rmi", "three:1"], &reset, &mut |_, _, _| {});
}

/// `cp - CTR:DIR` killed at any point leaves no mount or process behind.
#[test]
fn r15_killed_cp_leaks_nothing() {
    let b = Berth::new();
    b.busybox("busybox");
    let src = b.scratch("cp-src");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..300 {
        std::fs::write(src.join(format!("c{i:03}")), format!("{i}\n").repeat(4096)).unwrap();
    }
    let reset = |b: &Berth| {
        let _ = b.run(&["rm", "-f", "cp"]);
        b.run(&["create", "--name", "cp", "busybox", "true"]).ok();
    };
    let args = ["cp", src.to_str().unwrap(), "cp:/tmp/"];
    campaign(&b, "cp DIR CTR:/tmp/", &args, &reset, &mut |_, _, _| {});
}

/// Issue 15 item 8: `create -v racev:/d` racing `volume rm racev` — every create succeeds, with
/// the volume it found or one it made anew; each removal either removes the volume or is
/// refused (in use, no such volume); the metadata agrees with the disk afterwards.
#[test]
fn r15_create_racing_volume_rm_gets_the_volume_or_creates_it() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&["volume", "create", "racev"]).ok();
    let n = 24;
    let mut children = Vec::new();
    for i in 0..n {
        let name = format!("c{i}");
        for args in [
            vec![
                "create",
                "--name",
                name.as_str(),
                "-v",
                "racev:/d",
                "busybox",
                "true",
            ],
            vec!["volume", "rm", "racev"],
        ] {
            let child = b
                .command(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            children.push((args.join(" "), child));
        }
    }
    let mut failed = Vec::new();
    for (what, child) in children {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let refused_rm = what.starts_with("volume rm")
            && (err.contains("volume is in use") || err.contains("no such volume"));
        if !out.status.success() && !refused_rm {
            failed.push(format!("{what}: {err}"));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
    let mut t = Tally::default();
    repair_and_audit(&b, &mut t, "after the race");
    assert!(t.failures.is_empty(), "{:#?}", t.failures);
    // Every container has its volume, with files.
    assert_eq!(b.run(&["ps", "-aq"]).ok().lines().len(), n);
    b.run(&["run", "--rm", "-v", "racev:/d", "busybox", "touch", "/d/ok"])
        .ok();
}
