//! [`import_rootfs`] turns a root-filesystem tarball into a single-layer image (`berth import`),
//! applying `--change` instructions and `-m` to the config the way `docker import` does.

use std::io::Read;

use berth_store::Store;

use crate::change::{apply_change, ChangeError};
use crate::config::{ContainerConfig, History, ImageConfig, RootFs, ENGINE_VERSION};
use crate::store::{ImageRecord, ImageStore, ImageStoreError};

/// What `import` was asked to do besides unpacking.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `-c/--change` instructions, applied in order.
    pub changes: Vec<String>,
    /// `-m/--message`: the config and history comment (default `Imported from -`).
    pub message: Option<String>,
}

/// Failures of `import`.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A `--change` is not allowed or malformed.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// Storing the layer or image failed.
    #[error(transparent)]
    Store(#[from] ImageStoreError),
}

impl From<berth_store::StoreError> for ImportError {
    fn from(e: berth_store::StoreError) -> Self {
        ImportError::Store(e.into())
    }
}

/// The architecture name Docker uses for this machine.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Imports `tarball` (plain, gzip or zstd) as a new image; it is not tagged here.
pub fn import_rootfs(
    store: &mut Store,
    tarball: impl Read,
    opts: &ImportOptions,
) -> Result<ImageRecord, ImportError> {
    let mut config = ContainerConfig::default();
    for change in &opts.changes {
        apply_change(&mut config, change)?;
    }
    let layer = store.register_layer(None, None, tarball)?;
    let now = berth_store::db::now_rfc3339();
    let comment = opts
        .message
        .clone()
        .unwrap_or_else(|| "Imported from -".to_string());
    let image = ImageConfig {
        architecture: host_architecture().into(),
        comment: Some(comment.clone()),
        config: Some(config),
        container_config: Some(ContainerConfig::default()),
        created: Some(now.clone()),
        docker_version: Some(ENGINE_VERSION.into()),
        history: vec![History {
            created: Some(now),
            comment: Some(comment),
            ..Default::default()
        }],
        os: "linux".into(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![layer.diff_id.clone()],
        },
        ..Default::default()
    };
    let record = ImageStore::new(store).create(image.to_bytes(), None);
    if record.is_err() {
        let _ = store.release_layer(&layer.chain_id);
    }
    Ok(record?)
}
