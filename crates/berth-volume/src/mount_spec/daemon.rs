//! [`parse_mounts`] is the daemon side of mount parsing: it turns a container's [`MountRequest`]
//! (`HostConfig.Binds/Mounts/Tmpfs/VolumesFrom`, `Config.Volumes`) into its [`MountSpec`] list, or
//! the first error in Docker's words ([`MountSpecError`]). The Docker API server and berth's own
//! CLI both end here.
//!
//! Processing follows Docker (moby `daemon/volumes.go`, `volume/mounts/linux_parser.go`): API
//! version gates; `Tmpfs` destinations; `VolumesFrom` (later ones replace earlier ones at one
//! destination); `Binds`; `Mounts` (an explicit mount silently replaces an inherited one, two
//! explicit ones at one destination are a `Duplicate mount point`); `Config.Volumes` for
//! destinations nothing else covers; `Tmpfs` options. Where 20.10 has a bug the spec's §11 stance
//! is taken: a `--tmpfs` and a `--mount` at one destination, or two tmpfs there, are duplicates;
//! inherited `--mount` tmpfs mounts are inherited; `Config.Volumes` keys must be absolute and not
//! `/`; every error is a 400 except a failing container lookup.
//!
//! The function is pure except for one check, that a `--mount` bind source exists, made through
//! [`HostPaths`]. It creates nothing: the engine creates volumes only after the whole list parsed,
//! so a failing request leaves nothing behind.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use berth_store::ErrorKind;

use super::api::{
    ApiMount, ApiVersion, BindOptions, ConfigVolumes, Driver, HostConfigMounts, VolumeOptions,
};
use super::mount::{MountKind, MountOrigin, MountSpec, Propagation, ReadOnlyRecursion};
use super::name::{validate_volume_name, VolumeNameError};
use super::tmpfs::{
    convert_tmpfs_options, merge_tmpfs_options, tmpfs_flag_options, TmpfsOptionError,
    DEFAULT_TMPFS_OPTIONS,
};
use berth_go as go;

/// Everything a container-create request says about mounts, as the daemon receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountRequest {
    /// `HostConfig.Binds`: `SRC:DST[:MODE]` (or a bare `DST`, an anonymous volume).
    pub binds: Vec<String>,
    /// `HostConfig.Mounts`.
    pub mounts: Vec<ApiMount>,
    /// `HostConfig.Tmpfs`: destination → option string.
    pub tmpfs: BTreeMap<String, String>,
    /// `HostConfig.VolumesFrom`: `CONTAINER[:MODE]`.
    pub volumes_from: Vec<String>,
    /// `Config.Volumes` keys: `-v /path` and the image's `VOLUME`s, merged by the caller.
    pub config_volumes: BTreeSet<String>,
    /// `HostConfig.VolumeDriver`: driver for `Binds` volumes and `Config.Volumes` (not `Mounts`).
    pub volume_driver: Option<String>,
    /// The request's API version.
    pub api_version: ApiVersion,
    /// The engine's data root: bind sources inside it (or containing it) get `rslave`
    /// propagation, and any other explicit propagation than `rslave`/`rshared` is refused.
    pub daemon_root: Option<String>,
}

impl MountRequest {
    /// The request from the stored/received configuration fields.
    pub fn from_config(
        host: &HostConfigMounts,
        config_volumes: &ConfigVolumes,
        api_version: ApiVersion,
    ) -> Self {
        MountRequest {
            binds: host.binds.clone().unwrap_or_default(),
            mounts: host.mounts.clone(),
            tmpfs: host.tmpfs.clone(),
            volumes_from: host.volumes_from.clone().unwrap_or_default(),
            config_volumes: config_volumes.paths(),
            volume_driver: (!host.volume_driver.is_empty()).then(|| host.volume_driver.clone()),
            api_version,
            daemon_root: None,
        }
    }

    /// `HostConfig.Binds/Mounts/Tmpfs/VolumesFrom/VolumeDriver` for `inspect` (§9.2): lists as
    /// sent, `null` (or omitted) when empty.
    pub fn inspect_host_config(&self) -> HostConfigMounts {
        HostConfigMounts {
            binds: (!self.binds.is_empty()).then(|| self.binds.clone()),
            volume_driver: self.volume_driver.clone().unwrap_or_default(),
            volumes_from: (!self.volumes_from.is_empty()).then(|| self.volumes_from.clone()),
            tmpfs: self.tmpfs.clone(),
            mounts: self.mounts.clone(),
        }
    }

    /// `Config.Volumes` for `inspect` (§9.2): `{"/data":{}}` or `null`.
    pub fn inspect_config_volumes(&self) -> ConfigVolumes {
        ConfigVolumes::from_set(&self.config_volumes)
    }
}

/// The source container's side of `--volumes-from`, implemented by the engine.
pub trait VolumesFromSource {
    /// The recorded mount specs of `container` (a name or ID), with every volume named. A
    /// missing container is [`MountSpecError::NoSuchContainer`].
    fn mount_points(&self, container: &str) -> Result<Vec<MountSpec>, MountSpecError>;
}

/// A fixed table of containers' mount specs, by name (tests, tools).
impl VolumesFromSource for BTreeMap<String, Vec<MountSpec>> {
    fn mount_points(&self, container: &str) -> Result<Vec<MountSpec>, MountSpecError> {
        self.get(container)
            .cloned()
            .ok_or_else(|| MountSpecError::NoSuchContainer(container.to_string()))
    }
}

/// No containers at all: every `--volumes-from` fails with `No such container`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContainers;

impl VolumesFromSource for NoContainers {
    fn mount_points(&self, container: &str) -> Result<Vec<MountSpec>, MountSpecError> {
        Err(MountSpecError::NoSuchContainer(container.to_string()))
    }
}

/// The one filesystem question mount parsing asks: does a `--mount` bind source exist?
pub trait HostPaths {
    /// Whether `path` exists (following symlinks, like `stat`). Errors other than "not found"
    /// are reported to the user as `stat <path>: <error>`.
    fn exists(&self, path: &str) -> io::Result<bool>;
}

/// The real host filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealHostPaths;

impl HostPaths for RealHostPaths {
    fn exists(&self, path: &str) -> io::Result<bool> {
        if path.contains('\0') {
            return Err(io::Error::from_raw_os_error(22)); // EINVAL, what stat(2) would say
        }
        match std::fs::metadata(path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Any `Fn(&str) -> io::Result<bool>` answers the question (tests).
impl<F: Fn(&str) -> io::Result<bool>> HostPaths for F {
    fn exists(&self, path: &str) -> io::Result<bool> {
        self(path)
    }
}

/// A path rule broken by a mount destination.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The destination cleans to `/`.
    #[error("invalid specification: destination can't be '/'")]
    Root,
    /// The path is relative (shown with `\` turned into `/`, as Docker does).
    #[error("invalid mount path: '{0}' mount path must be absolute")]
    NotAbsolute(String),
}

/// Why a mount object is invalid, the part after `invalid mount config for type "…": `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountConfigReason {
    /// `Target` or a bind's `Source` is empty.
    #[error("field {0} must not be empty")]
    MissingField(&'static str),
    /// Options of another type (`BindOptions` on a volume...), or a tmpfs `Source`.
    #[error("field {0} must not be specified")]
    ExtraField(&'static str),
    /// A bad target or bind source path.
    #[error(transparent)]
    Path(#[from] PathError),
    /// `BindOptions.Propagation` is not a propagation mode.
    #[error("invalid propagation mode: {0}")]
    InvalidPropagation(String),
    /// A `--mount` bind source that does not exist (and `CreateMountpoint` is not set).
    #[error("bind source path does not exist: {0}")]
    BindSourceMissing(String),
    /// The bind source could not be examined.
    #[error("stat {path}: {error}")]
    BindSourceStat {
        /// The source as given.
        path: String,
        /// Go's text for the OS error (`not a directory`).
        error: String,
    },
    /// `ReadOnly` on a volume without a name.
    #[error("must not set ReadOnly mode when using anonymous volumes")]
    AnonymousReadOnly,
    /// `VolumeOptions.Subpath` on a volume without a name.
    #[error("must not set Subpath when using anonymous volumes")]
    AnonymousSubpath,
    /// `VolumeOptions.Subpath` is absolute or leaves the volume.
    #[error("subpath must be a relative path within the volume")]
    InvalidSubpath,
    /// `image`, `npipe`, `cluster` or anything else.
    #[error("mount type unknown")]
    UnknownType,
    /// A bad `TmpfsOptions.Options` entry.
    #[error(transparent)]
    Tmpfs(#[from] TmpfsOptionError),
}

/// An invalid mount object: `invalid mount config for type "bind": <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid mount config for type {}: {reason}", go::quote(.kind))]
pub struct MountConfigError {
    /// The mount's `Type` as given.
    pub kind: String,
    /// What is wrong.
    #[source]
    pub reason: MountConfigReason,
}

impl MountConfigError {
    /// Always [`ErrorKind::InvalidArgument`] (HTTP 400).
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// Why a container's mounts cannot be set up; the Display text is Docker's.
#[derive(Debug, thiserror::Error)]
pub enum MountSpecError {
    /// A `Binds` entry with more than two colons, an empty first part, or `/x:ro`.
    #[error("invalid volume specification: '{0}'")]
    InvalidVolumeSpec(String),
    /// A `Binds` entry whose mount is invalid.
    #[error("invalid volume specification: '{spec}': {source}")]
    InvalidVolumeSpecConfig {
        /// The entry as given.
        spec: String,
        /// What is wrong with it.
        source: MountConfigError,
    },
    /// A mode list with an unknown token or two tokens of one group (`ro,rw`, `z,Z`).
    #[error("invalid mode: {0}")]
    InvalidMode(String),
    /// An invalid `Mounts` entry.
    #[error(transparent)]
    MountConfig(#[from] MountConfigError),
    /// An invalid `Tmpfs` destination.
    #[error(transparent)]
    TmpfsDestination(PathError),
    /// An invalid `Tmpfs` option.
    #[error(transparent)]
    TmpfsOption(#[from] TmpfsOptionError),
    /// Two explicit mounts (or a mount and a tmpfs) at one destination.
    #[error("Duplicate mount point: {0}")]
    DuplicateMountPoint(String),
    /// `--volumes-from ""`.
    #[error("volumes-from specification cannot be an empty string")]
    EmptyVolumesFrom,
    /// `--volumes-from` names no container.
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    /// A volume name the local driver refuses.
    #[error(transparent)]
    VolumeName(#[from] VolumeNameError),
    /// `BindOptions.ReadOnlyForceRecursive` in a request older than API 1.44.
    #[error("BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer")]
    ForceRecursiveNeedsApi,
    /// Both read-only recursion options on one read-only bind.
    #[error("mount options conflict: ReadOnlyNonRecursive && ReadOnlyForceRecursive")]
    ReadOnlyRecursionConflict,
    /// A bind source inside the data root with a propagation other than `rslave`/`rshared`.
    #[error(
        "invalid mount config: must use either propagation mode \"rslave\" or \"rshared\" when mount source is within the daemon root, daemon root: {}, bind mount source: {}, propagation: {}",
        go::quote(.root),
        go::quote(.bind_source),
        go::quote(.propagation)
    )]
    DaemonRootPropagation {
        /// The data root.
        root: String,
        /// The bind source as given.
        bind_source: String,
        /// The requested propagation.
        propagation: String,
    },
    /// `--volumes-from` returned a volume without a name (an engine bug).
    #[error("volumes-from {container}: the volume at {destination} has no name")]
    UnnamedInheritedVolume {
        /// The source container.
        container: String,
        /// The mount's destination.
        destination: String,
    },
    /// The engine failed to look a container up.
    #[error("{0}")]
    Lookup(Box<dyn std::error::Error + Send + Sync>),
}

impl MountSpecError {
    /// The error class: [`ErrorKind::InvalidArgument`] (HTTP 400) for everything the request
    /// got wrong, including a missing `--volumes-from` container (§7, §11 #5/#6/#10);
    /// [`ErrorKind::Internal`] for engine failures.
    pub fn kind(&self) -> ErrorKind {
        match self {
            MountSpecError::UnnamedInheritedVolume { .. } | MountSpecError::Lookup(_) => {
                ErrorKind::Internal
            }
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// A parsed `--volumes-from CONTAINER[:MODE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumesFrom {
    /// The container name or ID.
    pub container: String,
    /// The mode as given (`rw` when absent).
    pub mode: String,
    /// False with `ro`: every inherited mount becomes read-only.
    pub read_write: bool,
}

/// The mode token groups of a `-v` mode list; at most one token per group.
fn mode_group(token: &str) -> Option<usize> {
    match token {
        "rw" | "ro" => Some(0),
        "z" | "Z" => Some(1),
        "nocopy" => Some(3),
        "consistent" | "cached" | "delegated" => Some(4),
        t if Propagation::parse(t).is_some() => Some(2),
        _ => None,
    }
}

/// Whether `mode` is a valid `-v` mode list: comma-separated tokens of `rw|ro`, `z|Z`, a
/// propagation, `nocopy`, `consistent|cached|delegated`, at most one of each group (`""` is valid).
pub fn valid_mount_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0usize; 5];
    for token in mode.split(',') {
        match mode_group(token) {
            Some(group) => counts[group] += 1,
            None => return false,
        }
    }
    counts.iter().all(|c| *c <= 1)
}

/// Docker's `ReadWrite`: a valid mode without `ro`.
fn mode_read_write(mode: &str) -> bool {
    valid_mount_mode(mode) && !mode.split(',').any(|t| t == "ro")
}

fn mode_propagation(mode: &str) -> Option<Propagation> {
    mode.split(',').find_map(Propagation::parse)
}

fn mode_has_nocopy(mode: &str) -> bool {
    mode.split(',').any(|t| t == "nocopy")
}

/// Parses `--volumes-from CONTAINER[:MODE]`; `MODE` may be `rw`, `ro`, `z`/`Z`, a consistency
/// (accepted, no effect), but no propagation and no `nocopy`.
pub fn parse_volumes_from(spec: &str) -> Result<VolumesFrom, MountSpecError> {
    if spec.is_empty() {
        return Err(MountSpecError::EmptyVolumesFrom);
    }
    let (container, mode) = match spec.split_once(':') {
        Some((container, mode)) => {
            if !valid_mount_mode(mode) || mode_propagation(mode).is_some() || mode_has_nocopy(mode)
            {
                return Err(MountSpecError::InvalidMode(mode.to_string()));
            }
            (container, mode)
        }
        None => (spec, "rw"),
    };
    Ok(VolumesFrom {
        container: container.to_string(),
        mode: mode.to_string(),
        read_write: mode_read_write(mode),
    })
}

/// Docker's root check, which first turns `\` into `/`. berth also refuses a path that cleans to
/// `/` only without that replacement (`/a\b/..`), which Docker would mount over the root.
fn validate_not_root(path: &str) -> Result<(), PathError> {
    if go::clean(&path.replace('\\', "/")) == "/" || go::clean(path) == "/" {
        return Err(PathError::Root);
    }
    Ok(())
}

/// Docker's absolute-path check, which first turns `\` into `/` (and names the path that way).
/// berth also requires the path itself to start with `/`: Docker accepts `\x` and then uses the
/// relative path `\x`.
fn validate_absolute(path: &str) -> Result<(), PathError> {
    let replaced = path.replace('\\', "/");
    if !replaced.starts_with('/') {
        return Err(PathError::NotAbsolute(replaced));
    }
    if !path.starts_with('/') {
        return Err(PathError::NotAbsolute(path.to_string()));
    }
    Ok(())
}

/// The destination rules of a mount target (`Mounts[].Target`, and `Config.Volumes` keys per
/// §11 #9): present, not `/`, absolute.
pub fn validate_target(target: &str) -> Result<(), MountConfigReason> {
    if target.is_empty() {
        return Err(MountConfigReason::MissingField("Target"));
    }
    validate_not_root(target)?;
    validate_absolute(target)?;
    Ok(())
}

/// The destination rules of a `Tmpfs` key: not `/`, absolute.
pub fn validate_tmpfs_destination(destination: &str) -> Result<(), PathError> {
    validate_not_root(destination)?;
    validate_absolute(destination)
}

/// Go's `filepath.IsLocal` on Unix.
fn is_local(path: &str) -> bool {
    if path.is_empty() || path.starts_with('/') {
        return false;
    }
    let has_dots = path.split('/').any(|p| p == "." || p == "..");
    let path = if has_dots {
        go::clean(path)
    } else {
        path.to_string()
    };
    path != ".." && !path.starts_with("../")
}

/// Docker's `ValidateMountConfig`: the checks every mount object passes, in Docker's order. The
/// bind source existence check is made only when `host` is given (`Mounts`, not `Binds`).
pub fn validate_mount_config(
    mount: &ApiMount,
    host: Option<&dyn HostPaths>,
) -> Result<(), MountConfigError> {
    check_mount_config(mount, host).map_err(|reason| MountConfigError {
        kind: mount.kind.clone(),
        reason,
    })
}

fn check_mount_config(
    mount: &ApiMount,
    host: Option<&dyn HostPaths>,
) -> Result<(), MountConfigReason> {
    validate_target(&mount.target)?;
    match mount.kind.as_str() {
        "bind" => {
            if mount.source.is_empty() {
                return Err(MountConfigReason::MissingField("Source"));
            }
            if let Some(options) = &mount.bind_options {
                if !options.propagation.is_empty()
                    && Propagation::parse(&options.propagation).is_none()
                {
                    return Err(MountConfigReason::InvalidPropagation(
                        options.propagation.clone(),
                    ));
                }
            }
            if mount.volume_options.is_some() {
                return Err(MountConfigReason::ExtraField("VolumeOptions"));
            }
            validate_absolute(&mount.source)?;
            if let Some(host) = host {
                let create = mount
                    .bind_options
                    .as_ref()
                    .is_some_and(|b| b.create_mountpoint);
                match host.exists(&mount.source) {
                    Ok(true) => {}
                    Ok(false) if create => {}
                    Ok(false) => {
                        return Err(MountConfigReason::BindSourceMissing(mount.source.clone()))
                    }
                    Err(e) => {
                        return Err(MountConfigReason::BindSourceStat {
                            path: mount.source.clone(),
                            error: go::errno_text(&e),
                        })
                    }
                }
            }
        }
        "volume" => {
            if mount.bind_options.is_some() {
                return Err(MountConfigReason::ExtraField("BindOptions"));
            }
            let anonymous = mount.source.is_empty();
            if let Some(options) = &mount.volume_options {
                if !options.subpath.is_empty() {
                    if anonymous {
                        return Err(MountConfigReason::AnonymousSubpath);
                    }
                    if !is_local(&options.subpath) {
                        return Err(MountConfigReason::InvalidSubpath);
                    }
                }
            }
            if mount.read_only && anonymous {
                return Err(MountConfigReason::AnonymousReadOnly);
            }
        }
        "tmpfs" => {
            if mount.bind_options.is_some() {
                return Err(MountConfigReason::ExtraField("BindOptions"));
            }
            if !mount.source.is_empty() {
                return Err(MountConfigReason::ExtraField("Source"));
            }
            convert_tmpfs_options(mount.tmpfs_options.as_ref(), mount.read_only)?;
        }
        _ => return Err(MountConfigReason::UnknownType),
    }
    Ok(())
}

/// The API router's version gates for one `Mounts` entry: fields newer than the request are
/// dropped (`CreateMountpoint` < 1.42, `Subpath` < 1.45, `TmpfsOptions.Options` < 1.46, as the
/// 20.10 daemon ignored them), and `ReadOnlyForceRecursive` < 1.44 is refused.
fn gate_api_mount(mount: &ApiMount, api: ApiVersion) -> Result<ApiMount, MountSpecError> {
    let mut mount = mount.clone();
    if api < ApiVersion::V1_42 {
        if let Some(options) = &mut mount.bind_options {
            options.create_mountpoint = false;
        }
    }
    if api < ApiVersion::V1_44
        && mount.kind == "bind"
        && mount
            .bind_options
            .as_ref()
            .is_some_and(|b| b.read_only_force_recursive)
    {
        return Err(MountSpecError::ForceRecursiveNeedsApi);
    }
    if api < ApiVersion::V1_45 {
        if let Some(options) = &mut mount.volume_options {
            options.subpath.clear();
        }
    }
    if api < ApiVersion::V1_46 {
        if let Some(options) = &mut mount.tmpfs_options {
            options.options.clear();
        }
    }
    Ok(mount)
}

/// Builds the spec of a validated mount object.
fn spec_from_mount(
    mount: &ApiMount,
    origin: MountOrigin,
    api: ApiVersion,
) -> Result<MountSpec, MountSpecError> {
    let kind = match mount.kind.as_str() {
        "volume" => MountKind::Volume,
        "bind" => MountKind::Bind,
        "tmpfs" => MountKind::Tmpfs,
        _ => {
            return Err(MountConfigError {
                kind: mount.kind.clone(),
                reason: MountConfigReason::UnknownType,
            }
            .into())
        }
    };
    let mut spec = MountSpec::new(kind, go::clean(&mount.target), origin);
    spec.read_only = mount.read_only;
    match kind {
        MountKind::Volume => {
            if mount.source.is_empty() {
                spec.anonymous = true;
            } else {
                spec.source = Some(mount.source.clone());
            }
            if let Some(options) = &mount.volume_options {
                spec.volume.nocopy = options.no_copy;
                spec.volume.labels = options.labels.clone();
                spec.volume.subpath =
                    (!options.subpath.is_empty()).then(|| options.subpath.clone());
                if let Some(driver) = &options.driver_config {
                    spec.volume.driver = (!driver.name.is_empty()).then(|| driver.name.clone());
                    spec.volume.driver_opts = driver.options.clone();
                }
            }
        }
        MountKind::Bind => {
            let options = mount.bind_options.clone().unwrap_or_default();
            spec.source = Some(go::clean(&mount.source));
            spec.propagation =
                Some(Propagation::parse(&options.propagation).unwrap_or(Propagation::Rprivate));
            spec.bind.non_recursive = options.non_recursive;
            spec.bind.create_host_path = options.create_mountpoint;
            spec.bind.read_only_recursion = if !mount.read_only {
                ReadOnlyRecursion::IfSupported
            } else if api < ApiVersion::V1_44 {
                ReadOnlyRecursion::NonRecursive
            } else {
                match (
                    options.read_only_non_recursive,
                    options.read_only_force_recursive,
                ) {
                    (true, true) => return Err(MountSpecError::ReadOnlyRecursionConflict),
                    (true, false) => ReadOnlyRecursion::NonRecursive,
                    (false, true) => ReadOnlyRecursion::Forced,
                    (false, false) => ReadOnlyRecursion::IfSupported,
                }
            };
        }
        MountKind::Tmpfs => {
            let data = convert_tmpfs_options(mount.tmpfs_options.as_ref(), mount.read_only)
                .map_err(|e| MountConfigError {
                    kind: mount.kind.clone(),
                    reason: e.into(),
                })?;
            let mut all: Vec<&str> = DEFAULT_TMPFS_OPTIONS.to_vec();
            if !data.is_empty() {
                all.extend(data.split(','));
            }
            spec.tmpfs.options = merge_tmpfs_options(&all)?;
            if let Some(options) = &mount.tmpfs_options {
                spec.tmpfs.size_bytes = options.size_bytes;
                spec.tmpfs.mode = options.mode;
            }
        }
    }
    Ok(spec)
}

/// Parses one `HostConfig.Binds` entry, returning the mount object Docker builds from it too.
fn parse_bind_entry(
    raw: &str,
    volume_driver: Option<&str>,
    api: ApiVersion,
) -> Result<(ApiMount, MountSpec), MountSpecError> {
    let invalid = || MountSpecError::InvalidVolumeSpec(raw.to_string());
    if raw.matches(':').count() > 2 {
        return Err(invalid());
    }
    let parts: Vec<&str> = raw.splitn(3, ':').collect();
    if parts[0].is_empty() {
        return Err(invalid());
    }
    let (source, target, mode) = match parts.as_slice() {
        [target] => ("", *target, ""),
        [source, target] => {
            if valid_mount_mode(target) {
                // `/x:ro`: an anonymous volume takes no mode.
                return Err(invalid());
            }
            (*source, *target, "")
        }
        [source, target, mode] => (*source, *target, *mode),
        _ => return Err(invalid()),
    };
    if !valid_mount_mode(mode) {
        return Err(MountSpecError::InvalidMode(mode.to_string()));
    }
    let kind = if source.starts_with('/') {
        MountKind::Bind
    } else {
        MountKind::Volume
    };
    let mut mount = ApiMount {
        kind: kind.as_str().to_string(),
        source: source.to_string(),
        target: target.to_string(),
        read_only: !mode_read_write(mode),
        ..ApiMount::default()
    };
    if let Some(driver) = volume_driver.filter(|d| !d.is_empty()) {
        if kind == MountKind::Volume {
            mount.volume_options = Some(VolumeOptions {
                driver_config: Some(Driver {
                    name: driver.to_string(),
                    ..Driver::default()
                }),
                ..VolumeOptions::default()
            });
        }
    }
    if mode_has_nocopy(mode) {
        mount
            .volume_options
            .get_or_insert_with(VolumeOptions::default)
            .no_copy = true;
    }
    if let Some(propagation) = mode_propagation(mode) {
        mount.bind_options = Some(BindOptions {
            propagation: propagation.as_str().to_string(),
            ..BindOptions::default()
        });
    }
    validate_mount_config(&mount, None).map_err(|source| {
        MountSpecError::InvalidVolumeSpecConfig {
            spec: raw.to_string(),
            source,
        }
    })?;
    let mut spec = spec_from_mount(&mount, MountOrigin::Bind, api)?;
    spec.mode = mode.to_string();
    if kind == MountKind::Bind {
        spec.bind.create_host_path = true;
    }
    Ok((mount, spec))
}

/// Parses one `HostConfig.Binds` entry (`-v SRC:DST[:MODE]`, or a bare `DST`): an absolute
/// source is a bind, anything else a volume name (checked when the volume is created).
pub fn parse_bind(
    raw: &str,
    volume_driver: Option<&str>,
    api: ApiVersion,
) -> Result<MountSpec, MountSpecError> {
    parse_bind_entry(raw, volume_driver, api).map(|(_, spec)| spec)
}

/// Parses one `HostConfig.Mounts` entry (`--mount`), including the API version gates and the
/// check that a bind source exists.
pub fn parse_api_mount(
    mount: &ApiMount,
    api: ApiVersion,
    host: &dyn HostPaths,
) -> Result<MountSpec, MountSpecError> {
    let mount = gate_api_mount(mount, api)?;
    parse_gated_mount(&mount, api, host)
}

fn parse_gated_mount(
    mount: &ApiMount,
    api: ApiVersion,
    host: &dyn HostPaths,
) -> Result<MountSpec, MountSpecError> {
    validate_mount_config(mount, Some(host))?;
    spec_from_mount(mount, MountOrigin::Mount, api)
}

/// Parses one `HostConfig.Tmpfs` entry (`--tmpfs DEST[:OPTS]`).
pub fn parse_tmpfs(destination: &str, options: &str) -> Result<MountSpec, MountSpecError> {
    validate_tmpfs_destination(destination).map_err(MountSpecError::TmpfsDestination)?;
    let merged = tmpfs_flag_options(options)?;
    let mut spec = MountSpec::new(MountKind::Tmpfs, go::clean(destination), MountOrigin::Tmpfs);
    spec.read_only = merged.iter().any(|o| o == "ro");
    spec.tmpfs.options = merged;
    Ok(spec)
}

/// Docker's `validateBindDaemonRoot`: whether a bind must become `rslave` because its source is
/// inside the data root (or contains it). Compares the raw strings, as Docker does.
fn needs_slave_propagation(
    mount: &ApiMount,
    daemon_root: Option<&str>,
) -> Result<bool, MountSpecError> {
    let Some(root) = daemon_root else {
        return Ok(false);
    };
    if mount.kind != "bind" || (!mount.source.starts_with(root) && !root.starts_with(&mount.source))
    {
        return Ok(false);
    }
    let propagation = mount
        .bind_options
        .as_ref()
        .map(|b| b.propagation.as_str())
        .unwrap_or("");
    match propagation {
        "" => Ok(true),
        "rslave" | "rshared" => Ok(false),
        other => Err(MountSpecError::DaemonRootPropagation {
            root: root.to_string(),
            bind_source: mount.source.clone(),
            propagation: other.to_string(),
        }),
    }
}

/// The volume-name check the local driver makes when a mount creates a named volume.
fn check_volume_name(spec: &MountSpec) -> Result<(), MountSpecError> {
    let local = matches!(spec.volume.driver.as_deref(), None | Some("local"));
    if let (MountKind::Volume, Some(name), true) = (spec.kind, &spec.source, local) {
        validate_volume_name(name)?;
    }
    Ok(())
}

/// A mount inherited from `from`: read-only if the source mount or `from` is, Mode `""`, never
/// populated; inherited binds create a missing source at start, as Docker's do.
fn inherit(mut spec: MountSpec, from: &VolumesFrom) -> Result<MountSpec, MountSpecError> {
    if spec.kind == MountKind::Volume && spec.source.is_none() {
        return Err(MountSpecError::UnnamedInheritedVolume {
            container: from.container.clone(),
            destination: spec.destination,
        });
    }
    spec.mode.clear();
    spec.read_only = spec.read_only || !from.read_write;
    spec.origin = MountOrigin::VolumesFrom {
        container: from.container.clone(),
    };
    spec.volume.labels.clear();
    spec.volume.driver_opts.clear();
    match spec.kind {
        MountKind::Bind => spec.bind.create_host_path = true,
        MountKind::Tmpfs if spec.read_only && !spec.tmpfs.options.iter().any(|o| o == "ro") => {
            let mut options = spec.tmpfs.options.clone();
            options.push("ro".to_string());
            spec.tmpfs.options = merge_tmpfs_options(&options)?;
        }
        _ => {}
    }
    Ok(spec)
}

/// The container's mounts by destination; a later mount replaces an earlier one.
#[derive(Default)]
struct MountTable {
    specs: Vec<MountSpec>,
}

impl MountTable {
    fn contains(&self, destination: &str) -> bool {
        self.specs.iter().any(|s| s.destination == destination)
    }

    fn insert(&mut self, spec: MountSpec) {
        self.specs.retain(|s| s.destination != spec.destination);
        self.specs.push(spec);
    }
}

/// Parses a container's whole mount request into its mount list (destinations unique and
/// cleaned), or returns the first error. `containers` answers `--volumes-from`; `host` answers
/// whether `--mount` bind sources exist.
pub fn parse_mounts(
    request: &MountRequest,
    containers: &dyn VolumesFromSource,
    host: &dyn HostPaths,
) -> Result<Vec<MountSpec>, MountSpecError> {
    let api = request.api_version;
    let volume_driver = request.volume_driver.as_deref().filter(|d| !d.is_empty());

    // The API router's version checks come before anything else.
    let mounts = request
        .mounts
        .iter()
        .map(|m| gate_api_mount(m, api))
        .collect::<Result<Vec<_>, _>>()?;

    // Container settings: tmpfs destinations (and, §11 #8, two tmpfs at one path).
    let mut tmpfs_destinations = BTreeSet::new();
    for destination in request.tmpfs.keys() {
        validate_tmpfs_destination(destination).map_err(MountSpecError::TmpfsDestination)?;
        let cleaned = go::clean(destination);
        if !tmpfs_destinations.insert(cleaned.clone()) {
            return Err(MountSpecError::DuplicateMountPoint(cleaned));
        }
    }

    let mut table = MountTable::default();

    // 1. Volumes from other containers; later ones replace earlier ones.
    for spec in &request.volumes_from {
        let from = parse_volumes_from(spec)?;
        for mount in containers.mount_points(&from.container)? {
            if mount.origin == MountOrigin::Tmpfs {
                continue; // --tmpfs mounts are not inherited
            }
            table.insert(inherit(mount, &from)?);
        }
    }

    // 2. Binds; 3. Mounts. Explicit mounts replace inherited ones and must not collide.
    let mut explicit: BTreeSet<String> = BTreeSet::new();
    for raw in &request.binds {
        let (mount, mut spec) = parse_bind_entry(raw, volume_driver, api)?;
        if needs_slave_propagation(&mount, request.daemon_root.as_deref())? {
            if spec.propagation != Some(Propagation::Rslave) {
                spec.bind.implied_propagation = true;
            }
            spec.propagation = Some(Propagation::Rslave);
        }
        if explicit.contains(&spec.destination) || tmpfs_destinations.contains(&spec.destination) {
            return Err(MountSpecError::DuplicateMountPoint(spec.destination));
        }
        check_volume_name(&spec)?;
        explicit.insert(spec.destination.clone());
        table.insert(spec);
    }
    for mount in &mounts {
        let mut spec = parse_gated_mount(mount, api, host)?;
        if needs_slave_propagation(mount, request.daemon_root.as_deref())? {
            if spec.propagation != Some(Propagation::Rslave) {
                spec.bind.implied_propagation = true;
            }
            spec.propagation = Some(Propagation::Rslave);
        }
        if explicit.contains(&spec.destination) || tmpfs_destinations.contains(&spec.destination) {
            // Docker names the target as sent here.
            return Err(MountSpecError::DuplicateMountPoint(mount.target.clone()));
        }
        check_volume_name(&spec)?;
        explicit.insert(spec.destination.clone());
        table.insert(spec);
    }

    // 4. Anonymous volumes for Config.Volumes destinations nothing covers yet.
    for key in &request.config_volumes {
        validate_target(key).map_err(|reason| MountConfigError {
            kind: "volume".to_string(),
            reason,
        })?;
        let destination = go::clean(key);
        if table.contains(&destination) || tmpfs_destinations.contains(&destination) {
            continue;
        }
        let mut spec = MountSpec::new(MountKind::Volume, destination, MountOrigin::ConfigVolume);
        spec.anonymous = true;
        spec.volume.driver = volume_driver.map(str::to_string);
        table.insert(spec);
    }

    // 5. tmpfs mounts; one replaces an inherited mount at its destination.
    for (destination, options) in &request.tmpfs {
        table.insert(parse_tmpfs(destination, options)?);
    }

    Ok(table.specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_host(_: &str) -> io::Result<bool> {
        Ok(true)
    }

    #[test]
    fn modes() {
        for ok in [
            "",
            "ro",
            "rw",
            "z",
            "Z",
            "ro,Z",
            "rprivate,ro",
            "nocopy",
            "cached",
            "ro,z,shared,nocopy,delegated",
        ] {
            assert!(valid_mount_mode(ok), "{ok}");
        }
        for bad in [
            "bogus",
            "ro,rw",
            "z,Z",
            "shared,slave",
            "nocopy,nocopy",
            ",",
            "ro,",
            "RO",
            "cached,consistent",
        ] {
            assert!(!valid_mount_mode(bad), "{bad}");
        }
        assert!(!mode_read_write("ro,z"));
        assert!(mode_read_write("rw"));
        assert!(!mode_read_write("bogus"));
    }

    #[test]
    fn volumes_from_syntax() {
        let parsed = parse_volumes_from("spec-src").unwrap();
        assert_eq!(parsed.container, "spec-src");
        assert_eq!(parsed.mode, "rw");
        assert!(parsed.read_write);
        assert!(!parse_volumes_from("c:ro,z").unwrap().read_write);
        assert!(parse_volumes_from("c:Z").unwrap().read_write);
        assert!(parse_volumes_from("c:").unwrap().read_write);
        for (spec, err) in [
            ("", "volumes-from specification cannot be an empty string"),
            ("c:ro:rw", "invalid mode: ro:rw"),
            ("c:rshared", "invalid mode: rshared"),
            ("c:nocopy", "invalid mode: nocopy"),
            ("c:ro,rw", "invalid mode: ro,rw"),
            ("c:bogus", "invalid mode: bogus"),
        ] {
            assert_eq!(parse_volumes_from(spec).unwrap_err().to_string(), err);
        }
    }

    #[test]
    fn is_local_matches_go() {
        for ok in ["a", "a/b", ".", "a/../b", "a/.."] {
            assert!(is_local(ok), "{ok}");
        }
        for bad in ["", "/a", "..", "../a", "a/../..", "a/../../b"] {
            assert!(!is_local(bad), "{bad}");
        }
    }

    #[test]
    fn daemon_root_forces_rslave() {
        let root = Some("/var/lib/berth");
        let bind = |source: &str, propagation: Option<&str>| ApiMount {
            kind: "bind".into(),
            source: source.into(),
            target: "/x".into(),
            bind_options: propagation.map(|p| BindOptions {
                propagation: p.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(needs_slave_propagation(&bind("/var/lib/berth/volumes", None), root).unwrap());
        assert!(needs_slave_propagation(&bind("/", Some("")), root).unwrap());
        assert!(!needs_slave_propagation(&bind("/srv", None), root).unwrap());
        assert!(!needs_slave_propagation(&bind("/var/lib/berth", Some("rshared")), root).unwrap());
        assert!(!needs_slave_propagation(&bind("/var/lib/berth", None), None).unwrap());
        assert_eq!(
            needs_slave_propagation(&bind("/var/lib/berth/x", Some("private")), root)
                .unwrap_err()
                .to_string(),
            r#"invalid mount config: must use either propagation mode "rslave" or "rshared" when mount source is within the daemon root, daemon root: "/var/lib/berth", bind mount source: "/var/lib/berth/x", propagation: "private""#
        );
        let request = MountRequest {
            binds: vec!["/var/lib/berth:/data".into()],
            daemon_root: Some("/var/lib/berth".into()),
            ..Default::default()
        };
        let specs = parse_mounts(&request, &NoContainers, &no_host).unwrap();
        assert_eq!(specs[0].propagation, Some(Propagation::Rslave));
    }

    #[test]
    fn real_host_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap();
        assert!(RealHostPaths.exists(path).unwrap());
        assert!(!RealHostPaths.exists(&format!("{path}/missing")).unwrap());
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let under_file = format!("{}/x", file.to_str().unwrap());
        let err = RealHostPaths.exists(&under_file).unwrap_err();
        assert_eq!(go::errno_text(&err), "not a directory");
        let mount = ApiMount {
            kind: "bind".into(),
            source: under_file.clone(),
            target: "/x".into(),
            ..Default::default()
        };
        assert_eq!(
            parse_api_mount(&mount, ApiVersion::LATEST, &RealHostPaths)
                .unwrap_err()
                .to_string(),
            format!("invalid mount config for type \"bind\": stat {under_file}: not a directory")
        );
        assert_eq!(
            go::errno_text(&RealHostPaths.exists("/a\0b").unwrap_err()),
            "invalid argument"
        );
    }

    #[test]
    fn request_round_trips_through_config_fields() {
        let request = MountRequest {
            binds: vec!["/srv:/b".into()],
            volumes_from: vec!["c".into()],
            tmpfs: BTreeMap::from([("/t".into(), "".into())]),
            config_volumes: BTreeSet::from(["/data".into()]),
            volume_driver: Some("local".into()),
            ..Default::default()
        };
        let again = MountRequest::from_config(
            &request.inspect_host_config(),
            &request.inspect_config_volumes(),
            request.api_version,
        );
        assert_eq!(again, request);
        assert_eq!(
            serde_json::to_string(&MountRequest::default().inspect_host_config()).unwrap(),
            r#"{"Binds":null,"VolumeDriver":"","VolumesFrom":null}"#
        );
    }
}
