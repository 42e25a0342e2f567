//! [`GraphDriver`] turns a chain of layer directories into a root filesystem. Each layer has an
//! ID chosen by the store (never user input) and an optional parent. A driver creates, removes and
//! describes layer directories and returns the [`Mount`]s that show a layer as a full tree; it never
//! calls mount(2) itself (the caller owns the mount's lifetime).
//!
//! Two backends: [`overlay::OverlayDriver`] (shared read-only lower dirs + one upper dir per
//! container, the default) and [`vfs::VfsDriver`] (every layer a full copy; works on any
//! filesystem). [`detect`] picks one for a new data root.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::archive::{ArchiveError, Change, WhiteoutMode};
use crate::mount::{Mount, Mounter};

pub mod overlay;
pub mod vfs;
pub mod written;

#[cfg(test)]
mod testsuite;

/// A failure of a graph driver.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// An I/O failure on a layer path.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Reading or writing a layer tar failed.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The layer directory does not exist.
    #[error("layer {0} does not exist")]
    NoSuchLayer(String),
    /// The size-limited filesystem of a `--storage-opt size=` layer could not be made.
    #[error("cannot make the size-limited writable layer: {0}")]
    Quota(#[from] crate::mount::image::ImageError),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DriverError + '_ {
    move |source| DriverError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How to see a layer as a whole tree: the directory, and the mounts (in order) that make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rootfs {
    /// Where the tree appears once `mounts` are mounted (in order).
    pub path: PathBuf,
    /// Mounts whose target is `path`; empty when the directory already is the tree (vfs).
    pub mounts: Vec<Mount>,
}

impl Rootfs {
    /// Makes the writable layer of this tree volatile, for a container whose writable layer
    /// goes when it ends (`--rm`): overlay's `volatile` option, under which nothing syncs the
    /// upper dir's filesystem — neither a process's fsync inside the container nor, above all,
    /// the unmount, which otherwise syncs the whole filesystem holding the data root (every
    /// dirty page of every process on it: tens to hundreds of milliseconds on a busy host, at
    /// every container exit). Podman does the same for `--rm`. A power loss while it runs may
    /// leave its writable layer torn, which `--rm` would have removed anyway. Mounts without an
    /// upper dir (and the vfs driver's none) are left as they are, and so is mount data that
    /// the option would push past one page.
    pub fn make_volatile(&mut self) {
        for m in &mut self.mounts {
            if m.fstype != "overlay" {
                continue;
            }
            for data in &mut m.options {
                if data.contains("upperdir=") && data.len() + ",volatile".len() < 4096 {
                    data.push_str(",volatile");
                }
            }
        }
    }
}

/// The operations berth needs from a union/copy filesystem backend.
pub trait GraphDriver: Send + Sync {
    /// Driver name as `info` and `inspect` report it (`overlay2`, `vfs`).
    fn name(&self) -> &'static str;
    /// How layer tars must be unpacked for this driver.
    fn whiteout_mode(&self) -> WhiteoutMode;
    /// Creates the (empty, or for vfs: parent-copy) directory of layer `id` on `parent`.
    fn create(&self, id: &str, parent: Option<&str>) -> Result<(), DriverError>;
    /// Creates container layer `id` on `parent` as [`GraphDriver::create`] does, for a layer no
    /// other layer is ever made on: a driver may leave out what only a parent needs.
    fn create_rw(&self, id: &str, parent: Option<&str>) -> Result<(), DriverError> {
        self.create(id, parent)
    }
    /// True when a layer's directory holds only its own changes, so a layer tar can be unpacked
    /// before its parent exists (into a layer created without a parent) and chained onto it
    /// afterwards with [`GraphDriver::set_parent`]; pulls then unpack layers in parallel.
    fn independent_layers(&self) -> bool {
        false
    }
    /// Chains layer `id`, created without a parent, onto `parent` (drivers with
    /// [`GraphDriver::independent_layers`] only).
    fn set_parent(&self, id: &str, parent: &str) -> Result<(), DriverError> {
        let _ = parent;
        Err(DriverError::Io {
            path: self.apply_dir(id),
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "this storage driver cannot chain a layer after unpacking it",
            ),
        })
    }
    /// Whether [`GraphDriver::create_sized`] is served (`--storage-opt size=`).
    fn sized_layers(&self) -> bool {
        false
    }
    /// Creates container layer `id` on `parent` as [`GraphDriver::create`] does, with room for
    /// at most `size` bytes of changes: they live on a filesystem of that size, which
    /// [`GraphDriver::quota_mount`] mounts. Drivers without [`GraphDriver::sized_layers`] fail.
    fn create_sized(&self, id: &str, parent: Option<&str>, size: u64) -> Result<(), DriverError> {
        let _ = (parent, size);
        Err(DriverError::Io {
            path: self.apply_dir(id),
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "this storage driver cannot limit a layer's size",
            ),
        })
    }
    /// The mount a size-limited layer (made by [`GraphDriver::create_sized`]) needs from its
    /// creation to its removal — before its root filesystem is mounted and before anything reads
    /// its changes — or `None` for any other layer. The caller owns the mount; it must be gone
    /// before [`GraphDriver::remove`].
    fn quota_mount(&self, id: &str) -> Option<Mount> {
        let _ = id;
        None
    }
    /// Removes everything of layer `id`; a missing or half-created layer is not an error.
    fn remove(&self, id: &str) -> Result<(), DriverError>;
    /// [`GraphDriver::remove`] that leaves the deleting for later: layer `id` is gone from the
    /// driver when this returns, its files moved to `trash` (a new path on the data root's file
    /// system) and, for what lives outside the layer's directory, beside it; returns those
    /// paths, which the caller deletes when nobody waits for it. Where files cannot be moved
    /// they are removed as `remove` does.
    fn remove_to(&self, id: &str, trash: &Path) -> Result<Vec<PathBuf>, DriverError> {
        let _ = trash;
        self.remove(id)?;
        Ok(Vec::new())
    }
    /// The directory a layer tar is unpacked into.
    fn apply_dir(&self, id: &str) -> PathBuf;
    /// How to see layer `id` as a full tree, writable (a container's layer) or not.
    fn rootfs(&self, id: &str, writable: bool) -> Result<Rootfs, DriverError>;
    /// [`GraphDriver::rootfs`] of a container layer (writable) whose ancestors are read through
    /// `view`, another path to the driver's root directory (an id-mapped clone of it, see
    /// `mount::idmap`); the layer's own changes stay where they are. The mounts are only valid
    /// while `view` is. Drivers whose container layers are not unions over their ancestors fail.
    fn rootfs_over(&self, id: &str, view: &Path) -> Result<Rootfs, DriverError> {
        let _ = view;
        Err(DriverError::Io {
            path: self.apply_dir(id),
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "this storage driver cannot show image layers through an id-mapped mount",
            ),
        })
    }
    /// The driver's root directory (what [`GraphDriver::rootfs_over`]'s view is a view of).
    fn root(&self) -> &Path;
    /// What layer `id` changed relative to `parent`, as `docker diff` lists it.
    fn changes(&self, id: &str, parent: Option<&str>) -> Result<Vec<Change>, DriverError>;
    /// Writes what layer `id` changed relative to `parent` as an OCI layer tar.
    fn write_diff(
        &self,
        id: &str,
        parent: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<(), DriverError>;
    /// [`GraphDriver::write_diff`] with owners as a user namespace of `ids` sees them (a
    /// remapped container's changes are stored with host ids). Drivers that cannot fail
    /// unless `ids` is `None`.
    fn write_diff_as(
        &self,
        id: &str,
        parent: Option<&str>,
        out: &mut dyn Write,
        ids: Option<&crate::archive::IdMaps>,
    ) -> Result<(), DriverError> {
        match ids {
            None => self.write_diff(id, parent, out),
            Some(_) => Err(DriverError::Io {
                path: self.apply_dir(id),
                source: io::Error::new(
                    io::ErrorKind::Unsupported,
                    "this storage driver cannot write a remapped container's changes",
                ),
            }),
        }
    }
    /// Bytes that layer `id` adds over `parent` (`SizeRw` for a container layer).
    fn diff_size(&self, id: &str, parent: Option<&str>) -> Result<u64, DriverError>;
    /// What layer `id` adds over `parent`, in total (equal to [`GraphDriver::diff_size`]) and
    /// split by the directories that hold it.
    fn written(&self, id: &str, parent: Option<&str>) -> Result<written::Written, DriverError>;
    /// Driver-specific facts about layer `id` for `inspect` → `GraphDriver.Data`.
    fn metadata(&self, id: &str) -> BTreeMap<String, String>;
    /// Facts for `info` (`Backing Filesystem`, `Supports d_type`...).
    fn status(&self) -> Vec<(String, String)>;
}

/// The graph drivers berth has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    /// overlayfs with short lower-dir links.
    Overlay,
    /// Full copies.
    Vfs,
}

impl DriverKind {
    /// The name stored in the data root and printed by `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            DriverKind::Overlay => "overlay2",
            DriverKind::Vfs => "vfs",
        }
    }

    /// Parses `overlay`, `overlay2` or `vfs`.
    pub fn parse(s: &str) -> Option<DriverKind> {
        match s {
            "overlay" | "overlay2" => Some(DriverKind::Overlay),
            "vfs" => Some(DriverKind::Vfs),
            _ => None,
        }
    }

    /// Builds the driver over `<root>/layers`.
    pub fn open(self, root: &Path) -> io::Result<Box<dyn GraphDriver>> {
        let dir = root.join("layers");
        Ok(match self {
            DriverKind::Overlay => Box::new(overlay::OverlayDriver::open(&dir)?),
            DriverKind::Vfs => Box::new(vfs::VfsDriver::open(&dir)?),
        })
    }
}

/// Why overlay cannot serve a data root (so vfs is used), or `Ok` if it can.
pub fn overlay_usable(root: &Path, mounter: &Mounter) -> Result<(), String> {
    let fs = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !fs.lines().any(|l| l.trim_end().ends_with("\toverlay")) {
        return Err("the kernel has no overlay filesystem".into());
    }
    if !supports_d_type(root) {
        return Err(format!(
            "the backing filesystem of {} does not support d_type",
            root.display()
        ));
    }
    overlay::probe_mount(root, mounter).map_err(|e| format!("a test overlay mount failed: {e}"))
}

/// The driver for a new data root: overlay where it works, else vfs.
pub fn detect(root: &Path, mounter: &Mounter) -> DriverKind {
    match overlay_usable(root, mounter) {
        Ok(()) => DriverKind::Overlay,
        Err(_) => DriverKind::Vfs,
    }
}

/// True when readdir on `dir`'s filesystem reports file types (d_type), which overlay needs.
pub fn supports_d_type(dir: &Path) -> bool {
    let probe = dir.join(format!(".d_type-probe-{}", crate::fsutil::random_hex(4)));
    if std::fs::create_dir(&probe).is_err() {
        return false;
    }
    let ok = (|| -> io::Result<bool> {
        std::fs::write(probe.join("f"), b"")?;
        let fd = rustix::fs::open(
            &probe,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
            rustix::fs::Mode::empty(),
        )?;
        let dir = rustix::fs::Dir::read_from(&fd)?;
        for entry in dir {
            let entry = entry?;
            if entry.file_name().to_bytes() == b"f" {
                return Ok(entry.file_type() != rustix::fs::FileType::Unknown);
            }
        }
        Ok(false)
    })()
    .unwrap_or(false);
    let _ = std::fs::remove_dir_all(&probe);
    ok
}

/// The backing filesystem of `path` by its statfs magic, named as `docker info` names it.
pub fn backing_filesystem(path: &Path) -> String {
    let Ok(st) = rustix::fs::statfs(path) else {
        return "unknown".into();
    };
    match st.f_type as u64 {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        0x6969 => "nfs",
        0x6573_5546 => "fuse",
        0xF2F5_2010 => "f2fs",
        _ => "unknown",
    }
    .to_string()
}
