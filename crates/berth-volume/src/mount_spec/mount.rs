//! [`MountSpec`] is the one description of a container mount that every stage after parsing uses:
//! `-v`, `--mount`, `--tmpfs`, `--volumes-from` and image `VOLUME`s all become `MountSpec`s, and
//! the engine creates volumes, records the container's mounts, reports `Mounts[]` and builds the
//! runtime's mount list from them alone.
//!
//! A `MountSpec` is user intent, already validated and normalized (cleaned paths, resolved
//! defaults); `berth_store::Mount` is the serialized mount(2) call made from it later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::api::MountPoint;

/// What is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A volume, named or anonymous.
    Volume,
    /// A host path.
    Bind,
    /// A fresh tmpfs.
    Tmpfs,
}

impl MountKind {
    /// Docker's name for the type (`volume`, `bind`, `tmpfs`).
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Volume => "volume",
            MountKind::Bind => "bind",
            MountKind::Tmpfs => "tmpfs",
        }
    }
}

/// Mount propagation of a bind mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    /// `private`
    Private,
    /// `rprivate`, Docker's default.
    Rprivate,
    /// `shared`: the host mount holding the source must be shared.
    Shared,
    /// `rshared`: the host mount holding the source must be shared.
    Rshared,
    /// `slave`: the host mount holding the source must be shared or slave.
    Slave,
    /// `rslave`: the host mount holding the source must be shared or slave.
    Rslave,
}

impl Propagation {
    /// Every mode, in Docker's order.
    pub const ALL: [Propagation; 6] = [
        Propagation::Rprivate,
        Propagation::Private,
        Propagation::Rshared,
        Propagation::Shared,
        Propagation::Rslave,
        Propagation::Slave,
    ];

    /// The mode's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Private => "private",
            Propagation::Rprivate => "rprivate",
            Propagation::Shared => "shared",
            Propagation::Rshared => "rshared",
            Propagation::Slave => "slave",
            Propagation::Rslave => "rslave",
        }
    }

    /// The mode named `s` (exact, lower-case), if any.
    pub fn parse(s: &str) -> Option<Propagation> {
        Propagation::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Where a [`MountSpec`] came from; decides how it is reported and inherited.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum MountOrigin {
    /// `HostConfig.Binds` (`-v SRC:DST[:MODE]`).
    Bind,
    /// `HostConfig.Mounts` (`--mount`).
    Mount,
    /// `HostConfig.Tmpfs` (`--tmpfs`): not listed in `Mounts[]`, not inherited.
    Tmpfs,
    /// `Config.Volumes` (`-v /path` or an image `VOLUME`): an anonymous volume.
    ConfigVolume,
    /// Inherited through `--volumes-from`: never populated from the image.
    VolumesFrom {
        /// The container name or ID as given in `--volumes-from`.
        container: String,
    },
}

/// Volume settings; meaningful when `kind` is [`MountKind::Volume`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeOpts {
    /// Do not populate the volume from the image (`nocopy`, `volume-nocopy`).
    pub nocopy: bool,
    /// Requested driver (`None`: the existing volume's driver, else `local`). The engine replaces
    /// it with the actual driver once the volume exists ([`MountSpec::set_volume`]).
    pub driver: Option<String>,
    /// Labels, used only if this mount creates the volume.
    pub labels: BTreeMap<String, String>,
    /// Driver options, used only if this mount creates the volume.
    pub driver_opts: BTreeMap<String, String>,
    /// Mount only this relative directory of the volume (API ≥ 1.45).
    pub subpath: Option<String>,
}

/// How a read-only bind treats submounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadOnlyRecursion {
    /// Only the top mount is read-only (API < 1.44, `bind-recursive=writable`).
    NonRecursive,
    /// Recursively read-only when the kernel can (≥ 5.12), else like `NonRecursive`.
    #[default]
    IfSupported,
    /// Recursively read-only or fail at start (`bind-recursive=readonly`).
    Forced,
}

/// Bind settings; meaningful when `kind` is [`MountKind::Bind`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BindOpts {
    /// Create a missing source directory at start (`-v`, `CreateMountpoint`); otherwise a missing
    /// source already failed at create.
    pub create_host_path: bool,
    /// Plain bind instead of rbind (`bind-nonrecursive`, `bind-recursive=disabled`).
    pub non_recursive: bool,
    /// What `read_only` means for submounts.
    pub read_only_recursion: ReadOnlyRecursion,
    /// The propagation was not asked for but forced to `rslave` because the source holds (or is
    /// inside) the data root. dockerd makes its root a shared mount at start-up so that this
    /// always works; berth has no daemon to do that, so no shared-or-slave check is made for it
    /// (on a private host mount `rslave` simply behaves as private).
    #[serde(default)]
    pub implied_propagation: bool,
}

/// tmpfs settings; meaningful when `kind` is [`MountKind::Tmpfs`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TmpfsOpts {
    /// `TmpfsOptions.SizeBytes` of a `--mount` (0: none given); already part of `options`.
    pub size_bytes: i64,
    /// `TmpfsOptions.Mode` of a `--mount` (0: none given); already part of `options`.
    pub mode: u32,
    /// The final option list for the runtime's tmpfs mount, defaults merged
    /// (`noexec,nosuid,nodev,rprivate,size=2m`).
    pub options: Vec<String>,
}

/// One mount of a container, parsed and validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// Volume, bind or tmpfs.
    pub kind: MountKind,
    /// Volume: its name, `None` for an anonymous volume the engine has not named yet (it generates
    /// a 64-hex name). Bind: the cleaned absolute host path. Tmpfs: `None`.
    pub source: Option<String>,
    /// A volume created for this container without a user-given name: `rm -v` and `--rm` remove
    /// it. Stays true once the engine has named it and when the mount is inherited.
    #[serde(default)]
    pub anonymous: bool,
    /// Cleaned absolute path in the container; unique within a container.
    pub destination: String,
    /// Read-only (`Mounts[].RW` is its negation).
    #[serde(default)]
    pub read_only: bool,
    /// The `-v` mode string as given (`ro,Z`), `""` for every other origin. The `Mounts[].Mode`
    /// report adds the local driver's `z` default ([`MountSpec::mount_point`]).
    #[serde(default)]
    pub mode: String,
    /// Bind propagation (default `rprivate`); `None` for volumes and tmpfs.
    #[serde(default)]
    pub propagation: Option<Propagation>,
    /// Where the mount came from.
    pub origin: MountOrigin,
    /// Volume settings.
    #[serde(default)]
    pub volume: VolumeOpts,
    /// Bind settings.
    #[serde(default)]
    pub bind: BindOpts,
    /// tmpfs settings.
    #[serde(default)]
    pub tmpfs: TmpfsOpts,
}

/// A check the engine must make against the host, at create or start, for one mount; the parser
/// cannot make it because it needs the host's mount table or filesystem at that time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCheck {
    /// At start: create the bind source directory (recursively, 0755) if it is missing (`-v`).
    CreateBindSource {
        /// The cleaned host path.
        path: String,
    },
    /// At start: the host mount holding `path` must be shared (`shared`/`rshared`).
    SharedMount {
        /// The bind source.
        path: String,
    },
    /// At start: the host mount holding `path` must be shared or slave (`slave`/`rslave`).
    SharedOrSlaveMount {
        /// The bind source.
        path: String,
    },
    /// At start: make the mount recursively read-only if the kernel supports it; with `forced`,
    /// fail if it does not.
    RecursiveReadOnly {
        /// `bind-recursive=readonly`.
        forced: bool,
    },
    /// At create, for `Config.Volumes` (`-v /path`, image `VOLUME`): the destination must not be
    /// an existing non-directory in the rootfs (`cannot mount volume over existing file, file
    /// exists <rootfs path>`). (The populate copy has its own `source <path> is not directory`.)
    DestinationIsDirectory {
        /// The container path.
        destination: String,
    },
}

impl HostCheck {
    /// Docker's error text when a propagation check fails; `mountpoint` is where the host mount
    /// holding the source is mounted. `None` for checks without a fixed text.
    pub fn failure_message(&self, mountpoint: &str) -> Option<String> {
        match self {
            HostCheck::SharedMount { path } => Some(format!(
                "path {path} is mounted on {mountpoint} but it is not a shared mount"
            )),
            HostCheck::SharedOrSlaveMount { path } => Some(format!(
                "path {path} is mounted on {mountpoint} but it is not a shared or slave mount"
            )),
            _ => None,
        }
    }
}

impl MountSpec {
    /// A writable mount with empty options; the parsers fill in the rest.
    pub fn new(kind: MountKind, destination: impl Into<String>, origin: MountOrigin) -> Self {
        MountSpec {
            kind,
            source: None,
            anonymous: false,
            destination: destination.into(),
            read_only: false,
            mode: String::new(),
            propagation: None,
            origin,
            volume: VolumeOpts::default(),
            bind: BindOpts::default(),
            tmpfs: TmpfsOpts::default(),
        }
    }

    /// `Mounts[].RW`.
    pub fn rw(&self) -> bool {
        !self.read_only
    }

    /// Whether the engine must fill this volume from the image at create (§4 rules 1–3; the
    /// engine checks rules 4–5, target exists and volume empty).
    pub fn populates_from_image(&self) -> bool {
        self.kind == MountKind::Volume
            && !self.volume.nocopy
            && !matches!(self.origin, MountOrigin::VolumesFrom { .. })
    }

    /// Whether this mount may create its volume (and so apply `labels`/`driver_opts`): every
    /// volume mount except inherited ones.
    pub fn may_create_volume(&self) -> bool {
        self.kind == MountKind::Volume && !matches!(self.origin, MountOrigin::VolumesFrom { .. })
    }

    /// Records the volume the engine created or found: its name (the generated one for anonymous
    /// volumes) and actual driver.
    pub fn set_volume(&mut self, name: impl Into<String>, driver: impl Into<String>) {
        self.source = Some(name.into());
        self.volume.driver = Some(driver.into());
    }

    /// How read-only applies to submounts, or `None` for writable mounts and tmpfs. Volumes are
    /// recursively read-only when possible, whatever the API version (Docker only keeps old
    /// binds non-recursive).
    pub fn read_only_recursion(&self) -> Option<ReadOnlyRecursion> {
        match (self.read_only, self.kind) {
            (false, _) | (_, MountKind::Tmpfs) => None,
            (true, MountKind::Bind) => Some(self.bind.read_only_recursion),
            (true, MountKind::Volume) => Some(ReadOnlyRecursion::IfSupported),
        }
    }

    /// What the engine still has to check against the host for this mount.
    pub fn host_checks(&self) -> Vec<HostCheck> {
        let mut checks = Vec::new();
        if self.kind == MountKind::Bind {
            let path = self.source.clone().unwrap_or_default();
            if self.bind.create_host_path {
                checks.push(HostCheck::CreateBindSource { path: path.clone() });
            }
            match self.propagation {
                Some(Propagation::Shared | Propagation::Rshared) => {
                    checks.push(HostCheck::SharedMount { path })
                }
                Some(Propagation::Slave | Propagation::Rslave)
                    if !self.bind.implied_propagation =>
                {
                    checks.push(HostCheck::SharedOrSlaveMount { path })
                }

                _ => {}
            }
        }
        if self.origin == MountOrigin::ConfigVolume {
            checks.push(HostCheck::DestinationIsDirectory {
                destination: self.destination.clone(),
            });
        }
        if let Some(recursion) = self.read_only_recursion() {
            if recursion != ReadOnlyRecursion::NonRecursive {
                checks.push(HostCheck::RecursiveReadOnly {
                    forced: recursion == ReadOnlyRecursion::Forced,
                });
            }
        }
        checks
    }

    /// The `Mounts[]` entry `inspect` shows for this mount, or `None` for `--tmpfs` mounts, which
    /// Docker does not list. `volume_path` is the volume's host path (its `Mountpoint`); it is
    /// ignored for binds and tmpfs.
    ///
    /// Volumes report the name and driver recorded by [`MountSpec::set_volume`] (driver `local`
    /// if none), and Mode `z` when they come from `-v`/`--mount` without a mode on the local
    /// driver; binds report their raw `-v` mode and propagation; inherited mounts report Mode `""`.
    pub fn mount_point(&self, volume_path: &str) -> Option<MountPoint> {
        if self.origin == MountOrigin::Tmpfs {
            return None;
        }
        let mut point = MountPoint {
            kind: self.kind.as_str().to_string(),
            destination: self.destination.clone(),
            mode: self.mode.clone(),
            rw: self.rw(),
            propagation: self
                .propagation
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            ..MountPoint::default()
        };
        match self.kind {
            MountKind::Volume => {
                let driver = self.volume.driver.as_deref().unwrap_or("local");
                point.name = self.source.clone().unwrap_or_default();
                point.source = volume_path.to_string();
                point.driver = driver.to_string();
                let explicit = matches!(self.origin, MountOrigin::Bind | MountOrigin::Mount);
                if explicit && point.mode.is_empty() && driver == "local" {
                    point.mode = "z".to_string();
                }
            }
            MountKind::Bind => point.source = self.source.clone().unwrap_or_default(),
            MountKind::Tmpfs => {}
        }
        Some(point)
    }
}

/// The number of `/` in a cleaned destination: the order mounts are applied in at start
/// (parents before children).
pub fn mount_depth(destination: &str) -> usize {
    destination.bytes().filter(|b| *b == b'/').count()
}

/// Sorts mounts so that parents are mounted before their children (Docker sorts by path depth);
/// the sort is stable, so mounts of equal depth keep their order.
pub fn sort_by_depth(specs: &mut [MountSpec]) {
    specs.sort_by_key(|spec| mount_depth(&spec.destination));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(origin: MountOrigin, name: Option<&str>, mode: &str) -> MountSpec {
        let mut spec = MountSpec::new(MountKind::Volume, "/v", origin);
        spec.source = name.map(str::to_string);
        spec.anonymous = name.is_none();
        spec.mode = mode.to_string();
        spec
    }

    #[test]
    fn volume_mode_defaults_to_z_for_explicit_local_mounts() {
        let mut bind_origin = volume(MountOrigin::Bind, Some("spec-named1"), "");
        bind_origin.set_volume("spec-named1", "local");
        let point = bind_origin.mount_point("/vol/_data").unwrap();
        assert_eq!(point.mode, "z");
        assert_eq!(point.name, "spec-named1");
        assert_eq!(point.driver, "local");
        assert_eq!(point.source, "/vol/_data");
        assert_eq!(point.propagation, "");

        let mut plugin = volume(MountOrigin::Mount, Some("p1"), "");
        plugin.set_volume("p1", "someplugin");
        assert_eq!(plugin.mount_point("/p").unwrap().mode, "");

        let config = volume(MountOrigin::ConfigVolume, None, "");
        assert_eq!(config.mount_point("/x").unwrap().mode, "");

        let with_mode = volume(MountOrigin::Bind, Some("v2"), "ro");
        assert_eq!(with_mode.mount_point("/x").unwrap().mode, "ro");
    }

    #[test]
    fn tmpfs_flag_mounts_are_not_reported() {
        let spec = MountSpec::new(MountKind::Tmpfs, "/t2", MountOrigin::Tmpfs);
        assert_eq!(spec.mount_point(""), None);
        let mount = MountSpec::new(MountKind::Tmpfs, "/t1", MountOrigin::Mount);
        let point = mount.mount_point("/ignored").unwrap();
        assert_eq!(point.kind, "tmpfs");
        assert_eq!(point.source, "");
        assert!(point.rw);
    }

    #[test]
    fn host_checks_for_binds_and_volumes() {
        let mut bind = MountSpec::new(MountKind::Bind, "/b", MountOrigin::Bind);
        bind.source = Some("/srv".into());
        bind.propagation = Some(Propagation::Rshared);
        bind.bind.create_host_path = true;
        bind.read_only = true;
        bind.bind.read_only_recursion = ReadOnlyRecursion::Forced;
        let checks = bind.host_checks();
        assert_eq!(
            checks,
            vec![
                HostCheck::CreateBindSource {
                    path: "/srv".into()
                },
                HostCheck::SharedMount {
                    path: "/srv".into()
                },
                HostCheck::RecursiveReadOnly { forced: true },
            ]
        );
        assert_eq!(
            checks[1].failure_message("/").unwrap(),
            "path /srv is mounted on / but it is not a shared mount"
        );
        assert_eq!(
            HostCheck::SharedOrSlaveMount {
                path: "/srv/ex/b/src".into()
            }
            .failure_message("/")
            .unwrap(),
            "path /srv/ex/b/src is mounted on / but it is not a shared or slave mount"
        );
        let inherited = volume(
            MountOrigin::VolumesFrom {
                container: "c".into(),
            },
            Some("v"),
            "",
        );
        assert!(inherited.host_checks().is_empty());
        assert!(!inherited.populates_from_image());
        assert!(volume(MountOrigin::ConfigVolume, None, "").populates_from_image());
    }

    #[test]
    fn depth_sort_puts_parents_first() {
        let mut specs: Vec<MountSpec> = ["/a/b/c", "/a", "/x/y", "/b"]
            .iter()
            .map(|d| MountSpec::new(MountKind::Volume, *d, MountOrigin::ConfigVolume))
            .collect();
        sort_by_depth(&mut specs);
        let order: Vec<&str> = specs.iter().map(|s| s.destination.as_str()).collect();
        assert_eq!(order, ["/a", "/b", "/x/y", "/a/b/c"]);
    }

    #[test]
    fn mount_spec_json_round_trips() {
        let mut spec = volume(
            MountOrigin::VolumesFrom {
                container: "src".into(),
            },
            Some("v"),
            "",
        );
        spec.volume.labels.insert("k".into(), "v".into());
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<MountSpec>(&text).unwrap(), spec);
        assert!(text.contains(r#""origin":{"from":"volumes_from","container":"src"}"#));
    }
}
