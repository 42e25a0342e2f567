//! [`VfsDriver`] keeps every layer as a full copy of its parent plus its own changes, under
//! `<root>/layers/<id>/fs`. Slow and space-hungry by design, it works on any filesystem (reflinks
//! make the copies cheap where the filesystem shares extents). Changes are found by comparing a
//! layer with its parent's tree.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::written::{Entry, Splitter, Written};
use super::{io_err, DriverError, GraphDriver, Rootfs};
use crate::archive::{self, ChangeKind, WhiteoutMode};
use crate::fsutil;

/// The full-copy graph driver.
#[derive(Debug)]
pub struct VfsDriver {
    root: PathBuf,
}

impl VfsDriver {
    /// Opens the driver over `root` (created if missing).
    pub fn open(root: &Path) -> std::io::Result<VfsDriver> {
        std::fs::create_dir_all(root)?;
        Ok(VfsDriver {
            root: root.to_path_buf(),
        })
    }

    fn tree(&self, id: &str) -> PathBuf {
        self.root.join(id).join("fs")
    }
}

impl GraphDriver for VfsDriver {
    fn name(&self) -> &'static str {
        "vfs"
    }

    fn whiteout_mode(&self) -> WhiteoutMode {
        WhiteoutMode::Delete
    }

    fn create(&self, id: &str, parent: Option<&str>) -> Result<(), DriverError> {
        let dir = self.root.join(id);
        std::fs::create_dir(&dir).map_err(io_err(&dir))?;
        let tree = self.tree(id);
        match parent {
            Some(p) => fsutil::copy_tree(&self.tree(p), &tree).map_err(io_err(&tree)),
            None => std::fs::create_dir(&tree).map_err(io_err(&tree)),
        }
    }

    fn remove(&self, id: &str) -> Result<(), DriverError> {
        let dir = self.root.join(id);
        fsutil::remove_tree(&dir).map_err(io_err(&dir))
    }

    fn remove_to(&self, id: &str, trash: &Path) -> Result<Vec<PathBuf>, DriverError> {
        let dir = self.root.join(id);
        fsutil::move_or_remove_tree(&dir, trash).map_err(io_err(&dir))?;
        Ok(vec![trash.to_path_buf()])
    }

    fn apply_dir(&self, id: &str) -> PathBuf {
        self.tree(id)
    }

    fn root(&self) -> &Path {
        &self.root
    }

    fn rootfs(&self, id: &str, _writable: bool) -> Result<Rootfs, DriverError> {
        let path = self.tree(id);
        if !path.is_dir() {
            return Err(DriverError::NoSuchLayer(id.to_string()));
        }
        Ok(Rootfs {
            path,
            mounts: Vec::new(),
        })
    }

    fn changes(&self, id: &str, parent: Option<&str>) -> Result<Vec<archive::Change>, DriverError> {
        let old = parent.map(|p| self.tree(p));
        Ok(archive::naive_changes(old.as_deref(), &self.tree(id))?)
    }

    fn write_diff(
        &self,
        id: &str,
        parent: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<(), DriverError> {
        let changes = self.changes(id, parent)?;
        archive::write_changes_tar(&self.tree(id), &changes, out)?;
        Ok(())
    }

    fn diff_size(&self, id: &str, parent: Option<&str>) -> Result<u64, DriverError> {
        Ok(self.written(id, parent)?.bytes)
    }

    /// A vfs layer is a full copy, so its changes come from comparing it with its parent (the
    /// list `diff` also builds); sizes are read from the layer's tree.
    fn written(&self, id: &str, parent: Option<&str>) -> Result<Written, DriverError> {
        use std::os::unix::fs::MetadataExt;
        let tree = self.tree(id);
        let mut changes = self.changes(id, parent)?;
        // Component order keeps each directory's content contiguous (`/a/b` before `/a-c`).
        changes.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
        let mut split = Splitter::new();
        for c in changes {
            let md = std::fs::symlink_metadata(tree.join(c.path.trim_start_matches('/')));
            let entry = match (c.kind, md) {
                (ChangeKind::Deleted, _) => Entry::Other {
                    len: 0,
                    inode: (0, 0),
                    nlink: 1,
                },
                (_, Ok(md)) if md.is_dir() => Entry::Dir,
                (_, Ok(md)) => Entry::Other {
                    len: md.len(),
                    inode: (md.dev(), md.ino()),
                    nlink: md.nlink(),
                },
                (_, Err(_)) => continue,
            };
            split.path(&c.path, entry);
        }
        Ok(split.finish())
    }

    fn metadata(&self, _id: &str) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    fn status(&self) -> Vec<(String, String)> {
        vec![]
    }
}
