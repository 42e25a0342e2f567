//! [`OverlayDriver`] lays layers out like Docker's overlay2 under `<root>/layers`:
//!
//! ```text
//! <id>/diff      the layer's own files (an image layer's content, or a container's upper dir)
//! <id>/link      the layer's short name, e.g. 6Z4M2QH0V7J1W3XK8R5B9N2C4D (not for a
//!                container layer: nothing is made on it, its read-only view names <id>/diff)
//! <id>/lower     its ancestors as short links, top-most first: l/AAA:l/BBB
//! <id>/work      overlay's work dir (layers with a parent)
//! <id>/merged    where the union is mounted (layers with a parent)
//! l/<short>  →   ../<id>/diff
//! ```
//!
//! A container layer made with a size limit (`--storage-opt size=`) keeps its upper and work
//! dirs on a filesystem of that size instead, mounted for the layer's whole life:
//!
//! ```text
//! <id>/quota.img    an ext4 image of the limit's size (see `mount::image`)
//! <id>/quota/       where it is mounted; it holds diff/ and work/ (one filesystem, as overlay
//!                   requires of them)
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
use crate::mount::{Mount, Mounter};

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

    /// The ext4 image of a size-limited layer.
    fn quota_image(&self, id: &str) -> PathBuf {
        self.dir(id).join("quota.img")
    }

    /// The upper and work dirs of layer `id`, relative to the layer root: on the layer's own
    /// size-limited filesystem if it has one.
    fn upper_and_work(&self, id: &str) -> (String, String) {
        if self.quota_image(id).exists() {
            (format!("{id}/quota/diff"), format!("{id}/quota/work"))
        } else {
            (format!("{id}/diff"), format!("{id}/work"))
        }
    }

    /// Clears what an earlier `volatile` mount of layer `id` left in its work dir
    /// (`work/incompat/volatile`): the kernel refuses every later mount of the same upper and
    /// work dirs while it is there, even after a clean unmount. The layer is about to be
    /// mounted again (or is mounted now, and the kernel reads the marker only when mounting).
    fn clear_volatile_marker(&self, id: &str) -> Result<(), DriverError> {
        let marker = self
            .root
            .join(self.upper_and_work(id).1)
            .join("work/incompat/volatile");
        fsutil::remove_tree(&marker).map_err(io_err(&marker))
    }

    /// Removes layer `id`'s short name in `l/`, if it has one.
    fn remove_link(&self, id: &str) {
        if let Ok(short) = self.link(id) {
            if !short.is_empty() && !short.contains('/') {
                let l = self.root.join("l").join(short);
                let _ = std::fs::remove_file(l);
            }
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

    /// [`GraphDriver::create`], with the short link (`link`, `l/<short>`) only if `linked`.
    fn create_layer(
        &self,
        id: &str,
        parent: Option<&str>,
        linked: bool,
    ) -> Result<(), DriverError> {
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
        if linked {
            let short = short_name();
            let link_file = dir.join("link");
            std::fs::write(&link_file, &short).map_err(io_err(&link_file))?;
            let l = self.root.join("l").join(&short);
            std::os::unix::fs::symlink(format!("../{id}/diff"), &l).map_err(io_err(&l))?;
        }
        let merged = dir.join("merged");
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&merged)
            .map_err(io_err(&merged))?;
        if let Some(parent) = parent {
            self.set_parent(id, parent)?;
        }
        Ok(())
    }

    /// How layer `id` is named in a lower dir list, relative to the root: `l/<short>`, or
    /// `<id>/diff` for a container layer, which has no short link.
    fn lower_entry(&self, id: &str) -> Result<String, DriverError> {
        match self.link(id) {
            Ok(short) => Ok(format!("l/{short}")),
            Err(DriverError::NoSuchLayer(_)) if self.dir(id).join("diff").is_dir() => {
                Ok(format!("{id}/diff"))
            }
            Err(e) => Err(e),
        }
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
        self.create_layer(id, parent, true)
    }

    fn create_rw(&self, id: &str, parent: Option<&str>) -> Result<(), DriverError> {
        self.create_layer(id, parent, false)
    }

    fn independent_layers(&self) -> bool {
        true
    }

    fn sized_layers(&self) -> bool {
        true
    }

    fn create_sized(&self, id: &str, parent: Option<&str>, size: u64) -> Result<(), DriverError> {
        use std::os::unix::fs::DirBuilderExt;
        // The host-side `diff` (its short link's target) and `work` stay, empty and unused:
        // the changes go to the image's.
        self.create(id, parent)?;
        let dir = self.dir(id);
        let quota = dir.join("quota");
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&quota)
            .map_err(io_err(&quota))?;
        crate::mount::image::make_ext4(
            &self.quota_image(id),
            size,
            crate::mount::image::Ext4Root::OverlayUpper,
        )?;
        Ok(())
    }

    fn quota_mount(&self, id: &str) -> Option<Mount> {
        let img = self.quota_image(id);
        img.exists().then(|| Mount {
            fstype: "ext4".into(),
            source: img.display().to_string(),
            target: self.dir(id).join("quota"),
            options: vec!["loop".into()],
            cwd: None,
        })
    }

    fn set_parent(&self, id: &str, parent: &str) -> Result<(), DriverError> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = self.dir(id);
        let mut lower = vec![self.lower_entry(parent)?];
        lower.extend(self.lowers(parent)?);
        let lower_file = dir.join("lower");
        std::fs::write(&lower_file, lower.join(":")).map_err(io_err(&lower_file))?;
        let work = dir.join("work");
        match std::fs::DirBuilder::new().mode(0o700).create(&work) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(io_err(&work)(e)),
            _ => Ok(()),
        }
    }

    fn remove(&self, id: &str) -> Result<(), DriverError> {
        self.remove_link(id);
        let dir = self.dir(id);
        fsutil::remove_tree(&dir).map_err(io_err(&dir))
    }

    fn remove_to(&self, id: &str, trash: &Path) -> Result<Vec<PathBuf>, DriverError> {
        let mut moved = Vec::new();
        if let Ok(short) = self.link(id) {
            if !short.is_empty() && !short.contains('/') {
                let l = self.root.join("l").join(short);
                let to = trash.with_extension("link");
                let _ = fsutil::move_or_remove_tree(&l, &to);
                moved.push(to);
            }
        }
        let dir = self.dir(id);
        fsutil::move_or_remove_tree(&dir, trash).map_err(io_err(&dir))?;
        moved.push(trash.to_path_buf());
        Ok(moved)
    }

    fn apply_dir(&self, id: &str) -> PathBuf {
        self.root.join(self.upper_and_work(id).0)
    }

    fn rootfs(&self, id: &str, writable: bool) -> Result<Rootfs, DriverError> {
        let dir = self.dir(id);
        let own = self.lower_entry(id)?;
        let lowers = self.lowers(id)?;
        let merged = dir.join("merged");
        if lowers.is_empty() {
            // A base layer alone: a read-only bind of its diff is the whole tree.
            return Ok(Rootfs {
                mounts: vec![Mount::bind(
                    dir.join("diff").to_string_lossy(),
                    &merged,
                    false,
                    !writable,
                )],
                path: merged,
            });
        }
        let (lower_list, upper) = if writable {
            self.clear_volatile_marker(id)?;
            (lowers, Some(id))
        } else {
            let mut all = vec![own];
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
                let (upper, work) = self.upper_and_work(up);
                data.push_str(&format!(",upperdir={root}{upper},workdir={root}{work}"));
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
            mounts: vec![Mount {
                fstype: "overlay".into(),
                source: "overlay".into(),
                target: merged.clone(),
                options: vec![data],
                cwd,
            }],
            path: merged,
        })
    }

    fn rootfs_over(&self, id: &str, view: &Path) -> Result<Rootfs, DriverError> {
        let lowers = self.lowers(id)?;
        self.clear_volatile_marker(id)?;
        let merged = self.dir(id).join("merged");
        let (upper, work) = self.upper_and_work(id);
        // The lower dirs relative to the view (which becomes the mount's cwd), the upper and
        // work dirs absolute: overlay writes there with the mounter's ids, which an id-mapped
        // upper could not represent (EOVERFLOW), so a remapped container's changes are stored
        // with host ids.
        let data = format!(
            "{BASE_OPTIONS},lowerdir={},upperdir={}/{upper},workdir={}/{work}",
            lowers.join(":"),
            self.root.display(),
            self.root.display()
        );
        Ok(Rootfs {
            mounts: vec![Mount {
                fstype: "overlay".into(),
                source: "overlay".into(),
                target: merged.clone(),
                options: vec![data],
                cwd: Some(view.to_path_buf()),
            }],
            path: merged,
        })
    }

    fn root(&self) -> &Path {
        &self.root
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

    fn write_diff_as(
        &self,
        id: &str,
        _parent: Option<&str>,
        out: &mut dyn Write,
        ids: Option<&archive::IdMaps>,
    ) -> Result<(), DriverError> {
        archive::write_overlay_upper_tar_as(&self.apply_dir(id), out, ids)?;
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
                let work = self.root.join(self.upper_and_work(id).1);
                m.insert("WorkDir".into(), work.display().to_string());
            }
        }
        m.insert("UpperDir".into(), self.apply_dir(id).display().to_string());
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
pub fn probe_mount(root: &Path, mounter: &Mounter) -> std::io::Result<()> {
    let dir = root.join(format!(".overlay-probe-{}", fsutil::random_hex(4)));
    let result = (|| {
        for sub in ["lower", "upper", "work", "merged"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let m = Mount {
            fstype: "overlay".into(),
            source: "overlay".into(),
            target: dir.join("merged"),
            options: vec![format!(
                "{BASE_OPTIONS},lowerdir={0}/lower,upperdir={0}/upper,workdir={0}/work",
                dir.display()
            )],
            cwd: None,
        };
        let guard = mounter.mount_scoped(&m).map_err(std::io::Error::other)?;
        guard.unmount().map_err(std::io::Error::other)
    })();
    let _ = fsutil::remove_tree(&dir);
    result
}

/// The mounts overlay describes, performed through a recording mounter: no root needed.
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::mount::recording::{Call, RecordingSys};
    use crate::mount::MountArgs;

    fn recording() -> (Arc<RecordingSys>, Mounter) {
        let sys = Arc::new(RecordingSys::default());
        (sys.clone(), Mounter::new(sys))
    }

    fn link(d: &OverlayDriver, id: &str) -> String {
        format!("l/{}", d.link(id).unwrap())
    }

    #[test]
    fn a_base_layer_alone_is_a_bind_of_its_diff_read_only_unless_writable() {
        let t = tempfile::tempdir().unwrap();
        let d = OverlayDriver::open(t.path()).unwrap();
        d.create("base", None).unwrap();
        let (sys, mounter) = recording();
        let diff = t.path().join("base/diff").display().to_string();
        let merged = t.path().join("base/merged");
        let bind = |flags| {
            Call::Mount(MountArgs {
                source: diff.clone(),
                target: merged.clone(),
                fstype: None,
                flags,
                data: String::new(),
                cwd: None,
            })
        };
        let guards = mounter
            .mount_all_scoped(&d.rootfs("base", false).unwrap().mounts)
            .unwrap();
        drop(guards);
        assert_eq!(
            sys.calls(),
            [
                bind(libc::MS_BIND),
                bind(libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY),
                Call::Umount {
                    target: merged.clone(),
                    detach: false
                },
            ]
        );
        sys.clear();
        mounter
            .mount_all(&d.rootfs("base", true).unwrap().mounts)
            .unwrap();
        assert_eq!(sys.calls(), [bind(libc::MS_BIND)]);
        assert!(mounter.is_mount_point(&merged));
    }

    #[test]
    fn a_container_layer_is_an_overlay_of_its_ancestors_with_its_own_upper_dir() {
        let t = tempfile::tempdir().unwrap();
        let d = OverlayDriver::open(t.path()).unwrap();
        d.create("base", None).unwrap();
        d.create("mid", Some("base")).unwrap();
        d.create("ctr", Some("mid")).unwrap();
        let root = t.path().display().to_string();
        let (sys, mounter) = recording();
        mounter
            .mount_all(&d.rootfs("ctr", true).unwrap().mounts)
            .unwrap();
        // A read-only view of an image layer: its own diff on top, no upper dir.
        mounter
            .mount_all(&d.rootfs("mid", false).unwrap().mounts)
            .unwrap();
        let (mid, base) = (link(&d, "mid"), link(&d, "base"));
        assert_eq!(
            sys.calls(),
            [
                Call::Mount(MountArgs {
                    source: "overlay".into(),
                    target: t.path().join("ctr/merged"),
                    fstype: Some("overlay".into()),
                    flags: 0,
                    data: format!(
                        "{BASE_OPTIONS},lowerdir={root}/{mid}:{root}/{base},\
                         upperdir={root}/ctr/diff,workdir={root}/ctr/work"
                    ),
                    cwd: None,
                }),
                Call::Mount(MountArgs {
                    source: "overlay".into(),
                    target: t.path().join("mid/merged"),
                    fstype: Some("overlay".into()),
                    flags: 0,
                    data: format!("{BASE_OPTIONS},lowerdir={root}/{mid}:{root}/{base}"),
                    cwd: None,
                }),
            ]
        );
    }

    #[test]
    fn a_container_layer_has_no_short_link_and_its_read_only_view_names_its_diff() {
        let t = tempfile::tempdir().unwrap();
        let d = OverlayDriver::open(t.path()).unwrap();
        d.create("base", None).unwrap();
        d.create_rw("ctr", Some("base")).unwrap();
        assert!(!t.path().join("ctr/link").exists());
        let links = || std::fs::read_dir(t.path().join("l")).unwrap().count();
        assert_eq!(links(), 1, "the image layer's only");
        let root = t.path().display().to_string();
        let base = link(&d, "base");
        let (sys, mounter) = recording();
        mounter
            .mount_all(&d.rootfs("ctr", false).unwrap().mounts)
            .unwrap();
        assert_eq!(
            sys.mounts()[0].data,
            format!("{BASE_OPTIONS},lowerdir={root}/ctr/diff:{root}/{base}")
        );
        // Nothing is made on a container layer, but a layer made on one would still mount.
        d.create("child", Some("ctr")).unwrap();
        assert_eq!(
            d.lower_dirs("child").unwrap(),
            [t.path().join("ctr/diff"), t.path().join("base/diff")]
        );
        d.remove("child").unwrap();
        d.remove("ctr").unwrap();
        assert!(!t.path().join("ctr").exists());
        assert_eq!(links(), 1);
        assert!(matches!(
            d.rootfs("ctr", false),
            Err(DriverError::NoSuchLayer(_))
        ));
    }

    #[test]
    fn a_sized_layer_keeps_its_upper_and_work_dirs_on_its_own_filesystem() {
        let t = tempfile::tempdir().unwrap();
        let d = OverlayDriver::open(t.path()).unwrap();
        d.create("base", None).unwrap();
        d.create("plain", Some("base")).unwrap();
        assert_eq!(d.quota_mount("plain"), None);
        d.create_sized("ctr", Some("base"), 1 << 20).unwrap();
        let root = t.path().display().to_string();
        assert_eq!(
            d.quota_mount("ctr").unwrap(),
            Mount {
                fstype: "ext4".into(),
                source: format!("{root}/ctr/quota.img"),
                target: t.path().join("ctr/quota"),
                options: vec!["loop".into()],
                cwd: None,
            }
        );
        assert_eq!(
            std::fs::metadata(t.path().join("ctr/quota.img"))
                .unwrap()
                .len(),
            1 << 20
        );
        assert_eq!(d.apply_dir("ctr"), t.path().join("ctr/quota/diff"));
        let rootfs = d.rootfs("ctr", true).unwrap();
        assert!(
            rootfs.mounts[0].options[0].ends_with(&format!(
                ",upperdir={root}/ctr/quota/diff,workdir={root}/ctr/quota/work"
            )),
            "{:?}",
            rootfs.mounts
        );
        let meta = d.metadata("ctr");
        assert_eq!(meta["UpperDir"], format!("{root}/ctr/quota/diff"));
        assert_eq!(meta["WorkDir"], format!("{root}/ctr/quota/work"));
    }

    #[test]
    fn a_deep_image_mounts_from_the_layer_root_with_relative_lower_dirs() {
        let t = tempfile::tempdir().unwrap();
        let root = t
            .path()
            .join("a-rather-long-directory-name-to-make-every-path-longer".repeat(2));
        let d = OverlayDriver::open(&root).unwrap();
        let mut parent: Option<String> = None;
        for i in 0..120 {
            let id = format!("{i:064x}");
            d.create(&id, parent.as_deref()).unwrap();
            parent = Some(id);
        }
        d.create("ctr", parent.as_deref()).unwrap();
        let (sys, mounter) = recording();
        mounter
            .mount_all(&d.rootfs("ctr", true).unwrap().mounts)
            .unwrap();
        let calls = sys.mounts();
        assert_eq!(calls.len(), 1);
        let m = &calls[0];
        assert_eq!(m.cwd.as_deref(), Some(root.as_path()));
        assert!(m.data.len() < PAGE_SIZE, "{} bytes", m.data.len());
        assert!(m.data.contains(",upperdir=ctr/diff,workdir=ctr/work"));
        let lowers = m.data.split("lowerdir=").nth(1).unwrap();
        let lowers = lowers.split(',').next().unwrap();
        assert_eq!(lowers.split(':').count(), 120);
        assert!(lowers.split(':').all(|l| l.starts_with("l/")), "{lowers}");
    }

    #[test]
    fn the_probe_mounts_a_tiny_overlay_and_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let (sys, mounter) = recording();
        probe_mount(t.path(), &mounter).unwrap();
        let calls = sys.calls();
        let Call::Mount(m) = &calls[0] else {
            panic!("{calls:?}")
        };
        assert_eq!(m.fstype.as_deref(), Some("overlay"));
        assert!(m.data.starts_with(BASE_OPTIONS) && m.data.contains(",upperdir="));
        assert_eq!(
            calls[1],
            Call::Umount {
                target: m.target.clone(),
                detach: false
            }
        );
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0);
        // A failed probe says why and leaves nothing either.
        sys.fail_mount_call(1, libc::EPERM);
        let e = probe_mount(t.path(), &mounter).unwrap_err().to_string();
        assert!(e.contains("Operation not permitted"), "{e}");
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0);
    }
}
