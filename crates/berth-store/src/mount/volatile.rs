//! [`Mounter::ensure_tmpfs`]: the directory of berth's runtime state (`/run/berth`, the exec
//! roots' base) on a tmpfs, as `/run` is on a systemd machine.
//!
//! What lives there — each run's OCI bundle, the shim's pid files and sockets, the runtime's
//! state, the namespace files — is written and deleted on every container start and means
//! nothing after a reboot. Where `/run` is a plain directory of a disk filesystem (some VMs and
//! minimal images), every run would create and delete a dozen inodes on that disk, and on ext4
//! without a journal each deleted inode also slows every later allocation for a minute.
//!
//! The mount is made only over an **empty** directory: state an earlier berth keeps there
//! (running containers' sockets and namespace files) is never hidden. Concurrent first uses
//! take an exclusive `flock(2)` on the directory and look again under it, so one of them mounts.

use std::io;
use std::path::Path;

use rustix::fs::{flock, FlockOperation};

use super::{MountArgs, Mounter};

/// `statfs(2)`'s `f_type` of tmpfs.
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// Options of the tmpfs: those of `/run` on Debian (no devices, set-uid or executables), and at
/// most a tenth of memory.
const OPTIONS: &str = "mode=0755,size=10%";

/// Whether `dir` is on a tmpfs.
fn on_tmpfs(dir: &Path) -> io::Result<bool> {
    Ok(rustix::fs::statfs(dir)?.f_type as i64 == TMPFS_MAGIC)
}

/// Whether `dir` has no entries.
fn is_empty(dir: &Path) -> io::Result<bool> {
    Ok(std::fs::read_dir(dir)?.next().is_none())
}

impl Mounter {
    /// Makes `dir` (created if missing) a tmpfs, unless it is on one already or holds anything;
    /// returns whether it mounted one.
    pub fn ensure_tmpfs(&self, dir: &Path) -> io::Result<bool> {
        std::fs::create_dir_all(dir)?;
        if on_tmpfs(dir)? || !is_empty(dir)? {
            return Ok(false);
        }
        // The lock is on the directory underneath: a process that mounted first released it,
        // and the path now resolves to its tmpfs.
        let under = std::fs::File::open(dir)?;
        flock(&under, FlockOperation::LockExclusive)?;
        if on_tmpfs(dir)? || !is_empty(dir)? {
            return Ok(false);
        }
        let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        self.sys.mount(&MountArgs {
            source: "tmpfs".into(),
            target: dir.to_path_buf(),
            fstype: Some("tmpfs".into()),
            flags,
            data: OPTIONS.into(),
            cwd: None,
        })?;
        log::debug!("mounted a tmpfs on {} (not on one before)", dir.display());
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mount::recording::{Call, RecordingSys};
    use std::sync::Arc;

    #[test]
    fn an_empty_directory_of_a_disk_filesystem_gets_a_tmpfs_and_a_full_one_does_not() {
        // The source tree is on a disk filesystem wherever the tests build.
        let t = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        assert!(
            !on_tmpfs(t.path()).unwrap(),
            "the crate's directory is on a tmpfs"
        );
        let sys = Arc::new(RecordingSys::default());
        let m = Mounter::new(sys.clone());
        let empty = t.path().join("run/berth");
        assert!(m.ensure_tmpfs(&empty).unwrap());
        let full = t.path().join("full");
        std::fs::create_dir_all(full.join("containers")).unwrap();
        assert!(!m.ensure_tmpfs(&full).unwrap());
        let calls = sys.calls();
        assert_eq!(calls.len(), 1, "{calls:?}");
        let Call::Mount(args) = &calls[0] else {
            panic!("{calls:?}")
        };
        assert_eq!(args.target, empty);
        assert_eq!(args.fstype.as_deref(), Some("tmpfs"));
        assert_eq!(args.data, OPTIONS);
    }

    #[test]
    #[ignore = "needs root"]
    fn concurrent_first_uses_mount_one_tmpfs_and_later_ones_none() {
        let t = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let dir = t.path().join("run");
        let made: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| Mounter::linux().ensure_tmpfs(&dir).unwrap()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap() as usize)
                .sum()
        });
        let mounted = Mounter::linux().is_mount_point(&dir);
        let stacked = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter(|l| l.split(' ').nth(4) == Some(dir.to_str().unwrap()))
            .count();
        let on = on_tmpfs(&dir).unwrap();
        let again = Mounter::linux().ensure_tmpfs(&dir).unwrap();
        let _ = rustix::mount::unmount(&dir, rustix::mount::UnmountFlags::DETACH);
        assert_eq!(made, 1);
        assert!(mounted && on);
        assert_eq!(stacked, 1, "one tmpfs, not one per caller");
        assert!(!again);
    }
}
