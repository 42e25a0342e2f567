//! [`mount_spec`] is the body of the `mount_spec` fuzz target (`fuzz/fuzz_targets/mount_spec.rs`):
//! it runs arbitrary bytes through both parsing stages and checks the invariants every successful
//! parse must keep. It lives in the library so that a stable `#[test]` can run it over the seed
//! corpus and proptest inputs where `cargo fuzz` (nightly) is unavailable.
//!
//! Input format: lines; the first byte of a line says what the rest is: `v` a `-v` value, `m` a
//! `--mount` value, `t` a `--tmpfs` value, `f` a `--volumes-from` value, `i` an image `VOLUME`,
//! `d` the `--volume-driver`, `b` a raw `HostConfig.Binds` entry, `j` a `HostConfig.Mounts`
//! entry as JSON, `r` the daemon root. The whole input is also tried as one `-v` and one
//! `--mount` value.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use super::api::{ApiMount, ApiVersion};
use super::cli::{parse_mount_flag, parse_volume_flag, CliMountFlags, CliMounts};
use super::daemon::{parse_mounts, MountRequest, VolumesFromSource};
use super::mount::{sort_by_depth, MountKind, MountOrigin, MountSpec};
use berth_go as go;

/// The `--volumes-from` source every fuzz input can name: `src` has a named volume, an anonymous
/// one, a read-only bind, a `--mount` tmpfs and a `--tmpfs`, parsed like any container's and
/// named the way the engine names them.
fn fuzz_containers() -> BTreeMap<String, Vec<MountSpec>> {
    let request = MountRequest {
        binds: vec!["spec-named1:/named".into(), "/srv:/b:ro".into()],
        mounts: vec![ApiMount {
            kind: "tmpfs".into(),
            target: "/t1".into(),
            ..ApiMount::default()
        }],
        tmpfs: BTreeMap::from([("/t2".to_string(), "size=1m".to_string())]),
        config_volumes: BTreeSet::from(["/data".to_string()]),
        ..MountRequest::default()
    };
    let specs = parse_mounts(&request, &BTreeMap::new(), &fuzz_host)
        .expect("the fuzz source container parses")
        .into_iter()
        .map(|mut spec| {
            if spec.kind == MountKind::Volume {
                let name = spec.source.clone().unwrap_or_else(|| "a".repeat(64));
                spec.set_volume(name, "local");
            }
            spec
        })
        .collect();
    BTreeMap::from([("src".to_string(), specs)])
}

/// Bind sources exist unless their path mentions `missing`; `enotdir` fails like stat(2) would.
fn fuzz_host(path: &str) -> io::Result<bool> {
    if path.contains("enotdir") {
        return Err(io::Error::from_raw_os_error(20));
    }
    Ok(!path.contains("missing"))
}

/// Runs `data` through stage 1 (CLI) and stage 2 (daemon) and checks the invariants; panics if
/// one breaks. Never panics for any other reason.
pub fn mount_spec(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let cwd = "/work/dir";

    // Single values: errors must render, successes must re-serialize.
    let _ = parse_volume_flag(&text, cwd).map_err(|e| assert!(!e.to_string().is_empty()));
    if let Ok(mount) = parse_mount_flag(&text, cwd) {
        check_api_mount_round_trip(&mount);
    }

    let mut flags = CliMountFlags::default();
    let mut raw_binds = Vec::new();
    let mut raw_mounts = Vec::new();
    let mut image_volumes = Vec::new();
    let mut daemon_root = None;
    for line in text.split('\n') {
        let mut chars = line.chars();
        let Some(tag) = chars.next() else { continue };
        let value = chars.as_str().to_string();
        match tag {
            'v' => flags.volumes.push(value),
            'm' => flags.mounts.push(value),
            't' => flags.tmpfs.push(value),
            'f' => flags.volumes_from.push(value),
            'i' => image_volumes.push(value),
            'd' => flags.volume_driver = Some(value),
            'b' => raw_binds.push(value),
            'j' => {
                if let Ok(mount) = serde_json::from_str::<ApiMount>(&value) {
                    raw_mounts.push(mount);
                }
            }
            'r' => daemon_root = Some(value),
            _ => {}
        }
    }

    let cli = match CliMounts::parse(&flags, cwd) {
        Ok(cli) => cli,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            // Stage 2 still gets the raw daemon-side inputs.
            CliMounts::default()
        }
    };
    for bind in &cli.binds {
        assert!(!bind.is_empty());
    }
    for mount in &cli.mounts {
        check_api_mount_round_trip(mount);
    }

    let containers = fuzz_containers();
    for api in [ApiVersion::V1_41, ApiVersion::V1_44, ApiVersion::LATEST] {
        let mut request = cli.clone().into_request(image_volumes.clone(), api);
        request.binds.extend(raw_binds.iter().cloned());
        request.mounts.extend(raw_mounts.iter().cloned());
        request.daemon_root = daemon_root.clone();
        check_request(&request, &containers);
    }
}

fn check_api_mount_round_trip(mount: &ApiMount) {
    let json = serde_json::to_string(mount).expect("ApiMount serializes");
    let back: ApiMount = serde_json::from_str(&json).expect("ApiMount deserializes");
    assert_eq!(&back, mount, "ApiMount JSON round trip: {json}");
}

fn check_request(request: &MountRequest, containers: &dyn VolumesFromSource) {
    let specs = match parse_mounts(request, containers, &fuzz_host) {
        Ok(specs) => specs,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            let _ = e.kind();
            return;
        }
    };
    let mut destinations = BTreeSet::new();
    for spec in &specs {
        assert!(
            spec.destination.starts_with('/'),
            "destination {:?}",
            spec.destination
        );
        assert_ne!(spec.destination, "/");
        assert_eq!(spec.destination, go::clean(&spec.destination));
        assert!(
            destinations.insert(spec.destination.clone()),
            "duplicate destination {}",
            spec.destination
        );
        match spec.kind {
            MountKind::Bind => {
                let source = spec.source.as_deref().expect("bind has a source");
                assert_eq!(source, go::clean(source));
                assert!(spec.propagation.is_some());
            }
            MountKind::Volume => {
                if spec.source.is_none() {
                    assert!(spec.anonymous);
                }
            }
            MountKind::Tmpfs => {
                assert!(spec.source.is_none());
                assert_eq!(spec.read_only, spec.tmpfs.options.iter().any(|o| o == "ro"));
            }
        }
        let point = spec.mount_point("/var/lib/berth/volumes/x/_data");
        assert_eq!(point.is_none(), spec.origin == MountOrigin::Tmpfs);
        if let Some(point) = point {
            assert_eq!(point.rw, !spec.read_only);
            assert_eq!(point.destination, spec.destination);
            serde_json::to_string(&point).expect("MountPoint serializes");
        }
        let json = serde_json::to_string(spec).expect("MountSpec serializes");
        let back: MountSpec = serde_json::from_str(&json).expect("MountSpec deserializes");
        assert_eq!(&back, spec);
        let _ = spec.host_checks();
    }
    for tmpfs in request.tmpfs.keys() {
        assert!(destinations.contains(&go::clean(tmpfs)));
    }
    let mut sorted = specs.clone();
    sort_by_depth(&mut sorted);
    assert!(sorted
        .windows(2)
        .all(|w| super::mount::mount_depth(&w[0].destination)
            <= super::mount::mount_depth(&w[1].destination)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Path;

    /// The seed corpus of the fuzz target, shared with `cargo fuzz`.
    fn corpus_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/mount_spec")
    }

    #[test]
    fn seed_corpus_runs_clean() {
        let dir = corpus_dir();
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/mount_spec exists") {
            let path = entry.unwrap().path();
            mount_spec(&std::fs::read(&path).unwrap());
            count += 1;
        }
        assert!(count >= 10, "seed corpus has {count} files");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            mount_spec(&data);
        }

        #[test]
        fn structured_lines(lines in proptest::collection::vec(
            ("[vmtfibjd]", "[-/a-zA-Z0-9.:,=\"{}_ ]{0,24}"), 0..8)) {
            let text: String = lines.iter().map(|(tag, rest)| format!("{tag}{rest}\n")).collect();
            mount_spec(text.as_bytes());
        }
    }
}
