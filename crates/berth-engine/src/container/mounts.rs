//! Mounts of a container beyond its root filesystem: what its OCI spec lists, and what must be
//! released when it stops.

use berth_runtime::spec::SpecMount;

use super::Container;
use crate::{Engine, EngineError};

impl Engine {
    /// The OCI mounts of a container, in mount order.
    pub(crate) fn spec_mounts(&mut self, c: &Container) -> Result<Vec<SpecMount>, EngineError> {
        let _ = c;
        Ok(Vec::new())
    }

    /// Undoes what starting the container mounted outside its rootfs.
    pub(crate) fn release_mounts(&mut self, c: &Container) {
        let _ = c;
    }
}
