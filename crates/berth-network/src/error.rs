//! [`NetworkError`] is every failure of this crate. Texts a user can meet are Docker's (the
//! `-p` parser's, the port allocator's, the daemon's network messages); [`NetworkError::kind`]
//! classifies them for exit codes and HTTP statuses.

use std::path::PathBuf;

use berth_store::ErrorKind;

/// A failure to parse, plan, set up or tear down a container's networking.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A malformed request; the text is Docker's full message.
    #[error("{0}")]
    InvalidArgument(String),
    /// Something named does not exist; the text is Docker's full message.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with existing state; the text is Docker's full message.
    #[error("{0}")]
    Conflict(String),
    /// A host port a container publishes is taken by another process (Docker's userland-proxy
    /// wording) or another container (Docker's port-allocator wording).
    #[error("driver failed programming external connectivity on endpoint {endpoint} ({endpoint_id}): {reason}")]
    PortUnavailable {
        /// The container's name.
        endpoint: String,
        /// The endpoint's ID.
        endpoint_id: String,
        /// `Bind for 0.0.0.0:80 failed: port is already allocated`, or the bind error.
        reason: String,
    },
    /// A tool berth drives is not installed.
    #[error("{tool} is not installed (looked for {looked}); berth needs it for {purpose}: apt-get install {package}")]
    MissingTool {
        /// The program.
        tool: &'static str,
        /// Where berth looked.
        looked: String,
        /// What it is needed for.
        purpose: &'static str,
        /// The Debian package that provides it.
        package: &'static str,
    },
    /// The network backend refused or failed.
    #[error("{backend} {op}: {message}")]
    Backend {
        /// `netavark`.
        backend: &'static str,
        /// `setup` or `teardown`.
        op: &'static str,
        /// What it said.
        message: String,
    },
    /// A file or system call failed.
    #[error("{what} {}: {source}", .path.display())]
    Io {
        /// What berth was doing.
        what: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl NetworkError {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NetworkError::Io {
            what,
            path: path.into(),
            source,
        }
    }

    /// The error's class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            NetworkError::InvalidArgument(_) => ErrorKind::InvalidArgument,
            NetworkError::NotFound(_) => ErrorKind::NotFound,
            NetworkError::Conflict(_) => ErrorKind::Conflict,
            NetworkError::PortUnavailable { .. }
            | NetworkError::MissingTool { .. }
            | NetworkError::Backend { .. }
            | NetworkError::Io { .. } => ErrorKind::Internal,
        }
    }
}
