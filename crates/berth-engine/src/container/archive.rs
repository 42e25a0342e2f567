//! `export` and `cp`: tar streams out of and into a container's filesystem. Paths inside the
//! container are resolved with `openat2(RESOLVE_IN_ROOT)` from a directory fd of its root, so a
//! symlink — even one swapped in while the copy runs — resolves inside the container and never
//! reaches the host (the CVE-2018-15664 class of bug). Trees are read fd by fd without following
//! symlinks. A running container is seen as its processes see it (`/proc/<pid>/root`, volumes
//! included); a stopped one through its root filesystem, mounted for the copy under a
//! [`ROOTFS_MOUNT`] journal entry so that the repair pass unmounts it if the copy is killed.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;

use berth_store::archive::{self, ApplyOptions, WhiteoutMode};
use berth_store::journal;
use berth_store::mount::{Mount, MountGuard};
use rustix::fs::{Mode, OFlags};

use super::Container;
use crate::{Engine, EngineError};

/// What `cp` learns about a path in a container (`X-Docker-Container-Path-Stat`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathStat {
    /// Base name.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Mode bits (with the type bits).
    pub mode: u32,
    /// Modification time (RFC 3339).
    pub mtime: String,
    /// Symlink target, if it is one.
    pub link_target: String,
}

impl PathStat {
    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
}

/// Journal kind of a stopped container's root filesystem mounted by `cp` or `export` for the
/// copy (with its volumes on top), owned by the copying process; the repair pass unmounts what
/// a killed copy left mounted (issue 15).
pub(crate) const ROOTFS_MOUNT: &str = "rootfs-mount";

/// The container's root directory, kept open (and, for a stopped container, mounted with its
/// volumes and binds on top) while used.
struct RootHandle {
    fd: Option<OwnedFd>,
    /// Mounts made for a stopped container — its rootfs, then option volumes and the binds of
    /// its volumes and binds — undone innermost first when the handle goes.
    mounts: Vec<MountGuard>,
}

impl RootHandle {
    fn fd(&self) -> &OwnedFd {
        self.fd.as_ref().expect("open until dropped")
    }
}

impl Drop for RootHandle {
    fn drop(&mut self) {
        // Closed first, so the rootfs is not busy when it is unmounted.
        drop(self.fd.take());
        while let Some(g) = self.mounts.pop() {
            drop(g);
        }
    }
}

/// A path in a container refused (`cp`, `GET/PUT /containers/{id}/archive`), in dockerd's words.
#[derive(Debug, thiserror::Error)]
pub enum ContainerPathError {
    /// Nothing at that path (404).
    #[error("Could not find the file {path} in container {name}")]
    NotFound {
        /// The path as given.
        path: String,
        /// The container as named.
        name: String,
    },
    /// An upload into a read-only mount (409).
    #[error("mounted volume is marked read-only")]
    ReadOnlyVolume,
    /// An upload into a read-only root filesystem (409).
    #[error("container rootfs is marked read-only")]
    ReadOnlyRootfs,
    /// An upload whose target is not a directory.
    #[error("extraction point is not a directory")]
    NotADirectory,
}

impl ContainerPathError {
    /// The class of the refusal.
    pub fn kind(&self) -> berth_store::ErrorKind {
        use berth_store::ErrorKind;
        match self {
            ContainerPathError::NotFound { .. } => ErrorKind::NotFound,
            ContainerPathError::ReadOnlyVolume | ContainerPathError::ReadOnlyRootfs => {
                ErrorKind::Conflict
            }
            ContainerPathError::NotADirectory => ErrorKind::InvalidArgument,
        }
    }
}

fn not_found(path: &str, name: &str) -> EngineError {
    ContainerPathError::NotFound {
        path: path.to_string(),
        name: name.to_string(),
    }
    .into()
}

/// Opens `path` (as seen in the container) beneath `root`, resolving symlinks inside it.
fn open_in(root: &RootHandle, path: &str, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    berth_store::fsutil::open_in_root(root.fd(), path, flags)
}

/// Splits a container path into its parent directory and base name (`/` has none).
fn split(path: &str) -> (String, String) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((parent, name)) => (
            if parent.is_empty() {
                "/".into()
            } else {
                parent.to_string()
            },
            name.to_string(),
        ),
        None => ("/".into(), trimmed.to_string()),
    }
}

/// Whether `path` lies in one of the container's volumes, binds or tmpfs mounts, and whether all
/// of those mounts are writable.
fn mounts_over(c: &Container, path: &str) -> (bool, bool) {
    let path = path.trim_end_matches('/');
    let mut over = c
        .mounts
        .iter()
        .filter(|m| path == m.destination || path.starts_with(&format!("{}/", m.destination)))
        .peekable();
    let any = over.peek().is_some();
    (any, over.all(|m| !m.read_only))
}

impl Engine {
    fn open_root(&mut self, c: &Container) -> Result<RootHandle, EngineError> {
        if c.state.status.is_running() && c.state.pid > 0 {
            let fd = rustix::fs::open(
                format!("/proc/{}/root", c.state.pid),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| EngineError::Io(e.into()))?;
            return Ok(RootHandle {
                fd: Some(fd),
                mounts: Vec::new(),
            });
        }
        let rootfs = self.store.driver().rootfs(&c.id, true)?;
        let mounts = if !rootfs.mounts.is_empty() && !self.mounter().is_mount_point(&rootfs.path) {
            journal::begin(self.store.db().conn(), ROOTFS_MOUNT, &c.id)?;
            self.mounter().mount_all_scoped(&rootfs.mounts)?
        } else {
            Vec::new()
        };
        let mounted_by_us = !mounts.is_empty();
        let mut handle = RootHandle {
            mounts,
            fd: Some(
                rustix::fs::open(
                    &rootfs.path,
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| EngineError::Io(e.into()))?,
            ),
        };
        // Like Docker, a stopped container's volumes and binds are mounted for the copy, so
        // `cp` reads and writes them rather than the paths they would hide.
        if mounted_by_us {
            self.mount_volumes_for_copy(c, &rootfs.path, &mut handle)?;
        }
        Ok(handle)
    }

    /// Unmounts what [`Engine::open_root`] mounted and closes its journal entry. (A copy that
    /// fails on the way unmounts when its handle drops; its entry closes at the next open.)
    fn close_root(&mut self, c: &Container, root: RootHandle) -> Result<(), EngineError> {
        let mounted = !root.mounts.is_empty();
        drop(root);
        if mounted {
            journal::end(self.store.db().conn(), ROOTFS_MOUNT, &c.id)?;
        }
        Ok(())
    }

    fn mount_volumes_for_copy(
        &mut self,
        c: &Container,
        rootfs: &std::path::Path,
        handle: &mut RootHandle,
    ) -> Result<(), EngineError> {
        use berth_volume::mount_spec::MountKind;
        let mut specs = c.mounts.clone();
        berth_volume::mount_spec::sort_by_depth(&mut specs);
        for spec in specs.iter().filter(|s| s.kind != MountKind::Tmpfs) {
            let source = match spec.kind {
                MountKind::Volume => {
                    let store = self.volumes()?;
                    let v = store.require(spec.source.as_deref().unwrap_or_default())?;
                    let was_mounted = store.driver().is_mounted(&v.name);
                    let at = store.mount(&v)?;
                    if !was_mounted && store.driver().is_mounted(&v.name) {
                        // An option volume mounted for this copy only.
                        handle.mounts.push(self.mounter().adopt(&at));
                    }
                    at
                }
                _ => PathBuf::from(spec.source.clone().unwrap_or_default()),
            };
            let Ok(md) = std::fs::metadata(&source) else {
                continue; // a `-v` source that start has not created yet
            };
            if md.is_dir() {
                super::files::mkdir_all_in_root(rootfs, &spec.destination, 0, 0)?;
            } else {
                let (parent, base) = split(&spec.destination);
                super::files::mkdir_all_in_root(rootfs, &parent, 0, 0)?;
                let dir = open_in(handle, &parent, OFlags::PATH | OFlags::DIRECTORY)
                    .map_err(|e| EngineError::Io(e.into()))?;
                match rustix::fs::openat(
                    &dir,
                    base.as_str(),
                    OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::WRONLY
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o755),
                ) {
                    Ok(_) | Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(EngineError::Io(e.into())),
                }
            }
            let target = open_in(handle, &spec.destination, OFlags::PATH)
                .map_err(|e| EngineError::Io(e.into()))?;
            let at = std::fs::read_link(format!("/proc/self/fd/{}", target.as_raw_fd()))?;
            let bind = Mount::bind(source.display().to_string(), at, true, spec.read_only);
            handle.mounts.push(self.mounter().mount_scoped(&bind)?);
        }
        Ok(())
    }

    /// `HEAD /containers/{id}/archive`: what is at `path` in the container.
    /// A path with a trailing separator (`link/`) names what a final link points to, as
    /// dockerd resolves it: the link is followed inside the container (issue 15).
    pub fn stat_container_path(&mut self, name: &str, path: &str) -> Result<PathStat, EngineError> {
        let trimmed = path.trim_end_matches('/');
        if !trimmed.is_empty() && trimmed.len() < path.len() {
            let (_, mut st) = self.resolve_container_path(name, trimmed)?;
            st.name = split(trimmed).1;
            return Ok(st);
        }
        let c = self.container(name)?;
        let root = self.open_root(&c)?;
        let (parent, base) = split(path);
        let dir = open_in(&root, &parent, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|_| not_found(path, name))?;
        let target = if base.is_empty() { "." } else { base.as_str() };
        let st = rustix::fs::statat(&dir, target, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|_| not_found(path, name))?;
        let link_target = if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
            rustix::fs::readlinkat(&dir, target, Vec::new())
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            String::new()
        };
        drop(dir);
        self.close_root(&c, root)?;
        Ok(PathStat {
            name: if base.is_empty() { "/".into() } else { base },
            size: st.st_size,
            mode: st.st_mode,
            mtime: chrono::DateTime::from_timestamp(st.st_mtime, st.st_mtime_nsec as u32)
                .unwrap_or_default()
                .to_rfc3339(),
            link_target,
        })
    }

    /// Follows a final symlink at `path` (and any chain of them) inside the container; returns
    /// the path it leads to and what is there.
    pub fn resolve_container_path(
        &mut self,
        name: &str,
        path: &str,
    ) -> Result<(String, PathStat), EngineError> {
        let mut resolved = path.to_string();
        let mut stat = self.stat_container_path(name, &resolved)?;
        for _ in 0..40 {
            if stat.link_target.is_empty() {
                break;
            }
            let (parent, _) = split(&resolved);
            resolved = if stat.link_target.starts_with('/') {
                stat.link_target.clone()
            } else {
                format!("{}/{}", parent.trim_end_matches('/'), stat.link_target)
            };
            stat = self.stat_container_path(name, &resolved)?;
        }
        Ok((resolved, stat))
    }

    /// `docker cp CONTAINER:PATH -`: a tar of `path` whose top entry is called `top`
    /// (its base name by default). With `follow`, a final symlink is followed.
    pub fn copy_from_container(
        &mut self,
        name: &str,
        path: &str,
        top: Option<&str>,
        follow: bool,
        out: &mut dyn Write,
    ) -> Result<PathStat, EngineError> {
        let trimmed = path.trim_end_matches('/');
        let trailing = !trimmed.is_empty() && trimmed.len() < path.len();
        let (resolved, stat) = if follow || trailing {
            let shown = split(path).1;
            let base = if trimmed.is_empty() { path } else { trimmed };
            let (resolved, mut stat) = self.resolve_container_path(name, base)?;
            stat.name = if shown.is_empty() { "/".into() } else { shown };
            (resolved, stat)
        } else {
            (path.to_string(), self.stat_container_path(name, path)?)
        };
        let c = self.container(name)?;
        let root = self.open_root(&c)?;
        let (parent, base) = split(&resolved);
        let dir = open_in(&root, &parent, OFlags::RDONLY | OFlags::DIRECTORY)
            .map_err(|_| not_found(path, name))?;
        let top = top.map(str::to_string).unwrap_or_else(|| stat.name.clone());
        let entry = if base.is_empty() { "." } else { base.as_str() };
        archive::write_entry_tar(dir.as_fd(), entry.as_bytes(), &top, out)?;
        drop(dir);
        self.close_root(&c, root)?;
        self.emit_container(&c, "archive-path", &[]);
        Ok(stat)
    }

    /// `docker cp - CONTAINER:DIR`: unpacks `tar` into the existing directory `dir` (with
    /// `no_overwrite_dir_non_dir`, refusing to replace a directory by a non-directory or the
    /// other way round, as `docker cp` asks). Entries
    /// keep the archive's owners (in a remapped container, shifted into its range); with `archive_mode` (`cp -a`) and a container user, they
    /// belong to that user, resolved in the container's own /etc/passwd and /etc/group (Docker
    /// 20.10 looks the name up on the host, a quirk berth does not copy).
    pub fn copy_to_container(
        &mut self,
        name: &str,
        dir: &str,
        tar: &mut dyn Read,
        archive_mode: bool,
        no_overwrite_dir_non_dir: bool,
    ) -> Result<(), EngineError> {
        let c = self.container(name)?;
        // dockerd: a read-only mount over the path refuses first, then a read-only rootfs
        // unless the path is in a mount.
        let (in_mount, writable) = mounts_over(&c, dir);
        if in_mount && !writable {
            return Err(ContainerPathError::ReadOnlyVolume.into());
        }
        if c.host_config.readonly_rootfs && !in_mount {
            return Err(ContainerPathError::ReadOnlyRootfs.into());
        }
        let root = self.open_root(&c)?;
        let fd = open_in(&root, dir, OFlags::RDONLY | OFlags::DIRECTORY).map_err(|e| {
            if e == rustix::io::Errno::NOTDIR {
                ContainerPathError::NotADirectory.into()
            } else {
                not_found(dir, name)
            }
        })?;
        let fd_path = |fd: &dyn AsRawFd| PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        let owner = if archive_mode && !c.config.user.is_empty() {
            let user = berth_runtime::user::resolve_user(&fd_path(root.fd()), &c.config.user)
                .map_err(berth_runtime::error::ProcessError::from)?;
            Some((user.uid, user.gid))
        } else {
            None
        };
        // A remapped container's files are stored with host ids: each entry's owner is shifted
        // into its range (with -a its user's), as dockerd's untar with its maps does.
        let remap = self.remap_for(&c.host_config);
        let owner = match (remap, owner) {
            (Some(r), Some((uid, gid))) => Some((r.host_uid(uid), r.host_gid(gid))),
            (_, owner) => owner,
        };
        let ids = remap.map(|r| r.id_maps());
        let opts = ApplyOptions {
            whiteouts: WhiteoutMode::Delete,
            root_metadata: false,
            owner,
            no_overwrite_dir_non_dir,
            skip_devices: false,
        };
        match &ids {
            Some(ids) => archive::apply_tar_shifted(tar, &fd_path(&fd), &opts, ids)?,
            None => archive::apply_tar(tar, &fd_path(&fd), &opts)?,
        };
        drop(fd);
        self.close_root(&c, root)?;
        self.emit_container(&c, "extract-to-dir", &[]);
        Ok(())
    }

    /// `docker export`: the container's root filesystem (without volumes) as a tar.
    pub fn export_container(&mut self, name: &str, out: &mut dyn Write) -> Result<(), EngineError> {
        let c = self.container(name)?;
        let rootfs = self.store.driver().rootfs(&c.id, true)?;
        let mounted_here =
            if !rootfs.mounts.is_empty() && !self.mounter().is_mount_point(&rootfs.path) {
                journal::begin(self.store.db().conn(), ROOTFS_MOUNT, &c.id)?;
                self.mounter().mount_all_scoped(&rootfs.mounts)?
            } else {
                Vec::new()
            };
        // A remapped container's files are exported with the owners it sees (dockerd's too).
        let ids = self.remap_for(&c.host_config).map(|r| r.id_maps());
        archive::write_tree_tar_as(&rootfs.path, out, ids.as_ref())?;
        if !mounted_here.is_empty() {
            drop(mounted_here);
            journal::end(self.store.db().conn(), ROOTFS_MOUNT, &c.id)?;
        }
        self.emit_container(&c, "export", &[]);
        Ok(())
    }
}
