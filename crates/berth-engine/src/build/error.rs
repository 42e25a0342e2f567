//! [`BuildRequestError`]: what the engine refuses of a `docker build` before or around the
//! builder — a context that is missing, not a directory or unreadable, a Dockerfile that cannot
//! be found or is empty, and the builder's own refusals — with Docker's words and a class
//! ([`BuildRequestError::kind`]). A RUN step that fails is `EngineError::BuildFailed` (its exit
//! code matters), and failures underneath (storage, runtime) keep their own errors.

use berth_build::builder::BuildError;
use berth_build::context::ContextError;
#[cfg(test)]
use berth_build::refusal::Missing;
use berth_store::ErrorKind;

/// A build request refused.
#[derive(Debug, thiserror::Error)]
pub enum BuildRequestError {
    /// The context directory cannot be read.
    #[error("unable to prepare context: path {path:?} not found: {source}")]
    ContextMissing {
        /// The path as given.
        path: String,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// The context is a file, not a directory.
    #[error("unable to prepare context: context must be a directory: {0}")]
    ContextNotDir(String),
    /// The context directory cannot be walked, or its `.dockerignore` read.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// The context tar cannot be unpacked.
    #[error("unable to read the build context: {0}")]
    UnreadableContext(berth_store::archive::ArchiveError),
    /// No Dockerfile by that name in the context.
    #[error("Cannot locate specified Dockerfile: {0}")]
    NoDockerfile(String),
    /// An empty Dockerfile.
    #[error("the Dockerfile ({0}) cannot be empty")]
    EmptyDockerfile(String),
    /// A layer the scratch layer builds on is gone.
    #[error("layer {0} is missing")]
    MissingLayer(String),
    /// The builder refused the Dockerfile or an argument, or something it needs is missing.
    #[error(transparent)]
    Builder(BuildError),
}

impl BuildRequestError {
    /// The class of the refusal (HTTP status, CLI exit code).
    pub fn kind(&self) -> ErrorKind {
        match self {
            BuildRequestError::MissingLayer(_)
            | BuildRequestError::Builder(BuildError::NotFound(_)) => ErrorKind::NotFound,
            BuildRequestError::Builder(BuildError::Failed { .. } | BuildError::Backend(_)) => {
                ErrorKind::Internal
            }
            BuildRequestError::ContextMissing { .. }
            | BuildRequestError::ContextNotDir(_)
            | BuildRequestError::Context(_)
            | BuildRequestError::UnreadableContext(_)
            | BuildRequestError::NoDockerfile(_)
            | BuildRequestError::EmptyDockerfile(_)
            | BuildRequestError::Builder(BuildError::Invalid(_)) => ErrorKind::InvalidArgument,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_classes_are_dockers() {
        let cases = [
            (
                BuildRequestError::ContextNotDir("/ctx/file".into()),
                "unable to prepare context: context must be a directory: /ctx/file",
                ErrorKind::InvalidArgument,
            ),
            (
                BuildRequestError::NoDockerfile("Dockerfile.x".into()),
                "Cannot locate specified Dockerfile: Dockerfile.x",
                ErrorKind::InvalidArgument,
            ),
            (
                BuildRequestError::EmptyDockerfile("Dockerfile".into()),
                "the Dockerfile (Dockerfile) cannot be empty",
                ErrorKind::InvalidArgument,
            ),
            (
                BuildRequestError::Builder(Missing::Image("busybox".into()).into()),
                "No such image: busybox",
                ErrorKind::NotFound,
            ),
        ];
        for (e, text, kind) in cases {
            assert_eq!((e.to_string().as_str(), e.kind()), (text, kind));
        }
    }
}
