//! [`MountSpec`] is the one type every way of asking for a mount is parsed into — `-v`,
//! `--mount`, `--tmpfs`, `--volumes-from` and the image's `VOLUME`s — before anything else sees
//! it; this module holds the two parsing stages that produce it and the Docker wire types around
//! them.
//!
//! * Stage 1, the CLI ([`cli`]): [`CliMounts::parse`] does what `docker run/create` does before
//!   calling the API (`-v` → `Binds`/`Config.Volumes`, `--mount` CSV → [`ApiMount`], `--tmpfs` →
//!   the `Tmpfs` map), with the CLI's error texts.
//! * Stage 2, the daemon ([`daemon`]): [`parse_mounts`] validates a [`MountRequest`] (what the
//!   Docker API server receives as JSON, or what stage 1 produced) and returns the container's
//!   `Vec<MountSpec>`, applying Docker's processing order, duplicate rules and error texts.
//! * Reporting ([`mount`], [`api`]): [`MountSpec::mount_point`] gives `inspect`'s `Mounts[]`
//!   entries; [`MountRequest::inspect_host_config`] and [`MountRequest::inspect_config_volumes`]
//!   give the configuration fields as sent.
//!
//! Nothing here creates volumes or directories; the only filesystem access is the check that a
//! `--mount` bind source exists ([`HostPaths`]). What needs the host at create or start time is
//! listed by [`MountSpec::host_checks`] for the engine.
//!
//! [`MountSpec`]: crate::mount_spec::MountSpec
//! [`MountSpec::mount_point`]: crate::mount_spec::MountSpec::mount_point
//! [`MountSpec::host_checks`]: crate::mount_spec::MountSpec::host_checks
//! [`cli`]: crate::mount_spec::cli
//! [`daemon`]: crate::mount_spec::daemon
//! [`mount`]: crate::mount_spec::mount
//! [`api`]: crate::mount_spec::api
//! [`CliMounts::parse`]: crate::mount_spec::CliMounts::parse
//! [`ApiMount`]: crate::mount_spec::ApiMount
//! [`parse_mounts`]: crate::mount_spec::parse_mounts
//! [`MountRequest`]: crate::mount_spec::MountRequest
//! [`MountRequest::inspect_host_config`]: crate::mount_spec::MountRequest::inspect_host_config
//! [`MountRequest::inspect_config_volumes`]: crate::mount_spec::MountRequest::inspect_config_volumes
//! [`HostPaths`]: crate::mount_spec::HostPaths

pub mod api;
pub mod cli;
pub mod daemon;
/// Fuzz entry points (for `fuzz/` and the seed-corpus test), kept out of release builds.
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
pub mod mount;
pub mod name;
pub mod tmpfs;

pub use api::{
    ApiMount, ApiVersion, BindOptions, ConfigVolumes, Driver, HostConfigMounts, ImageOptions,
    MountPoint, TmpfsOptions, VolumeOptions,
};
pub use cli::{
    parse_mount_flag, parse_tmpfs_flag, parse_volume_flag, CliMountError, CliMountFlags, CliMounts,
    MountFlagArgError, MountFlagError, VolumeFlag, VolumeFlagError,
};
pub use daemon::{
    parse_api_mount, parse_bind, parse_mounts, parse_tmpfs, parse_volumes_from,
    validate_mount_config, HostPaths, MountConfigError, MountConfigReason, MountRequest,
    MountSpecError, NoContainers, PathError, RealHostPaths, VolumesFrom, VolumesFromSource,
};
pub use mount::{
    mount_depth, sort_by_depth, BindOpts, HostCheck, MountKind, MountOrigin, MountSpec,
    Propagation, ReadOnlyRecursion, TmpfsOpts, VolumeOpts,
};
pub use name::{validate_volume_name, VolumeNameError};
pub use tmpfs::TmpfsOptionError;

#[cfg(test)]
mod tests;
