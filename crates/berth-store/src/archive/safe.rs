//! [`SafeRoot`] is a directory fd from which every path operation beneath it starts, so that
//! nothing outside the directory is ever read, written, chmodded, chowned, linked or deleted.
//!
//! * Names are cleaned lexically first ([`SafeRoot`] takes relative paths; `.` and empty
//!   components vanish, `..` pops a component): an absolute path, or a `..` that climbs above the
//!   root, is refused with [`ArchiveError::Escape`].
//! * Parent directories are resolved by the kernel with
//!   `openat2(root_fd, parent, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`: symlinks that stay
//!   beneath the root are followed, one that leads out (absolute, or `..` past the root) fails
//!   with `EXDEV`, reported as [`ArchiveError::Escape`].
//! * Final components are handled with `*at` calls relative to the parent fd that never follow a
//!   symlink (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`, `unlinkat`), so a symlink in the last position
//!   is replaced or reported, never followed.
//!
//! No string-prefix comparison of resolved paths is made anywhere.

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Dir, Mode, OFlags, ResolveFlags, Stat};
use rustix::io::Errno;

use super::ArchiveError;

/// Flags of every directory fd opened beneath a root (read access so `fsetxattr` works on it).
pub(crate) const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

/// How parents are resolved: never above the root, never through `/proc` magic links.
const RESOLVE: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS);

/// Splits `name` into its components after lexical cleaning, refusing names that leave the root.
///
/// `./a//b/./c/` → `[a, b, c]`; `a/../b` → `[b]`; `.` → `[]` (the root itself). Absolute names,
/// `..` climbing above the root and NUL bytes are refused with a reason.
pub(crate) fn clean(name: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    if name.contains(&0) {
        return Err("the name contains a NUL byte");
    }
    if name.first() == Some(&b'/') {
        return Err("absolute names are not allowed");
    }
    let mut out: Vec<&[u8]> = Vec::new();
    for comp in name.split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                if out.pop().is_none() {
                    return Err("`..` leaves the root");
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Joins components with `/` into `out` (cleared first).
pub(crate) fn join_into(comps: &[&[u8]], out: &mut Vec<u8>) {
    out.clear();
    for (i, c) in comps.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(c);
    }
}

/// Maps a failure to resolve a parent: `EXDEV` is the kernel refusing to leave the root.
pub(crate) fn resolve_error(path: &str, e: Errno) -> ArchiveError {
    if e == Errno::XDEV {
        ArchiveError::escape(
            path,
            "a parent directory resolves outside the root (through a symlink)",
        )
    } else {
        ArchiveError::io(path, e)
    }
}

/// `AT_SYMLINK_NOFOLLOW` stat of `name` in `dir`.
pub(crate) fn lstat_at(dir: BorrowedFd<'_>, name: &[u8]) -> rustix::io::Result<Stat> {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
}

/// Opens the directory `name` in `dir` without following a symlink in its place.
pub(crate) fn open_subdir(dir: BorrowedFd<'_>, name: &[u8]) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(dir, name, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty())
}

/// The names in a directory (without `.` and `..`), sorted bytewise.
pub(crate) fn read_names(dir: BorrowedFd<'_>) -> rustix::io::Result<Vec<Vec<u8>>> {
    let mut d = Dir::read_from(dir)?;
    let mut names = Vec::new();
    while let Some(ent) = d.read() {
        let ent = ent?;
        let n = ent.file_name().to_bytes();
        if n != b"." && n != b".." {
            names.push(n.to_vec());
        }
    }
    names.sort_unstable();
    Ok(names)
}

/// The entries of a directory with their `lstat`, sorted bytewise by name. Entries that vanish
/// while listing are left out.
pub(crate) fn read_entries(dir: BorrowedFd<'_>) -> rustix::io::Result<Vec<(Vec<u8>, Stat)>> {
    let mut out = Vec::new();
    for name in read_names(dir)? {
        match lstat_at(dir, &name) {
            Ok(st) => out.push((name, st)),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Removes `name` in `dir` and, if it is a directory, everything below it, never following a
/// symlink. A name that does not exist is not an error.
pub(crate) fn remove_all_at(dir: BorrowedFd<'_>, name: &[u8]) -> rustix::io::Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => return Ok(()),
        Err(Errno::ISDIR) => {}
        Err(e) => return Err(e),
    }
    let sub = match open_subdir(dir, name) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    for child in read_names(sub.as_fd())? {
        remove_all_at(sub.as_fd(), &child)?;
    }
    match rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `chmod` of `name` in `dir` without following a symlink: `fchmodat2(AT_SYMLINK_NOFOLLOW)` (Linux
/// 6.6), or on older kernels through an `O_PATH` fd and its `/proc/self/fd` link. Symlinks have
/// no mode of their own and are left alone.
pub(crate) fn chmod_at(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> rustix::io::Result<()> {
    use std::os::fd::AsRawFd;
    let cname = std::ffi::CString::new(name).map_err(|_| Errno::INVAL)?;
    // SAFETY: fchmodat2 takes a valid dir fd, a NUL-terminated path that outlives the call, a mode
    // and flags; it reads only the path and touches no memory of ours.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fchmodat2,
            dir.as_raw_fd(),
            cname.as_ptr(),
            mode as libc::c_uint,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let err = Errno::from_raw_os_error(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    match err {
        Errno::NOSYS => {}
        // A symlink: Linux keeps no mode for it.
        Errno::OPNOTSUPP => return Ok(()),
        e => return Err(e),
    }
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    if rustix::fs::fstat(&fd)?.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return Ok(());
    }
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    rustix::fs::chmod(path.as_str(), Mode::from_raw_mode(mode))
}

/// A directory that every path operation starts from; nothing outside it is ever reached.
///
/// Paths given to its methods are relative to the root (`a/b`, `./a/b`; an absolute path or one
/// whose `..` climbs above the root is refused with [`ArchiveError::Escape`]). Intermediate
/// symlinks are followed only while they stay beneath the root; a final-component symlink is never
/// followed. Errors carry the path as given.
///
/// ```no_run
/// # use berth_store::archive::SafeRoot;
/// let root = SafeRoot::open("/var/lib/berth/volumes/v/_data")?;
/// let mut f = root.create_file("etc/app.conf", 0o644)?;
/// std::io::Write::write_all(&mut f, b"key=value\n").unwrap();
/// assert!(root.metadata("etc")?.st_mode & libc::S_IFMT == libc::S_IFDIR);
/// # Ok::<(), berth_store::archive::ArchiveError>(())
/// ```
#[derive(Debug)]
pub struct SafeRoot {
    fd: OwnedFd,
    path: PathBuf,
}

impl AsFd for SafeRoot {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl SafeRoot {
    /// Opens the directory `path` as a root. `path` itself is trusted and resolved normally.
    pub fn open(path: impl AsRef<Path>) -> Result<SafeRoot, ArchiveError> {
        let path = path.as_ref();
        let fd = rustix::fs::open(path, DIR_FLAGS, Mode::empty())
            .map_err(|e| ArchiveError::io(path.display().to_string(), e))?;
        Ok(SafeRoot {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The path the root was opened from (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the existing directory `rel` beneath the root (the root itself for `""` or `.`).
    pub fn open_dir(&self, rel: impl AsRef<Path>) -> Result<OwnedFd, ArchiveError> {
        let (shown, comps) = checked(rel.as_ref())?;
        let mut joined = Vec::new();
        join_into(&comps, &mut joined);
        self.open_dir_bytes(&joined)
            .map_err(|e| resolve_error(&shown, e))
    }

    /// Opens the directory `rel`, creating missing components 0755 root:root first.
    pub fn create_dir_all(&self, rel: impl AsRef<Path>) -> Result<OwnedFd, ArchiveError> {
        let (shown, comps) = checked(rel.as_ref())?;
        self.dirs(&comps, true)
            .map_err(|e| resolve_error(&shown, e))
    }

    /// Resolves the parent of `rel` (creating it when `create`) and returns its fd with the final
    /// component, for `*at` calls that must not follow a symlink in that last position.
    pub fn parent(
        &self,
        rel: impl AsRef<Path>,
        create: bool,
    ) -> Result<(OwnedFd, OsString), ArchiveError> {
        let (shown, mut comps) = checked(rel.as_ref())?;
        let Some(name) = comps.pop() else {
            return Err(ArchiveError::escape(
                shown,
                "the path names the root itself, which has no parent",
            ));
        };
        let fd = self
            .dirs(&comps, create)
            .map_err(|e| resolve_error(&shown, e))?;
        Ok((fd, OsString::from_vec(name.to_vec())))
    }

    /// Opens the existing file `rel` with `flags` (`O_NOFOLLOW` and `O_CLOEXEC` are added: a
    /// symlink in the final position fails with `ELOOP`).
    pub fn open_file(&self, rel: impl AsRef<Path>, flags: OFlags) -> Result<File, ArchiveError> {
        let (fd, name) = self.parent(rel.as_ref(), false)?;
        rustix::fs::openat(
            &fd,
            name.as_bytes(),
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map(File::from)
        .map_err(|e| ArchiveError::io(rel.as_ref().display().to_string(), e))
    }

    /// Creates the regular file `rel` for writing with permission bits `mode` (exactly, whatever
    /// the umask), creating missing parents. An existing non-directory in its place (a symlink
    /// included) is unlinked first, never written through; an existing directory is an error.
    pub fn create_file(&self, rel: impl AsRef<Path>, mode: u32) -> Result<File, ArchiveError> {
        let shown = rel.as_ref().display().to_string();
        let (dir, name) = self.parent(rel.as_ref(), true)?;
        let name = name.as_bytes();
        let fd = create_excl(dir.as_fd(), name, false).map_err(|e| ArchiveError::io(&shown, e))?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))
            .map_err(|e| ArchiveError::io(&shown, e))?;
        Ok(File::from(fd))
    }

    /// The `lstat` of `rel` beneath the root (a final symlink is described, not followed).
    pub fn metadata(&self, rel: impl AsRef<Path>) -> Result<Stat, ArchiveError> {
        let (shown, comps) = checked(rel.as_ref())?;
        match comps.split_last() {
            None => rustix::fs::fstat(&self.fd).map_err(|e| ArchiveError::io(shown, e)),
            Some((name, parent)) => {
                let fd = self
                    .dirs(parent, false)
                    .map_err(|e| resolve_error(&shown, e))?;
                lstat_at(fd.as_fd(), name).map_err(|e| ArchiveError::io(shown, e))
            }
        }
    }

    /// Removes `rel` and everything below it, never following a symlink. Missing is not an error.
    pub fn remove_all(&self, rel: impl AsRef<Path>) -> Result<(), ArchiveError> {
        let shown = rel.as_ref().display().to_string();
        let (dir, name) = match self.parent(rel.as_ref(), false) {
            Ok(p) => p,
            Err(ArchiveError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Ok(())
            }
            Err(e) => return Err(e),
        };
        remove_all_at(dir.as_fd(), name.as_bytes()).map_err(|e| ArchiveError::io(shown, e))
    }

    /// Opens the directory at the cleaned, `/`-joined path `joined` (empty = the root).
    pub(crate) fn open_dir_bytes(&self, joined: &[u8]) -> rustix::io::Result<OwnedFd> {
        let path: &[u8] = if joined.is_empty() { b"." } else { joined };
        crate::fsutil::openat2(&self.fd, path, DIR_FLAGS, Mode::empty(), RESOLVE)
    }

    /// Opens the directory made of `comps`, creating missing components (0755 root:root) when
    /// `create`.
    pub(crate) fn dirs(&self, comps: &[&[u8]], create: bool) -> rustix::io::Result<OwnedFd> {
        let mut joined = Vec::new();
        join_into(comps, &mut joined);
        match self.open_dir_bytes(&joined) {
            Err(Errno::NOENT) if create => {}
            r => return r,
        }
        // Walk from the root, creating what is missing. A plain directory is opened from the
        // one before it (one component: the walk stays linear in the path's length); a symlink
        // met on the way is resolved from the root again, so the kernel judges it like any
        // other (the kernel's 40-symlink limit bounds how often that happens).
        let mut cur = self.open_dir_bytes(b"")?;
        joined.clear();
        for c in comps {
            if !joined.is_empty() {
                joined.push(b'/');
            }
            joined.extend_from_slice(c);
            let step = match open_subdir(cur.as_fd(), c) {
                Err(Errno::LOOP) | Err(Errno::NOTDIR) => self.open_dir_bytes(&joined),
                r => r,
            };
            match step {
                Ok(fd) => cur = fd,
                Err(Errno::NOENT) => {
                    let created = match rustix::fs::mkdirat(&cur, *c, Mode::from_raw_mode(0o755)) {
                        Ok(()) => true,
                        Err(Errno::EXIST) => false,
                        Err(e) => return Err(e),
                    };
                    let fd = match open_subdir(cur.as_fd(), c) {
                        Err(Errno::LOOP) | Err(Errno::NOTDIR) => self.open_dir_bytes(&joined)?,
                        r => r?,
                    };
                    if created {
                        // The umask and a setgid parent must not change what Docker creates.
                        match rustix::fs::fchown(
                            &fd,
                            Some(rustix::fs::Uid::ROOT),
                            Some(rustix::fs::Gid::ROOT),
                        ) {
                            Ok(()) | Err(Errno::PERM) => {}
                            Err(e) => return Err(e),
                        }
                        rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o755))?;
                    }
                    cur = fd;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(cur)
    }
}

/// Creates `name` in `dir` with `O_CREAT | O_EXCL | O_NOFOLLOW` for writing, removing whatever
/// is in its place first (a directory only when `replace_dirs`).
pub(crate) fn create_excl(
    dir: BorrowedFd<'_>,
    name: &[u8],
    replace_dirs: bool,
) -> rustix::io::Result<OwnedFd> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    loop {
        match rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600)) {
            Err(Errno::EXIST) => make_room(dir, name, replace_dirs)?,
            r => return r,
        }
    }
}

/// Removes the entry `name` in `dir` so that something else can be created there; a directory is
/// removed (recursively) only when `replace_dirs`, else `EISDIR`.
pub(crate) fn make_room(
    dir: BorrowedFd<'_>,
    name: &[u8],
    replace_dirs: bool,
) -> rustix::io::Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(Errno::ISDIR) if replace_dirs => remove_all_at(dir, name),
        Err(e) => Err(e),
    }
}

/// Cleans a caller's relative path, mapping refusals to [`ArchiveError::Escape`].
fn checked(rel: &Path) -> Result<(String, Vec<&[u8]>), ArchiveError> {
    let shown = rel.display().to_string();
    match clean(rel.as_os_str().as_bytes()) {
        Ok(c) => Ok((shown, c)),
        Err(reason) => Err(ArchiveError::escape(shown, reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::{Read, Write};
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    #[test]
    fn clean_normalizes_and_refuses_escapes() {
        let ok = |s: &str| {
            clean(s.as_bytes())
                .unwrap()
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(ok("./a//b/./c/"), ["a", "b", "c"]);
        assert_eq!(ok("a/../b"), ["b"]);
        assert_eq!(ok("a/b/../../c"), ["c"]);
        assert!(ok(".").is_empty());
        assert!(ok("./").is_empty());
        assert!(clean(b"/etc/passwd").is_err());
        assert!(clean(b"../x").is_err());
        assert!(clean(b"a/../../x").is_err());
        assert!(clean(b"./..").is_err());
        assert!(clean(b"a\0b").is_err());
    }

    #[test]
    fn create_read_and_stat_beneath() {
        let t = tempfile::tempdir().unwrap();
        let root = SafeRoot::open(t.path()).unwrap();
        let mut f = root.create_file("a/b/c.txt", 0o640).unwrap();
        f.write_all(b"hello").unwrap();
        drop(f);
        let m = fs::metadata(t.path().join("a/b/c.txt")).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o640);
        assert_eq!(
            fs::metadata(t.path().join("a"))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777,
            0o755
        );
        let mut s = String::new();
        root.open_file("./a/b/c.txt", OFlags::RDONLY)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "hello");
        assert_eq!(root.metadata("a/b/c.txt").unwrap().st_size, 5);
        assert_eq!(
            root.metadata("").unwrap().st_ino,
            fs::metadata(t.path()).unwrap().ino()
        );
        root.remove_all("a").unwrap();
        assert!(!t.path().join("a").exists());
        root.remove_all("a").unwrap();
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path().join("root");
        fs::create_dir(&r).unwrap();
        fs::write(t.path().join("victim"), b"v").unwrap();
        symlink("..", r.join("up")).unwrap();
        symlink("/", r.join("abs")).unwrap();
        symlink("../victim", r.join("vlink")).unwrap();
        fs::create_dir(r.join("in")).unwrap();
        symlink("in", r.join("inlink")).unwrap();
        symlink("../in", r.join("in/self")).unwrap();
        let root = SafeRoot::open(&r).unwrap();

        assert!(matches!(
            root.create_file("up/victim", 0o644),
            Err(ArchiveError::Escape { .. })
        ));
        assert!(matches!(
            root.create_dir_all("abs/tmp/x"),
            Err(ArchiveError::Escape { .. })
        ));
        assert!(matches!(
            root.metadata("up/victim"),
            Err(ArchiveError::Escape { .. })
        ));
        assert!(matches!(
            root.open_dir("/etc"),
            Err(ArchiveError::Escape { .. })
        ));
        assert!(matches!(
            root.open_dir("../"),
            Err(ArchiveError::Escape { .. })
        ));
        // A symlink that stays beneath the root is followed.
        root.create_file("inlink/f", 0o600).unwrap();
        assert!(r.join("in/f").exists());
        root.create_file("in/self/self/g", 0o600).unwrap();
        assert!(r.join("in/g").exists());
        // A final-component symlink is not followed: reading fails, writing replaces the link.
        assert!(root.open_file("vlink", OFlags::RDONLY).is_err());
        root.create_file("vlink", 0o600)
            .unwrap()
            .write_all(b"mine")
            .unwrap();
        assert_eq!(fs::read(t.path().join("victim")).unwrap(), b"v");
        assert!(fs::symlink_metadata(r.join("vlink")).unwrap().is_file());
        // remove_all of a symlink removes the link, not its target.
        root.remove_all("up").unwrap();
        assert!(t.path().join("victim").exists());
    }
}
