//! berth's image half of the storage model: [`reference::Reference`] parses and normalizes image
//! names exactly like Docker; the rest of the crate (configs, import/load/save) builds images as
//! stacks of read-only layers in the `berth-store` layer store.
#![warn(missing_docs)]

/// Image references (`[registry/]path[:tag][@digest]`) parsed and normalized like Docker.
pub mod reference;
