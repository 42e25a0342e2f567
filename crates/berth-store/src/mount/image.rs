//! [`make_ext4`] makes the size-limited filesystems berth puts on loop devices: an ext4
//! filesystem of exactly the asked size in a sparse image file, so writing past the size fails
//! with ENOSPC on any backing filesystem. Its two users are a local volume with `size=` (the
//! image holds the volume's data) and a container layer with `--storage-opt size=` (the image
//! holds the overlay upper and work dirs). Both mount it through [`super::Mounter`] with the
//! `loop` option, whose device clears itself when the mount goes.
//!
//! The filesystem is made by e2fsprogs' `mkfs.ext4` (and `debugfs` to drop `lost+found`): the
//! maintained tools, rather than an ext4 writer of our own.

use std::io;
use std::path::Path;
use std::process::Command;

/// The smallest image `mkfs.ext4` makes a filesystem in (it refuses 64 KiB).
pub const MIN_EXT4_SIZE: u64 = 256 << 10;

/// Making the image failed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Creating or sizing the image file.
    #[error("{path}: {source}")]
    Io {
        /// The image file.
        path: std::path::PathBuf,
        /// The error.
        source: io::Error,
    },
    /// An e2fsprogs tool could not run or failed; the text is its own.
    #[error("{0}")]
    Tool(String),
}

/// What the new filesystem's root holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ext4Root {
    /// Nothing at all (`lost+found` removed: a new volume is empty; e2fsck recreates it if it
    /// ever needs one).
    Empty,
    /// An overlay upper dir `diff` (0755) and its work dir `work` (0700), on one filesystem as
    /// overlay requires.
    OverlayUpper,
}

/// Makes `img` a sparse file of `size` bytes holding a fresh ext4 filesystem (root owned by
/// 0:0, no blocks reserved for root) whose root holds `root`.
pub fn make_ext4(img: &Path, size: u64, root: Ext4Root) -> Result<(), ImageError> {
    let io = |source| ImageError::Io {
        path: img.to_path_buf(),
        source,
    };
    let f = std::fs::File::create(img).map_err(io)?;
    f.set_len(size).map_err(io)?;
    drop(f);
    run(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-m", "0", "-E", "root_owner=0:0"])
            .arg(img),
        "mkfs.ext4",
    )?;
    let script: &[&str] = match root {
        Ext4Root::Empty => &["rmdir lost+found"],
        Ext4Root::OverlayUpper => &[
            "mkdir diff",
            "set_inode_field diff mode 040755",
            "mkdir work",
            "set_inode_field work mode 040700",
        ],
    };
    for cmd in script {
        run(
            Command::new("debugfs").args(["-w", "-R", cmd]).arg(img),
            "debugfs",
        )?;
    }
    Ok(())
}

/// Runs an e2fsprogs tool; its stderr is the error when it fails (debugfs exits 0 after a
/// failed request, so anything on its stderr beyond its banner is a failure too).
fn run(cmd: &mut Command, tool: &str) -> Result<(), ImageError> {
    let out = cmd
        .output()
        .map_err(|e| ImageError::Tool(format!("{tool} (e2fsprogs): {e}")))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let complaint: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("debugfs "))
        .collect();
    if !out.status.success() || (tool == "debugfs" && !complaint.is_empty()) {
        return Err(ImageError::Tool(format!(
            "{tool}: {}",
            complaint.join("; ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(img: &Path, dir: &str) -> String {
        let out = Command::new("debugfs")
            .args(["-R", &format!("ls -l {dir}")])
            .arg(img)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn an_empty_image_has_nothing_in_its_root() {
        let t = tempfile::tempdir().unwrap();
        let img = t.path().join("fs.img");
        make_ext4(&img, 1 << 20, Ext4Root::Empty).unwrap();
        assert_eq!(std::fs::metadata(&img).unwrap().len(), 1 << 20);
        let root = ls(&img, "/");
        assert!(!root.contains("lost+found"), "{root}");
    }

    #[test]
    fn an_upper_image_holds_diff_and_work_with_overlay_modes() {
        let t = tempfile::tempdir().unwrap();
        let img = t.path().join("quota.img");
        make_ext4(&img, 4 << 20, Ext4Root::OverlayUpper).unwrap();
        let root = ls(&img, "/");
        let mode_of = |name: &str| {
            root.lines()
                .find(|l| l.split_whitespace().last() == Some(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .map(str::to_string)
        };
        assert_eq!(mode_of("diff").as_deref(), Some("40755"), "{root}");
        assert_eq!(mode_of("work").as_deref(), Some("40700"), "{root}");
    }

    #[test]
    fn too_small_an_image_fails_with_the_tools_words() {
        let t = tempfile::tempdir().unwrap();
        let e = make_ext4(&t.path().join("x.img"), 16 << 10, Ext4Root::Empty).unwrap_err();
        assert!(e.to_string().starts_with("mkfs.ext4"), "{e}");
    }
}
