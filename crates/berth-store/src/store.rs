//! `Store` opens a data root.
/// A data root.
pub struct Store;
/// Options.
pub struct StoreOptions;
/// Error.
#[derive(Debug, thiserror::Error)]
#[error("store")]
pub struct StoreError;
