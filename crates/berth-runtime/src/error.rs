//! `ProcessError` gathers the errors of this crate's modules for callers that handle them
//! alike; each module's own enum stays the precise one, and every error answers `kind()`.

use berth_store::ErrorKind;

/// Any failure of the runtime layer.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Building or writing the OCI bundle.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),
    /// Resolving `--user` or `--group-add`.
    #[error(transparent)]
    User(#[from] crate::user::UserError),
    /// A runtime (runc) operation.
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    /// The runtime refused to start a process.
    #[error(transparent)]
    Start(#[from] crate::runtime::StartFailure),
    /// Starting, finding or recovering a shim.
    #[error(transparent)]
    Shim(#[from] crate::shim::ShimError),
    /// An attach session.
    #[error(transparent)]
    Attach(#[from] crate::attach::AttachError),
    /// Reading or writing a log.
    #[error(transparent)]
    Log(#[from] crate::logs::LogError),
    /// An exec.
    #[error(transparent)]
    Exec(#[from] crate::exec::ExecError),
}

impl ProcessError {
    /// The error's class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ProcessError::Spec(e) => e.kind(),
            ProcessError::User(e) => e.kind(),
            ProcessError::Runtime(e) => e.kind(),
            ProcessError::Start(_) => ErrorKind::InvalidArgument,
            ProcessError::Shim(e) => e.kind(),
            ProcessError::Attach(e) => e.kind(),
            ProcessError::Log(e) => e.kind(),
            ProcessError::Exec(e) => e.kind(),
        }
    }

    /// The exit code `docker run`/`docker exec` would end with for this error: the start
    /// failure's own code (125, 126, 127) or 125 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProcessError::Start(f)
            | ProcessError::Attach(crate::attach::AttachError::StartFailed(f))
            | ProcessError::Exec(crate::exec::ExecError::Start(f)) => f.exit_code,
            _ => 125,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_exit_codes() {
        let e: ProcessError = crate::user::UserError::NoUser("x".into()).into();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert_eq!(e.exit_code(), 125);
        assert_eq!(
            e.to_string(),
            "unable to find user x: no matching entries in passwd file"
        );
        let e: ProcessError =
            crate::runtime::StartFailure::create("exec: \"x\": executable file not found in $PATH")
                .into();
        assert_eq!(e.exit_code(), 127);
    }
}
