//! API versions: a request's path may start with `/vX.Y`; without it the server's newest version
//! applies. Versions outside [`MIN`]..=[`MAX`] are refused with Docker's words (HTTP 400).

use berth_engine::io::ApiVersion;

/// The oldest version served: Docker 20.10's minimum (the shapes that differ by version are in
/// `compat`).
pub const MIN: ApiVersion = ApiVersion::new(1, 12);
/// The newest version served: Docker 24's. Its rules (prune keeps named volumes unless
/// `all=true`, anonymous volumes labelled) are the ones the engine implements.
pub const MAX: ApiVersion = ApiVersion::new(1, 43);

/// Splits `/v1.41/volumes` into the version and the rest (`/volumes`); a path without a
/// version prefix gets [`MAX`]. Errors are the message of a 400 answer.
pub fn split(path: &str) -> Result<(ApiVersion, &str), String> {
    let Some(rest) = path.strip_prefix("/v") else {
        return Ok((MAX, path));
    };
    let (number, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let Ok(v) = number.parse::<ApiVersion>() else {
        // Not a version after all (`/volumes` starts with "/v").
        return Ok((MAX, path));
    };
    if v > MAX {
        return Err(format!(
            "client version {v} is too new. Maximum supported API version is {MAX}"
        ));
    }
    if v < MIN {
        return Err(format!(
            "client version {v} is too old. Minimum supported API version is {MIN}, please upgrade your client to a newer version"
        ));
    }
    Ok((v, tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_select_a_version_and_bad_ones_read_like_docker() {
        assert_eq!(
            split("/v1.41/volumes").unwrap(),
            (ApiVersion::V1_41, "/volumes")
        );
        assert_eq!(split("/volumes").unwrap(), (MAX, "/volumes"));
        assert_eq!(split("/_ping").unwrap(), (MAX, "/_ping"));
        assert_eq!(split("/v1.43/_ping").unwrap(), (MAX, "/_ping"));
        assert_eq!(
            split("/v1.44/volumes").unwrap_err(),
            "client version 1.44 is too new. Maximum supported API version is 1.43"
        );
        assert_eq!(
            split("/v1.12/volumes").unwrap(),
            (ApiVersion::new(1, 12), "/volumes")
        );
        assert!(split("/v1.11/volumes")
            .unwrap_err()
            .starts_with("client version 1.11 is too old. Minimum supported API version is 1.12"));
    }
}
