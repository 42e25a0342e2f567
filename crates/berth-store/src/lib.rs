//! berth's storage foundation. [`Store`] opens a data root and hands out its parts: the SQLite
//! metadata database ([`db::Db`]), the blob [`content::ContentStore`], the [`layer::LayerStore`]
//! of read-only layers and the graph driver ([`driver::GraphDriver`]) that unions them.
//!
//! Nothing in this crate knows about containers' processes or the CLI; the engine crate builds on it.
#![warn(missing_docs)]

/// Layer tar apply (OCI whiteouts → overlay form), change lists and layer tar production.
pub mod archive;
/// Where layers' compressed blobs are known to live in registries (for push).
pub mod blob_source;
/// Blobs by sha256 digest, verified while written and published by atomic rename.
pub mod content;
/// The SQLite metadata database: connection setup, migrations, transactions.
pub mod db;
/// `sha256:` digests and hashing readers/writers.
pub mod digest;
/// Graph drivers (overlay, vfs) behind the [`driver::GraphDriver`] trait.
pub mod driver;
/// `ErrorKind`, the error classes every berth crate maps its errors onto.
pub mod error;
/// Small filesystem helpers: durable writes, tree sizes, tree copies, random IDs.
pub mod fsutil;
/// Partly downloaded blobs kept across interruptions, with a lock per blob.
pub mod ingest;
/// Init layers (a container's placeholders) shared by the containers on one image top layer.
pub mod init_layer;
/// The crash-recovery journal: staging dirs and paths that a crash may have left half done.
pub mod journal;
/// The layer store: layers unpacked once, keyed by diff-id and chain-id, freed when unused.
pub mod layer;
/// Typed accessors over the metadata tables, with constraint violations classified once.
pub mod metadata;
/// `Mount`, a serialized mount(2) call, and `Mounter`, the one component that performs mounts.
pub mod mount;
/// Every table of the metadata database and the ordered migrations that build them.
pub mod schema;
mod store;
/// Unpacking layers on worker threads and recording them afterwards (parallel pulls).
pub mod unpack;

pub use error::ErrorKind;
pub use store::{Store, StoreError, StoreOptions};
