//! [`build`] writes the fixture files every engine loads, byte-identical on every run, without
//! network:
//!
//! * `busybox.tar`: a rootfs made of the host's `/bin/busybox`, one symlink per applet of
//!   `busybox --list` in `/bin`, `/etc/passwd`, `/etc/group` and the usual empty directories;
//!   imported as `busybox:latest` (no CMD, like the spec's reference image);
//! * `spec-base.tar`, `spec-vol.tar`, `spec-wh.tar`: `docker save`-format archives (load into
//!   Docker and berth alike) of multi-layer images on top of that rootfs:
//!
//! | image | layers | config |
//! |---|---|---|
//! | `spec-base:1` | busybox, data | Env PATH |
//! | `spec-vol:1` | busybox, data | Env PATH, `Volumes: {"/data": {}}` |
//! | `spec-wh:1` | busybox, data, whiteouts | Env PATH |
//!
//! The *data* layer holds `/data` (1000:2000, 0750) with `a.txt` (6 bytes), `link -> a.txt`,
//! `sub/b.txt`; `/etcx/{c,d}.conf`; an empty `/empty`; `/gone.txt`; `/keep/old.txt`.
//! The *whiteouts* layer deletes `/gone.txt` and `/data/sub/b.txt` (`.wh.` files), makes `/keep`
//! opaque (`.wh..wh..opq`) and adds `/keep/new.txt`.

use std::io;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use sha2::{Digest as _, Sha256};

/// Fixed mtime of every fixture entry (2026-01-01T00:00:00Z).
pub const MTIME: u64 = 1_767_225_600;

/// Fixture images a scenario may name in its `images:` header, with their tags.
pub const IMAGES: &[(&str, &str)] = &[
    ("spec-base", "spec-base:1"),
    ("spec-vol", "spec-vol:1"),
    ("spec-wh", "spec-wh:1"),
];

const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One tar entry.
enum Entry<'a> {
    Dir(&'a str, u32, u64, u64),
    File(&'a str, u32, u64, u64, &'a [u8]),
    Link(&'a str, &'a str),
}

fn tar_of(entries: &[Entry]) -> io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(MTIME);
        h.set_uid(0);
        h.set_gid(0);
        match *e {
            Entry::Dir(path, mode, uid, gid) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(mode);
                h.set_uid(uid);
                h.set_gid(gid);
                h.set_size(0);
                b.append_data(&mut h, format!("{path}/"), io::empty())?;
            }
            Entry::File(path, mode, uid, gid, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(mode);
                h.set_uid(uid);
                h.set_gid(gid);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, path, data)?;
            }
            Entry::Link(path, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, path, target)?;
            }
        }
    }
    b.into_inner()
}

/// The busybox rootfs tar built from `busybox` (the host binary).
pub fn busybox_rootfs(busybox: &Path) -> io::Result<Vec<u8>> {
    let binary = std::fs::read(busybox)?;
    let list = Command::new(busybox).arg("--list").output()?;
    let mut applets: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/'))
        .map(str::to_string)
        .collect();
    applets.sort();
    applets.dedup();
    let links: Vec<String> = applets.iter().map(|a| format!("bin/{a}")).collect();
    let mut entries = vec![
        Entry::Dir("bin", 0o755, 0, 0),
        Entry::File("bin/busybox", 0o755, 0, 0, &binary),
    ];
    entries.extend(links.iter().map(|l| Entry::Link(l, "busybox")));
    entries.extend([
        Entry::Dir("dev", 0o755, 0, 0),
        Entry::Dir("etc", 0o755, 0, 0),
        Entry::File("etc/group", 0o644, 0, 0, b"root:x:0:\ndaemon:x:1:\nnobody:x:65534:\n"),
        Entry::File(
            "etc/passwd",
            0o644,
            0,
            0,
            b"root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
        ),
        Entry::Dir("home", 0o755, 0, 0),
        Entry::Dir("proc", 0o755, 0, 0),
        Entry::Dir("root", 0o700, 0, 0),
        Entry::Dir("sys", 0o755, 0, 0),
        Entry::Dir("tmp", 0o1777, 0, 0),
        Entry::Dir("usr", 0o755, 0, 0),
        Entry::Dir("var", 0o755, 0, 0),
    ]);
    tar_of(&entries)
}

fn data_layer() -> io::Result<Vec<u8>> {
    tar_of(&[
        Entry::Dir("data", 0o750, 1000, 2000),
        Entry::File("data/a.txt", 0o644, 1000, 2000, b"hello\n"),
        Entry::Link("data/link", "a.txt"),
        Entry::Dir("data/sub", 0o755, 1000, 2000),
        Entry::File("data/sub/b.txt", 0o600, 1000, 2000, b"bee\n"),
        Entry::Dir("empty", 0o755, 0, 0),
        Entry::Dir("etcx", 0o755, 0, 0),
        Entry::File("etcx/c.conf", 0o644, 0, 0, b"c=1\n"),
        Entry::File("etcx/d.conf", 0o644, 0, 0, b"d=1\n"),
        Entry::File("gone.txt", 0o644, 0, 0, b"gone\n"),
        Entry::Dir("keep", 0o755, 0, 0),
        Entry::File("keep/old.txt", 0o644, 0, 0, b"old\n"),
    ])
}

fn whiteout_layer() -> io::Result<Vec<u8>> {
    tar_of(&[
        Entry::File(".wh.gone.txt", 0o600, 0, 0, b""),
        Entry::Dir("data", 0o750, 1000, 2000),
        Entry::Dir("data/sub", 0o755, 1000, 2000),
        Entry::File("data/sub/.wh.b.txt", 0o600, 0, 0, b""),
        Entry::Dir("keep", 0o755, 0, 0),
        Entry::File("keep/.wh..wh..opq", 0o755, 0, 0, b""),
        Entry::File("keep/new.txt", 0o644, 0, 0, b"new\n"),
    ])
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// A `docker save` archive of one image made of `layers` (bottom first).
pub fn save_archive(
    tag: &str,
    layers: &[(&str, &[u8])],
    volumes: Option<&[&str]>,
) -> io::Result<Vec<u8>> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|(_, l)| format!("sha256:{}", sha256_hex(l)))
        .collect();
    let mut config = json!({
        "architecture": arch(),
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "config": {"Env": [PATH_ENV]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": layers.iter().map(|(what, _)| json!({
            "created": "2026-01-01T00:00:00Z",
            "created_by": format!("berth-conformance fixture: {what}"),
        })).collect::<Vec<_>>(),
    });
    if let Some(vols) = volumes {
        let map: serde_json::Map<String, serde_json::Value> =
            vols.iter().map(|v| (v.to_string(), json!({}))).collect();
        config["config"]["Volumes"] = serde_json::Value::Object(map);
    }
    let config = serde_json::to_vec(&config)?;
    let config_name = format!("{}.json", sha256_hex(&config));
    let layer_paths: Vec<String> = layers
        .iter()
        .map(|(_, l)| format!("{}/layer.tar", sha256_hex(l)))
        .collect();
    let manifest = serde_json::to_vec(
        &json!([{ "Config": config_name, "RepoTags": [tag], "Layers": layer_paths }]),
    )?;

    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| -> io::Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(MTIME);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, data)
    };
    for ((_, layer), path) in layers.iter().zip(&layer_paths) {
        let dir = path.trim_end_matches("/layer.tar");
        add(&format!("{dir}/VERSION"), b"1.0")?;
        add(path, layer)?;
    }
    add(&config_name, &config)?;
    add("manifest.json", &manifest)?;
    b.into_inner()
}

/// Writes `busybox.tar`, one `<name>.tar` per entry of [`IMAGES`] and the test volume plugin
/// `volume_plugin.py` into `dir`.
pub fn build(dir: &Path, busybox: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let rootfs = busybox_rootfs(busybox)?;
    let data = data_layer()?;
    let wh = whiteout_layer()?;
    let base: &[(&str, &[u8])] = &[("busybox rootfs", &rootfs), ("data layer", &data)];
    let with_wh: &[(&str, &[u8])] = &[
        ("busybox rootfs", &rootfs),
        ("data layer", &data),
        ("whiteouts layer", &wh),
    ];
    write_if_changed(&dir.join("busybox.tar"), &rootfs)?;
    write_if_changed(
        &dir.join("spec-base.tar"),
        &save_archive("spec-base:1", base, None)?,
    )?;
    write_if_changed(
        &dir.join("spec-vol.tar"),
        &save_archive("spec-vol:1", base, Some(&["/data"]))?,
    )?;
    write_if_changed(
        &dir.join("spec-wh.tar"),
        &save_archive("spec-wh:1", with_wh, None)?,
    )?;
    // The volume plugin of berth's tests, for the scenarios that start it as `$PLUGIN`.
    write_if_changed(
        &dir.join("volume_plugin.py"),
        include_bytes!("../../tests/plugins/volume_plugin.py"),
    )?;
    Ok(())
}

fn write_if_changed(path: &Path, data: &[u8]) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == data) {
        return Ok(());
    }
    std::fs::write(path, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_deterministic_and_hold_the_whiteouts() {
        assert_eq!(whiteout_layer().unwrap(), whiteout_layer().unwrap());
        let wh = whiteout_layer().unwrap();
        let mut a = tar::Archive::new(&wh[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.contains(&".wh.gone.txt".to_string()));
        assert!(names.contains(&"keep/.wh..wh..opq".to_string()));
    }

    #[test]
    fn save_archive_has_a_manifest_naming_every_layer() {
        let l = data_layer().unwrap();
        let arch = save_archive("x:1", &[("data", &l)], Some(&["/data"])).unwrap();
        let mut a = tar::Archive::new(&arch[..]);
        let mut manifest = None;
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_str() == Some("manifest.json") {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut e, &mut s).unwrap();
                manifest = Some(s);
            }
        }
        let m: serde_json::Value = serde_json::from_str(&manifest.unwrap()).unwrap();
        assert_eq!(m[0]["RepoTags"][0], "x:1");
        assert_eq!(m[0]["Layers"][0], format!("{}/layer.tar", sha256_hex(&l)));
    }
}
