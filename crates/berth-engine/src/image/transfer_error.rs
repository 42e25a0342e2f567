//! [`TransferError`]: what `pull` and `push` refuse or find wrong on the engine's side (the
//! registry's own failures are [`berth_registry::RegistryError`]), in Docker's words.

use berth_store::ErrorKind;

/// A pull or push refused, or an image from a registry that does not hold together.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// `--platform` does not parse (the parser's words).
    #[error("{0}")]
    InvalidPlatform(String),
    /// `pull -a` / `push -a` with a tag.
    #[error("tag can't be used with --all-tags/-a")]
    TagWithAllTags,
    /// `push NAME@DIGEST`.
    #[error("cannot push a digest reference: {0}")]
    PushDigest(String),
    /// `push` of a name no local image has.
    #[error("An image does not exist locally with the tag: {0}")]
    NoLocalTag(String),
    /// The image config a registry served does not parse.
    #[error("invalid image config of {image}: {reason}")]
    InvalidConfig {
        /// The image, in familiar form.
        image: String,
        /// The parser's words.
        reason: String,
    },
    /// The image found is for another platform than `--platform` asked for.
    #[error("image with reference {image} was found but does not match the specified platform: wanted {wanted}, actual: {actual}")]
    PlatformMismatch {
        /// The image, in familiar form.
        image: String,
        /// The platform asked for.
        wanted: String,
        /// The image's platform.
        actual: String,
    },
    /// The manifest and the config disagree on the number of layers.
    #[error("invalid image {image}: its manifest lists {layers} layers but its config {diff_ids}")]
    LayerCountMismatch {
        /// The image, in familiar form.
        image: String,
        /// Layers in the manifest.
        layers: usize,
        /// Diff IDs in the config.
        diff_ids: usize,
    },
    /// A digest in a manifest or descriptor that does not parse.
    #[error("invalid digest {digest:?}: {reason}")]
    BadDigest {
        /// The digest as written.
        digest: String,
        /// The parser's words.
        reason: String,
    },
    /// An entry of a manifest list that is itself a list.
    #[error("{0}: a manifest list entry is itself a list")]
    NestedIndex(String),
    /// A layer whose content is not the diff ID its config announces.
    #[error("layer {blob} unpacked to {actual}, not the {expected} its image config announces")]
    DiffIdMismatch {
        /// The blob digest.
        blob: String,
        /// What it unpacked to.
        actual: String,
        /// What the config says.
        expected: String,
    },
    /// A blob longer than its descriptor says.
    #[error("blob {digest} is larger than the {size} bytes its manifest says")]
    BlobTooLarge {
        /// The blob digest.
        digest: String,
        /// The size in the manifest.
        size: u64,
    },
    /// A registry that answered a plain upload request with a mount.
    #[error("the registry answered an upload with a mount")]
    UnexpectedMount,
}

impl TransferError {
    /// The class of the failure (HTTP status, CLI exit code).
    pub fn kind(&self) -> ErrorKind {
        match self {
            TransferError::NoLocalTag(_) => ErrorKind::NotFound,
            TransferError::UnexpectedMount => ErrorKind::Internal,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_like_dockers() {
        assert_eq!(
            TransferError::TagWithAllTags.to_string(),
            "tag can't be used with --all-tags/-a"
        );
        let e = TransferError::NoLocalTag("reg/app".into());
        assert_eq!(
            e.to_string(),
            "An image does not exist locally with the tag: reg/app"
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = TransferError::PlatformMismatch {
            image: "a:1".into(),
            wanted: "linux/arm64".into(),
            actual: "linux/amd64".into(),
        };
        assert_eq!(e.to_string(), "image with reference a:1 was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
}
