//! berth volumes: the ways data outlives a container.
#![warn(missing_docs)]

/// Mount-spec parsing: `-v`, `--mount`, `--tmpfs`, `--volumes-from` and image volumes become one `MountSpec` list.
pub mod spec;
