//! Shared init layers: the read-only layer of placeholders (Docker's `<id>-init`: mount targets,
//! `/.dockerenv`) between an image's top layer and a container's writable layer. Its content
//! depends only on the layers below it, so every container on the same image top layer uses one,
//! the driver directory `<top layer cache_id>-init` (for vfs: one copy of the image per image
//! top layer, not one per container). What goes into it is the caller's (the engine's
//! placeholders); this module owns its life:
//!
//! - **built once**, by the first container create that needs it, under an exclusive `flock(2)`
//!   on `<root>/init-layers.lock`, and under the journal entry `layer`/`<cache_id>-init` from
//!   before its directory exists until it is complete. A directory with that entry open is half
//!   built: under the lock the entry's owner is dead (it would hold the lock), so the directory
//!   is rebuilt, or removed by the repair pass ([`Store::recover_init_layer`]). No container is
//!   ever created on a directory whose entry is open.
//! - **removed with its top layer's directory** ([`Store::release_layer`], and the repair pass
//!   for a `layer` entry whose layer no row claims), under the same lock; a layer's directory
//!   goes only once no image or container row names it as top layer (or a parent), so never
//!   while a container uses its init layer. `rm` of a container never touches it.
//!
//! [`crate::layer::layer_dir_claimed`] claims `<cache_id>-init` while `<cache_id>` is a layer.

use std::fs::File;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

use crate::journal;
use crate::store::{Store, StoreError};

/// Journal kind of a shared init layer being built (key: its driver ID).
const KIND: &str = "layer";

/// The driver ID of the shared init layer over the layer whose driver ID is `cache_id`.
pub fn init_layer_id(cache_id: &str) -> String {
    format!("{cache_id}-init")
}

/// The exclusive lock every builder and remover of shared init layers holds (released on drop).
struct InitLock {
    _file: File,
}

impl InitLock {
    fn take(root: &Path) -> Result<InitLock, StoreError> {
        let path = root.join("init-layers.lock");
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
        loop {
            match flock(&f, FlockOperation::LockExclusive) {
                Err(rustix::io::Errno::INTR) => continue,
                r => r.map_err(|e| StoreError::Io {
                    path: path.clone(),
                    source: e.into(),
                })?,
            }
            return Ok(InitLock { _file: f });
        }
    }
}

impl Store {
    /// The shared init layer over the layer `cache_id` (see the module doc): built now with
    /// `populate` (which fills the given directory) unless complete already. Returns its
    /// driver ID.
    pub fn shared_init_layer(
        &mut self,
        cache_id: &str,
        populate: &dyn Fn(&Path) -> std::io::Result<()>,
    ) -> Result<String, StoreError> {
        let init = init_layer_id(cache_id);
        let _lock = InitLock::take(self.root())?;
        let half_built = self.init_entry(&init)?;
        if !half_built && self.driver.apply_dir(&init).exists() {
            return Ok(init);
        }
        // Missing, or left half built by a process that died: (re)build it under our entry.
        journal::begin(self.db.conn(), KIND, &init)?;
        let built = self
            .driver
            .remove(&init)
            .and_then(|()| self.driver.create(&init, Some(cache_id)))
            .map_err(StoreError::from)
            .and_then(|()| {
                let dir: PathBuf = self.driver.apply_dir(&init);
                populate(&dir).map_err(|source| StoreError::Io { path: dir, source })
            })
            .and_then(|()| {
                // Its layer freed meanwhile (an `rmi` racing the first create): that removal
                // may have looked for an init layer before this one existed.
                let alive: bool = self.db.conn().query_row(
                    "SELECT EXISTS(SELECT 1 FROM layers WHERE cache_id = ?1)",
                    [cache_id],
                    |r| r.get(0),
                )?;
                if alive {
                    Ok(())
                } else {
                    Err(StoreError::NoSuchLayer(cache_id.to_string()))
                }
            });
        if let Err(e) = built {
            if self.driver.remove(&init).is_ok() {
                let _ = journal::end(self.db.conn(), KIND, &init);
            }
            return Err(e);
        }
        journal::end(self.db.conn(), KIND, &init)?;
        Ok(init)
    }

    /// Whether the journal has an entry for the init layer `init` (under the lock: a dead
    /// builder's).
    fn init_entry(&self, init: &str) -> Result<bool, StoreError> {
        Ok(self.db.conn().query_row(
            "SELECT EXISTS(SELECT 1 FROM journal WHERE kind = ?1 AND key = ?2)",
            [KIND, init],
            |r| r.get(0),
        )?)
    }

    /// Removes the shared init layer over the layer `cache_id`, if there is one: its layer's
    /// directory is going.
    pub(crate) fn remove_init_layer(&mut self, cache_id: &str) -> Result<(), StoreError> {
        let init = init_layer_id(cache_id);
        // The layer's row is gone: a builder that starts now fails (see shared_init_layer).
        if std::fs::symlink_metadata(self.driver.root().join(&init)).is_err() {
            return Ok(());
        }
        let _lock = InitLock::take(self.root())?;
        self.driver.remove(&init)?;
        Ok(())
    }

    /// The repair pass for the abandoned journal entry of shared init layer `init`: a builder
    /// died before it was complete, so it is removed, unless another process rebuilt it under
    /// its own entry meanwhile.
    pub(crate) fn recover_init_layer(&mut self, init: &str) -> Result<(), StoreError> {
        let _lock = InitLock::take(self.root())?;
        if journal::abandoned(self.db.conn(), KIND)?
            .iter()
            .any(|e| e.key == init)
        {
            self.driver.remove(init)?;
            journal::end(self.db.conn(), KIND, init)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::Arc;

    use super::*;
    use crate::driver::DriverKind;
    use crate::mount::recording::RecordingSys;
    use crate::mount::Mounter;
    use crate::StoreOptions;

    fn open(root: &Path, driver: DriverKind) -> Store {
        Store::open(&StoreOptions {
            root: root.to_path_buf(),
            driver: Some(driver),
            mounter: Mounter::new(Arc::new(RecordingSys::default())),
        })
        .unwrap()
    }

    /// A store with one layer (an empty tar); returns its chain ID and cache ID.
    fn with_layer(root: &Path, driver: DriverKind) -> (Store, crate::digest::Digest, String) {
        let mut store = open(root, driver);
        let layer = store.register_layer(None, None, &[0u8; 1024][..]).unwrap();
        (store, layer.chain_id, layer.cache_id)
    }

    fn placeholder(dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join(".dockerenv"), b"")
    }

    fn dead_entry(store: &Store, key: &str) {
        store
            .db
            .conn()
            .execute(
                "INSERT INTO journal VALUES ('layer', ?1, 999999999, 1, 'x')",
                [key],
            )
            .unwrap();
    }

    #[test]
    fn one_init_layer_per_top_layer_built_once_and_freed_with_it() {
        for driver in [DriverKind::Overlay, DriverKind::Vfs] {
            let t = tempfile::tempdir().unwrap();
            let (mut store, chain, cache) = with_layer(t.path(), driver);
            let builds = Cell::new(0);
            let populate = |dir: &Path| {
                builds.set(builds.get() + 1);
                placeholder(dir)
            };
            let a = store.shared_init_layer(&cache, &populate).unwrap();
            let b = store.shared_init_layer(&cache, &populate).unwrap();
            assert_eq!(a, format!("{cache}-init"));
            assert_eq!(a, b);
            assert_eq!(builds.get(), 1, "{driver:?}: built once");
            assert!(store.driver.apply_dir(&a).join(".dockerenv").exists());
            assert!(crate::layer::layer_dir_claimed(store.db.conn(), &a).unwrap());
            assert!(journal::abandoned(store.db.conn(), KIND)
                .unwrap()
                .is_empty());
            store.release_layer(&chain).unwrap();
            assert!(!store.driver.root().join(&a).exists(), "{driver:?}");
            assert!(!crate::layer::layer_dir_claimed(store.db.conn(), &a).unwrap());
        }
    }

    #[test]
    fn a_half_built_init_layer_is_never_used() {
        let t = tempfile::tempdir().unwrap();
        let (mut store, _, cache) = with_layer(t.path(), DriverKind::Overlay);
        let init = init_layer_id(&cache);
        // A builder died after making the directory, before filling it.
        dead_entry(&store, &init);
        store.driver.create(&init, Some(&cache)).unwrap();
        // The next create rebuilds it.
        assert_eq!(store.shared_init_layer(&cache, &placeholder).unwrap(), init);
        assert!(store.driver.apply_dir(&init).join(".dockerenv").exists());
        assert!(journal::abandoned(store.db.conn(), KIND)
            .unwrap()
            .is_empty());
        // Or the repair pass of the next process removes one.
        dead_entry(&store, &init);
        drop(store);
        let store = open(t.path(), DriverKind::Overlay);
        assert!(!store.driver.root().join(&init).exists());
        assert!(store.driver.root().join(&cache).exists());
        assert!(journal::abandoned(store.db.conn(), KIND)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_repair_pass_frees_the_init_layer_of_a_layer_whose_removal_was_cut_short() {
        let t = tempfile::tempdir().unwrap();
        let (mut store, chain, cache) = with_layer(t.path(), DriverKind::Overlay);
        let init = store.shared_init_layer(&cache, &placeholder).unwrap();
        // A release that died after dropping the row, before removing the files.
        store
            .db
            .conn()
            .execute(
                "DELETE FROM layers WHERE chain_id = ?1",
                [chain.to_string()],
            )
            .unwrap();
        dead_entry(&store, &cache);
        drop(store);
        let store = open(t.path(), DriverKind::Overlay);
        assert!(!store.driver.root().join(&init).exists());
        assert!(!store.driver.root().join(&cache).exists());
    }
}
