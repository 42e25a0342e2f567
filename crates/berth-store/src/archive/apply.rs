//! [`apply`] unpacks a layer tar beneath a [`SafeRoot`]: one entry at a time, each parent resolved
//! by the kernel beneath the root, each final component created with `*at` calls that never
//! follow a symlink, whiteouts materialized as the [`WhiteoutMode`] asks, and directory mtimes
//! restored in a final pass once their children are written.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Gid, Mode, Timespec, Timestamps, Uid};
use rustix::io::Errno;

use super::safe::{self, clean, join_into, lstat_at, open_subdir, SafeRoot};
use super::xattr::{self, Xattrs, OVERLAY_OPAQUE};
use super::{ApplyOptions, ArchiveError, WhiteoutMode};

/// Size of the copy buffer for file contents: large writes keep a big layer at disk speed.
const COPY_BUF: usize = 1 << 20;

/// The whiteout prefix of the OCI layer format.
const WH: &[u8] = b".wh.";
/// The opaque-directory marker.
const WH_OPAQUE: &[u8] = b".wh..wh..opq";
/// The prefix of AUFS metadata entries, which carry no meaning for berth.
const WH_META: &[u8] = b".wh..wh.";

pub(crate) fn apply<R: Read>(
    tar: R,
    root: &Path,
    opts: &ApplyOptions,
) -> Result<super::Applied, ArchiveError> {
    apply_shifted(tar, root, opts, None)
}

/// [`apply`], with owners shifted through `ids` (see [`super::apply_tar_shifted`]).
pub(crate) fn apply_shifted<R: Read>(
    tar: R,
    root: &Path,
    opts: &ApplyOptions,
    ids: Option<&super::IdMaps>,
) -> Result<super::Applied, ArchiveError> {
    let root = SafeRoot::open(root)?;
    let mut a = Applier {
        root: &root,
        mode: opts.whiteouts,
        root_metadata: opts.root_metadata,
        no_overwrite_dir_non_dir: opts.no_overwrite_dir_non_dir,
        skip_devices: opts.skip_devices,
        dropped: super::Applied::default(),
        owner: opts
            .owner
            .map(|(u, g)| (Uid::from_raw(u), Gid::from_raw(g))),
        ids,
        cache_key: Vec::new(),
        cache_fd: None,
        scratch: Vec::new(),
        buf: vec![0; COPY_BUF],
        bytes: 0,
        dir_times: Vec::new(),
        kept: Kept::default(),
    };
    let mut archive = tar::Archive::new(super::buffered(tar));
    let entries = archive.entries().map_err(|e| invalid("", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| invalid("", e))?;
        a.entry(&mut entry)?;
    }
    a.finish();
    // Read what follows the end-of-archive blocks, so that a digest computed on the stream
    // (the layer's diff-id) covers all of it, as Docker's does.
    io::copy(&mut archive.into_inner(), &mut io::sink())
        .map_err(|e| ArchiveError::io("<tar stream>", e))?;
    a.dropped.bytes = a.bytes;
    Ok(a.dropped)
}

fn invalid(what: &str, e: io::Error) -> ArchiveError {
    if what.is_empty() {
        ArchiveError::Invalid(e.to_string())
    } else {
        ArchiveError::Invalid(format!("{what}: {e}"))
    }
}

/// An entry name for messages: whole when short, else its start and end around `…`, so that a
/// hostile 64 KiB name makes a readable error.
pub(crate) fn abbreviate(raw: &[u8]) -> String {
    const KEEP: usize = 60;
    if raw.len() <= 2 * KEEP {
        return String::from_utf8_lossy(raw).into_owned();
    }
    format!(
        "{}…{}",
        String::from_utf8_lossy(&raw[..KEEP]),
        String::from_utf8_lossy(&raw[raw.len() - KEEP..])
    )
}

/// Refuses a path longer than [`MAX_PATH_BYTES`] or deeper than [`MAX_PATH_DEPTH`]: every
/// later step (and the work kept per entry) is then bounded, whatever the tar holds.
///
/// [`MAX_PATH_BYTES`]: super::MAX_PATH_BYTES
/// [`MAX_PATH_DEPTH`]: super::MAX_PATH_DEPTH
pub(crate) fn check_length(comps: &[&[u8]], shown: &str) -> Result<(), ArchiveError> {
    let bytes = comps.iter().map(|c| c.len()).sum::<usize>() + comps.len().saturating_sub(1);
    if bytes > super::MAX_PATH_BYTES || comps.len() > super::MAX_PATH_DEPTH {
        return Err(ArchiveError::PathTooLong {
            path: shown.to_string(),
            bytes,
            depth: comps.len(),
        });
    }
    Ok(())
}

/// The paths a Delete-mode layer wrote, with their ancestors, as a tree of components: adding
/// a path costs its own length (a set of joined paths would cost its length times its depth).
/// A node is keyed by its parent and a keyed hash of its name (random per extraction, so no tar
/// can aim at a collision): about 24 bytes per directory level, whatever the names.
#[derive(Default)]
struct Kept {
    /// (parent node, hash of the name) → node; node 0 is the root.
    children: std::collections::HashMap<(u32, u64), u32>,
    hasher: std::collections::hash_map::RandomState,
}

impl Kept {
    const ROOT: u32 = 0;

    fn key(&self, node: u32, name: &[u8]) -> (u32, u64) {
        use std::hash::BuildHasher;
        (node, self.hasher.hash_one(name))
    }

    fn insert(&mut self, comps: &[&[u8]]) {
        let mut node = Self::ROOT;
        for c in comps {
            let next = u32::try_from(self.children.len() + 1).unwrap_or(u32::MAX);
            let key = self.key(node, c);
            node = *self.children.entry(key).or_insert(next);
        }
    }

    fn child(&self, node: u32, name: &[u8]) -> Option<u32> {
        self.children.get(&self.key(node, name)).copied()
    }

    fn node(&self, comps: &[&[u8]]) -> Option<u32> {
        comps
            .iter()
            .try_fold(Self::ROOT, |node, c| self.child(node, c))
    }
}

/// What an entry turns into on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Device(FileType),
}

/// The metadata of one entry, PAX records applied.
struct Meta {
    mode: u32,
    uid: Uid,
    gid: Gid,
    times: Timestamps,
    xattrs: Xattrs,
}

fn read_meta<R: Read>(e: &mut tar::Entry<'_, R>, shown: &str) -> Result<Meta, ArchiveError> {
    let h = e.header();
    let mode = h.mode().map_err(|e| invalid(shown, e))? & 0o7777;
    // Some producers leave numeric fields blank; Docker reads them as 0.
    let blank = |field: &[u8]| field.iter().all(|b| *b == 0 || *b == b' ');
    let old = h.as_old();
    let mut uid = if blank(&old.uid) {
        0
    } else {
        h.uid().map_err(|e| invalid(shown, e))?
    };
    let mut gid = if blank(&old.gid) {
        0
    } else {
        h.gid().map_err(|e| invalid(shown, e))?
    };

    let mut mtime = Timespec {
        tv_sec: h.mtime().map_err(|e| invalid(shown, e))? as i64,
        tv_nsec: 0,
    };
    let mut xattrs = Vec::new();
    if let Some(exts) = e.pax_extensions().map_err(|e| invalid(shown, e))? {
        for ext in exts {
            let ext = ext.map_err(|e| invalid(shown, e))?;
            let key = ext.key_bytes();
            let value = ext.value_bytes();
            match key {
                b"mtime" => {
                    mtime = parse_pax_time(value)
                        .ok_or_else(|| ArchiveError::Invalid(format!("{shown}: bad PAX mtime")))?
                }
                b"uid" => uid = parse_pax_id(value, shown)?,
                b"gid" => gid = parse_pax_id(value, shown)?,
                _ => {
                    if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                        if !name.is_empty() && !xattr::is_overlay_private(name) {
                            xattrs.push((name.to_vec(), value.to_vec()));
                        }
                    }
                }
            }
        }
    }
    let id = |v: u64| -> Result<u32, ArchiveError> {
        u32::try_from(v)
            .ok()
            .filter(|v| *v != u32::MAX)
            .ok_or_else(|| ArchiveError::Invalid(format!("{shown}: owner id {v} out of range")))
    };
    Ok(Meta {
        mode,
        uid: Uid::from_raw(id(uid)?),
        gid: Gid::from_raw(id(gid)?),
        times: Timestamps {
            last_access: mtime,
            last_modification: mtime,
        },
        xattrs,
    })
}

fn parse_pax_id(v: &[u8], shown: &str) -> Result<u64, ArchiveError> {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ArchiveError::Invalid(format!("{shown}: bad PAX owner id")))
}

/// Parses a PAX time, `1700000000`, `1700000000.5` or `-1.25`, into a timespec.
pub(crate) fn parse_pax_time(v: &[u8]) -> Option<Timespec> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let mut nsec: i64 = 0;
    for (i, d) in frac.bytes().take(9).enumerate() {
        nsec += i64::from(d - b'0') * 10i64.pow(8 - i as u32);
    }
    Some(if !neg {
        Timespec {
            tv_sec: secs,
            tv_nsec: nsec,
        }
    } else if nsec == 0 {
        Timespec {
            tv_sec: -secs,
            tv_nsec: 0,
        }
    } else {
        Timespec {
            tv_sec: -secs - 1,
            tv_nsec: 1_000_000_000 - nsec,
        }
    })
}

struct Applier<'r> {
    root: &'r SafeRoot,
    mode: WhiteoutMode,
    /// Whether the root entry's metadata applies to the root.
    root_metadata: bool,
    /// Replaces every entry's owner.
    owner: Option<(Uid, Gid)>,
    /// Shifts every entry's owner to the host (when `owner` is not set).
    ids: Option<&'r super::IdMaps>,
    /// See [`ApplyOptions::no_overwrite_dir_non_dir`].
    no_overwrite_dir_non_dir: bool,
    /// See [`ApplyOptions::skip_devices`].
    skip_devices: bool,
    /// The device nodes left out.
    dropped: super::Applied,

    /// The last parent directory used, by cleaned path: consecutive entries of one directory
    /// reuse its fd. No entry can change the directory it lives in or its ancestors, so the fd
    /// stays the one a fresh resolution would give.
    cache_key: Vec<u8>,
    cache_fd: Option<OwnedFd>,
    scratch: Vec<u8>,
    buf: Vec<u8>,
    bytes: u64,
    /// Directories to stamp once everything is written: (path, inode, times).
    dir_times: Vec<(Vec<u8>, u64, Timestamps)>,
    /// Delete mode: every path this layer wrote, with all its ancestors. The layer's whiteouts
    /// and opaque markers spare them, whatever the tar order.
    kept: Kept,
}

impl Applier<'_> {
    fn entry<R: Read>(&mut self, e: &mut tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let et = e.header().entry_type();
        if et.is_pax_global_extensions() {
            return Ok(());
        }
        let raw = e.path_bytes().into_owned();
        let shown = abbreviate(&raw);
        if raw.contains(&0) {
            return Err(ArchiveError::Invalid(format!(
                "{shown:?}: the name contains a NUL byte"
            )));
        }
        let comps = clean(&raw).map_err(|r| ArchiveError::escape(&shown, r))?;
        check_length(&comps, &shown)?;
        let kind = match et {
            tar::EntryType::Directory => Kind::Dir,
            // Old tars mark directories only with a trailing slash.
            tar::EntryType::Regular | tar::EntryType::Continuous if raw.ends_with(b"/") => {
                Kind::Dir
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                Kind::File
            }
            tar::EntryType::Link => Kind::Hardlink,
            tar::EntryType::Symlink => Kind::Symlink,
            tar::EntryType::Char => Kind::Device(FileType::CharacterDevice),
            tar::EntryType::Block => Kind::Device(FileType::BlockDevice),
            tar::EntryType::Fifo => Kind::Device(FileType::Fifo),
            other => {
                return Err(ArchiveError::Invalid(format!(
                    "{shown}: unsupported tar entry type {:?}",
                    other.as_byte() as char
                )))
            }
        };
        if self.skip_devices
            && matches!(
                kind,
                Kind::Device(FileType::CharacterDevice | FileType::BlockDevice)
            )
        {
            self.dropped.dropped_devices += 1;
            if self.dropped.dropped_paths.len() < super::DROPPED_SHOWN {
                let path = String::from_utf8_lossy(&comps.join(&b'/')).into_owned();
                self.dropped.dropped_paths.push(format!("/{path}"));
            }
            return Ok(());
        }
        let mut meta = read_meta(e, &shown)?;
        if let Some((uid, gid)) = self.owner {
            (meta.uid, meta.gid) = (uid, gid);
        } else if let Some(ids) = self.ids {
            let unmapped = |id: u32| {
                ArchiveError::Invalid(format!("Container ID {id} cannot be mapped to a host ID"))
            };
            meta.uid = Uid::from_raw(
                ids.host_uid(meta.uid.as_raw())
                    .ok_or_else(|| unmapped(meta.uid.as_raw()))?,
            );
            meta.gid = Gid::from_raw(
                ids.host_gid(meta.gid.as_raw())
                    .ok_or_else(|| unmapped(meta.gid.as_raw()))?,
            );
        }
        let Some((name, parent)) = comps.split_last() else {
            // The root's own entry (`./`): the layer directory belongs to the driver, as in Docker;
            // a restored volume takes its owner, mode and xattrs.
            return match kind {
                Kind::Dir if self.root_metadata => {
                    let io = |e: Errno| ArchiveError::io(&shown, e);
                    let fd = self.root.as_fd();
                    rustix::fs::fchown(fd, Some(meta.uid), Some(meta.gid)).map_err(io)?;
                    xattr::fd_set_all(fd, &meta.xattrs).map_err(|e| ArchiveError::io(&shown, e))?;
                    rustix::fs::fchmod(fd, Mode::from_raw_mode(meta.mode)).map_err(io)?;
                    Ok(())
                }
                Kind::Dir => Ok(()),

                _ => Err(ArchiveError::Invalid(format!(
                    "{shown}: a non-directory entry names the root"
                ))),
            };
        };
        if name.starts_with(WH) {
            return self.whiteout(parent, name, &meta, &shown);
        }
        if self.mode == WhiteoutMode::Delete {
            self.keep(&comps);
        }
        let pfd = self.take_parent(parent, true, &shown)?.expect("created");
        if self.no_overwrite_dir_non_dir {
            if let Ok(st) = lstat_at(pfd.as_fd(), name) {
                let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
                let path = String::from_utf8_lossy(&raw);
                let path = path.trim_start_matches("./").trim_end_matches('/');
                let refusal = match (is_dir, kind) {
                    (true, Kind::Dir) | (false, Kind::File | Kind::Symlink | Kind::Hardlink) => {
                        None
                    }
                    (false, Kind::Device(_)) => None,
                    (true, _) => Some(("directory", "non-directory")),
                    (false, Kind::Dir) => Some(("non-directory", "directory")),
                };
                if let Some((existing, entry)) = refusal {
                    self.put_parent(pfd);
                    return Err(ArchiveError::WouldReplace {
                        path: path.to_string(),
                        existing,
                        entry,
                    });
                }
            }
        }
        let r = match kind {
            Kind::File => self.file(e, pfd.as_fd(), name, &meta, &shown),
            Kind::Dir => self.dir(pfd.as_fd(), &comps, &meta, &shown),
            Kind::Symlink => self.symlink(e, pfd.as_fd(), name, &meta, &shown),
            Kind::Hardlink => self.hardlink(e, pfd.as_fd(), &comps, &shown),
            Kind::Device(ft) => self.device(e, pfd.as_fd(), name, ft, &meta, &shown),
        };
        self.put_parent(pfd);
        r
    }

    /// The fd of the directory `comps` (created if missing when `create`; `None` when it does not
    /// exist and `!create`), from the cache when it is the last one used.
    fn take_parent(
        &mut self,
        comps: &[&[u8]],
        create: bool,
        shown: &str,
    ) -> Result<Option<OwnedFd>, ArchiveError> {
        join_into(comps, &mut self.scratch);
        if let Some(fd) = self.cache_fd.take() {
            if self.cache_key == self.scratch {
                return Ok(Some(fd));
            }
        }
        match self.root.dirs(comps, create) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::NOENT) | Err(Errno::NOTDIR) if !create => Ok(None),
            Err(Errno::NOTDIR) if self.mode == WhiteoutMode::Overlay => self
                .dirs_over_whiteouts(comps)
                .map(Some)
                .map_err(|e| safe::resolve_error(shown, e)),
            Err(e) => Err(safe::resolve_error(shown, e)),
        }
    }

    /// Overlay mode, `.wh.D` then `D/x` in one layer: the whiteout this layer wrote for D becomes
    /// an opaque directory (the layer's D replaces the lower one, as the set semantics ask).
    fn dirs_over_whiteouts(&self, comps: &[&[u8]]) -> rustix::io::Result<OwnedFd> {
        for i in 0..comps.len() {
            let parent = self.root.dirs(&comps[..i], true)?;
            let name = comps[i];
            match lstat_at(parent.as_fd(), name) {
                Ok(st) if is_whiteout(&st) => {
                    rustix::fs::unlinkat(&parent, name, AtFlags::empty())?;
                    rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(0o755))?;
                    let d = open_subdir(parent.as_fd(), name)?;
                    rustix::fs::fchown(&d, Some(Uid::ROOT), Some(Gid::ROOT))?;
                    rustix::fs::fchmod(&d, Mode::from_raw_mode(0o755))?;
                    xattr::fd_set(d.as_fd(), OVERLAY_OPAQUE, b"y")
                        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
                }
                Ok(st)
                    if st.st_mode & libc::S_IFMT != libc::S_IFDIR
                        && st.st_mode & libc::S_IFMT != libc::S_IFLNK =>
                {
                    return Err(Errno::NOTDIR)
                }
                _ => {}
            }
        }
        self.root.dirs(comps, true)
    }

    /// Caches the fd returned by the last [`Self::take_parent`].
    fn put_parent(&mut self, fd: OwnedFd) {
        std::mem::swap(&mut self.cache_key, &mut self.scratch);
        self.cache_fd = Some(fd);
    }

    fn keep(&mut self, comps: &[&[u8]]) {
        self.kept.insert(comps);
    }

    fn file<R: Read>(
        &mut self,
        e: &mut tar::Entry<'_, R>,
        dir: BorrowedFd<'_>,
        name: &[u8],
        meta: &Meta,
        shown: &str,
    ) -> Result<(), ArchiveError> {
        let fd = safe::create_excl(dir, name, true).map_err(|e| ArchiveError::io(shown, e))?;
        let mut f = File::from(fd);
        loop {
            let n = match e.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(invalid(shown, err)),
            };
            f.write_all(&self.buf[..n])
                .map_err(|e| ArchiveError::io(shown, e))?;
            self.bytes += n as u64;
        }
        let io = |e: io::Error| ArchiveError::io(shown, e);
        rustix::fs::fchown(&f, Some(meta.uid), Some(meta.gid)).map_err(|e| io(e.into()))?;
        xattr::fd_set_all(f.as_fd(), &meta.xattrs).map_err(io)?;
        rustix::fs::fchmod(&f, Mode::from_raw_mode(meta.mode)).map_err(|e| io(e.into()))?;
        rustix::fs::futimens(&f, &meta.times).map_err(|e| io(e.into()))?;
        Ok(())
    }

    fn dir(
        &mut self,
        parent: BorrowedFd<'_>,
        comps: &[&[u8]],
        meta: &Meta,
        shown: &str,
    ) -> Result<(), ArchiveError> {
        let name = comps[comps.len() - 1];
        let io = |e: Errno| ArchiveError::io(shown, e);
        let mut over_whiteout = false;
        match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)) {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                let st = lstat_at(parent, name).map_err(io)?;
                if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                    over_whiteout = is_whiteout(&st);
                    safe::make_room(parent, name, true).map_err(io)?;
                    rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)).map_err(io)?;
                }
            }
            Err(e) => return Err(io(e)),
        }
        let fd = open_subdir(parent, name).map_err(io)?;
        rustix::fs::fchown(&fd, Some(meta.uid), Some(meta.gid)).map_err(io)?;
        xattr::fd_set_all(fd.as_fd(), &meta.xattrs).map_err(|e| ArchiveError::io(shown, e))?;
        if over_whiteout && self.mode == WhiteoutMode::Overlay {
            // `.wh.D` then `D/` in one layer: the layer's D replaces the lower one.
            xattr::fd_set(fd.as_fd(), OVERLAY_OPAQUE, b"y")
                .map_err(|e| ArchiveError::io(shown, e))?;
        }
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(meta.mode)).map_err(io)?;
        let ino = rustix::fs::fstat(&fd).map_err(io)?.st_ino;
        let mut path = Vec::new();
        join_into(comps, &mut path);
        self.dir_times.push((path, ino, meta.times.clone()));
        Ok(())
    }

    fn symlink<R: Read>(
        &mut self,
        e: &tar::Entry<'_, R>,
        dir: BorrowedFd<'_>,
        name: &[u8],
        meta: &Meta,
        shown: &str,
    ) -> Result<(), ArchiveError> {
        let target = e
            .link_name_bytes()
            .ok_or_else(|| ArchiveError::Invalid(format!("{shown}: symlink without a target")))?;
        let io = |e: Errno| ArchiveError::io(shown, e);
        loop {
            match rustix::fs::symlinkat(&*target, dir, name) {
                Err(Errno::EXIST) => safe::make_room(dir, name, true).map_err(io)?,
                r => break r.map_err(io)?,
            }
        }
        // A symlink's size is its target's length; Docker counts it in layer sizes (`du`).
        self.bytes += target.len() as u64;
        rustix::fs::chownat(
            dir,
            name,
            Some(meta.uid),
            Some(meta.gid),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(io)?;
        xattr::at_set_all(dir, name, &meta.xattrs).map_err(|e| ArchiveError::io(shown, e))?;
        rustix::fs::utimensat(dir, name, &meta.times, AtFlags::SYMLINK_NOFOLLOW).map_err(io)?;
        Ok(())
    }

    fn hardlink<R: Read>(
        &mut self,
        e: &tar::Entry<'_, R>,
        dir: BorrowedFd<'_>,
        comps: &[&[u8]],
        shown: &str,
    ) -> Result<(), ArchiveError> {
        let target = e
            .link_name_bytes()
            .ok_or_else(|| ArchiveError::Invalid(format!("{shown}: hardlink without a target")))?;
        let tshown = String::from_utf8_lossy(&target).into_owned();
        let tcomps = clean(&target)
            .map_err(|r| ArchiveError::escape(shown, format!("hardlink target {tshown:?}: {r}")))?;
        let Some((tname, tparent)) = tcomps.split_last() else {
            return Err(ArchiveError::escape(
                shown,
                "hardlink to the root directory",
            ));
        };
        if tcomps == comps {
            return Ok(());
        }
        let tdir =
            self.root
                .dirs(tparent, false)
                .map_err(|e| match safe::resolve_error(shown, e) {
                    ArchiveError::Escape { path, .. } => ArchiveError::Escape {
                        path,
                        reason: format!("hardlink target {tshown:?} resolves outside the root"),
                    },
                    other => other,
                })?;
        let name = comps[comps.len() - 1];
        let io = |e: Errno| ArchiveError::io(shown, e);
        loop {
            // No AT_SYMLINK_FOLLOW: a symlink target is linked itself, never what it points to.
            match rustix::fs::linkat(&tdir, *tname, dir, name, AtFlags::empty()) {
                Err(Errno::EXIST) => safe::make_room(dir, name, true).map_err(io)?,
                r => return r.map_err(io),
            }
        }
    }

    fn device<R: Read>(
        &mut self,
        e: &tar::Entry<'_, R>,
        dir: BorrowedFd<'_>,
        name: &[u8],
        ft: FileType,
        meta: &Meta,
        shown: &str,
    ) -> Result<(), ArchiveError> {
        let h = e.header();
        let (major, minor) = if ft == FileType::Fifo {
            (0, 0)
        } else {
            (
                h.device_major()
                    .map_err(|e| invalid(shown, e))?
                    .unwrap_or(0),
                h.device_minor()
                    .map_err(|e| invalid(shown, e))?
                    .unwrap_or(0),
            )
        };
        let io = |e: Errno| ArchiveError::io(shown, e);
        let dev = rustix::fs::makedev(major, minor);
        loop {
            match rustix::fs::mknodat(dir, name, ft, Mode::from_raw_mode(0o600), dev) {
                Err(Errno::EXIST) => safe::make_room(dir, name, true).map_err(io)?,
                r => break r.map_err(io)?,
            }
        }
        rustix::fs::chownat(
            dir,
            name,
            Some(meta.uid),
            Some(meta.gid),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(io)?;
        xattr::at_set_all(dir, name, &meta.xattrs).map_err(|e| ArchiveError::io(shown, e))?;
        safe::chmod_at(dir, name, meta.mode).map_err(io)?;
        rustix::fs::utimensat(dir, name, &meta.times, AtFlags::SYMLINK_NOFOLLOW).map_err(io)?;
        Ok(())
    }

    fn whiteout(
        &mut self,
        parent: &[&[u8]],
        name: &[u8],
        meta: &Meta,
        shown: &str,
    ) -> Result<(), ArchiveError> {
        if name == WH_OPAQUE {
            return self.opaque(parent, shown);
        }
        if name.starts_with(WH_META) {
            return Ok(());
        }
        let target = &name[WH.len()..];
        if target.is_empty() || target == b"." || target == b".." {
            return Err(ArchiveError::escape(
                shown,
                "the whiteout does not name an entry of its directory",
            ));
        }
        let io = |e: Errno| ArchiveError::io(shown, e);
        match self.mode {
            WhiteoutMode::Overlay => {
                let pfd = self.take_parent(parent, true, shown)?.expect("created");
                let r = match lstat_at(pfd.as_fd(), target) {
                    // The layer's own directory of that name replaces the lower one.
                    Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => {
                        open_subdir(pfd.as_fd(), target).map_err(io).and_then(|d| {
                            xattr::fd_set(d.as_fd(), OVERLAY_OPAQUE, b"y")
                                .map_err(|e| ArchiveError::io(shown, e))
                        })
                    }
                    // Entries of this layer survive its own whiteouts.
                    Ok(_) => Ok(()),
                    Err(Errno::NOENT) => {
                        self.overlay_whiteout(pfd.as_fd(), target, meta).map_err(io)
                    }
                    Err(e) => Err(io(e)),
                };
                self.put_parent(pfd);
                r
            }
            WhiteoutMode::Delete => {
                let kept = self
                    .kept
                    .node(parent)
                    .and_then(|p| self.kept.child(p, target));
                let Some(pfd) = self.take_parent(parent, false, shown)? else {
                    return Ok(());
                };
                let r = if let Some(node) = kept {
                    // Written by this layer: it survives; if it is a directory, what the lower
                    // layers had in it does not.
                    match open_subdir(pfd.as_fd(), target) {
                        Ok(d) => self.clear_lower(d.as_fd(), node).map_err(io),
                        Err(_) => Ok(()),
                    }
                } else {
                    safe::remove_all_at(pfd.as_fd(), target).map_err(io)
                };
                self.put_parent(pfd);
                r
            }
        }
    }

    fn overlay_whiteout(
        &self,
        dir: BorrowedFd<'_>,
        name: &[u8],
        meta: &Meta,
    ) -> rustix::io::Result<()> {
        rustix::fs::mknodat(
            dir,
            name,
            FileType::CharacterDevice,
            Mode::empty(),
            rustix::fs::makedev(0, 0),
        )?;
        rustix::fs::chownat(
            dir,
            name,
            Some(meta.uid),
            Some(meta.gid),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
        rustix::fs::utimensat(dir, name, &meta.times, AtFlags::SYMLINK_NOFOLLOW)
    }

    fn opaque(&mut self, parent: &[&[u8]], shown: &str) -> Result<(), ArchiveError> {
        match self.mode {
            WhiteoutMode::Overlay => {
                let pfd = self.take_parent(parent, true, shown)?.expect("created");
                let r = xattr::fd_set(pfd.as_fd(), OVERLAY_OPAQUE, b"y")
                    .map_err(|e| ArchiveError::io(shown, e));
                self.put_parent(pfd);
                r
            }
            WhiteoutMode::Delete => {
                let Some(pfd) = self.take_parent(parent, false, shown)? else {
                    return Ok(());
                };
                let r = match self.kept.node(parent) {
                    Some(node) => self.clear_lower(pfd.as_fd(), node),
                    // Nothing below it was written by this layer.
                    None => safe::read_names(pfd.as_fd()).and_then(|names| {
                        names
                            .iter()
                            .try_for_each(|n| safe::remove_all_at(pfd.as_fd(), n))
                    }),
                }
                .map_err(|e| ArchiveError::io(shown, e));
                self.put_parent(pfd);
                r
            }
        }
    }

    /// Delete mode: removes everything below `dir` (kept-tree node `node`) that this layer did
    /// not write.
    fn clear_lower(&self, dir: BorrowedFd<'_>, node: u32) -> rustix::io::Result<()> {
        for child in safe::read_names(dir)? {
            match self.kept.child(node, &child) {
                Some(sub_node) => {
                    if let Ok(sub) = open_subdir(dir, &child) {
                        self.clear_lower(sub.as_fd(), sub_node)?;
                    }
                }
                None => safe::remove_all_at(dir, &child)?,
            }
        }
        Ok(())
    }

    /// Stamps directory mtimes now that nothing more is written into them. A directory that was
    /// replaced or removed by a later entry is left alone.
    fn finish(&mut self) {
        for (path, ino, times) in std::mem::take(&mut self.dir_times) {
            if let Ok(fd) = self.root.open_dir_bytes(&path) {
                if rustix::fs::fstat(&fd)
                    .map(|st| st.st_ino == ino)
                    .unwrap_or(false)
                {
                    let _ = rustix::fs::futimens(&fd, &times);
                }
            }
        }
    }
}

/// An overlay whiteout: a character device 0:0.
pub(crate) fn is_whiteout(st: &rustix::fs::Stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times_parse() {
        let t = |s: &str| parse_pax_time(s.as_bytes()).map(|t| (t.tv_sec, t.tv_nsec));
        assert_eq!(t("1700000000"), Some((1_700_000_000, 0)));
        assert_eq!(t("1700000000.5"), Some((1_700_000_000, 500_000_000)));
        assert_eq!(t("1.123456789123"), Some((1, 123_456_789)));
        assert_eq!(t("-1.25"), Some((-2, 750_000_000)));
        assert_eq!(t("-3"), Some((-3, 0)));
        assert_eq!(t("x"), None);
        assert_eq!(t(""), None);
        assert_eq!(t("1.2.3"), None);
    }
}
