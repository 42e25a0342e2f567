//! [`Mount`] is a serialized mount(2) call: graph drivers return them, and whoever owns a rootfs's
//! lifetime (the shim, `export`, `diff` under vfs) performs them with [`Mount::mount_at`], which
//! returns a [`MountGuard`] that unmounts on drop.
//!
//! Overlay mounts of deep images pass lower dirs relative to the layer root (`l/XXXX`) to keep the
//! mount data under one page; such a mount carries `cwd`, and the call is made from a short-lived
//! thread that unshares its filesystem context (`CLONE_FS`) so that its `chdir` never affects the
//! rest of the process.

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One mount(2) call, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Filesystem type: `overlay`, `tmpfs`, `bind` (a bind mount, flags `MS_BIND`), ...
    pub fstype: String,
    /// Mount source (`overlay`, `tmpfs`, or a host path for binds).
    pub source: String,
    /// Comma-separated options: flags like `ro`, `nosuid`, `rbind` and filesystem data.
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
    /// umount2(2) failed.
    #[error("unmount {target}: {error}")]
    Unmount {
        /// The mount point.
        target: PathBuf,
        /// The kernel's error.
        error: io::Error,
    },
}

/// Flags recognised in [`Mount::options`]; anything else is filesystem data.
fn flag_of(opt: &str) -> Option<(libc::c_ulong, bool)> {
    // (flag, set?) — `false` means the option clears the flag.
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
        _ => return None,
    })
}

impl Mount {
    /// A bind mount of `source` (recursive when `recursive`).
    pub fn bind(source: impl Into<String>, recursive: bool, read_only: bool) -> Mount {
        let mut options = vec![if recursive { "rbind" } else { "bind" }.to_string()];
        if read_only {
            options.push("ro".to_string());
        }
        Mount {
            fstype: "bind".into(),
            source: source.into(),
            options,
            cwd: None,
        }
    }

    /// Splits the options into mount flags and filesystem data.
    pub fn flags_and_data(&self) -> (libc::c_ulong, String) {
        let mut flags: libc::c_ulong = 0;
        let mut data = Vec::new();
        for opt in &self.options {
            match flag_of(opt) {
                Some((f, true)) => flags |= f,
                Some((f, false)) => flags &= !f,
                None => data.push(opt.as_str()),
            }
        }
        (flags, data.join(","))
    }

    /// Performs the mount on `target` and returns a guard that unmounts it when dropped.
    pub fn mount_at(&self, target: &Path) -> Result<MountGuard, MountError> {
        let (flags, data) = self.flags_and_data();
        log::debug!(
            "mount {} on {} ({}, flags {flags:#x}, {} bytes of data: {data})",
            self.source,
            target.display(),
            self.fstype,
            data.len()
        );
        let fail = |error: io::Error| MountError::Mount {
            src: self.source.clone(),
            target: target.to_path_buf(),
            fstype: self.fstype.clone(),
            data: data.clone(),
            error,
        };
        let source = cstring(&self.source).map_err(fail)?;
        let fstype = cstring(&self.fstype).map_err(fail)?;
        let target_c = cstring(target.as_os_str().to_str().unwrap_or_default()).map_err(fail)?;
        let data_c = cstring(&data).map_err(fail)?;
        let read_only_bind = flags & libc::MS_BIND != 0 && flags & libc::MS_RDONLY != 0;
        let do_mount = move || -> io::Result<()> {
            let first = if read_only_bind {
                flags & !libc::MS_RDONLY
            } else {
                flags
            };
            sys_mount(&source, &target_c, &fstype, first, &data_c)?;
            if read_only_bind {
                // A bind mount ignores MS_RDONLY on the first call; a remount makes it read-only.
                let remount = libc::MS_BIND
                    | libc::MS_REMOUNT
                    | libc::MS_RDONLY
                    | (flags & (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC));
                sys_mount(&source, &target_c, &fstype, remount, &data_c)?;
            }
            Ok(())
        };
        match &self.cwd {
            None => do_mount().map_err(fail)?,
            Some(cwd) => {
                let cwd = cwd.clone();
                std::thread::spawn(move || -> io::Result<()> {
                    // The chdir must not leak into other threads: give this thread its own fs context.
                    // SAFETY: unshare(CLONE_FS) only detaches this thread's cwd/root/umask from
                    // the other threads; it changes no memory and no file descriptor table.
                    if unsafe { libc::unshare(libc::CLONE_FS) } != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    std::env::set_current_dir(&cwd)?;
                    do_mount()
                })
                .join()
                .map_err(|_| fail(io::Error::other("mount thread panicked")))?
                .map_err(fail)?
            }
        }
        Ok(MountGuard {
            target: Some(target.to_path_buf()),
        })
    }
}

fn cstring(s: &str) -> io::Result<CString> {
    CString::new(s)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in mount argument"))
}

fn sys_mount(
    source: &CString,
    target: &CString,
    fstype: &CString,
    flags: libc::c_ulong,
    data: &CString,
) -> io::Result<()> {
    let fstype_ptr = if fstype.as_bytes() == b"bind" {
        std::ptr::null()
    } else {
        fstype.as_ptr()
    };
    // SAFETY: every pointer comes from a live CString (or is null for a bind's fstype), and the
    // kernel copies the arguments before returning.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype_ptr,
            flags,
            data.as_ptr().cast(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Unmounts `target` (lazily with `detach`).
pub fn unmount(target: &Path, detach: bool) -> Result<(), MountError> {
    log::debug!(
        "unmount {}{}",
        target.display(),
        if detach { " (lazy)" } else { "" }
    );
    let flags = if detach {
        rustix::mount::UnmountFlags::DETACH
    } else {
        rustix::mount::UnmountFlags::empty()
    };
    rustix::mount::unmount(target, flags).map_err(|e| MountError::Unmount {
        target: target.to_path_buf(),
        error: e.into(),
    })
}

/// True when `path` is a mount point (its device differs from its parent's or it is listed in
/// /proc/self/mountinfo).
pub fn is_mount_point(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let wanted = path.to_string_lossy();
    info.lines().any(|l| {
        l.split(' ')
            .nth(4)
            .map(|mp| unescape_mountinfo(mp) == wanted)
            .unwrap_or(false)
    })
}

fn unescape_mountinfo(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// Undoes a mount when dropped; call [`MountGuard::unmount`] to see the error on the normal path.
#[derive(Debug)]
pub struct MountGuard {
    target: Option<PathBuf>,
}

impl MountGuard {
    /// Unmounts now, reporting failure.
    pub fn unmount(mut self) -> Result<(), MountError> {
        match self.target.take() {
            Some(t) => unmount(&t, false),
            None => Ok(()),
        }
    }

    /// Keeps the mount: the guard forgets it (for mounts whose lifetime another process owns).
    pub fn leak(mut self) -> PathBuf {
        self.target.take().unwrap_or_default()
    }
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        if let Some(t) = self.target.take() {
            if unmount(&t, false).is_err() {
                let _ = unmount(&t, true);
            }
        }
    }
}
