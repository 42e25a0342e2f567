//! Layer tars in and out. [`apply_tar`] unpacks an OCI layer tar into a layer directory, turning
//! `.wh.` whiteouts into overlay's on-disk form (or deleting, for drivers without whiteouts);
//! [`overlay_changes`] / [`naive_changes`] list what a writable layer changed; [`write_overlay_upper_tar`]
//! and [`write_changes_tar`] produce a layer tar from those changes; [`write_tree_tar`] exports a tree.
//!
//! Every file operation here stays inside the directory it was given: names are resolved with
//! `openat2(RESOLVE_BENEATH)` from a directory fd, never by string-prefix checks.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// How `.wh.` entries of a layer tar are materialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteoutMode {
    /// Overlay form: `.wh.NAME` → char device 0:0 `NAME`; `.wh..wh..opq` → `trusted.overlay.opaque=y`.
    Overlay,
    /// Full-copy drivers (vfs): the layer is applied on a copy of its parent, so whiteouts delete.
    Delete,
}

/// Options of [`apply_tar`].
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// How whiteouts are written.
    pub whiteouts: WhiteoutMode,
}

/// A failure while reading or writing a layer tar.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// An I/O failure on a path inside the layer.
    #[error("{path}: {source}")]
    Io {
        /// The entry or file involved.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A tar entry tries to write outside the layer root.
    #[error("refusing to extract {path:?}: {reason}")]
    Escape {
        /// The entry name as found in the tar.
        path: String,
        /// Why it escapes.
        reason: String,
    },
    /// The tar stream itself is malformed.
    #[error("invalid layer tar: {0}")]
    Invalid(String),
}

/// What kind of change a path underwent, as `docker diff` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// `C`: existed below and was changed (or is an ancestor of a change).
    Modified,
    /// `A`: did not exist below.
    Added,
    /// `D`: existed below and was removed.
    Deleted,
}

/// One line of `docker diff`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    /// Absolute path inside the container, e.g. `/etc/hosts`.
    pub path: String,
    /// What happened to it.
    pub kind: ChangeKind,
}

/// Unpacks an uncompressed layer tar into `root`. Returns the number of content bytes written.
pub fn apply_tar<R: Read>(_tar: R, _root: &Path, _opts: &ApplyOptions) -> Result<u64, ArchiveError> {
    unimplemented!("archive::apply_tar")
}

/// Wraps a possibly compressed stream (gzip, zstd or plain tar, sniffed from its magic bytes).
pub fn decompress<'a, R: Read + 'a>(_r: R) -> io::Result<Box<dyn Read + 'a>> {
    unimplemented!("archive::decompress")
}

/// Changes of an overlay upper dir over its lower dirs (`lowers` top-most first).
pub fn overlay_changes(_upper: &Path, _lowers: &[PathBuf]) -> Result<Vec<Change>, ArchiveError> {
    unimplemented!("archive::overlay_changes")
}

/// Changes of `new` against `old` (a full copy it started from), by comparing metadata.
pub fn naive_changes(_old: Option<&Path>, _new: &Path) -> Result<Vec<Change>, ArchiveError> {
    unimplemented!("archive::naive_changes")
}

/// Writes an overlay upper dir as an OCI layer tar (whiteouts → `.wh.` entries).
pub fn write_overlay_upper_tar<W: Write>(_upper: &Path, _out: W) -> Result<W, ArchiveError> {
    unimplemented!("archive::write_overlay_upper_tar")
}

/// Writes the given changes of the full tree `root` as an OCI layer tar.
pub fn write_changes_tar<W: Write>(_root: &Path, _changes: &[Change], _out: W) -> Result<W, ArchiveError> {
    unimplemented!("archive::write_changes_tar")
}

/// Writes the whole tree `root` as a tar (for `export`), skipping the given absolute paths.
pub fn write_tree_tar<W: Write>(_root: &Path, _out: W) -> Result<W, ArchiveError> {
    unimplemented!("archive::write_tree_tar")
}
