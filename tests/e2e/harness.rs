//! [`Berth`] is one isolated berth installation for a test: a temp data root, the built binary,
//! helpers to run commands and read their output, and a `Drop` that unmounts everything under
//! the root (deepest first) and removes it, so a failing test leaves no mounts behind. Fixture
//! builders make busybox root filesystems and multi-layer image archives without any network.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};

/// The berth binary cargo built for these tests.
pub fn berth_bin() -> &'static str {
    env!("CARGO_BIN_EXE_berth")
}

/// A temp data root plus the command runner.
pub struct Berth {
    dir: tempfile::TempDir,
    pub driver: Option<&'static str>,
}

/// What a command printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            code: o.status.code().unwrap_or(-1),
        }
    }

    /// Panics with the whole output unless the command succeeded.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "command failed: {self:#?}");
        self
    }

    /// Panics unless the command failed with `code`.
    #[track_caller]
    pub fn fails(self, code: i32) -> Run {
        assert_eq!(self.code, code, "unexpected exit: {self:#?}");
        self
    }

    /// stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

impl Berth {
    /// A fresh data root with the default driver.
    pub fn new() -> Berth {
        Berth::with_driver(None)
    }

    /// A fresh data root with `--storage-driver driver`.
    pub fn with_driver(driver: Option<&'static str>) -> Berth {
        let dir = tempfile::Builder::new()
            .prefix("berth-e2e-")
            .tempdir_in(scratch_dir())
            .expect("temp dir");
        Berth { dir, driver }
    }

    /// The data root.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// A scratch path next to the root (outside it) for test files.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join("scratch");
        std::fs::create_dir_all(&p).unwrap();
        p.join(name)
    }

    /// `berth ARGS` with this root, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(berth_bin());
        c.env("BERTH_ROOT", self.root());
        c.env_remove("BERTH_STORAGE_DRIVER");
        if let Some(d) = self.driver {
            c.args(["--storage-driver", d]);
        }
        c.args(args);
        c.stdin(Stdio::null());
        c
    }

    /// Runs `berth ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("berth runs"))
    }

    /// Runs `berth ARGS` with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("berth runs");
        let mut stdin = child.stdin.take().unwrap();
        let data = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        Run::from(out)
    }

    /// The busybox rootfs tarball, written next to the root on first use.
    pub fn busybox_tar_path(&self) -> PathBuf {
        let tar = self.scratch("busybox.tar");
        if !tar.exists() {
            std::fs::write(&tar, busybox_tar()).unwrap();
        }
        tar
    }

    /// Imports the busybox rootfs as `name` and returns the image ID.
    pub fn busybox(&self, name: &str) -> String {
        let tar = self.busybox_tar_path();
        self.run(&["import", tar.to_str().unwrap(), name])
            .ok()
            .stdout
            .trim()
            .to_string()
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        unmount_under(self.dir.path());
    }
}

/// Unmounts every mount point at or below `dir`, deepest first (lazily if busy).
pub fn unmount_under(dir: &Path) {
    let prefix = dir.to_string_lossy().to_string();
    for _ in 0..3 {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(|p| p.replace("\\040", " "))
            .filter(|p| p == &prefix || p.starts_with(&format!("{prefix}/")))
            .collect();
        if points.is_empty() {
            return;
        }
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let c = std::ffi::CString::new(p).unwrap();
            // SAFETY: a valid NUL-terminated path; umount2 does not retain it.
            unsafe {
                if libc::umount2(c.as_ptr(), 0) != 0 {
                    libc::umount2(c.as_ptr(), libc::MNT_DETACH);
                }
            }
        }
    }
}

/// Where test roots live: a directory on the machine's disk (not tmpfs), so overlay works.
pub fn scratch_dir() -> PathBuf {
    let p = std::env::var_os("BERTH_TEST_SCRATCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// Mount points currently below `dir`.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = dir.to_string_lossy().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .filter(|p| p.starts_with(&prefix))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A tar entry for fixture building.
pub enum Entry<'a> {
    Dir(&'a str, u32),
    File(&'a str, &'a [u8], u32),
    Symlink(&'a str, &'a str),
    /// A file owned by uid:gid.
    Owned(&'a str, &'a [u8], u32, u64, u64),
    /// A directory owned by uid:gid.
    OwnedDir(&'a str, u32, u64, u64),
}

/// Builds an uncompressed tar from entries, with fixed mtimes.
pub fn tar_of(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        match e {
            Entry::Dir(p, mode) | Entry::OwnedDir(p, mode, _, _) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                h.set_size(0);
                if let Entry::OwnedDir(_, _, u, g) = e {
                    h.set_uid(*u);
                    h.set_gid(*g);
                }
                b.append_data(&mut h, p, std::io::empty()).unwrap();
            }
            Entry::File(p, data, mode) | Entry::Owned(p, data, mode, _, _) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                if let Entry::Owned(_, _, _, u, g) = e {
                    h.set_uid(*u);
                    h.set_gid(*g);
                }
                b.append_data(&mut h, p, *data).unwrap();
            }
            Entry::Symlink(p, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, p, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// A busybox root filesystem tar: `/bin/busybox` from the host plus one symlink per applet and
/// the usual top-level directories. Built once per test process.
pub fn busybox_tar() -> Vec<u8> {
    static TAR: OnceLock<Vec<u8>> = OnceLock::new();
    TAR.get_or_init(|| {
        let busybox = std::fs::read("/bin/busybox")
            .expect("/bin/busybox (Debian package busybox-static) is installed");
        let list = Command::new("/bin/busybox")
            .arg("--list")
            .output()
            .expect("busybox --list");
        let applets: Vec<String> = String::from_utf8_lossy(&list.stdout)
            .lines()
            .filter(|a| !a.is_empty() && *a != "busybox")
            .map(|a| format!("bin/{a}"))
            .collect();
        let mut entries = vec![
            Entry::Dir("bin", 0o755),
            Entry::File("bin/busybox", &busybox, 0o755),
        ];
        for a in &applets {
            entries.push(Entry::Symlink(a, "busybox"));
        }
        for d in ["dev", "etc", "proc", "sys", "tmp", "root", "var", "home"] {
            entries.push(Entry::Dir(d, if d == "tmp" { 0o1777 } else { 0o755 }));
        }
        entries.push(Entry::File(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
            0o644,
        ));
        entries.push(Entry::File(
            "etc/group",
            b"root:x:0:\nnogroup:x:65534:\n",
            0o644,
        ));
        tar_of(&entries)
    })
    .clone()
}

/// sha256 hex of bytes.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A `docker save`-style archive holding one image made of `layers` (uncompressed tars),
/// tagged `tag`, with a Docker-shaped config. Returns the archive and the diff IDs.
pub fn image_archive(
    layers: &[Vec<u8>],
    tag: &str,
    config: serde_json::Value,
) -> (Vec<u8>, Vec<String>) {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256_hex(l)))
        .collect();
    let history: Vec<serde_json::Value> = diff_ids
        .iter()
        .enumerate()
        .map(|(i, _)| serde_json::json!({"created": "2026-01-01T00:00:00Z", "created_by": format!("layer {i}")}))
        .collect();
    let cfg = serde_json::json!({
        "architecture": "amd64",
        "config": config,
        "created": "2026-01-01T00:00:00Z",
        "history": history,
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let cfg_bytes = serde_json::to_vec(&cfg).unwrap();
    let cfg_name = format!("{}.json", sha256_hex(&cfg_bytes));
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        b.append_data(&mut h, name, data).unwrap();
    };
    add(&cfg_name, &cfg_bytes);
    let mut paths = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let p = format!("layer{i}/layer.tar");
        add(&p, l);
        paths.push(p);
    }
    let manifest = serde_json::json!([{"Config": cfg_name, "RepoTags": [tag], "Layers": paths}]);
    add("manifest.json", manifest.to_string().as_bytes());
    (b.into_inner().unwrap(), diff_ids)
}

/// The three-layer image of the storage spec's examples: busybox; then `/data` (1000:2000 0750)
/// with `a.txt`, `sub/b.txt`, `/etcx/c.conf`, `/empty/`; then a layer deleting `data/sub/b.txt`
/// (whiteout) and making `/etcx` opaque with a new `n.conf`.
pub fn three_layer_archive(tag: &str) -> (Vec<u8>, Vec<String>) {
    let l2 = tar_of(&[
        Entry::OwnedDir("data", 0o750, 1000, 2000),
        Entry::Owned("data/a.txt", b"hello\n", 0o644, 1000, 2000),
        Entry::Dir("data/sub", 0o755),
        Entry::File("data/sub/b.txt", b"bee\n", 0o644),
        Entry::Dir("etcx", 0o755),
        Entry::File("etcx/c.conf", b"c=1\n", 0o644),
        Entry::Dir("empty", 0o755),
    ]);
    let l3 = tar_of(&[
        Entry::Dir("data", 0o750),
        Entry::Dir("data/sub", 0o755),
        Entry::File("data/sub/.wh.b.txt", b"", 0o600),
        Entry::Dir("etcx", 0o755),
        Entry::File("etcx/.wh..wh..opq", b"", 0o755),
        Entry::File("etcx/n.conf", b"new\n", 0o644),
    ]);
    image_archive(
        &[busybox_tar(), l2, l3],
        tag,
        serde_json::json!({"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}),
    )
}

/// Entries of a tar: name → (size, bytes).
pub fn tar_entries(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut a = tar::Archive::new(data);
    let mut out = BTreeMap::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().to_string();
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut buf).unwrap();
        out.insert(name, buf);
    }
    out
}
