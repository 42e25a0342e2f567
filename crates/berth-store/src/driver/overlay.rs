//! [`OverlayDriver`] lays layers out like Docker's overlay2 under `<root>/layers`:
//!
//! ```text
//! <id>/diff      the layer's own files (an image layer's content, or a container's upper dir)
//! <id>/link      the layer's short name, e.g. 6Z4M2QH0V7J1W3XK8R5B9N2C4D
//! <id>/lower     its ancestors as short links, top-most first: l/AAA:l/BBB
//! <id>/work      overlay's work dir (layers with a parent)
//! <id>/merged    where the union is mounted (layers with a parent)
//! l/<short>  →   ../<id>/diff
//! ```
//!
//! The short links keep the mount data of a deep image under one page (`lowerdir=l/A:l/B:...`
//! with paths relative to `<root>/layers`), so a 120-layer image still mounts; the returned
//! [`Mount`] then carries `cwd`. Changes and layer tars are read straight from the upper dir
//! ("native diff"): whiteouts are char devices 0:0, opaque dirs carry `trusted.overlay.opaque=y`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{io_err, DriverError, GraphDriver, Rootfs};
use crate::archive::{self, WhiteoutMode};
use crate::fsutil;
use crate::mount::Mount;

/// Options every overlay mount gets: no inode index (lower layers are shared between many
/// mounts) and no metadata-only copy-up (a chmod copies the whole file, as Docker's spec shows).
const BASE_OPTIONS: &str = "index=off,metacopy=off";

/// The mount data must fit in one page, or the kernel truncates it.
const PAGE_SIZE: usize = 4096;

/// The overlay graph driver.
#[derive(Debug)]
pub struct OverlayDriver {
    root: PathBuf,
}

impl OverlayDriver {
    /// Opens the driver over `root` (created if missing).
    pub fn open(root: &Path) -> std::io::Result<OverlayDriver> {
        std::fs::create_dir_all(root.join("l"))?;
        Ok(OverlayDriver {
            root: root.to_path_buf(),
        })
    }

    fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Short links of the layer's ancestors, top-most first (`l/XXXX` relative to the root).
    fn lowers(&self, id: &str) -> Result<Vec<String>, DriverError> {
        let p = self.dir(id).join("lower");
        match std::fs::read_to_string(&p) {
            Ok(s) => Ok(s
                .trim()
                .split(':')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_err(&p)(e)),
        }
    }

    fn link(&self, id: &str) -> Result<String, DriverError> {
        let p = self.dir(id).join("link");
        std::fs::read_to_string(&p)
            .map(|s| s.trim().to_string())
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    DriverError::NoSuchLayer(id.to_string())
                } else {
                    io_err(&p)(e)
                }
            })
    }

    /// Absolute diff dirs of the layer's ancestors, top-most first.
    fn lower_dirs(&self, id: &str) -> Result<Vec<PathBuf>, DriverError> {
        Ok(self
            .lowers(id)?
            .iter()
            .map(|l| {
                let link = self.root.join(l);
                // l/<short> → ../<id>/diff; resolve so reports show real paths like Docker's.
                std::fs::read_link(&link)
                    .map(|t| self.root.join("l").join(t))
                    .map(|p| normalize(&p))
                    .unwrap_or(link)
            })
            .collect())
    }
}

/// Lexically removes `..` and `.` components (the paths are ours, not user input).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A random 26-character short name, like Docker's `l/` links.
fn short_name() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = [0u8; 26];
    getrandom::fill(&mut bytes).expect("the kernel's random source is available");
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

impl GraphDriver for OverlayDriver {
    fn name(&self) -> &'static str {
        "overlay2"
    }

    fn whiteout_mode(&self) -> WhiteoutMode {
        WhiteoutMode::Overlay
    }

    fn create(&self, id: &str, parent: Option<&str>) -> Result<(), DriverError> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = self.dir(id);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(io_err(&dir))?;
        let diff = dir.join("diff");
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(&diff)
            .map_err(io_err(&diff))?;
        let short = short_name();
        let link_file = dir.join("link");
        std::fs::write(&link_file, &short).map_err(io_err(&link_file))?;
        let l = self.root.join("l").join(&short);
        std::os::unix::fs::symlink(format!("../{id}/diff"), &l).map_err(io_err(&l))?;
        if let Some(parent) = parent {
            let mut lower = vec![format!("l/{}", self.link(parent)?)];
            lower.extend(self.lowers(parent)?);
            let lower_file = dir.join("lower");
            std::fs::write(&lower_file, lower.join(":")).map_err(io_err(&lower_file))?;
            let work = dir.join("work");
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&work)
                .map_err(io_err(&work))?;
        }
        let merged = dir.join("merged");
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&merged)
            .map_err(io_err(&merged))?;
        Ok(())
    }

    fn remove(&self, id: &str) -> Result<(), DriverError> {
        let dir = self.dir(id);
        if let Ok(short) = self.link(id) {
            if !short.is_empty() && !short.contains('/') {
                let l = self.root.join("l").join(short);
                let _ = std::fs::remove_file(l);
            }
        }
        fsutil::remove_tree(&dir).map_err(io_err(&dir))
    }

    fn apply_dir(&self, id: &str) -> PathBuf {
        self.dir(id).join("diff")
    }

    fn rootfs(&self, id: &str, writable: bool) -> Result<Rootfs, DriverError> {
        let dir = self.dir(id);
        let own = self.link(id)?;
        let lowers = self.lowers(id)?;
        let merged = dir.join("merged");
        if lowers.is_empty() {
            // A base layer alone: a read-only bind of its diff is the whole tree.
            return Ok(Rootfs {
                path: merged,
                mounts: vec![Mount::bind(
                    dir.join("diff").to_string_lossy(),
                    false,
                    !writable,
                )],
            });
        }
        let (lower_list, upper) = if writable {
            (lowers, Some(id))
        } else {
            let mut all = vec![format!("l/{own}")];
            all.extend(lowers);
            (all, None)
        };
        let relative = |root: &str| -> String {
            let lowerdir = lower_list
                .iter()
                .map(|l| format!("{root}{l}"))
                .collect::<Vec<_>>()
                .join(":");
            let mut data = format!("{BASE_OPTIONS},lowerdir={lowerdir}");
            if let Some(up) = upper {
                data.push_str(&format!(
                    ",upperdir={root}{up}/diff,workdir={root}{up}/work"
                ));
            }
            data
        };
        let absolute = relative(&format!("{}/", self.root.display()));
        let (data, cwd) = if absolute.len() < PAGE_SIZE {
            (absolute, None)
        } else {
            (relative(""), Some(self.root.clone()))
        };
        Ok(Rootfs {
            path: merged,
            mounts: vec![Mount {
                fstype: "overlay".into(),
                source: "overlay".into(),
                options: vec![data],
                cwd,
            }],
        })
    }

    fn changes(
        &self,
        id: &str,
        _parent: Option<&str>,
    ) -> Result<Vec<archive::Change>, DriverError> {
        Ok(archive::overlay_changes(
            &self.apply_dir(id),
            &self.lower_dirs(id)?,
        )?)
    }

    fn write_diff(
        &self,
        id: &str,
        _parent: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<(), DriverError> {
        archive::write_overlay_upper_tar(&self.apply_dir(id), out)?;
        Ok(())
    }

    fn diff_size(&self, id: &str, _parent: Option<&str>) -> Result<u64, DriverError> {
        let diff = self.apply_dir(id);
        fsutil::tree_size(&diff).map_err(io_err(&diff))
    }

    fn written(
        &self,
        id: &str,
        _parent: Option<&str>,
    ) -> Result<super::written::Written, DriverError> {
        let diff = self.apply_dir(id);
        super::written::split_upper(&diff).map_err(io_err(&diff))
    }

    fn metadata(&self, id: &str) -> BTreeMap<String, String> {
        let dir = self.dir(id);
        let mut m = BTreeMap::new();
        if let Ok(lowers) = self.lower_dirs(id) {
            if !lowers.is_empty() {
                let joined = lowers
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(":");
                m.insert("LowerDir".into(), joined);
                m.insert("MergedDir".into(), dir.join("merged").display().to_string());
                m.insert("WorkDir".into(), dir.join("work").display().to_string());
            }
        }
        m.insert("UpperDir".into(), dir.join("diff").display().to_string());
        m
    }

    fn status(&self) -> Vec<(String, String)> {
        vec![
            (
                "Backing Filesystem".into(),
                super::backing_filesystem(&self.root),
            ),
            (
                "Supports d_type".into(),
                super::supports_d_type(&self.root).to_string(),
            ),
            ("Native Overlay Diff".into(), "true".into()),
            ("userxattr".into(), "false".into()),
        ]
    }
}

/// Mounts and unmounts a tiny overlay under `root` to prove overlay works there.
pub fn probe_mount(root: &Path) -> std::io::Result<()> {
    let dir = root.join(format!(".overlay-probe-{}", fsutil::random_hex(4)));
    let result = (|| {
        for sub in ["lower", "upper", "work", "merged"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let m = Mount {
            fstype: "overlay".into(),
            source: "overlay".into(),
            options: vec![format!(
                "{BASE_OPTIONS},lowerdir={0}/lower,upperdir={0}/upper,workdir={0}/work",
                dir.display()
            )],
            cwd: None,
        };
        let guard = m
            .mount_at(&dir.join("merged"))
            .map_err(std::io::Error::other)?;
        guard.unmount().map_err(std::io::Error::other)
    })();
    let _ = fsutil::remove_tree(&dir);
    result
}
