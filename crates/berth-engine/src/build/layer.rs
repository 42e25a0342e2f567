//! [`ScratchLayer`]: a writable layer on an image, mounted, with no container record — what a
//! build's COPY, ADD and WORKDIR steps write into (Docker's builder uses an RW layer for them, not
//! a container, and without a container's init layer), and what `COPY --from` reads an image
//! through. It is journaled like a container being created, so a crash leaves nothing the next
//! start does not remove; overlay mounts it `volatile`, so its unmount does not sync the data
//! root's filesystem (what it held is either thrown away or read back into a layer).

use std::path::PathBuf;

use berth_store::digest::Digest;
use berth_store::journal;
use berth_store::mount::MountGuard;

use crate::{Engine, EngineError};

/// A mounted writable layer over an image's layers.
pub(crate) struct ScratchLayer {
    pub id: String,
    pub path: PathBuf,
    pub parent_top: Option<Digest>,
    /// The driver layer it was made on (the parent's top layer), what its changes are against.
    base: Option<String>,
    guards: Vec<MountGuard>,
}

impl Engine {
    /// A writable layer over `top` (an image's top layer), mounted.
    pub(crate) fn scratch_layer(
        &mut self,
        top: Option<&Digest>,
    ) -> Result<ScratchLayer, EngineError> {
        let top_cache = match top {
            Some(t) => Some(
                self.store
                    .layer(t)?
                    .ok_or_else(|| super::BuildRequestError::MissingLayer(t.to_string()))?
                    .cache_id,
            ),
            None => None,
        };
        let id = berth_store::fsutil::random_hex(32);
        journal::begin(self.store.db().conn(), "container", &id)?;
        let made = (|| -> Result<ScratchLayer, EngineError> {
            let driver = self.store.driver();
            driver.create_rw(&id, top_cache.as_deref())?;
            let mut rootfs = driver.rootfs(&id, true)?;
            for m in &mut rootfs.mounts {
                // Only where the mount data stays within the kernel's page for it.
                let len: usize = m.options.iter().map(|o| o.len() + 1).sum();
                if m.fstype == "overlay" && len + "volatile".len() < 4000 {
                    m.options.push("volatile".into());
                }
            }
            let guards = self.store.mounter().mount_all_scoped(&rootfs.mounts)?;
            Ok(ScratchLayer {
                id: id.clone(),
                path: rootfs.path,
                parent_top: top.cloned(),
                base: top_cache.clone(),
                guards,
            })
        })();
        if made.is_err() {
            self.drop_scratch_dirs(&id);
        }
        made
    }

    /// Unmounts and removes a scratch layer.
    pub(crate) fn drop_scratch(&mut self, s: ScratchLayer) {
        for g in s.guards.into_iter().rev() {
            let _ = g.unmount();
        }
        self.drop_scratch_dirs(&s.id);
    }

    fn drop_scratch_dirs(&mut self, id: &str) {
        let _ = self.store.driver().remove(id);
        let _ = journal::end(self.store.db().conn(), "container", id);
    }

    /// Unmounts the scratch layer, registers what was written in it as a layer (`None` when
    /// nothing changed) and removes it.
    pub(crate) fn commit_scratch(
        &mut self,
        mut s: ScratchLayer,
    ) -> Result<Option<berth_store::layer::Layer>, EngineError> {
        for g in std::mem::take(&mut s.guards).into_iter().rev() {
            let _ = g.unmount();
        }
        let layer = self.layer_from_changes(&s.id, s.base.as_deref(), s.parent_top.as_ref(), None);
        self.drop_scratch_dirs(&s.id);
        layer
    }
}
