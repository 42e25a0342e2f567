//! Helpers for the storage end-to-end tests (`volumes`, `mounts`, `workflows`,
//! `volumes_beyond`): a root with busybox imported, images with `VOLUME`s and extra content,
//! Docker's error framing, `Mounts[]` by destination, and guards for what a test puts on the
//! host (mounts, directories outside the data root) so that a failing test leaves nothing behind.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::*;

/// A root with the busybox rootfs imported as `busybox`.
pub fn vb() -> Berth {
    let b = Berth::new();
    b.busybox("busybox");
    b
}

/// What `berth run` prints on stderr for an engine error (exit 125/126/127).
pub fn run_daemon_error(text: &str) -> String {
    format!("berth: Error response from daemon: {text}\n\nRun 'berth run --help' for more information\n")
}

/// What `berth volume ...`, `create`, `start` print on stderr for an engine error (exit 1).
pub fn daemon_error(text: &str) -> String {
    format!("Error response from daemon: {text}\n")
}

/// What `berth run` prints for a `--mount` flag-value error (exit 125).
pub fn mount_flag_error(csv: &str, reason: &str) -> String {
    format!(
        "invalid argument \"{csv}\" for \"--mount\" flag: {reason}\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"
    )
}

/// Loads an image `tag` made of busybox plus `extra` layers, whose config has `Cmd ["sh"]`, the
/// usual `PATH` and `VOLUME`s at `volumes`.
pub fn load_image(b: &Berth, tag: &str, extra: &[Vec<u8>], volumes: &[&str]) {
    let mut layers = vec![busybox_tar()];
    layers.extend(extra.iter().cloned());
    let mut config = serde_json::json!({
        "Cmd": ["sh"],
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    });
    if !volumes.is_empty() {
        let v: serde_json::Map<String, serde_json::Value> = volumes
            .iter()
            .map(|p| (p.to_string(), serde_json::json!({})))
            .collect();
        config["Volumes"] = serde_json::Value::Object(v);
    }
    let (archive, _) = image_archive(&layers, tag, config);
    let file = b.scratch(&format!("{}.tar", tag.replace([':', '/'], "_")));
    std::fs::write(&file, archive).unwrap();
    b.run(&["load", "-q", "-i", file.to_str().unwrap()]).ok();
}

/// Imports busybox plus `extra` entries (one layer) as `tag` with `import -c` changes.
pub fn import_image(b: &Berth, tag: &str, extra: &[Entry<'_>], changes: &[&str]) {
    let mut data = busybox_tar();
    // A tar is a sequence of 512-byte records ending in two zero records: drop the end of
    // busybox's and append the extra entries (with their own end).
    data.truncate(tar_payload_len(&data));
    data.extend_from_slice(&tar_of(extra));
    let file = b.scratch(&format!("{}.import.tar", tag.replace([':', '/'], "_")));
    std::fs::write(&file, data).unwrap();
    let mut args: Vec<String> = vec!["import".into()];
    for c in changes {
        args.push("-c".into());
        args.push(c.to_string());
    }
    args.push(file.to_str().unwrap().into());
    args.push(tag.into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    b.run(&args).ok();
}

/// The length of a tar's entries without its end-of-archive records.
fn tar_payload_len(data: &[u8]) -> usize {
    let mut a = tar::Archive::new(data);
    let mut end = 0;
    for e in a.entries().unwrap() {
        let e = e.unwrap();
        let size = e.header().entry_size().unwrap() as usize;
        end = e.raw_file_position() as usize + size.div_ceil(512) * 512;
    }
    end
}

/// One tar entry with full control over owner and type (for hostile fixtures).
pub struct RawEntry<'a> {
    pub path: &'a str,
    pub kind: tar::EntryType,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub data: &'a [u8],
    pub link: Option<&'a str>,
}

/// A tar of [`RawEntry`]s.
pub fn raw_tar(entries: &[RawEntry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mode(e.mode);
        h.set_entry_type(e.kind);
        h.set_size(e.data.len() as u64);
        match e.link {
            Some(l) => b.append_link(&mut h, e.path, l).unwrap(),
            None => b.append_data(&mut h, e.path, e.data).unwrap(),
        }
    }
    b.into_inner().unwrap()
}

/// `Mounts[]` of an inspected container, keyed by `Destination`.
pub fn mounts_by_dest(inspect: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    inspect["Mounts"]
        .as_array()
        .unwrap_or_else(|| panic!("Mounts is not an array: {inspect}"))
        .iter()
        .map(|m| (m["Destination"].as_str().unwrap().to_string(), m.clone()))
        .collect()
}

/// Names of all volumes (`volume ls -q`), sorted.
#[track_caller]
pub fn volume_names(b: &Berth) -> Vec<String> {
    b.run(&["volume", "ls", "-q"])
        .ok()
        .stdout
        .lines()
        .map(str::to_string)
        .collect()
}

/// The volumes whose names are 64 hex characters (anonymous ones).
#[track_caller]
pub fn anonymous_volumes(b: &Berth) -> Vec<String> {
    volume_names(b)
        .into_iter()
        .filter(|n| is_full_id(n))
        .collect()
}

/// `volume inspect NAME`, parsed (the first object).
#[track_caller]
pub fn volume_inspect(b: &Berth, name: &str) -> serde_json::Value {
    let out = b.run(&["volume", "inspect", name]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    v[0].clone()
}

/// `<root>/volumes/<name>/_data`.
pub fn volume_data(b: &Berth, name: &str) -> PathBuf {
    b.root().join("volumes").join(name).join("_data")
}

/// Writes `bytes` zero bytes to `/d/f` in volume `name` (creating it).
pub fn fill(b: &Berth, name: &str, bytes: usize) {
    b.run(&[
        "run",
        "--rm",
        "-v",
        &format!("{name}:/d"),
        "busybox",
        "sh",
        "-c",
        &format!("head -c {bytes} /dev/zero > /d/f"),
    ])
    .ok();
}

/// The entries of `<root>/volumes` (volume directories), sorted.
pub fn volume_dirs(b: &Berth) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(b.root().join("volumes"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `(mode & 0o7777, uid, gid)` of `p` (not following symlinks).
pub fn perms(p: &Path) -> (u32, u32, u32) {
    let md = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (md.mode() & 0o7777, md.uid(), md.gid())
}

/// The line of `/proc/mounts` (as the container sees it) for mount point `dst`, without the
/// trailing `0 0`.
pub fn proc_mount_line(out: &str, dst: &str) -> Option<String> {
    out.lines()
        .find(|l| l.split(' ').nth(1) == Some(dst))
        .map(|l| l.trim_end_matches(" 0 0").to_string())
}

/// Stops container `name` (1 s grace) and checks it stopped.
#[track_caller]
pub fn stop(b: &Berth, name: &str) {
    b.run(&["stop", "-t", "1", name]).ok();
}

/// Polls `berth exec CTR sh -c SCRIPT` until its stdout equals `want`.
#[track_caller]
pub fn wait_exec_output(b: &Berth, ctr: &str, script: &str, want: &str) {
    let deadline = std::time::Instant::now() + SOON;
    loop {
        let out = b.run(&["exec", ctr, "sh", "-c", script]);
        if out.code == 0 && out.stdout == want {
            return;
        }
        if std::time::Instant::now() >= deadline {
            panic!("`exec {ctr} sh -c {script:?}` never printed {want:?}; last: {out:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Whether `p` is a mount point on the host.
pub fn is_host_mount_point(p: &Path) -> bool {
    let want = p.to_string_lossy().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| m == want)
}

/// A mount the test made on the host; unmounted (lazily if busy) on drop.
pub struct HostMount(pub PathBuf);

impl HostMount {
    /// `mount -t tmpfs tmpfs DIR` (DIR created).
    pub fn tmpfs(dir: &Path) -> HostMount {
        std::fs::create_dir_all(dir).unwrap();
        sh_ok(&format!("mount -t tmpfs tmpfs '{}'", dir.display()));
        HostMount(dir.to_path_buf())
    }

    /// `mount --bind DIR DIR; mount --make-private DIR`: a mount whose propagation is known to be
    /// private, whatever the host's `/` is.
    pub fn private_bind(dir: &Path) -> HostMount {
        std::fs::create_dir_all(dir).unwrap();
        let d = dir.display();
        sh_ok(&format!("mount --bind '{d}' '{d}'"));
        let m = HostMount(dir.to_path_buf());
        sh_ok(&format!("mount --make-private '{d}'"));
        m
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        let c = std::ffi::CString::new(self.0.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; umount2 does not retain it.
        unsafe {
            if libc::umount2(c.as_ptr(), 0) != 0 {
                libc::umount2(c.as_ptr(), libc::MNT_DETACH);
            }
        }
    }
}

/// Runs `sh -c script` on the host; panics with its output unless it succeeds.
#[track_caller]
pub fn sh_ok(script: &str) -> String {
    let out = Command::new("sh").args(["-c", script]).output().unwrap();
    assert!(
        out.status.success(),
        "`{script}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A cheap fingerprint of a host directory's top level: its own metadata and each entry's
/// name, type, mode, owner, size and mtime (for "the host's /etc is untouched").
pub fn dir_fingerprint(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let fp = |p: &Path| {
        let md = std::fs::symlink_metadata(p).unwrap();
        format!(
            "{:o} {}:{} {} {}.{}",
            md.mode(),
            md.uid(),
            md.gid(),
            if md.is_dir() { 0 } else { md.size() },
            md.mtime(),
            md.mtime_nsec()
        )
    };
    out.insert(".".into(), fp(dir));
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        out.insert(e.file_name().to_string_lossy().to_string(), fp(&e.path()));
    }
    out
}
