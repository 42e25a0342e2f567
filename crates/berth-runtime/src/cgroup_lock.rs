//! The wait at a container's first `cgroup.procs` write, taken off the path. The kernel guards
//! every move of a process between cgroups with one system-wide lock (its
//! `cgroup_threadgroup_rwsem`); after a quiet spell that lock is in its fast mode, and the first
//! writer waits for an RCU grace period to switch it (about 6–15 ms on this 2-core VM, however
//! little the write does), while writers in the next grace period or so find it switched.
//! Every runtime's create makes such a write (libcontainer's intermediate process moves itself
//! into the container's cgroups before cloning the init; runc's parent writes the init's pid),
//! as does every exec, so a lone `run` waited a whole grace period there.
//!
//! [`Warmup::start`] forks a child that writes itself into the cgroup it is already in (a move
//! to where it is: nothing changes, but the lock switches), at once and then every few
//! milliseconds, so the grace period runs while the engine mounts the root filesystem and
//! spawns the shim and the runtime prepares the container, and the lock stays switched until
//! the runtime has made its write (a lock left alone for a grace period or two switches back,
//! and a create slowed by load takes longer than that). The engine holds one over a
//! container's launch, the in-process runtime one over an exec; dropping the [`Warmup`] ends
//! and reaps the child, which never outlives [`MAX_ROUNDS`] writes.
//!
//! One child on the machine is enough: while it writes, the lock stays switched for every
//! writer. The child holds the abstract unix socket [`BUSY_NAME`] (the kernel releases the name
//! when the child is gone, however it ends), and a start that finds the name taken forks
//! nothing. Sixteen concurrent `run`s made sixteen children writing every few milliseconds, each
//! write taking the lock every fork, exec and exit of the machine waits for: with one, the batch
//! took 0.248 s instead of 0.264 s and 407 ms of CPU instead of 419 (A/B, 6 rounds), a lone run
//! the same (docs/runtime.md).

use std::os::fd::{AsRawFd, OwnedFd};

/// The child's writes are this far apart: under the shortest grace period seen here, so the
/// lock does not switch back in between.
const PERIOD: libc::timespec = libc::timespec {
    tv_sec: 0,
    tv_nsec: 3_000_000,
};

/// The most writes the child makes (about a second) if nobody ends it.
const MAX_ROUNDS: u32 = 300;

/// The abstract unix socket name a live child holds (see the module doc).
const BUSY_NAME: &[u8] = b"berth-cgroup-warmup";

/// A started warm-up: the child's pid (0: an outer warm-up of this thread's serves). Dropping
/// it ends the child.
pub struct Warmup(libc::pid_t);

std::thread_local! {
    /// How many [`Warmup`]s this thread holds: one started inside another (the engine's launch
    /// inside `run`'s, which starts before the container is created) forks no second child.
    static HELD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl Warmup {
    /// Forks the child that makes the no-op writes; `None` when there is no cgroup file to
    /// write (no cgroup hierarchy mounted where expected), another process's child is writing
    /// already (it serves this caller too), or the fork failed: the create then waits as
    /// before. While this thread holds one already, the new one forks nothing and the outer
    /// one's child serves both.
    pub fn start() -> Option<Warmup> {
        if HELD.get() > 0 {
            HELD.set(HELD.get() + 1);
            return Some(Warmup(0));
        }
        let warmup = Warmup::fork()?;
        HELD.set(1);
        Some(warmup)
    }

    fn fork() -> Option<Warmup> {
        use std::os::linux::net::SocketAddrExt;
        let name = std::os::unix::net::SocketAddr::from_abstract_name(BUSY_NAME).ok()?;
        // Taken: another child is writing. (Close-on-exec, like every std socket.)
        let busy = std::os::unix::net::UnixDatagram::bind_addr(&name).ok()?;
        let procs = own_procs_file()?;
        let (fd, held) = (procs.as_raw_fd(), busy.as_raw_fd());
        let (low, high) = (fd.min(held), fd.max(held));
        // The child starts with every signal blocked, so that no handler of the caller's runs
        // in it (SIGKILL, which ends it, cannot be blocked).
        // SAFETY: sigfillset(3) and pthread_sigmask(3) on sets of our own.
        let saved = unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut saved: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut saved);
            saved
        };
        // SAFETY: the child calls only close_range(2), write(2), nanosleep(2) and _exit(2),
        // which are async-signal-safe, so forking a process with other threads (a test
        // harness, the API server) is sound.
        let pid = unsafe { libc::fork() };
        if pid != 0 {
            // SAFETY: puts back the mask saved above.
            unsafe {
                libc::pthread_sigmask(libc::SIG_SETMASK, &saved, std::ptr::null_mut());
            }
        }
        match pid {
            // SAFETY: in the child, on its own copy of the cgroup file's descriptor.
            0 => unsafe {
                // Nothing of the caller's stays open in the child (a pipe's reader waiting
                // for its end, a socket), only the cgroup file and the busy socket.
                // close_range(2) through syscall(2): musl's libc (the static build) has no
                // wrapper.
                let close = |from: i32, to: i32| {
                    if from <= to {
                        libc::syscall(
                            libc::SYS_close_range,
                            from as libc::c_uint,
                            to as libc::c_uint,
                            0,
                        );
                    }
                };
                close(0, low - 1);
                close(low + 1, high - 1);
                close(high + 1, i32::MAX);
                for _ in 0..MAX_ROUNDS {
                    // "0": the writing process itself.
                    if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                        libc::_exit(1);
                    }
                    libc::nanosleep(&PERIOD, std::ptr::null_mut());
                }
                // Every write moved it: the exit status the tests read.
                libc::_exit(0)
            },
            pid if pid > 0 => Some(Warmup(pid)),
            _ => None,
        }
    }
}

impl Drop for Warmup {
    /// Ends the child and reaps it: it dies at once (it sleeps between writes, and by the time
    /// the runtime's own write is done the grace period its first write waited for is over).
    fn drop(&mut self) {
        HELD.set(HELD.get().saturating_sub(1));
        if self.0 == 0 {
            return;
        }
        // SAFETY: our own child, not reaped yet, so the pid is still its.
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
            while libc::waitpid(self.0, std::ptr::null_mut(), 0) < 0
                && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
            {
            }
        }
    }
}

/// The `cgroup.procs` file of the cgroup this process is in, in one hierarchy mounted under
/// `/sys/fs/cgroup`: the unified one first (on a hybrid host it has no controllers, the
/// cheapest to move within), else the first v1 hierarchy with controllers.
fn own_procs_file() -> Option<OwnedFd> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mut candidates = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = path.trim_end_matches('/');
        if controllers.is_empty() {
            candidates.insert(0, format!("/sys/fs/cgroup{path}/cgroup.procs"));
            candidates.insert(0, format!("/sys/fs/cgroup/unified{path}/cgroup.procs"));
        } else if !controllers.starts_with("name=") {
            candidates.push(format!("/sys/fs/cgroup/{controllers}{path}/cgroup.procs"));
        }
    }
    candidates.into_iter().find_map(|p| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(p)
            .ok()
            .map(OwnedFd::from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs root"]
    fn the_procs_file_is_this_processs_own_cgroup() {
        let procs = own_procs_file().expect("a cgroup hierarchy under /sys/fs/cgroup");
        let path = std::fs::read_link(format!("/proc/self/fd/{}", procs.as_raw_fd())).unwrap();
        assert!(path.ends_with("cgroup.procs"), "{path:?}");
        let text = std::fs::read_to_string(&path).unwrap();
        let me = std::process::id().to_string();
        assert!(
            text.lines().any(|l| l == me),
            "{path:?} does not list this process ({me})"
        );
    }

    #[test]
    #[ignore = "needs root"]
    fn the_child_moves_itself_until_ended_and_leaves_this_process_where_it_was() {
        let before = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let wait = |w: Warmup| {
            let mut status = 0;
            // SAFETY: waitpid(2) on the child just forked, not reaped yet.
            let pid = unsafe { libc::waitpid(w.0, &mut status, 0) };
            assert_eq!(pid, w.0);
            // Reaped here: its Drop must not signal the pid again.
            HELD.set(HELD.get() - 1);
            std::mem::forget(w);
            status
        };
        // Left alone, it makes all its writes and says whether each moved it.
        let status = wait(Warmup::start().expect("a cgroup hierarchy to write to"));
        assert!(libc::WIFEXITED(status), "{status:#x}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "a write of the child failed");
        // Dropped, it is ended and reaped: its pid is no child of ours any more.
        let w = Warmup::start().unwrap();
        let pid = w.0;
        drop(w);
        // SAFETY: waitpid(2) without blocking.
        let r = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
        assert_eq!(r, -1);
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::ECHILD)
        );
        assert_eq!(
            std::fs::read_to_string("/proc/self/cgroup").unwrap(),
            before
        );
        // One inside another forks no second child, and its end leaves the outer one's.
        let outer = Warmup::start().unwrap();
        let inner = Warmup::start().unwrap();
        assert_eq!(inner.0, 0);
        drop(inner);
        // SAFETY: waitpid(2) without blocking on our own child.
        let r = unsafe { libc::waitpid(outer.0, std::ptr::null_mut(), libc::WNOHANG) };
        assert_eq!(r, 0, "the outer warm-up's child still runs");
        // Elsewhere (another thread here, another process alike) it forks nothing while a
        // child writes: that one serves every caller.
        let elsewhere = || {
            std::thread::spawn(|| Warmup::start().map(|w| w.0))
                .join()
                .unwrap()
        };
        assert_eq!(elsewhere(), None, "a second child while the first writes");
        drop(outer);
        let again = Warmup::start().unwrap();
        assert_ne!(
            again.0, 0,
            "a new warm-up after both ended forks its own child"
        );
        drop(again);
        assert!(
            elsewhere().is_some_and(|pid| pid > 0),
            "the first child gone, the next start forks its own"
        );
    }
}
