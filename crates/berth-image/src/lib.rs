//! berth's image half of the storage model. [`store::ImageStore`] records images (a config blob
//! plus a chain of read-only layers from the layer store) and their names;
//! [`reference::Reference`] parses and normalizes names exactly like Docker; [`import`],
//! [`load`] and [`save`] move images in and out as tarballs.
#![warn(missing_docs)]

/// Dockerfile-style `--change` instructions applied to a container config.
pub mod change;
/// Image configuration JSON (`ImageConfig`) and the container `Config` inside it.
pub mod config;
/// `import`: a root-filesystem tarball becomes a one-layer image.
pub mod import;
/// `load`: docker-save archives and OCI image layouts into the store.
pub mod load;
/// Platforms (`linux/amd64`) as Docker writes and compares them.
pub mod platform;
/// Progress reporting for long image operations.
pub mod progress;
/// Image references (`[registry/]path[:tag][@digest]`) parsed and normalized like Docker.
pub mod reference;
/// `save`: images out as docker-save archives or OCI layouts.
pub mod save;
/// Image records and names over the layer store.
pub mod store;
