//! [`EngineError`] is every failure the engine reports. Its `Display` is the text Docker's daemon
//! would send (`No such image: busybox:latest`, `conflict: unable to delete ...`), and [`kind`]
//! classifies it so the CLI picks an exit code and the API an HTTP status in one place.
//!
//! [`kind`]: EngineError::kind

pub use berth_store::ErrorKind;

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
    /// A search refused before the index is asked.
    #[error(transparent)]
    Search(#[from] crate::image::SearchRequestError),
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
    /// A create request refused.
    #[error(transparent)]
    Create(#[from] crate::container::CreateError),
    /// A `Healthcheck` refused.
    #[error(transparent)]
    Healthcheck(#[from] crate::container::health::HealthcheckError),
    /// A container name or ID refused.
    #[error(transparent)]
    Name(#[from] crate::container::NameError),
    /// An exec request refused.
    #[error(transparent)]
    ExecRequest(#[from] crate::container::ExecRequestError),
    /// A kill refused before the state is read.
    #[error(transparent)]
    Kill(#[from] crate::container::KillError),
    /// A path in a container refused (`cp`, archive).
    #[error(transparent)]
    ContainerPath(#[from] crate::container::ContainerPathError),
    /// `ps` failed for `top`.
    #[error(transparent)]
    Top(#[from] crate::container::TopError),
    /// A mount the rootfs or host cannot take.
    #[error(transparent)]
    MountPoint(#[from] crate::container::MountPointError),
    /// An image `rmi` must not delete.
    #[error(transparent)]
    ImageRemove(#[from] crate::image::ImageRemoveError),
    /// A volume request refused.
    #[error(transparent)]
    VolumeRequest(#[from] crate::volume::VolumeRequestError),
    /// What a remapped container cannot have.
    #[error(transparent)]
    Remap(#[from] crate::userns::RemapError),
    /// The engine's configuration refused.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// An events window whose `since` is after its `until`.
    #[error(transparent)]
    EventWindow(#[from] crate::events::EventWindowError),
    /// A layer an image or container names is not in the store.
    #[error("layer {0} is missing")]
    MissingLayer(String),
    /// No plugin by that name (dockerd's words).
    #[error("plugin {0:?} not found")]
    NoSuchPlugin(String),
    /// A `wait` whose caller went away.
    #[error("the wait was abandoned")]
    WaitAbandoned,
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
            | EngineError::MissingLayer(_)
            | EngineError::NoSuchPlugin(_) => ErrorKind::NotFound,
            EngineError::Create(e) => e.kind(),
            EngineError::Name(e) => e.kind(),
            EngineError::ExecRequest(e) => e.kind(),
            EngineError::Kill(e) => e.kind(),
            EngineError::ContainerPath(e) => e.kind(),
            EngineError::VolumeRequest(e) => e.kind(),
            EngineError::ImageRemove(_) | EngineError::WaitAbandoned => ErrorKind::Conflict,
            EngineError::Healthcheck(_)
            | EngineError::Top(_)
            | EngineError::MountPoint(_)
            | EngineError::Remap(_)
            | EngineError::Config(_)
            | EngineError::Search(_)
            | EngineError::EventWindow(_) => ErrorKind::InvalidArgument,
            EngineError::StartFailed(_) => ErrorKind::Internal,
            EngineError::Process(e) => e.kind(),
            EngineError::State(_) => ErrorKind::Conflict,
            EngineError::Reference(_) => ErrorKind::InvalidArgument,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{
        ContainerPathError, CreateError, ExecRequestError, KillError, NameError,
    };

    /// The typed refusals that replaced `Conflict`/`InvalidArgument`/`NotFound` strings keep
    /// dockerd's words byte for byte and the class (HTTP status) the strings had.
    #[test]
    fn name_and_create_refusals_keep_dockers_words() {
        let cases: Vec<(EngineError, &str, u16)> = vec![
            (
                NameError::InUse {
                    name: "web".into(),
                    owner: "abc".into(),
                }
                .into(),
                "Conflict. The container name \"/web\" is already in use by container \"abc\". You have to remove (or rename) that container to be able to reuse that name.",
                409,
            ),
            (
                NameError::RenameTaken(Box::new(NameError::InUse {
                    name: "b".into(),
                    owner: "c".into(),
                }))
                .into(),
                "Error when allocating new name: Conflict. The container name \"/b\" is already in use by container \"c\". You have to remove (or rename) that container to be able to reuse that name.",
                409,
            ),
            (
                CreateError::PlatformMismatch {
                    image: "busybox".into(),
                    wanted: "linux/arm64".into(),
                    actual: "linux/amd64".into(),
                }
                .into(),
                "image with reference busybox was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64",
                404,
            ),
            (
                CreateError::RetryCountWithPolicy("always".into()).into(),
                "maximum retry count cannot be used with restart policy 'always'",
                400,
            ),
        ];
        check(cases);
    }

    #[test]
    fn exec_kill_cp_rmi_filter_and_plugin_refusals_keep_dockers_words() {
        let cases: Vec<(EngineError, &str, u16)> = vec![
            (
                ExecRequestError::AlreadyRun("e1".into()).into(),
                "Error: Exec command e1 has already run",
                409,
            ),
            (
                ExecRequestError::NoSuchExec("e1".into()).into(),
                "No such exec instance: e1",
                404,
            ),
            (
                KillError::NoSuchContainer("web".into()).into(),
                "Cannot kill container: web: No such container: web",
                404,
            ),
            (
                ContainerPathError::NotFound {
                    path: "/x".into(),
                    name: "web".into(),
                }
                .into(),
                "Could not find the file /x in container web",
                404,
            ),
            (
                ContainerPathError::ReadOnlyRootfs.into(),
                "container rootfs is marked read-only",
                409,
            ),
            (
                crate::image::ImageRemoveError::HasChildren("0123456789ab".into()).into(),
                "conflict: unable to delete 0123456789ab (cannot be forced) - image has dependent child images",
                409,
            ),
            (
                crate::filters::FilterError::NotAnInteger("x".into()).into(),
                "strconv.Atoi: parsing \"x\": invalid syntax",
                400,
            ),
            (
                crate::filters::FilterError::NoSuchContainer("web".into()).into(),
                "no such container web",
                404,
            ),
            (
                crate::events::check_window(("2", Some(2)), ("1", Some(1)))
                    .unwrap_err()
                    .into(),
                "`since` time (2) cannot be after `until` time (1)",
                400,
            ),
            (EngineError::WaitAbandoned, "the wait was abandoned", 409),
            (
                EngineError::NoSuchPlugin("p".into()),
                "plugin \"p\" not found",
                404,
            ),
        ];
        check(cases);
    }

    fn check(cases: Vec<(EngineError, &str, u16)>) {
        for (e, text, status) in cases {
            assert_eq!(e.to_string(), text);
            assert_eq!(e.kind().http_status(), status, "{text}");
        }
    }
}
