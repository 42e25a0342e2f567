//! [`Sys`] is the seam between berth's mount logic and the kernel: the few calls [`super::Mounter`]
//! makes, with [`MountArgs`] as a mount(2) call's exact arguments. [`LinuxSys`] makes them.

use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The arguments of one mount(2) call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountArgs {
    /// Source (a path, a device, or a name such as `overlay`).
    pub source: String,
    /// Mount point.
    pub target: PathBuf,
    /// Filesystem type; `None` for binds and remounts.
    pub fstype: Option<String>,
    /// `MS_*` flags.
    pub flags: libc::c_ulong,
    /// Filesystem data.
    pub data: String,
    /// Directory relative paths in `data` are resolved from.
    pub cwd: Option<PathBuf>,
}

/// A loop device attached to a file; it clears itself when its last user (an open descriptor or
/// a mount) goes.
#[derive(Debug)]
pub struct LoopDevice {
    /// `/dev/loopN`.
    pub path: PathBuf,
    /// The open device, which keeps it attached until the mount holds it.
    pub fd: Option<OwnedFd>,
}

/// The kernel calls mounting needs.
pub trait Sys: Send + Sync + std::fmt::Debug {
    /// mount(2).
    fn mount(&self, args: &MountArgs) -> io::Result<()>;
    /// umount2(2), lazily (`MNT_DETACH`) with `detach`.
    fn umount2(&self, target: &Path, detach: bool) -> io::Result<()>;
    /// Attaches `file` to a free loop device, set to clear itself once unused.
    fn loop_attach(&self, file: &Path) -> io::Result<LoopDevice>;
    /// Lets go of a loop device (after its mount was made, or failed).
    fn loop_release(&self, device: LoopDevice);
    /// The mount points of this process's mount namespace.
    fn mount_points(&self) -> io::Result<Vec<PathBuf>>;
}

/// The real kernel.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxSys;

impl Sys for LinuxSys {
    fn mount(&self, args: &MountArgs) -> io::Result<()> {
        let cstr = |s: &str| {
            CString::new(s).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in mount argument")
            })
        };
        let source = cstr(&args.source)?;
        let target = cstr(args.target.to_str().unwrap_or_default())?;
        let fstype = args.fstype.as_deref().map(cstr).transpose()?;
        let data = cstr(&args.data)?;
        let flags = args.flags;
        let call = move || -> io::Result<()> {
            let fstype_ptr = fstype.as_ref().map_or(std::ptr::null(), |f| f.as_ptr());
            // SAFETY: every pointer comes from a live CString (or is null for a bind's type),
            // and the kernel copies the arguments before returning.
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
        };
        match &args.cwd {
            None => call(),
            Some(cwd) => {
                let cwd = cwd.clone();
                // The chdir must not leak into other threads: the call is made from a thread
                // of its own that unshares its filesystem context first.
                std::thread::spawn(move || -> io::Result<()> {
                    // SAFETY: unshare(CLONE_FS) only detaches this thread's cwd/root/umask from
                    // the other threads; it changes no memory and no file descriptor table.
                    if unsafe { libc::unshare(libc::CLONE_FS) } != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    std::env::set_current_dir(&cwd)?;
                    call()
                })
                .join()
                .map_err(|_| io::Error::other("mount thread panicked"))?
            }
        }
    }

    fn umount2(&self, target: &Path, detach: bool) -> io::Result<()> {
        let flags = if detach {
            rustix::mount::UnmountFlags::DETACH
        } else {
            rustix::mount::UnmountFlags::empty()
        };
        rustix::mount::unmount(target, flags).map_err(io::Error::from)
    }

    fn loop_attach(&self, file: &Path) -> io::Result<LoopDevice> {
        super::loopdev::attach(file)
    }

    fn loop_release(&self, device: LoopDevice) {
        drop(device.fd);
    }

    fn mount_points(&self) -> io::Result<Vec<PathBuf>> {
        Ok(super::parse_mountinfo(&std::fs::read_to_string(
            "/proc/self/mountinfo",
        )?))
    }
}
