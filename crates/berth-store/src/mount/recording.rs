//! [`RecordingSys`] stands in for the kernel in tests (feature `testutil`): it records every call
//! as a [`Call`], keeps the set of mount points its mounts made, and fails calls on demand, so
//! mount logic is checked — exact flags, order, failure paths — without root.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{LoopDevice, MountArgs, Sys};

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// mount(2) (recorded whether it succeeded or not).
    Mount(MountArgs),
    /// umount2(2).
    Umount {
        /// The mount point.
        target: PathBuf,
        /// `MNT_DETACH`.
        detach: bool,
    },
    /// A loop device attached to this file.
    LoopAttach(PathBuf),
    /// This loop device let go.
    LoopRelease(PathBuf),
}

#[derive(Debug, Default)]
struct Inner {
    calls: Vec<Call>,
    mounted: BTreeSet<PathBuf>,
    mounts_made: usize,
    fail_mount: Option<(usize, i32)>,
    fail_umount: Option<i32>,
    fail_loop: Option<i32>,
    loops: usize,
}

/// A fake kernel that records calls.
#[derive(Debug, Default)]
pub struct RecordingSys {
    inner: Mutex<Inner>,
}

impl RecordingSys {
    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// Only the mount(2) calls so far.
    pub fn mounts(&self) -> Vec<MountArgs> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Mount(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    /// Forgets the calls so far (the mount points stay).
    pub fn clear(&self) {
        self.inner.lock().unwrap().calls.clear();
    }

    /// The `n`th mount(2) call from now (1 = the next) fails with `errno`.
    pub fn fail_mount_call(&self, n: usize, errno: i32) {
        let mut i = self.inner.lock().unwrap();
        i.fail_mount = Some((i.mounts_made + n, errno));
    }

    /// The next umount2(2) fails with `errno`.
    pub fn fail_umount_once(&self, errno: i32) {
        self.inner.lock().unwrap().fail_umount = Some(errno);
    }

    /// The next loop attach fails with `errno`.
    pub fn fail_loop(&self, errno: i32) {
        self.inner.lock().unwrap().fail_loop = Some(errno);
    }

    /// Records `path` as a mount point made outside this fake (as if left by a dead process).
    pub fn add_mount_point(&self, path: &Path) {
        self.inner
            .lock()
            .unwrap()
            .mounted
            .insert(path.to_path_buf());
    }
}

impl Sys for RecordingSys {
    fn mount(&self, args: &MountArgs) -> io::Result<()> {
        let mut i = self.inner.lock().unwrap();
        i.calls.push(Call::Mount(args.clone()));
        i.mounts_made += 1;
        if let Some((n, errno)) = i.fail_mount {
            if n == i.mounts_made {
                i.fail_mount = None;
                return Err(io::Error::from_raw_os_error(errno));
            }
        }
        let propagation = libc::MS_SHARED | libc::MS_PRIVATE | libc::MS_SLAVE;
        if args.flags & propagation == 0 || args.flags & libc::MS_BIND != 0 {
            i.mounted.insert(args.target.clone());
        }
        Ok(())
    }

    fn umount2(&self, target: &Path, detach: bool) -> io::Result<()> {
        let mut i = self.inner.lock().unwrap();
        i.calls.push(Call::Umount {
            target: target.to_path_buf(),
            detach,
        });
        if let Some(errno) = i.fail_umount.take() {
            return Err(io::Error::from_raw_os_error(errno));
        }
        if !i.mounted.remove(target) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        Ok(())
    }

    fn loop_attach(&self, file: &Path) -> io::Result<LoopDevice> {
        let mut i = self.inner.lock().unwrap();
        i.calls.push(Call::LoopAttach(file.to_path_buf()));
        if let Some(errno) = i.fail_loop.take() {
            return Err(io::Error::from_raw_os_error(errno));
        }
        let path = PathBuf::from(format!("/dev/loop{}", i.loops));
        i.loops += 1;
        Ok(LoopDevice { path, fd: None })
    }

    fn loop_release(&self, device: LoopDevice) {
        self.inner
            .lock()
            .unwrap()
            .calls
            .push(Call::LoopRelease(device.path));
    }

    fn mount_points(&self) -> io::Result<Vec<PathBuf>> {
        Ok(self.inner.lock().unwrap().mounted.iter().cloned().collect())
    }
}
