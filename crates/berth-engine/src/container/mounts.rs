//! A container's mounts beyond its root filesystem. At create, the request's `-v`, `--mount`,
//! `--tmpfs`, `--volumes-from` and the image's `VOLUME`s are parsed into one list of
//! [`MountSpec`]s (nothing is created unless the whole list is valid); volumes are then found or
//! created, anonymous ones named, and empty volumes populated from the image (spec §4). At start,
//! the specs become the OCI spec's mounts (binds, volumes — option volumes mounted on first use —
//! and tmpfs), parents before children. When the container stops, option volumes nobody else
//! uses are unmounted; `rm -v` and `--rm` remove its anonymous volumes unless another container
//! still references them.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use berth_runtime::spec::SpecMount;
use berth_store::archive::{self, ApplyOptions, WhiteoutMode};
use berth_volume::mount_spec::{
    parse_mounts, sort_by_depth, ApiVersion, ConfigVolumes, HostCheck, HostConfigMounts, MountKind,
    MountRequest, MountSpec, MountSpecError, RealHostPaths, VolumesFromSource,
};
use berth_volume::store::{CreateVolume, VolumeError};
use rustix::fs::{Mode, OFlags};

use super::Container;
use crate::types::HostConfig;
use crate::{Engine, EngineError};

/// `--volumes-from` sources: other containers' recorded mounts.
struct RecordedMounts<'e>(&'e Engine);

impl VolumesFromSource for RecordedMounts<'_> {
    fn mount_points(&self, container: &str) -> Result<Vec<MountSpec>, MountSpecError> {
        match self.0.lookup_container(container) {
            Ok(c) => Ok(c.mounts),
            Err(EngineError::NoSuchContainer(_)) => {
                Err(MountSpecError::NoSuchContainer(container.to_string()))
            }
            Err(e) => Err(MountSpecError::Lookup(e.to_string().into())),
        }
    }
}

/// The mount fields of a host config, as the parser takes them.
pub(crate) fn host_mounts(h: &HostConfig) -> HostConfigMounts {
    HostConfigMounts {
        binds: h.binds.clone(),
        volume_driver: h.volume_driver.clone(),
        volumes_from: h.volumes_from.clone(),
        tmpfs: h.tmpfs.clone().unwrap_or_default(),
        mounts: h.mounts.clone().unwrap_or_default(),
    }
}

/// Opens `path` (as the container sees it) under `rootfs`, resolving symlinks inside it.
fn open_in_rootfs(
    rootfs: &Path,
    path: &str,
    flags: OFlags,
) -> rustix::io::Result<std::os::fd::OwnedFd> {
    let root = rustix::fs::open(
        rootfs,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    berth_store::fsutil::open_in_root(&root, path, flags)
}

/// Whether the host mount holding `path` has `tag` (`shared:`/`master:`) in its optional fields;
/// also returns that mount's mount point.
fn host_mount_propagation(path: &str) -> (String, bool, bool) {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut best: Option<(&str, bool, bool)> = None;
    for line in info.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(mp) = fields.get(4) else { continue };
        let inside = *mp == "/" || path == *mp || path.starts_with(&format!("{mp}/"));
        if !inside || best.is_some_and(|(b, _, _)| b.len() > mp.len()) {
            continue;
        }
        let optional: Vec<&str> = fields[6..]
            .iter()
            .take_while(|f| **f != "-")
            .copied()
            .collect();
        let shared = optional.iter().any(|f| f.starts_with("shared:"));
        let slave = optional.iter().any(|f| f.starts_with("master:"));
        best = Some((mp, shared, slave));
    }
    best.map(|(m, s, sl)| (m.to_string(), s, sl))
        .unwrap_or_else(|| ("/".into(), false, false))
}

/// A mount the container's root filesystem or the host cannot take, in dockerd's words (400).
#[derive(Debug, thiserror::Error)]
pub enum MountPointError {
    /// A volume's destination is a file in the image.
    #[error("cannot mount volume over existing file, file exists {0}")]
    OverFile(String),
    /// An image's content to copy into a volume is not a directory.
    #[error("source {0} is not directory")]
    SourceNotDirectory(String),
    /// A `shared`/`slave` propagation whose host mount point is not (the volume crate's text).
    #[error("{0}")]
    Propagation(String),
}

impl Engine {
    /// Parses a create request's mounts (no side effects); `config_volumes` are the merged
    /// `Config.Volumes` keys.
    pub(crate) fn parse_container_mounts(
        &self,
        host: &HostConfig,
        config_volumes: &ConfigVolumes,
        api_version: ApiVersion,
    ) -> Result<Vec<MountSpec>, EngineError> {
        let mut req = MountRequest::from_config(&host_mounts(host), config_volumes, api_version);
        req.daemon_root = Some(self.root().display().to_string());
        Ok(parse_mounts(&req, &RecordedMounts(self), &RealHostPaths)?)
    }

    /// Finds or creates every volume of `specs` (naming anonymous ones), checks image
    /// destinations and populates empty volumes from `rootfs` (the container's mounted root).
    /// Returns the names of volumes created here, for cleanup if the create fails later.
    /// `id` is the container's (a plugin volume is mounted for it while it is filled).
    pub(crate) fn prepare_volumes(
        &mut self,
        id: &str,
        specs: &mut [MountSpec],
        rootfs: Option<&Path>,
        created: &mut Vec<String>,
    ) -> Result<(), EngineError> {
        if let Some(rootfs) = rootfs {
            for spec in specs.iter() {
                for check in spec.host_checks() {
                    if let HostCheck::DestinationIsDirectory { destination } = check {
                        if let Ok(fd) = open_in_rootfs(rootfs, &destination, OFlags::PATH) {
                            let st =
                                rustix::fs::fstat(&fd).map_err(|e| EngineError::Io(e.into()))?;
                            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                                let path = format!("{}{destination}", rootfs.display());
                                return Err(MountPointError::OverFile(path).into());
                            }
                        }
                    }
                }
            }
        }
        for spec in specs.iter_mut().filter(|s| s.kind == MountKind::Volume) {
            let mut store = self.volumes()?;
            let existing = match &spec.source {
                Some(name) => store.get(name)?,
                None => None,
            };
            let volume = match existing {
                Some(v) => v,
                None => {
                    let creating = spec.may_create_volume() || spec.source.is_none();
                    if !creating {
                        return Err(
                            VolumeError::NotFound(spec.source.clone().unwrap_or_default()).into(),
                        );
                    }
                    let req = CreateVolume {
                        name: spec.source.clone(),
                        driver: spec.volume.driver.clone(),
                        labels: (!spec.volume.labels.is_empty())
                            .then(|| spec.volume.labels.clone()),
                        options: (!spec.volume.driver_opts.is_empty())
                            .then(|| spec.volume.driver_opts.clone()),
                    };
                    let (v, new) = store.create(&req)?;
                    if new {
                        created.push(v.name.clone());
                    }
                    v
                }
            };
            spec.set_volume(volume.name.clone(), volume.driver.clone());
            if let (Some(rootfs), true) = (rootfs, spec.populates_from_image()) {
                self.populate(id, rootfs, spec, &volume)?;
            }
        }
        Ok(())
    }

    /// Spec §4: an empty volume over a non-empty image directory gets the directory's content,
    /// owners, modes and the directory's own owner and mode. The source is resolved inside the
    /// rootfs and read fd by fd; the destination is unpacked beneath the volume's data dir, so
    /// no symlink in the image or the volume can steer the copy elsewhere.
    ///
    /// All or nothing (issue 15): a plain volume is filled in a staging directory next to its
    /// data dir and published by one rename over the still-empty data dir, so a process killed
    /// mid-copy leaves the volume empty (and the next run fills it) instead of partly filled for
    /// good; the staging directory is journaled, so the repair pass removes what a killed copy
    /// left. A volume with driver options is a mount (tmpfs, a size-limited filesystem) and is
    /// filled in place, as is a plugin's volume, mounted for container `id` for the copy (as
    /// dockerd does: `Mount`, copy, `Unmount`).
    fn populate(
        &mut self,
        id: &str,
        rootfs: &Path,
        spec: &MountSpec,
        volume: &berth_volume::store::Volume,
    ) -> Result<(), EngineError> {
        let src = match open_in_rootfs(
            rootfs,
            &spec.destination,
            OFlags::RDONLY | OFlags::DIRECTORY,
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(()),
            Err(rustix::io::Errno::NOTDIR) => {
                let path = format!("{}{}", rootfs.display(), spec.destination);
                return Err(MountPointError::SourceNotDirectory(path).into());
            }
            Err(e) => return Err(EngineError::Io(e.into())),
        };
        let mut store = self.volumes()?;
        let (data, plugin_mount) = if volume.is_plugin() {
            let (path, mount_id) = store.mount_plugin(volume, id, &spec.destination)?;
            (path, Some(mount_id))
        } else {
            (store.mount(volume)?, None)
        };
        let staged = !volume.has_options() && plugin_mount.is_none();
        let mut staging = None;
        let result = (|| -> Result<(), EngineError> {
            let empty = std::fs::read_dir(&data)?.next().is_none();
            if !empty {
                return Ok(());
            }
            let target = if staged {
                let dir = store.begin_staging(&volume.name)?;
                staging = Some(dir.clone());
                dir
            } else {
                data.clone()
            };
            let data = &target;
            let (reader, writer) = std::io::pipe()?;
            let src_ref = &src;
            std::thread::scope(|s| -> Result<(), EngineError> {
                let producer = s.spawn(move || {
                    let w = std::io::BufWriter::with_capacity(1 << 20, writer);
                    archive::write_entry_tar(src_ref.as_fd(), b".", ".", w).and_then(|mut w| {
                        std::io::Write::flush(&mut w).map_err(|e| {
                            berth_store::archive::ArchiveError::Io {
                                path: ".".into(),
                                source: e,
                            }
                        })
                    })
                });
                let applied = archive::apply_tar(
                    reader,
                    data,
                    &ApplyOptions {
                        no_overwrite_dir_non_dir: false,
                        skip_devices: false,
                        whiteouts: WhiteoutMode::Delete,
                        root_metadata: false,
                        owner: None,
                    },
                );
                producer.join().map_err(|_| {
                    EngineError::Io(std::io::Error::other("populate copy failed"))
                })??;
                applied?;
                Ok(())
            })?;
            let st = rustix::fs::fstat(&src).map_err(|e| EngineError::Io(e.into()))?;
            rustix::fs::chown(
                data,
                Some(rustix::fs::Uid::from_raw(st.st_uid)),
                Some(rustix::fs::Gid::from_raw(st.st_gid)),
            )
            .map_err(|e| EngineError::Io(e.into()))?;
            rustix::fs::chmod(data, Mode::from_raw_mode(st.st_mode & 0o7777))
                .map_err(|e| EngineError::Io(e.into()))?;
            if let Some(staging) = &staging {
                // Replaces the empty data dir in one step; if something was written there
                // meanwhile (a concurrent populate won), that content stays and ours goes
                // (with the staging directory, below).
                match std::fs::rename(staging, volume.mountpoint.as_path()) {
                    Ok(()) => {}
                    Err(e)
                        if e.raw_os_error() == Some(libc::ENOTEMPTY)
                            || e.raw_os_error() == Some(libc::EEXIST) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        })();
        let result = match staging {
            Some(_) => result.and(store.end_staging(&volume.name).map_err(EngineError::from)),
            None => result,
        };
        // Option volumes are mounted only while used; the copy of a tmpfs volume is therefore
        // lost, as in Docker (spec §4, §11 #12).
        match plugin_mount {
            Some(mount_id) => {
                let _ = store.unmount_plugin(&mount_id, id);
            }
            None => {
                let _ = store.unmount(volume);
            }
        }
        result
    }

    /// Removes volumes a failed create made.
    pub(crate) fn discard_volumes(&mut self, names: &[String]) {
        if let Ok(mut store) = self.volumes() {
            for n in names {
                let _ = store.remove(n);
            }
        }
    }

    /// The OCI mounts of a container, parents before children; performs start-time host work
    /// (missing `-v` sources, propagation checks, option volumes' first mount).
    /// Plugin volumes are mounted for `c` under new caller IDs; a failure part way leaves them
    /// mounted for the caller to release ([`Engine::release_plugin_mounts`]).
    pub(crate) fn spec_mounts(&mut self, c: &Container) -> Result<Vec<SpecMount>, EngineError> {
        // Mounts an earlier run could not release (its plugin was down) go first.
        self.release_plugin_mounts(c);
        let mut specs = c.mounts.clone();
        sort_by_depth(&mut specs);
        let mut out = Vec::new();
        for spec in &specs {
            let mut recursive_ro = false;
            for check in spec.host_checks() {
                match check {
                    HostCheck::CreateBindSource { path } => {
                        use std::os::unix::fs::DirBuilderExt;
                        if std::fs::symlink_metadata(&path).is_err() {
                            std::fs::DirBuilder::new()
                                .recursive(true)
                                .mode(0o755)
                                .create(&path)?;
                        }
                    }
                    HostCheck::SharedMount { ref path } => {
                        let (mp, shared, _) = host_mount_propagation(path);
                        if !shared {
                            let text = check.failure_message(&mp).unwrap_or_default();
                            return Err(MountPointError::Propagation(text).into());
                        }
                    }
                    HostCheck::SharedOrSlaveMount { ref path } => {
                        let (mp, shared, slave) = host_mount_propagation(path);
                        if !shared && !slave {
                            let text = check.failure_message(&mp).unwrap_or_default();
                            return Err(MountPointError::Propagation(text).into());
                        }
                    }
                    HostCheck::RecursiveReadOnly { .. } => recursive_ro = true,
                    HostCheck::DestinationIsDirectory { .. } => {}
                }
            }
            let ro = |opts: &mut Vec<String>| {
                if spec.read_only {
                    opts.push(if recursive_ro {
                        "rro".into()
                    } else {
                        "ro".into()
                    });
                }
            };
            match spec.kind {
                MountKind::Bind => {
                    let mut options = vec![
                        if spec.bind.non_recursive {
                            "bind"
                        } else {
                            "rbind"
                        }
                        .to_string(),
                        spec.propagation
                            .map(|p| p.as_str())
                            .unwrap_or("rprivate")
                            .to_string(),
                    ];
                    ro(&mut options);
                    out.push(SpecMount {
                        destination: spec.destination.clone(),
                        fstype: "bind".into(),
                        source: spec.source.clone().unwrap_or_default(),
                        options,
                    });
                }
                MountKind::Volume => {
                    let name = spec.source.clone().unwrap_or_default();
                    let mut store = self.volumes()?;
                    let volume = store.require(&name)?;
                    let mut source: PathBuf = if volume.is_plugin() {
                        store.mount_plugin(&volume, &c.id, &spec.destination)?.0
                    } else {
                        store.mount(&volume)?
                    };
                    if let Some(sub) = &spec.volume.subpath {
                        source = source.join(sub.trim_start_matches('/'));
                    }
                    let mut options = vec!["rbind".to_string(), "rprivate".to_string()];
                    ro(&mut options);
                    out.push(SpecMount {
                        destination: spec.destination.clone(),
                        fstype: "bind".into(),
                        source: source.display().to_string(),
                        options,
                    });
                }
                MountKind::Tmpfs => {
                    let mut options = spec.tmpfs.options.clone();
                    if spec.read_only {
                        options.push("ro".into());
                    }
                    out.push(SpecMount {
                        destination: spec.destination.clone(),
                        fstype: "tmpfs".into(),
                        source: "tmpfs".into(),
                        options,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Unmounts the plugin volumes mounted for `c` (each under its own caller ID).
    pub(crate) fn release_plugin_mounts(&mut self, c: &Container) {
        let released = self
            .volumes()
            .and_then(|mut s| Ok(s.unmount_plugins_of(&c.id)?));
        if let Err(e) = released {
            log::warn!("container {}: releasing plugin volumes: {e}", c.id);
        }
    }

    /// After a container stops: unmounts its plugin volumes, and its option volumes that no
    /// running container uses.
    pub(crate) fn release_mounts(&mut self, c: &Container) {
        self.release_plugin_mounts(c);
        let running_users = |engine: &mut Engine, volume: &str| -> usize {
            let users = engine
                .volumes()
                .and_then(|s| Ok(s.users(volume)?))
                .unwrap_or_default();
            users
                .iter()
                .filter(|id| **id != c.id)
                .filter_map(|id| engine.lookup_container(id).ok())
                .filter(|o| o.state.status.is_running())
                .count()
        };
        for spec in c.mounts.iter().filter(|s| s.kind == MountKind::Volume) {
            let Some(name) = &spec.source else { continue };
            let driver = spec.volume.driver.clone().unwrap_or_else(|| "local".into());
            let attributes = [("driver", driver), ("container", c.id.clone())];
            self.emit_volume(name, "unmount", &attributes);
            if running_users(self, name) > 0 {
                continue;
            }
            if let Ok(store) = self.volumes() {
                if let Ok(Some(v)) = store.get(name) {
                    let _ = store.unmount(&v);
                }
            }
        }
    }
}
