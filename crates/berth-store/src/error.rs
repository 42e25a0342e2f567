//! [`ErrorKind`] classifies every berth error the way Docker's `errdefs` does, so that the CLI picks
//! an exit code and the API server an HTTP status from one place, whatever crate raised the error.

/// The class of a failure, independent of where it was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The named object does not exist (HTTP 404).
    NotFound,
    /// The request conflicts with existing state, e.g. a name already in use (HTTP 409).
    Conflict,
    /// The object is referenced by something else and cannot be removed (HTTP 409).
    InUse,
    /// The request itself is malformed (HTTP 400).
    InvalidArgument,
    /// The operation is not allowed in the object's current state (HTTP 409).
    NotAllowed,
    /// The credentials given were refused (a registry login; HTTP 401).
    Unauthorized,
    /// Anything else: I/O failures, database failures, bugs (HTTP 500).
    Internal,
    /// The object cannot do this at all, e.g. read the log of the `none` log driver (HTTP 501).
    NotImplemented,
}

impl ErrorKind {
    /// The HTTP status Docker's API uses for this class: the one table of them (the API's
    /// `ApiError` takes every status from here). The CLI's exit code does not depend on the
    /// class, as the docker CLI's does not: 1 for a failed command, 125 for `run`/`create`
    /// (126/127 when the container's command cannot start), in `berth-cli`'s `Exit`.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict | ErrorKind::InUse | ErrorKind::NotAllowed => 409,
            ErrorKind::InvalidArgument => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Internal => 500,
            ErrorKind::NotImplemented => 501,
        }
    }
}
