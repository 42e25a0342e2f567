//! [`Mounter`] is the one component that performs mount(2) and umount2(2) (and attaches the loop
//! device a filesystem image needs): graph drivers and volume drivers only describe what to mount
//! as [`Mount`] values, and whoever owns a mount's lifetime (the engine for a container's rootfs,
//! its option volumes and its shared `/dev/shm`; `export`, `cp` and the builder for their scoped
//! mounts) hands them to the store's `Mounter`.
//!
//! The kernel calls go through the [`Sys`] trait: [`LinuxSys`] makes them, and `RecordingSys`
//! (feature `testutil`) records each call as [`MountArgs`] and fails on demand, so mount logic —
//! exact flags, the read-only bind's remount, the loop device's release on a failed mount — is
//! tested without root.
//!
//! [`Mounter::ensure_tmpfs`] (module `volatile`) keeps berth's runtime directory, `/run/berth`,
//! on a tmpfs where `/run` is not one.
//!
//! Overlay mounts of deep images pass lower dirs relative to the layer root (`l/XXXX`) to keep the
//! mount data under one page; such a mount carries `cwd` (see [`LinuxSys`]).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub mod idmap;
pub mod image;
mod loopdev;
#[cfg(any(test, feature = "testutil"))]
pub mod recording;
mod sys;
mod volatile;

pub use sys::{LinuxSys, LoopDevice, MountArgs, Sys};

/// One mount(2) call, as data: what drivers return and [`Mounter`] performs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Filesystem type: `overlay`, `tmpfs`, `ext4`, `bind` (a bind mount: `MS_BIND`, no type).
    pub fstype: String,
    /// Mount source (`overlay`, `tmpfs`, a host path for binds, a file for `loop` mounts).
    pub source: String,
    /// Where it is mounted.
    pub target: PathBuf,
    /// Options as mount(8) takes them: flags (`ro`, `nosuid`, `rbind`...), `loop` (attach
    /// `source` to a loop device first) and filesystem data (everything else).
    pub options: Vec<String>,
    /// Directory the mount data's relative paths are resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
}

/// A failed mount or unmount.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// mount(2) failed.
    #[error("mount {src} on {target} (type {fstype}, data {data:?}): {error}")]
    Mount {
        /// Source of the mount.
        src: String,
        /// Where it was to be mounted.
        target: PathBuf,
        /// Filesystem type.
        fstype: String,
        /// Filesystem data passed to the kernel.
        data: String,
        /// The kernel's error.
        error: io::Error,
    },
    /// No loop device could be attached to a filesystem image.
    #[error("attach a loop device to {file}: {error}")]
    Loop {
        /// The image file.
        file: PathBuf,
        /// The kernel's error.
        error: io::Error,
    },
    /// umount2(2) failed.
    #[error("unmount {target}: {error}")]
    Unmount {
        /// The mount point.
        target: PathBuf,
        /// The kernel's error.
        error: io::Error,
    },
}

impl MountError {
    /// The kernel's error.
    pub fn io_error(&self) -> &io::Error {
        match self {
            MountError::Mount { error, .. }
            | MountError::Loop { error, .. }
            | MountError::Unmount { error, .. } => error,
        }
    }
}

/// Flags recognised in [`Mount::options`]: (flag, set?) — `false` means the option clears it.
fn flag_of(opt: &str) -> Option<(libc::c_ulong, bool)> {
    Some(match opt {
        "ro" => (libc::MS_RDONLY, true),
        "rw" => (libc::MS_RDONLY, false),
        "nosuid" => (libc::MS_NOSUID, true),
        "suid" => (libc::MS_NOSUID, false),
        "nodev" => (libc::MS_NODEV, true),
        "dev" => (libc::MS_NODEV, false),
        "noexec" => (libc::MS_NOEXEC, true),
        "exec" => (libc::MS_NOEXEC, false),
        "relatime" => (libc::MS_RELATIME, true),
        "noatime" => (libc::MS_NOATIME, true),
        "bind" => (libc::MS_BIND, true),
        "rbind" => (libc::MS_BIND | libc::MS_REC, true),
        "shared" => (libc::MS_SHARED, true),
        "rshared" => (libc::MS_SHARED | libc::MS_REC, true),
        "private" => (libc::MS_PRIVATE, true),
        "rprivate" => (libc::MS_PRIVATE | libc::MS_REC, true),
        _ => return None,
    })
}

impl Mount {
    /// A bind mount of `source` on `target` (recursive when `recursive`).
    pub fn bind(
        source: impl Into<String>,
        target: impl Into<PathBuf>,
        recursive: bool,
        read_only: bool,
    ) -> Mount {
        let mut options = vec![if recursive { "rbind" } else { "bind" }.to_string()];
        if read_only {
            options.push("ro".to_string());
        }
        Mount {
            fstype: "bind".into(),
            source: source.into(),
            target: target.into(),
            options,
            cwd: None,
        }
    }

    /// A change of `target`'s propagation (`shared`, `rprivate`...), which takes no source,
    /// type or data.
    pub fn propagation(target: impl Into<PathBuf>, kind: &str) -> Mount {
        Mount {
            fstype: String::new(),
            source: String::new(),
            target: target.into(),
            options: vec![kind.to_string()],
            cwd: None,
        }
    }

    /// Splits the options into mount flags and filesystem data (`loop` is neither).
    pub fn flags_and_data(&self) -> (libc::c_ulong, String) {
        let mut flags: libc::c_ulong = 0;
        let mut data = Vec::new();
        for opt in self.options.iter().filter(|o| *o != "loop") {
            match flag_of(opt) {
                Some((f, true)) => flags |= f,
                Some((f, false)) => flags &= !f,
                None => data.push(opt.as_str()),
            }
        }
        (flags, data.join(","))
    }

    /// Whether `source` is a filesystem image to attach to a loop device first.
    pub fn needs_loop(&self) -> bool {
        self.options.iter().any(|o| o == "loop")
    }

    /// The mount(2) calls this mount takes with `source` as the source: one, or two for a
    /// read-only bind (the kernel ignores `MS_RDONLY` on a bind's first call; a remount applies it).
    fn calls(&self, source: &str) -> Vec<MountArgs> {
        let (flags, data) = self.flags_and_data();
        let fstype =
            (!self.fstype.is_empty() && self.fstype != "bind").then(|| self.fstype.clone());
        let args = |flags| MountArgs {
            source: source.to_string(),
            target: self.target.clone(),
            fstype: fstype.clone(),
            flags,
            data: data.clone(),
            cwd: self.cwd.clone(),
        };
        if flags & libc::MS_BIND != 0 && flags & libc::MS_RDONLY != 0 {
            let remount = libc::MS_BIND
                | libc::MS_REMOUNT
                | libc::MS_RDONLY
                | (flags & (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC));
            vec![args(flags & !libc::MS_RDONLY), args(remount)]
        } else {
            vec![args(flags)]
        }
    }
}

/// Performs [`Mount`]s and undoes them, through a [`Sys`].
#[derive(Debug, Clone)]
pub struct Mounter {
    sys: Arc<dyn Sys>,
}

impl Default for Mounter {
    fn default() -> Mounter {
        Mounter::linux()
    }
}

impl Mounter {
    /// The mounter that makes real system calls.
    pub fn linux() -> Mounter {
        Mounter::new(Arc::new(LinuxSys))
    }

    /// A mounter over `sys` (a recording fake in tests).
    pub fn new(sys: Arc<dyn Sys>) -> Mounter {
        Mounter { sys }
    }

    /// Performs `m`; the mount stays until [`Mounter::unmount`] (for mounts whose lifetime
    /// outlives the caller, such as a running container's rootfs).
    pub fn mount(&self, m: &Mount) -> Result<(), MountError> {
        let (flags, data) = m.flags_and_data();
        log::debug!(
            "mount {} on {} ({}, flags {flags:#x}, {} bytes of data: {data})",
            m.source,
            m.target.display(),
            m.fstype,
            data.len()
        );
        let fail = |error: io::Error| MountError::Mount {
            src: m.source.clone(),
            target: m.target.clone(),
            fstype: m.fstype.clone(),
            data: data.clone(),
            error,
        };
        let device = if m.needs_loop() {
            let file = PathBuf::from(&m.source);
            Some(
                self.sys
                    .loop_attach(&file)
                    .map_err(|error| MountError::Loop { file, error })?,
            )
        } else {
            None
        };
        let source = match &device {
            Some(d) => d.path.display().to_string(),
            None => m.source.clone(),
        };
        let mut result = Ok(());
        let mut made = false;
        for call in m.calls(&source) {
            if let Err(e) = self.sys.mount(&call) {
                result = Err(fail(e));
                break;
            }
            made = true;
        }
        if result.is_err() && made {
            // The remount of a read-only bind failed: the bind itself must not stay writable.
            let _ = self.sys.umount2(&m.target, true);
        }
        // The device clears itself once unused (autoclear): when this mount is unmounted, or
        // now, if the mount failed.
        if let Some(d) = device {
            self.sys.loop_release(d);
        }
        result
    }

    /// Performs `mounts` in order, all or none; they stay until unmounted (a running container's
    /// rootfs).
    pub fn mount_all(&self, mounts: &[Mount]) -> Result<(), MountError> {
        for guard in self.mount_all_scoped(mounts)? {
            guard.keep();
        }
        Ok(())
    }

    /// Performs `m` and returns a guard that unmounts it when dropped (for mounts that live as
    /// long as one operation).
    pub fn mount_scoped(&self, m: &Mount) -> Result<MountGuard, MountError> {
        self.mount(m)?;
        Ok(MountGuard {
            target: Some(m.target.clone()),
            mounter: self.clone(),
        })
    }

    /// Performs `mounts` in order, all or none; each is undone (innermost first) when the
    /// returned guards go.
    pub fn mount_all_scoped(&self, mounts: &[Mount]) -> Result<Vec<MountGuard>, MountError> {
        let mut guards = Vec::with_capacity(mounts.len());
        for m in mounts {
            match self.mount_scoped(m) {
                Ok(g) => guards.push(g),
                Err(e) => {
                    while let Some(g) = guards.pop() {
                        drop(g);
                    }
                    return Err(e);
                }
            }
        }
        Ok(guards)
    }

    /// A guard for a mount made earlier (by [`Mounter::mount`]) that is to go with the guard.
    pub fn adopt(&self, target: &Path) -> MountGuard {
        MountGuard {
            target: Some(target.to_path_buf()),
            mounter: self.clone(),
        }
    }

    /// Unmounts `target`; if it is busy, detaches it lazily (it goes once its last user does).
    pub fn unmount(&self, target: &Path) -> Result<(), MountError> {
        log::debug!("unmount {}", target.display());
        if self.sys.umount2(target, false).is_ok() {
            return Ok(());
        }
        self.sys
            .umount2(target, true)
            .map_err(|error| MountError::Unmount {
                target: target.to_path_buf(),
                error,
            })
    }

    /// Unmounts `target` if it is a mount point; returns whether it was.
    pub fn release(&self, target: &Path) -> Result<bool, MountError> {
        if !self.is_mount_point(target) {
            return Ok(false);
        }
        self.unmount(target)?;
        Ok(true)
    }

    /// True when `path` is a mount point of this process's mount namespace.
    pub fn is_mount_point(&self, path: &Path) -> bool {
        self.sys.is_mount_point(path).unwrap_or(false)
    }
}

/// Undoes a mount when dropped; call [`MountGuard::unmount`] to see the error on the normal path.
#[derive(Debug)]
pub struct MountGuard {
    target: Option<PathBuf>,
    mounter: Mounter,
}

impl MountGuard {
    /// The mount point.
    pub fn target(&self) -> &Path {
        self.target.as_deref().unwrap_or(Path::new(""))
    }

    /// Keeps the mount: it is no longer undone when the guard goes.
    pub fn keep(mut self) {
        self.target = None;
    }

    /// Unmounts now, reporting failure.
    pub fn unmount(mut self) -> Result<(), MountError> {
        match self.target.take() {
            Some(t) => self.mounter.unmount(&t),
            None => Ok(()),
        }
    }
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        if let Some(t) = self.target.take() {
            let _ = self.mounter.unmount(&t);
        }
    }
}

/// Unescapes a path field of /proc/self/mountinfo (octal escapes for space, tab, newline, `\`).
fn unescape_mountinfo(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// The mount points listed in a mountinfo text (its fifth field).
fn parse_mountinfo(info: &str) -> Vec<PathBuf> {
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|mp| PathBuf::from(unescape_mountinfo(mp)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::recording::{Call, RecordingSys};
    use super::*;

    fn mounter() -> (Arc<RecordingSys>, Mounter) {
        let sys = Arc::new(RecordingSys::default());
        (sys.clone(), Mounter::new(sys))
    }

    fn args(
        source: &str,
        target: &str,
        fstype: Option<&str>,
        flags: libc::c_ulong,
        data: &str,
    ) -> Call {
        Call::Mount(MountArgs {
            source: source.into(),
            target: target.into(),
            fstype: fstype.map(str::to_string),
            flags,
            data: data.into(),
            cwd: None,
        })
    }

    #[test]
    fn options_split_into_flags_and_data() {
        let m = Mount {
            fstype: "tmpfs".into(),
            source: "shm".into(),
            target: "/t".into(),
            options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536", "rw"]
                .map(String::from)
                .to_vec(),
            cwd: None,
        };
        let (flags, data) = m.flags_and_data();
        assert_eq!(flags, libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV);
        assert_eq!(data, "mode=1777,size=65536");
        let m = Mount {
            options: vec!["ro".into(), "rw".into(), "loop".into()],
            ..m
        };
        assert_eq!(m.flags_and_data(), (0, String::new()));
    }

    #[test]
    fn a_read_only_bind_is_a_bind_then_a_remount() {
        let (sys, mounter) = mounter();
        let mut m = Mount::bind("/src", "/dst", true, true);
        m.options.push("nosuid".into());
        mounter.mount(&m).unwrap();
        assert_eq!(
            sys.calls(),
            [
                args(
                    "/src",
                    "/dst",
                    None,
                    libc::MS_BIND | libc::MS_REC | libc::MS_NOSUID,
                    ""
                ),
                args(
                    "/src",
                    "/dst",
                    None,
                    libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID,
                    ""
                ),
            ]
        );
        assert!(mounter.is_mount_point(Path::new("/dst")));
    }

    #[test]
    fn a_failed_remount_does_not_leave_a_writable_bind() {
        let (sys, mounter) = mounter();
        sys.fail_mount_call(2, libc::EPERM);
        let e = mounter
            .mount(&Mount::bind("/src", "/dst", false, true))
            .unwrap_err();
        assert_eq!(e.io_error().raw_os_error(), Some(libc::EPERM));
        assert_eq!(
            sys.calls()[2],
            Call::Umount {
                target: "/dst".into(),
                detach: true
            }
        );
        assert!(!mounter.is_mount_point(Path::new("/dst")));
    }

    #[test]
    fn an_image_is_mounted_through_a_loop_device_that_is_released_after() {
        let (sys, mounter) = mounter();
        let m = Mount {
            fstype: "ext4".into(),
            source: "/v/fs.img".into(),
            target: "/v/_data".into(),
            options: vec!["loop".into()],
            cwd: None,
        };
        mounter.mount(&m).unwrap();
        assert_eq!(
            sys.calls(),
            [
                Call::LoopAttach("/v/fs.img".into()),
                args("/dev/loop0", "/v/_data", Some("ext4"), 0, ""),
                Call::LoopRelease("/dev/loop0".into()),
            ]
        );
    }

    #[test]
    fn a_failed_image_mount_releases_its_loop_device() {
        let (sys, mounter) = mounter();
        sys.fail_mount_call(1, libc::EINVAL);
        let m = Mount {
            fstype: "ext4".into(),
            source: "/v/fs.img".into(),
            target: "/v/_data".into(),
            options: vec!["loop".into()],
            cwd: None,
        };
        let e = mounter.mount(&m).unwrap_err().to_string();
        assert!(
            e.starts_with("mount /v/fs.img on /v/_data (type ext4"),
            "{e}"
        );
        assert_eq!(
            sys.calls().last(),
            Some(&Call::LoopRelease("/dev/loop0".into()))
        );
        assert!(!mounter.is_mount_point(Path::new("/v/_data")));
    }

    #[test]
    fn no_loop_device_no_mount() {
        let (sys, mounter) = mounter();
        sys.fail_loop(libc::ENXIO);
        let m = Mount {
            fstype: "ext4".into(),
            source: "/v/fs.img".into(),
            target: "/v/_data".into(),
            options: vec!["loop".into()],
            cwd: None,
        };
        let e = mounter.mount(&m).unwrap_err();
        assert!(matches!(e, MountError::Loop { .. }), "{e}");
        assert_eq!(sys.calls(), [Call::LoopAttach("/v/fs.img".into())]);
    }

    #[test]
    fn unmount_falls_back_to_a_lazy_detach_and_guards_unmount_on_drop() {
        let (sys, mounter) = mounter();
        let guard = mounter
            .mount_scoped(&Mount::bind("/a", "/b", false, false))
            .unwrap();
        sys.fail_umount_once(libc::EBUSY);
        drop(guard);
        assert_eq!(
            sys.calls()[1..],
            [
                Call::Umount {
                    target: "/b".into(),
                    detach: false
                },
                Call::Umount {
                    target: "/b".into(),
                    detach: true
                }
            ]
        );
        assert!(!mounter.is_mount_point(Path::new("/b")));
        // Releasing what is not mounted does nothing.
        assert!(!mounter.release(Path::new("/b")).unwrap());
        assert_eq!(sys.calls().len(), 3);
    }

    #[test]
    fn mount_all_scoped_undoes_what_it_made_when_one_fails() {
        let (sys, mounter) = mounter();
        sys.fail_mount_call(2, libc::ENOENT);
        let mounts = [
            Mount::bind("/a", "/x", false, false),
            Mount::bind("/b", "/x/y", false, false),
        ];
        assert!(mounter.mount_all_scoped(&mounts).is_err());
        assert_eq!(
            sys.calls().last(),
            Some(&Call::Umount {
                target: "/x".into(),
                detach: false
            })
        );
    }

    #[test]
    fn mountinfo_paths_are_unescaped() {
        let info = "36 35 98:0 /mnt1 /mnt\\040a\\134b rw,noatime master:1 - ext3 /dev/root rw\n\
                    37 35 0:5 / /proc rw - proc proc rw\n";
        assert_eq!(
            parse_mountinfo(info),
            [PathBuf::from("/mnt a\\b"), PathBuf::from("/proc")]
        );
    }
}
