//! [`apply_tar`] is the body of the `apply_tar` fuzz target (`fuzz/fuzz_targets/apply_tar.rs`):
//! arbitrary bytes are extracted as a tar, in both whiteout modes, into a fresh root inside a
//! [`Sandbox`], and the extraction must end (success or a typed error) without panicking,
//! without touching anything outside the root, and within a time bound that does not grow with
//! the square of the input (the deep-path tars of the seed corpus once took minutes and
//! gigabytes). It lives in the library so that a stable `#[test]` runs it over the seed corpus
//! (`fuzz/corpus/apply_tar`) where `cargo fuzz` (nightly) is unavailable.

use std::time::{Duration, Instant};

use super::hostile::Sandbox;
use super::{apply_tar as apply, ApplyOptions, ArchiveError, WhiteoutMode};

/// The longest one extraction of a fuzz input may take (inputs are at most a few MiB).
const TIME_BOUND: Duration = Duration::from_secs(20);

/// Extracts `data` as a tar in both whiteout modes and checks the invariants; panics on a
/// violation.
pub fn apply_tar(data: &[u8]) {
    for whiteouts in [WhiteoutMode::Overlay, WhiteoutMode::Delete] {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).expect("the root");
        let sandbox = Sandbox::around(&root).expect("the sandbox");
        let opts = ApplyOptions {
            no_overwrite_dir_non_dir: false,
            skip_devices: false,
            whiteouts,
            root_metadata: true,
            owner: None,
        };
        let started = Instant::now();
        let result = apply(data, &root, &opts);
        let took = started.elapsed();
        assert!(
            took < TIME_BOUND,
            "{whiteouts:?}: extracting {} bytes took {took:?}",
            data.len()
        );
        if let Err(e) = &result {
            // Every failure is one of the typed ones, with a message of bounded length.
            assert!(
                matches!(
                    e,
                    ArchiveError::Io { .. }
                        | ArchiveError::Escape { .. }
                        | ArchiveError::Invalid(_)
                        | ArchiveError::PathTooLong { .. }
                ),
                "{e:?}"
            );
            assert!(
                e.to_string().len() < 16 << 10,
                "a {} byte message",
                e.to_string().len()
            );
        }
        if let Err(diffs) = sandbox.check() {
            panic!("{whiteouts:?}: the extraction changed things outside the root: {diffs}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/apply_tar")
    }

    /// The seed corpus, including a file 32,768 directories deep (a 64 KiB name) and names
    /// longer than a component or a path may be: each is refused or extracted quickly.
    #[test]
    fn seed_corpus_runs_clean() {
        let mut count = 0;
        for entry in std::fs::read_dir(corpus_dir()).expect("fuzz/corpus/apply_tar exists") {
            let path = entry.unwrap().path();
            apply_tar(&std::fs::read(&path).unwrap());
            count += 1;
        }
        assert!(count >= 5, "seed corpus has {count} files");
    }
}
