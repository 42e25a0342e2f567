//! [`EngineError`] is every failure the engine reports. Its `Display` is the text Docker's daemon
//! would send (`No such image: busybox:latest`, `conflict: unable to delete ...`), and [`kind`]
//! classifies it so the CLI picks an exit code and the API an HTTP status in one place.
//!
//! [`kind`]: EngineError::kind

use berth_store::ErrorKind;

/// A failure of an engine operation.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No image by that name or ID.
    #[error("No such image: {0}")]
    NoSuchImage(String),
    /// No container by that name or ID.
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    /// The runtime could not start the container's process (exit code 125/126/127).
    #[error("{}", .0.message)]
    StartFailed(berth_runtime::StartFailure),
    /// A runtime, shim, attach, log or exec failure.
    #[error(transparent)]
    Process(#[from] berth_runtime::error::ProcessError),
    /// The container's state does not allow the verb (Docker's words, HTTP 409).
    #[error(transparent)]
    State(#[from] crate::container::StateError),
    /// The request conflicts with the current state; the text is Docker's full message.
    #[error("{0}")]
    Conflict(String),
    /// The request is malformed; the text is Docker's full message.
    #[error("{0}")]
    InvalidArgument(String),
    /// Something named does not exist; the text is Docker's full message.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] berth_store::StoreError),
    /// A metadata row could not be read or written.
    #[error(transparent)]
    Meta(#[from] berth_store::metadata::MetaError),
    /// The image store failed.
    #[error(transparent)]
    Image(#[from] berth_image::store::ImageStoreError),
    /// An image archive could not be loaded.
    #[error(transparent)]
    Load(#[from] berth_image::load::LoadError),
    /// Images could not be saved.
    #[error(transparent)]
    Save(#[from] berth_image::save::SaveError),
    /// A root filesystem could not be imported.
    #[error(transparent)]
    Import(#[from] berth_image::import::ImportError),
    /// A registry failed or refused.
    #[error(transparent)]
    Registry(#[from] berth_registry::RegistryError),
    /// A pull or push refused, or a registry's image that does not hold together.
    #[error(transparent)]
    Transfer(#[from] crate::image::TransferError),
    /// A reference is malformed.
    #[error("{0}")]
    Reference(#[from] berth_image::reference::ReferenceError),
    /// A mount request is invalid.
    #[error(transparent)]
    Mount(#[from] berth_volume::mount_spec::MountSpecError),
    /// A volume operation failed.
    #[error(transparent)]
    Volume(berth_volume::store::VolumeError),
    /// A `filters` argument the verb does not take.
    #[error(transparent)]
    Filter(#[from] crate::filters::FilterError),
    /// A run configuration (`HostConfig`) that cannot be applied.
    #[error(transparent)]
    RunConfig(#[from] crate::container::runconfig::RunConfigError),
    /// A build request refused (Docker's words).
    #[error(transparent)]
    BuildRequest(#[from] crate::build::BuildRequestError),
    /// A build's RUN step exited non-zero: Docker's text and the exit code.
    #[error("{0}")]
    BuildFailed(String, i32),
    /// A networking request refused (Docker's words).
    #[error(transparent)]
    NetworkRequest(#[from] crate::network::NetworkRequestError),
    /// Networking failed: a published port is taken, the network backend failed...
    #[error(transparent)]
    Network(berth_network::NetworkError),
    /// An I/O failure outside the store.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<berth_store::archive::ArchiveError> for EngineError {
    fn from(e: berth_store::archive::ArchiveError) -> Self {
        EngineError::Store(e.into())
    }
}

impl From<berth_store::mount::MountError> for EngineError {
    fn from(e: berth_store::mount::MountError) -> Self {
        EngineError::Store(e.into())
    }
}

impl From<berth_store::driver::DriverError> for EngineError {
    fn from(e: berth_store::driver::DriverError) -> Self {
        EngineError::Store(e.into())
    }
}

impl EngineError {
    /// The exit code `docker run`/`start` ends with for this error: the start failure's
    /// 126/127, else 125.
    pub fn run_exit_code(&self) -> i32 {
        match self {
            EngineError::StartFailed(f) => f.exit_code,
            EngineError::Process(p) => p.exit_code(),
            _ => 125,
        }
    }

    /// The class of the failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::NoSuchImage(_)
            | EngineError::NoSuchContainer(_)
            | EngineError::NotFound(_) => ErrorKind::NotFound,
            EngineError::StartFailed(_) => ErrorKind::Internal,
            EngineError::Process(e) => e.kind(),
            EngineError::Conflict(_) | EngineError::State(_) => ErrorKind::Conflict,
            EngineError::InvalidArgument(_) | EngineError::Reference(_) => {
                ErrorKind::InvalidArgument
            }
            EngineError::Store(e) => e.kind(),
            EngineError::Meta(e) => e.kind(),
            EngineError::Filter(e) => e.kind(),
            EngineError::RunConfig(e) => e.kind(),
            EngineError::Registry(e) => e.kind(),
            EngineError::Transfer(e) => e.kind(),
            EngineError::Volume(e) => e.kind(),
            EngineError::Network(e) => e.kind(),
            EngineError::NetworkRequest(e) => e.kind(),
            EngineError::BuildRequest(e) => e.kind(),
            EngineError::Mount(e) => e.kind(),
            EngineError::Image(e) => e.kind(),
            EngineError::Load(e) => e.kind(),
            EngineError::Import(berth_image::import::ImportError::Change(_)) => {
                ErrorKind::InvalidArgument
            }
            EngineError::Import(berth_image::import::ImportError::Store(e)) => e.kind(),
            EngineError::Save(_) | EngineError::Io(_) | EngineError::BuildFailed(..) => {
                ErrorKind::Internal
            }
        }
    }
}
