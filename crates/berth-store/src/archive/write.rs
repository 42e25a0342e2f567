//! [`TarWriter`] turns files reached by directory fd into layer-tar entries the way `docker
//! commit` writes them; [`write_overlay_upper`], [`write_changes`] and [`write_tree`] walk an
//! overlay upper dir, a change list over a full tree, or a whole tree through it.
//!
//! Files are opened relative to their directory fd with `O_NOFOLLOW` and described from `fstat`
//! of the opened fd, so a tree that changes while it is written (a running container) can make an
//! entry vanish or be skipped, never make the writer read outside the tree or from a device.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{Mode, OFlags, Stat};
use rustix::io::Errno;
use tar::{EntryType, Header};

use super::apply::is_whiteout;
use super::safe::{self, clean, join_into, lstat_at, open_subdir, read_entries, SafeRoot};
use super::xattr::{self, Xattrs, OVERLAY_OPAQUE};
use super::{ArchiveError, Change, ChangeKind, IdMaps};
use crate::mount::idmap::IdMap;

const BLOCK: usize = 512;
/// Largest value of an 11-digit octal header field (size, mtime).
const MAX_OCTAL_11: u64 = 0o77777777777;
/// Largest value of a 7-digit octal header field (uid, gid, device numbers).
const MAX_OCTAL_7: u64 = 0o7777777;

/// One tar entry to write.
struct Spec<'a> {
    name: &'a [u8],
    kind: EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    mtime: i64,
    link: Option<&'a [u8]>,
    dev: (u32, u32),
    xattrs: &'a [(Vec<u8>, Vec<u8>)],
}

/// Writes tar entries to `W` with a large copy buffer; hardlinked files (same device and inode)
/// after the first become link entries to the first name.
pub(crate) struct TarWriter<W: Write> {
    out: BufWriter<W>,
    buf: Vec<u8>,
    links: HashMap<(u64, u64), Vec<u8>>,
    /// Owners written as a user namespace with these maps sees them (host ids back to the
    /// container's); ids outside the maps are written as they are.
    ids: Option<IdMaps>,
}

fn werr(e: io::Error) -> ArchiveError {
    ArchiveError::io("<tar output>", e)
}

impl<W: Write> TarWriter<W> {
    pub(crate) fn new(out: W) -> Self {
        TarWriter {
            out: BufWriter::with_capacity(256 * 1024, out),
            buf: vec![0; 1 << 20],
            links: HashMap::new(),
            ids: None,
        }
    }

    /// Writes owners as seen inside a user namespace of `ids` (see [`IdMaps`]).
    pub(crate) fn seen_through(mut self, ids: Option<&IdMaps>) -> Self {
        self.ids = ids.cloned();
        self
    }

    /// Writes the end-of-archive blocks and hands `W` back.
    pub(crate) fn finish(mut self) -> Result<W, ArchiveError> {
        self.out.write_all(&[0u8; 2 * BLOCK]).map_err(werr)?;
        self.out.into_inner().map_err(|e| werr(e.into_error()))
    }

    fn header(&mut self, s: &Spec<'_>) -> io::Result<()> {
        let mut h = Header::new_ustar();
        let mut pax: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if !set_name(&mut h, s.name) {
            pax.push((b"path".to_vec(), s.name.to_vec()));
            let n = s.name.len().min(100);
            h.as_old_mut().name[..n].copy_from_slice(&s.name[..n]);
        }
        if let Some(link) = s.link {
            let n = link.len().min(100);
            h.as_old_mut().linkname[..n].copy_from_slice(&link[..n]);
            if link.len() > 100 {
                pax.push((b"linkpath".to_vec(), link.to_vec()));
            }
        }
        h.set_mode(s.mode & 0o7777);
        let (uid, gid) = match &self.ids {
            Some(ids) => (
                container_id(&ids.uids, s.uid),
                container_id(&ids.gids, s.gid),
            ),
            None => (s.uid, s.gid),
        };
        for (key, v, set) in [
            (&b"uid"[..], uid, Header::set_uid as fn(&mut Header, u64)),
            (&b"gid"[..], gid, Header::set_gid),
        ] {
            if v <= MAX_OCTAL_7 {
                set(&mut h, v);
            } else {
                pax.push((key.to_vec(), v.to_string().into_bytes()));
                set(&mut h, 0);
            }
        }
        if s.size <= MAX_OCTAL_11 {
            h.set_size(s.size);
        } else {
            pax.push((b"size".to_vec(), s.size.to_string().into_bytes()));
            h.set_size(0);
        }
        if (0..=MAX_OCTAL_11 as i64).contains(&s.mtime) {
            h.set_mtime(s.mtime as u64);
        } else {
            pax.push((b"mtime".to_vec(), s.mtime.to_string().into_bytes()));
            h.set_mtime(0);
        }
        h.set_entry_type(s.kind);
        if matches!(s.kind, EntryType::Char | EntryType::Block) {
            if u64::from(s.dev.0) > MAX_OCTAL_7 || u64::from(s.dev.1) > MAX_OCTAL_7 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "device number too large for a tar header",
                ));
            }
            h.set_device_major(s.dev.0)?;
            h.set_device_minor(s.dev.1)?;
        }
        for (k, v) in s.xattrs {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(k);
            pax.push((key, v.clone()));
        }
        h.set_cksum();
        if !pax.is_empty() {
            self.pax(&pax)?;
        }
        self.out.write_all(h.as_bytes())
    }

    /// Writes a PAX extended header (`x`) carrying `records` for the next entry.
    fn pax(&mut self, records: &[(Vec<u8>, Vec<u8>)]) -> io::Result<()> {
        let mut data = Vec::new();
        for (k, v) in records {
            // "<len> <key>=<value>\n", where <len> counts itself.
            let base = k.len() + v.len() + 3;
            let mut len = base + digits(base);
            if digits(len) > digits(base) {
                len += 1;
            }
            data.extend_from_slice(len.to_string().as_bytes());
            data.push(b' ');
            data.extend_from_slice(k);
            data.push(b'=');
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        let mut h = Header::new_ustar();
        h.as_old_mut().name[..14].copy_from_slice(b"././@PaxHeader");
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        h.set_entry_type(EntryType::XHeader);
        h.set_cksum();
        self.out.write_all(h.as_bytes())?;
        self.out.write_all(&data)?;
        self.pad(data.len() as u64)
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let rem = (size % BLOCK as u64) as usize;
        if rem != 0 {
            self.out.write_all(&[0u8; BLOCK][..BLOCK - rem])?;
        }
        Ok(())
    }

    /// Copies exactly `size` bytes of `f` (zeros if it shrank meanwhile) and pads the entry.
    fn data(&mut self, f: &mut File, size: u64) -> io::Result<()> {
        let mut left = size;
        while left > 0 {
            let want = left.min(self.buf.len() as u64) as usize;
            let n = match f.read(&mut self.buf[..want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.buf[..want].fill(0);
                while left > 0 {
                    let z = left.min(self.buf.len() as u64) as usize;
                    self.out.write_all(&self.buf[..z])?;
                    left -= z as u64;
                }
                break;
            }
            self.out.write_all(&self.buf[..n])?;
            left -= n as u64;
        }
        self.pad(size)
    }

    /// Writes the whiteout `.wh.NAME` entry whose full tar name is `name`: an empty regular file,
    /// 0600 root:root, as `docker commit` emits it.
    pub(crate) fn whiteout(&mut self, name: &[u8], mtime: i64) -> Result<(), ArchiveError> {
        self.header(&Spec {
            name,
            kind: EntryType::Regular,
            mode: 0o600,
            uid: 0,
            gid: 0,
            size: 0,
            mtime,
            link: None,
            dev: (0, 0),
            xattrs: &[],
        })
        .map_err(werr)
    }

    /// Writes `dir/.wh..wh..opq` (`dir_name` ends with `/`) for an opaque directory: empty, the
    /// directory's permission bits and owner, mtime 0 (what Docker emits).
    fn opaque_marker(&mut self, dir_name: &[u8], st: &Stat) -> Result<(), ArchiveError> {
        let mut name = dir_name.to_vec();
        name.extend_from_slice(b".wh..wh..opq");
        self.header(&Spec {
            name: &name,
            kind: EntryType::Regular,
            mode: st.st_mode & 0o777,
            uid: st.st_uid.into(),
            gid: st.st_gid.into(),
            size: 0,
            mtime: 0,
            link: None,
            dev: (0, 0),
            xattrs: &[],
        })
        .map_err(werr)
    }

    /// Writes the entry for `name` in `dir`, described by `st` (its `lstat`), as `tar_name`. For
    /// a directory, `/` is appended to `tar_name` and the opened directory is returned so that
    /// the caller can descend. An entry that vanished, or changed type since `st`, is skipped.
    pub(crate) fn add(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &[u8],
        st: &Stat,
        tar_name: &mut Vec<u8>,
    ) -> Result<Option<(OwnedFd, Stat)>, ArchiveError> {
        let shown = || String::from_utf8_lossy(tar_name).into_owned();
        let fmt = st.st_mode & libc::S_IFMT;
        if fmt == libc::S_IFDIR {
            let fd = match open_subdir(dir, name) {
                Ok(fd) => fd,
                Err(Errno::NOENT) | Err(Errno::NOTDIR) | Err(Errno::LOOP) => return Ok(None),
                Err(e) => return Err(ArchiveError::io(shown(), e)),
            };
            let st = rustix::fs::fstat(&fd).map_err(|e| ArchiveError::io(shown(), e))?;
            let xattrs = xattr::fd_list(fd.as_fd()).map_err(|e| ArchiveError::io(shown(), e))?;
            tar_name.push(b'/');
            self.header(&meta_spec(
                tar_name,
                EntryType::Directory,
                &st,
                0,
                None,
                &xattrs,
            ))
            .map_err(werr)?;
            return Ok(Some((fd, st)));
        }
        if fmt == libc::S_IFSOCK {
            // Sockets cannot be represented in a tar (Docker skips them too).
            return Ok(None);
        }
        if st.st_nlink > 1 {
            if let Some(first) = self.links.get(&(st.st_dev, st.st_ino)) {
                let first = first.clone();
                let spec = meta_spec(tar_name, EntryType::Link, st, 0, Some(&first), &[]);
                return self.header(&spec).map_err(werr).map(|_| None);
            }
        }
        let written = match fmt {
            libc::S_IFREG => self.regular(dir, name, tar_name)?,
            libc::S_IFLNK => {
                let target = match rustix::fs::readlinkat(dir, name, Vec::new()) {
                    Ok(t) => t.into_bytes(),
                    Err(Errno::NOENT) | Err(Errno::INVAL) => return Ok(None),
                    Err(e) => return Err(ArchiveError::io(shown(), e)),
                };
                let xattrs = at_xattrs(dir, name).map_err(|e| ArchiveError::io(shown(), e))?;
                let spec = meta_spec(tar_name, EntryType::Symlink, st, 0, Some(&target), &xattrs);
                self.header(&spec).map_err(werr)?;
                Some(*st)
            }
            libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                let kind = match fmt {
                    libc::S_IFCHR => EntryType::Char,
                    libc::S_IFBLK => EntryType::Block,
                    _ => EntryType::Fifo,
                };
                let xattrs = at_xattrs(dir, name).map_err(|e| ArchiveError::io(shown(), e))?;
                let spec = meta_spec(tar_name, kind, st, 0, None, &xattrs);
                self.header(&spec).map_err(werr)?;
                Some(*st)
            }
            _ => None,
        };
        if let Some(st) = written {
            if st.st_nlink > 1 {
                self.links.insert((st.st_dev, st.st_ino), tar_name.clone());
            }
        }
        Ok(None)
    }

    /// Writes a regular file, described by `fstat` of the opened fd. Returns that stat, or `None`
    /// when the name vanished or is no longer a regular file.
    fn regular(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &[u8],
        tar_name: &[u8],
    ) -> Result<Option<Stat>, ArchiveError> {
        let shown = || String::from_utf8_lossy(tar_name).into_owned();
        let flags =
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) | Err(Errno::LOOP) => return Ok(None),
            Err(e) => return Err(ArchiveError::io(shown(), e)),
        };
        let st = rustix::fs::fstat(&fd).map_err(|e| ArchiveError::io(shown(), e))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Ok(None);
        }
        if st.st_nlink > 1 {
            if let Some(first) = self.links.get(&(st.st_dev, st.st_ino)) {
                let first = first.clone();
                let spec = meta_spec(tar_name, EntryType::Link, &st, 0, Some(&first), &[]);
                self.header(&spec).map_err(werr)?;
                return Ok(None);
            }
        }
        let xattrs = xattr::fd_list(fd.as_fd()).map_err(|e| ArchiveError::io(shown(), e))?;
        let size = st.st_size as u64;
        self.header(&meta_spec(
            tar_name,
            EntryType::Regular,
            &st,
            size,
            None,
            &xattrs,
        ))
        .map_err(werr)?;
        let mut f = File::from(fd);
        self.data(&mut f, size)
            .map_err(|e| ArchiveError::io(shown(), e))?;
        Ok(Some(st))
    }

    /// Writes every entry below `dir` (whose tar name, empty or ending with `/`, is in `prefix`),
    /// parents before children, siblings sorted. With `upper`, overlay whiteouts and opaque
    /// directories become `.wh.` entries.
    pub(crate) fn walk(
        &mut self,
        dir: BorrowedFd<'_>,
        prefix: &mut Vec<u8>,
        upper: bool,
    ) -> Result<(), ArchiveError> {
        let entries = read_entries(dir)
            .map_err(|e| ArchiveError::io(String::from_utf8_lossy(prefix).into_owned(), e))?;
        for (name, st) in entries {
            let len = prefix.len();
            if upper && is_whiteout(&st) {
                prefix.extend_from_slice(b".wh.");
                prefix.extend_from_slice(&name);
                self.whiteout(prefix, st.st_mtime)?;
            } else {
                prefix.extend_from_slice(&name);
                if let Some((fd, dst)) = self.add(dir, &name, &st, prefix)? {
                    if upper && is_opaque(fd.as_fd()) {
                        self.opaque_marker(prefix, &dst)?;
                    }
                    self.walk(fd.as_fd(), prefix, upper)?;
                }
            }
            prefix.truncate(len);
        }
        Ok(())
    }
}

fn is_opaque(fd: BorrowedFd<'_>) -> bool {
    matches!(xattr::fd_get(fd, OVERLAY_OPAQUE), Ok(Some(v)) if v == b"y")
}

fn at_xattrs(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Xattrs> {
    match xattr::at_list(dir, name) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        r => r,
    }
}

fn meta_spec<'a>(
    name: &'a [u8],
    kind: EntryType,
    st: &Stat,
    size: u64,
    link: Option<&'a [u8]>,
    xattrs: &'a [(Vec<u8>, Vec<u8>)],
) -> Spec<'a> {
    Spec {
        name,
        kind,
        mode: st.st_mode & 0o7777,
        uid: st.st_uid.into(),
        gid: st.st_gid.into(),
        size,
        mtime: st.st_mtime,
        link,
        dev: (rustix::fs::major(st.st_rdev), rustix::fs::minor(st.st_rdev)),
        xattrs,
    }
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

/// Puts `name` in the ustar name field, or split between prefix and name; false if it fits in
/// neither (then a PAX `path` record carries it).
fn set_name(h: &mut Header, name: &[u8]) -> bool {
    let Some(u) = h.as_ustar_mut() else {
        return false;
    };
    if name.len() <= u.name.len() {
        u.name[..name.len()].copy_from_slice(name);
        return true;
    }
    // The shortest prefix whose rest fits the name field.
    for (i, b) in name.iter().enumerate() {
        if *b != b'/' {
            continue;
        }
        let rest = &name[i + 1..];
        if rest.len() <= u.name.len() && !rest.is_empty() {
            if i > u.prefix.len() {
                return false;
            }
            u.prefix[..i].copy_from_slice(&name[..i]);
            u.name[..rest.len()].copy_from_slice(rest);
            return true;
        }
    }
    false
}

/// The id a user namespace with `maps` sees for host id `id` (as it is when unmapped).
fn container_id(maps: &[IdMap], id: u64) -> u64 {
    maps.iter()
        .find(|m| (m.host_id as u64..m.host_id as u64 + m.size as u64).contains(&id))
        .map_or(id, |m| id - m.host_id as u64 + m.container_id as u64)
}

pub(crate) fn write_tree<W: Write>(
    root: &Path,
    out: W,
    ids: Option<&IdMaps>,
) -> Result<W, ArchiveError> {
    let root = SafeRoot::open(root)?;
    let mut w = TarWriter::new(out).seen_through(ids);
    w.walk(root.as_fd(), &mut Vec::new(), false)?;
    w.finish()
}

pub(crate) fn write_entry<W: Write>(
    dir: BorrowedFd<'_>,
    name: &[u8],
    top: &str,
    out: W,
) -> Result<W, ArchiveError> {
    let shown = String::from_utf8_lossy(name).into_owned();
    let st = super::safe::lstat_at(dir, name).map_err(|e| ArchiveError::io(shown, e))?;
    let mut w = TarWriter::new(out);
    let mut prefix = top.as_bytes().to_vec();
    if let Some((fd, _)) = w.add(dir, name, &st, &mut prefix)? {
        w.walk(fd.as_fd(), &mut prefix, false)?;
    }
    w.finish()
}

pub(crate) fn write_overlay_upper<W: Write>(
    upper: &Path,
    out: W,
    ids: Option<&IdMaps>,
) -> Result<W, ArchiveError> {
    let root = SafeRoot::open(upper)?;
    let mut w = TarWriter::new(out).seen_through(ids);
    w.walk(root.as_fd(), &mut Vec::new(), true)?;
    w.finish()
}

pub(crate) fn write_changes<W: Write>(
    root: &Path,
    changes: &[Change],
    out: W,
) -> Result<W, ArchiveError> {
    let root = SafeRoot::open(root)?;
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    sorted.dedup_by(|a, b| a.path == b.path);
    let mut w = TarWriter::new(out);
    let mut dirs_written: HashSet<Vec<u8>> = HashSet::new();
    let mut tar_name = Vec::new();
    for c in sorted {
        let raw = c.path.trim_start_matches('/').as_bytes();
        let comps = clean(raw).map_err(|r| ArchiveError::escape(&c.path, r))?;
        let Some((name, parent)) = comps.split_last() else {
            continue;
        };
        // Ancestors first, so that every entry's directory is in the layer.
        for i in 1..comps.len() {
            join_into(&comps[..i], &mut tar_name);
            if dirs_written.contains(&tar_name) {
                continue;
            }
            dirs_written.insert(tar_name.clone());
            add_from_root(&root, &mut w, &comps[..i], &mut tar_name, &c.path)?;
        }
        join_into(&comps, &mut tar_name);
        match c.kind {
            ChangeKind::Deleted => {
                // The parent's mtime is the time of the last change in it: the deletion's time.
                let mtime = root
                    .dirs(parent, false)
                    .and_then(|fd| rustix::fs::fstat(&fd))
                    .map(|st| st.st_mtime)
                    .unwrap_or(0);
                join_into(parent, &mut tar_name);
                if !tar_name.is_empty() {
                    tar_name.push(b'/');
                }
                tar_name.extend_from_slice(b".wh.");
                tar_name.extend_from_slice(name);
                w.whiteout(&tar_name, mtime)?;
            }
            ChangeKind::Added | ChangeKind::Modified => {
                if dirs_written.contains(&tar_name) {
                    continue;
                }
                let key = tar_name.clone();
                if add_from_root(&root, &mut w, &comps, &mut tar_name, &c.path)? {
                    dirs_written.insert(key);
                }
            }
        }
    }
    w.finish()
}

/// Writes the entry at `comps` of `root` (a directory without its children). Returns whether it
/// was a directory. A path that no longer exists is skipped.
fn add_from_root<W: Write>(
    root: &SafeRoot,
    w: &mut TarWriter<W>,
    comps: &[&[u8]],
    tar_name: &mut Vec<u8>,
    shown: &str,
) -> Result<bool, ArchiveError> {
    let (name, parent) = comps.split_last().expect("not the root");
    let dir = match root.dirs(parent, false) {
        Ok(fd) => fd,
        Err(Errno::NOENT) | Err(Errno::NOTDIR) => return Ok(false),
        Err(e) => return Err(safe::resolve_error(shown, e)),
    };
    let st = match lstat_at(dir.as_fd(), name) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(false),
        Err(e) => return Err(ArchiveError::io(shown, e)),
    };
    Ok(w.add(dir.as_fd(), name, &st, tar_name)?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(tar: &[u8]) -> Vec<(String, EntryType, u64, Option<String>)> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                    e.header().entry_type(),
                    e.size(),
                    e.link_name_bytes()
                        .map(|l| String::from_utf8_lossy(&l).into_owned()),
                )
            })
            .collect()
    }

    #[test]
    fn long_names_and_links_round_trip_through_pax_or_prefix() {
        let t = tempfile::tempdir().unwrap();
        let deep = "d".repeat(120);
        let leaf = "f".repeat(150);
        std::fs::create_dir(t.path().join(&deep)).unwrap();
        std::fs::write(t.path().join(&deep).join(&leaf), b"abc").unwrap();
        let target = "t".repeat(200);
        std::os::unix::fs::symlink(&target, t.path().join("s")).unwrap();
        std::fs::write(t.path().join("h1"), b"x").unwrap();
        std::fs::hard_link(t.path().join("h1"), t.path().join("h2")).unwrap();
        let tar = write_tree(t.path(), Vec::new(), None).unwrap();
        let got = entries(&tar);
        let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                format!("{deep}/"),
                format!("{deep}/{leaf}"),
                "h1".into(),
                "h2".into(),
                "s".into()
            ]
        );
        assert_eq!(got[1].2, 3);
        assert_eq!(got[3].1, EntryType::Link);
        assert_eq!(got[3].3.as_deref(), Some("h1"));
        assert_eq!(got[4].3.as_deref(), Some(target.as_str()));
        // A 100 < len <= 256 name with a short enough last part uses the ustar prefix, no PAX.
        let mut h = Header::new_ustar();
        let name = format!("{}/{}", "p".repeat(120), "n".repeat(50));
        assert!(set_name(&mut h, name.as_bytes()));
        assert_eq!(h.path_bytes().as_ref(), name.as_bytes());
        assert!(!set_name(
            &mut Header::new_ustar(),
            "q".repeat(101).as_bytes()
        ));
    }

    #[test]
    fn pax_record_lengths_count_themselves() {
        let mut w = TarWriter::new(Vec::new());
        // Record lengths around 10, 100 and 1000, where the length field gains a digit.
        for vlen in [0usize, 1, 2, 5, 90, 91, 92, 993, 994, 995] {
            w.pax(&[(b"k".to_vec(), vec![b'v'; vlen])]).unwrap();
        }
        let out = w.out.into_inner().unwrap();
        let mut off = 0;
        while off < out.len() {
            let h = Header::from_byte_slice(&out[off..off + BLOCK]);
            let size = h.size().unwrap() as usize;
            let data = &out[off + BLOCK..off + BLOCK + size];
            let sp = data.iter().position(|b| *b == b' ').unwrap();
            let n: usize = std::str::from_utf8(&data[..sp]).unwrap().parse().unwrap();
            assert_eq!(n, data.len());
            off += BLOCK + size.div_ceil(BLOCK) * BLOCK;
        }
    }
}
