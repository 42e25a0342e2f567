//! [`validate_volume_name`] checks a name against the local driver's rule
//! (`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`) and fails with [`VolumeNameError`], whose text is Docker's
//! `create <name>: …` message; mount parsing and the volume store share it.

use berth_store::ErrorKind;

use berth_go as go;

/// The characters a local volume name may use, as Docker prints them.
pub const RESTRICTED_NAME_CHARS: &str = "[a-zA-Z0-9][a-zA-Z0-9_.-]";

/// A name the local volume driver refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolumeNameError {
    /// A one-byte name.
    #[error("{}: volume name is too short, names should be at least two alphanumeric characters", op(.0))]
    TooShort(String),
    /// A name outside `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (including absolute paths given as volume
    /// sources).
    #[error(
        "{op}: {quoted} includes invalid characters for a local volume name, only {chars} are allowed. If you intended to pass a host directory, use absolute path",
        op = op(.0),
        quoted = go::quote(.0),
        chars = go::quote(RESTRICTED_NAME_CHARS)
    )]
    InvalidCharacters(String),
}

/// Docker's `OpErr` prefix: `create <name>`, or `create` alone for an empty name.
fn op(name: &str) -> String {
    if name.is_empty() {
        "create".to_string()
    } else {
        format!("create {name}")
    }
}

impl VolumeNameError {
    /// Always [`ErrorKind::InvalidArgument`] (HTTP 400).
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }

    /// The rejected name.
    pub fn name(&self) -> &str {
        match self {
            VolumeNameError::TooShort(name) | VolumeNameError::InvalidCharacters(name) => name,
        }
    }
}

/// Checks `name` against the local driver's naming rule. The length rule counts bytes, like
/// Docker's `len(name) == 1`.
pub fn validate_volume_name(name: &str) -> Result<(), VolumeNameError> {
    if name.len() == 1 {
        return Err(VolumeNameError::TooShort(name.to_string()));
    }
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    let rest_ok = name.len() >= 2
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(VolumeNameError::InvalidCharacters(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for name in ["ab", "spec-a", "a.b_c-d", "0x", "A1", &"x".repeat(300)] {
            assert_eq!(validate_volume_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn too_short() {
        let err = validate_volume_name("a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "create a: volume name is too short, names should be at least two alphanumeric characters"
        );
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(matches!(
            validate_volume_name("/"),
            Err(VolumeNameError::TooShort(_))
        ));
    }

    #[test]
    fn invalid_characters() {
        assert_eq!(
            validate_volume_name("spec v").unwrap_err().to_string(),
            r#"create spec v: "spec v" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path"#
        );
        for name in [
            "spec/v", ".spec", "spec@x", "/abs", "src/", "~/x", "é", "-ab", "", "a\n",
        ] {
            let err = validate_volume_name(name).unwrap_err();
            assert!(
                matches!(err, VolumeNameError::InvalidCharacters(_)),
                "{name}"
            );
            assert_eq!(err.name(), name);
        }
        assert_eq!(
            validate_volume_name("/abs").unwrap_err().to_string(),
            r#"create /abs: "/abs" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path"#
        );
    }
}
