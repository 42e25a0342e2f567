//! [`apply_tar`] unpacks an OCI layer tar into a layer directory, turning `.wh.` whiteouts into
//! overlay's on-disk form (or deleting, for drivers without whiteouts); [`overlay_changes`] and
//! [`naive_changes`] list what a writable layer changed; [`write_overlay_upper_tar`] and
//! [`write_changes_tar`] produce a layer tar from those changes; [`write_tree_tar`] exports a tree;
//! [`decompress`] sniffs gzip and zstd layers.
//!
//! Every file operation here stays inside the directory it was given. Paths go through
//! [`safe::SafeRoot`]: tar names are cleaned lexically (absolute names and `..` that climbs out are
//! refused with [`ArchiveError::Escape`]), parent directories are resolved from a directory fd with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`, and final components are handled with `*at`
//! calls that never follow a symlink. There are no string-prefix checks on resolved paths.
//!
//! Tar format written (what `docker commit` produces): ustar headers, PAX records when a name,
//! link target, id, size or time does not fit and for xattrs (`SCHILY.xattr.*`), names without a
//! leading `./` or `/`, directories with a trailing `/`, second-precision mtimes, numeric owners
//! with empty user and group names, parents before children, siblings sorted by name. Overlay's
//! private xattrs (`trusted.overlay.*`, `user.overlay.*`) are never read from a tar nor written
//! into one.

use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::ErrorKind;

mod apply;
mod changes;
mod compression;
pub mod safe;
mod write;
mod xattr;

/// Hostile layer tars that try to escape the layer root, and the sandbox that checks they did not.
#[cfg(any(test, feature = "hostile-corpus", feature = "fuzz"))]
pub mod hostile;

/// The body of the `apply_tar` fuzz target, over the hostile-tar sandbox.
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;

pub use safe::SafeRoot;

/// How `.wh.` entries of a layer tar are materialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteoutMode {
    /// Overlay form: `.wh.NAME` → char device 0:0 `NAME`; `.wh..wh..opq` → `trusted.overlay.opaque=y`.
    /// The layer is unpacked into its own empty directory.
    Overlay,
    /// Full-copy drivers (vfs): the layer is applied on a copy of its parent, so whiteouts delete.
    /// Entries of the layer itself survive its own whiteouts and opaque markers, in any tar order.
    Delete,
}

/// Options of [`apply_tar`].
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// How whiteouts are written.
    pub whiteouts: WhiteoutMode,
    /// Apply the owner, mode and xattrs of the tar's root entry (`./`) to `root` itself. Off for
    /// layers (the layer directory belongs to the driver, as in Docker); on for restoring a
    /// volume, whose root directory's owner and mode are part of its content.
    pub root_metadata: bool,
    /// Every entry's owner (uid, gid) instead of the archive's: `cp` out of a container gives
    /// the caller's own ids, `cp -a` into one the container's user, as Docker does.
    pub owner: Option<(u32, u32)>,
    /// Refuse an entry that would replace a directory with a non-directory or the other way
    /// round (the API's `noOverwriteDirNonDir`, which `docker cp` sets), with Docker's words.
    pub no_overwrite_dir_non_dir: bool,
    /// Leave character and block devices out instead of creating them (`volume import` without
    /// `--devices`: a backup from elsewhere should not plant device nodes in a volume that a
    /// container may open); [`Applied::dropped_devices`] names what was left out.
    pub skip_devices: bool,
}

/// What [`apply_tar_report`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Content bytes written (the sum of the sizes of the regular files created).
    pub bytes: u64,
    /// Device nodes left out under [`ApplyOptions::skip_devices`]: how many, and the paths of
    /// the first [`DROPPED_SHOWN`] of them.
    pub dropped_devices: usize,
    /// The first paths of [`Applied::dropped_devices`], as the tar names them.
    pub dropped_paths: Vec<String>,
}

/// How many dropped paths [`Applied`] keeps (the count goes on; memory stays bounded).
pub const DROPPED_SHOWN: usize = 20;

/// A failure while reading or writing a layer tar, or while working on a tree beneath a root.
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
    /// A tar entry (or a path given to [`SafeRoot`]) tries to reach outside the root.
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
    /// An entry would replace a directory by a non-directory or the other way round, and
    /// [`ApplyOptions::no_overwrite_dir_non_dir`] forbids it (Docker's words).
    #[error("cannot overwrite {existing} {path:?} with {entry} {path:?}")]
    WouldReplace {
        /// The entry's path.
        path: String,
        /// `directory` or `non-directory`: what is there.
        existing: &'static str,
        /// What the entry is.
        entry: &'static str,
    },
    /// An entry's path is longer or deeper than berth extracts (see [`MAX_PATH_BYTES`],
    /// [`MAX_PATH_DEPTH`]).
    #[error(
        "refusing to extract {path:?} ({bytes} bytes, {depth} levels): paths are limited to {} bytes and {} levels",
        MAX_PATH_BYTES, MAX_PATH_DEPTH
    )]
    PathTooLong {
        /// The entry name, abbreviated.
        path: String,
        /// Its cleaned length.
        bytes: usize,
        /// Its number of components.
        depth: usize,
    },
}

/// The longest path, in bytes once cleaned, that an extraction writes: Linux's `PATH_MAX` less
/// its NUL, the longest a file in the tree could be reached by.
pub const MAX_PATH_BYTES: usize = 4095;
/// The deepest path, in components, that an extraction writes.
pub const MAX_PATH_DEPTH: usize = 1024;

impl ArchiveError {
    /// The class of this failure: a hostile or malformed tar is the caller's input
    /// ([`ErrorKind::InvalidArgument`]); an I/O failure is [`ErrorKind::Internal`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            ArchiveError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                ErrorKind::NotFound
            }
            ArchiveError::Io { .. } => ErrorKind::Internal,
            ArchiveError::Escape { .. }
            | ArchiveError::Invalid(_)
            | ArchiveError::WouldReplace { .. }
            | ArchiveError::PathTooLong { .. } => ErrorKind::InvalidArgument,
        }
    }

    pub(crate) fn io(path: impl Into<String>, source: impl Into<io::Error>) -> ArchiveError {
        ArchiveError::Io {
            path: path.into(),
            source: source.into(),
        }
    }

    pub(crate) fn escape(path: impl Into<String>, reason: impl Into<String>) -> ArchiveError {
        ArchiveError::Escape {
            path: path.into(),
            reason: reason.into(),
        }
    }
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

impl ChangeKind {
    /// The letter `docker diff` prints: `C`, `A` or `D`.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modified => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// One line of `docker diff`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    /// Absolute path inside the container, e.g. `/etc/hosts`.
    pub path: String,
    /// What happened to it.
    pub kind: ChangeKind,
}

impl std::fmt::Display for Change {
    /// `docker diff`'s line: `C /etc`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.letter(), self.path)
    }
}

/// Unpacks an uncompressed layer tar into the existing directory `root`. Returns the number of
/// content bytes written (the sum of the sizes of the regular files created).
///
/// Names may be `./bin/x` or `bin/x`; PAX and GNU long names are read; missing parents are created
/// 0755 root:root; owners, modes, mtimes, xattrs (minus overlay's own), hardlinks, symlinks,
/// devices and fifos are restored; whiteouts follow `opts.whiteouts`. Any entry that would reach
/// outside `root` fails the whole apply with [`ArchiveError::Escape`]; what was written before
/// stays (callers unpack into a staging directory they discard on error).
pub fn apply_tar<R: Read>(tar: R, root: &Path, opts: &ApplyOptions) -> Result<u64, ArchiveError> {
    apply::apply(tar, root, opts).map(|a| a.bytes)
}

/// [`apply_tar`] into a remapped container: each entry's owner, an id as the container sees
/// it, is shifted to the host id `ids` map it to (dockerd's untar with a remapped daemon's
/// maps); an id outside them is refused with dockerd's words. [`ApplyOptions::owner`], when set,
/// is already a host id and wins.
pub fn apply_tar_shifted<R: Read>(
    tar: R,
    root: &Path,
    opts: &ApplyOptions,
    ids: &IdMaps,
) -> Result<u64, ArchiveError> {
    apply::apply_shifted(tar, root, opts, Some(ids)).map(|a| a.bytes)
}

/// [`apply_tar`], also saying which device nodes [`ApplyOptions::skip_devices`] left out.
pub fn apply_tar_report<R: Read>(
    tar: R,
    root: &Path,
    opts: &ApplyOptions,
) -> Result<Applied, ArchiveError> {
    apply::apply(tar, root, opts)
}

/// Wraps a possibly compressed stream (gzip, zstd or plain tar, sniffed from its magic bytes).
/// The stream is decoded as it is read; nothing is buffered beyond a small read-ahead.
pub fn decompress<'a, R: Read + 'a>(r: R) -> io::Result<Box<dyn Read + 'a>> {
    compression::decompress(r)
}

/// Changes of an overlay upper dir over its lower dirs (`lowers` top-most first), sorted by path.
///
/// A 0:0 char device is a deletion (a deleted directory tree is one `D`); an opaque directory is
/// `C` (or `A` if nothing was below) plus a `D` for every lower child it hides and an `A` for each
/// of its own children; a directory that existed below is `C` when its mode, owner or xattrs
/// changed or anything below it changed; every other entry is `C` if it existed below, else `A`.
pub fn overlay_changes(upper: &Path, lowers: &[PathBuf]) -> Result<Vec<Change>, ArchiveError> {
    changes::overlay_changes(upper, lowers)
}

/// Changes of `new` against `old` (a full copy it started from, or nothing), sorted by path, by
/// comparing type, mode, owner, size, mtime, symlink target, device number and xattrs. Directory
/// sizes and mtimes are ignored (as in Docker's naive diff); a directory is `C` when its own
/// metadata changed or anything below it changed. A deleted tree is one `D`.
pub fn naive_changes(old: Option<&Path>, new: &Path) -> Result<Vec<Change>, ArchiveError> {
    changes::naive_changes(old, new)
}

/// Writes an overlay upper dir as an OCI layer tar (whiteouts → `.wh.` entries, opaque
/// directories → the directory entry plus `.wh..wh..opq`). Returns `out` once the tar is complete.
pub fn write_overlay_upper_tar<W: Write>(upper: &Path, out: W) -> Result<W, ArchiveError> {
    write::write_overlay_upper(upper, out, None)
}

/// A user namespace's uid and gid maps: a tar written "as seen through" them gives the owners
/// a remapped container sees (host ids shifted back), as dockerd writes a remapped container's
/// `commit` and `export`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMaps {
    /// uid ranges.
    pub uids: Vec<crate::mount::idmap::IdMap>,
    /// gid ranges.
    pub gids: Vec<crate::mount::idmap::IdMap>,
}

impl IdMaps {
    /// The host uid of container uid `id`; `None` outside the maps.
    pub fn host_uid(&self, id: u32) -> Option<u32> {
        to_host(&self.uids, id)
    }

    /// The host gid of container gid `id`; `None` outside the maps.
    pub fn host_gid(&self, id: u32) -> Option<u32> {
        to_host(&self.gids, id)
    }
}

fn to_host(maps: &[crate::mount::idmap::IdMap], id: u32) -> Option<u32> {
    maps.iter()
        .find(|m| id >= m.container_id && id - m.container_id < m.size)
        .map(|m| id - m.container_id + m.host_id)
}

/// [`write_overlay_upper_tar`] with owners as seen through `ids`.
pub fn write_overlay_upper_tar_as<W: Write>(
    upper: &Path,
    out: W,
    ids: Option<&IdMaps>,
) -> Result<W, ArchiveError> {
    write::write_overlay_upper(upper, out, ids)
}

/// Writes the given changes of the full tree `root` as an OCI layer tar: `D` → a `.wh.` entry,
/// `A`/`C` → the entry from `root` (a directory without its children), plus any ancestor
/// directory the list leaves out. Returns `out` once the tar is complete.
pub fn write_changes_tar<W: Write>(
    root: &Path,
    changes: &[Change],
    out: W,
) -> Result<W, ArchiveError> {
    write::write_changes(root, changes, out)
}

/// Writes the whole tree `root` (not the root directory entry itself) as a tar, for `export` of a
/// merged root filesystem. Returns `out` once the tar is complete.
pub fn write_tree_tar<W: Write>(root: &Path, out: W) -> Result<W, ArchiveError> {
    write::write_tree(root, out, None)
}

/// [`write_tree_tar`] with owners as seen through `ids`.
pub fn write_tree_tar_as<W: Write>(
    root: &Path,
    out: W,
    ids: Option<&IdMaps>,
) -> Result<W, ArchiveError> {
    write::write_tree(root, out, ids)
}

/// Writes the entry `name` of the directory `dir` — and for a directory everything below it — as
/// a tar whose top entry is called `top` (`docker cp`'s archive of one path; `top` = `.` gives
/// the directory's contents). Everything is opened relative to `dir` without following symlinks,
/// so a tree that changes while it is read cannot lead the walk outside it.
pub fn write_entry_tar<W: Write>(
    dir: std::os::fd::BorrowedFd<'_>,
    name: &[u8],
    top: &str,
    out: W,
) -> Result<W, ArchiveError> {
    write::write_entry(dir, name, top, out)
}

/// Size of the read-ahead put in front of a tar stream that is read header by header.
const READ_AHEAD: usize = 256 * 1024;

fn buffered<R: Read>(r: R) -> BufReader<R> {
    BufReader::with_capacity(READ_AHEAD, r)
}

#[cfg(test)]
mod tests;
