//! berth volumes: the ways data outlives a container.
#![warn(missing_docs)]

/// The `local` volume driver: directories, or mounts from `type`/`device`/`o`/`size` options.
pub mod local;
/// Volume plugins: discovery, the plugin HTTP client and the `VolumeDriver` protocol.
pub mod plugin;
/// Volume records and their lifecycle over the metadata database.
pub mod store;

/// Mount-spec parsing: `-v`, `--mount`, `--tmpfs`, `--volumes-from` and image volumes become one `MountSpec` list.
pub mod mount_spec;
