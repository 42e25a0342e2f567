//! [`Engine::open`] is where berth is wired together (containerd's `plugin.go` in one function):
//! it opens the data root with the chosen storage driver; every verb then lives in its own module
//! as an `impl Engine` block.

use std::path::PathBuf;

use berth_store::driver::DriverKind;
use berth_store::mount::Mounter;
use berth_store::{Store, StoreOptions};

use berth_network::config::NetworkConfig;

use crate::config::EngineConfig;
use crate::error::EngineError;

/// How to open the engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Data root (`--root`).
    pub root: PathBuf,
    /// `--storage-driver`, if given.
    pub storage_driver: Option<String>,
    /// The berth executable that runs shims (`berth shim <id>`); `None`: this process's own.
    pub shim_exe: Option<PathBuf>,
    /// The OCI runtime the engine calls itself (pause, resume, kill, ps, exec, recovery);
    /// `None`: each container's own (`HostConfig.Runtime`, runc by default). Unit tests put a
    /// fake here to exercise the engine's logic without root.
    pub runtime: Option<std::sync::Arc<dyn berth_runtime::Runtime>>,
    /// The settings file (`--config-file`); `None`: [`crate::config::DEFAULT_CONFIG_FILE`] if
    /// it exists.
    pub config_file: Option<PathBuf>,
    /// Who performs mounts: the kernel by default; unit tests record them instead.
    pub mounter: Mounter,
}

/// The engine over one data root.
pub struct Engine {
    pub(crate) store: Store,
    pub(crate) opts: EngineOptions,
    /// The settings file's contents.
    pub(crate) config: EngineConfig,
    /// This data root's networking settings.
    pub(crate) network: NetworkConfig,
    /// The writable-layer limit of containers that set none (`storage-opts`).
    pub(crate) default_layer_size: Option<u64>,
    /// Where removed containers' files are moved instead of deleted, when the deleting can
    /// wait ([`Engine::defer_deletes`]: a `--rm` container's shim, whose user waits for the
    /// removal, not for the blocks to be freed).
    pub(crate) trash: Option<crate::container::remove::Trash>,
}

impl Engine {
    /// Opens the data root, creating it on first use.
    pub fn open(opts: EngineOptions) -> Result<Engine, EngineError> {
        let (config, config_file) = EngineConfig::load(opts.config_file.as_deref())?;
        let driver = match &opts.storage_driver {
            None => None,
            Some(name) => Some(
                DriverKind::parse(name)
                    .ok_or_else(|| crate::config::ConfigError::UnknownDriver(name.clone()))?,
            ),
        };
        let store = Store::open(&StoreOptions {
            root: opts.root.clone(),
            driver,
            mounter: opts.mounter.clone(),
        })?;
        // Paths berth records and compares (mount points, volume sources) must be in one
        // spelling: `/a/../b` or a symlinked root would make the same directory two paths.
        let mut opts = opts;
        opts.root = std::fs::canonicalize(&opts.root)?;
        let store = if store.root() == opts.root {
            store
        } else {
            drop(store);
            Store::open(&StoreOptions {
                root: opts.root.clone(),
                driver,
                mounter: opts.mounter.clone(),
            })?
        };
        let default_layer_size =
            crate::container::quota::daemon_layer_size(store.driver().name(), &config.storage_opts)
                .map_err(|what| crate::config::ConfigError::File {
                    path: config_file
                        .clone()
                        .unwrap_or_else(|| crate::config::DEFAULT_CONFIG_FILE.into()),
                    what,
                })?;
        opts.config_file = config_file;
        let network = config.network(&opts.root);
        // Runs create and delete their files under the exec root: it belongs on a tmpfs, and
        // where `/run` is not one berth makes its own (see `Mounter::ensure_tmpfs`). Without it
        // (no right to mount, say) runs only cost more: a debug line, not a warning on every
        // command.
        let run_dir = std::path::Path::new(berth_network::config::RUN_DIR);
        if network.exec_root.starts_with(run_dir) {
            if let Err(e) = store.mounter().ensure_tmpfs(run_dir) {
                log::debug!("a tmpfs on {}: {e}", run_dir.display());
            }
        }
        let mut engine = Engine {
            store,
            opts,
            config,
            network,
            default_layer_size,
            trash: None,
        };

        engine.recover_containers()?;
        engine.reconcile_execs(None)?;
        engine.volumes()?.recover()?;
        Ok(engine)
    }

    /// The program that runs shims: this very executable, through `/proc/self/exe`, which stays
    /// valid when the file on disk is replaced (an upgrade, a rebuild) while berth runs.
    pub(crate) fn shim_exe(&self) -> PathBuf {
        self.opts
            .shim_exe
            .clone()
            .unwrap_or_else(|| PathBuf::from("/proc/self/exe"))
    }

    /// Who performs mounts (the store's mounter).
    pub(crate) fn mounter(&self) -> &Mounter {
        self.store.mounter()
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The data root.
    pub fn root(&self) -> &std::path::Path {
        &self.opts.root
    }

    /// The configuration the engine was opened with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
}
