//! Container names: validation with Docker's rule and text, and generated `adjective_surname`
//! names for containers created without `--name`. The word lists are berth's own. A name
//! refused is a [`NameError`].

use crate::EngineError;

/// A container name or ID refused, in dockerd's words.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    /// A name outside Docker's pattern.
    #[error("Invalid container name ({0}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    Invalid(String),
    /// An ID prefix that several containers share.
    #[error("Multiple IDs found with provided prefix: {0}")]
    AmbiguousPrefix(String),
    /// A name another container has (409).
    #[error("Conflict. The container name \"/{name}\" is already in use by container \"{owner}\". You have to remove (or rename) that container to be able to reuse that name.")]
    InUse {
        /// The name, without its `/`.
        name: String,
        /// The ID of the container that has it.
        owner: String,
    },
    /// `rename` to a name another container has (409).
    #[error("Error when allocating new name: {0}")]
    RenameTaken(Box<NameError>),
    /// `rename` to the name the container has.
    #[error("Renaming a container with the same name as its current name")]
    RenameSame,
    /// `rm --link` of a container's own name, which is no link (409).
    #[error("Conflict, cannot remove the default link name of the container")]
    DefaultLinkName,
}

impl NameError {
    /// The class of the refusal.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            NameError::InUse { .. } | NameError::RenameTaken(_) | NameError::DefaultLinkName => {
                berth_store::ErrorKind::Conflict
            }
            _ => berth_store::ErrorKind::InvalidArgument,
        }
    }
}

const ADJECTIVES: &[&str] = &[
    "agile", "amber", "ancient", "bold", "brave", "bright", "brisk", "calm", "candid", "careful",
    "cheerful", "clever", "cosmic", "crisp", "curious", "daring", "deft", "eager", "earnest",
    "elated", "fearless", "fervent", "fond", "gallant", "gentle", "gifted", "golden", "hardy",
    "humble", "jolly", "keen", "kind", "lively", "loyal", "lucid", "merry", "modest", "nimble",
    "noble", "patient", "placid", "plucky", "polite", "proud", "quiet", "radiant", "rapid",
    "serene", "sharp", "silent", "sleek", "steady", "stoic", "sturdy", "swift", "tender", "tidy",
    "upbeat", "vivid", "warm", "wise", "witty", "zealous",
];

const SURNAMES: &[&str] = &[
    "agnesi",
    "archimedes",
    "babbage",
    "banach",
    "bernoulli",
    "bohr",
    "boole",
    "cantor",
    "cauchy",
    "cayley",
    "chebyshev",
    "copernicus",
    "curie",
    "darwin",
    "dedekind",
    "descartes",
    "dirac",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "fourier",
    "galileo",
    "galois",
    "gauss",
    "germain",
    "goedel",
    "hamilton",
    "hardy",
    "hilbert",
    "hopper",
    "huygens",
    "hypatia",
    "jacobi",
    "joule",
    "kelvin",
    "kepler",
    "kolmogorov",
    "lagrange",
    "laplace",
    "leibniz",
    "lovelace",
    "markov",
    "maxwell",
    "meitner",
    "mendel",
    "minkowski",
    "napier",
    "newton",
    "noether",
    "ohm",
    "pascal",
    "pauli",
    "planck",
    "poincare",
    "ramanujan",
    "riemann",
    "shannon",
    "somerville",
    "tesla",
    "turing",
    "volta",
    "weierstrass",
    "wiles",
];

/// Checks a user-given name (a leading `/` is allowed and dropped).
pub fn validate(name: &str) -> Result<String, EngineError> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut chars = bare.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && bare.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        return Err(NameError::Invalid(name.to_string()).into());
    }
    Ok(bare.to_string())
}

/// A random `adjective_surname`, with a digit appended after the first `retry` collisions.
pub fn generate(retry: usize) -> String {
    let mut b = [0u8; 3];
    getrandom::fill(&mut b).expect("the kernel's random source is available");
    let name = format!(
        "{}_{}",
        ADJECTIVES[b[0] as usize % ADJECTIVES.len()],
        SURNAMES[b[1] as usize % SURNAMES.len()]
    );
    if retry > 0 {
        format!("{name}{}", b[2] % 10)
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_docker_rules() {
        assert_eq!(validate("/web").unwrap(), "web");
        assert_eq!(validate("a.b_c-1").unwrap(), "a.b_c-1");
        for bad in ["a", "-x", "x y", "x/y", ""] {
            let e = validate(bad).unwrap_err().to_string();
            assert_eq!(
                e,
                format!(
                    "Invalid container name ({bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )
            );
        }
        let g = generate(0);
        assert!(validate(&g).is_ok(), "{g}");
        assert!(g.contains('_'));
    }
}
