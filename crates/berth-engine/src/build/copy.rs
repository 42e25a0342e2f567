//! [`copy_into`]: what COPY and ADD write into a mounted scratch layer, with Docker's rules —
//! a directory source copies its contents, a file source lands at the destination or inside it
//! (when the destination ends with `/` or is a directory), missing destination directories are
//! made 0755 and owned like the files, `--chown` names are looked up in the destination's
//! `/etc/passwd` and `/etc/group`, `--chmod` sets every copied mode, `COPY --from` keeps owners,
//! ADD extracts local archives. Everything is written as a tar stream through the store's
//! extractor, which resolves every path beneath the layer root and never follows a symlink out.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use berth_build::builder::{BuildError, CopyRequest, CopySource};
use berth_build::context::{Context, Entry};
use berth_build::refusal::Refusal;
use berth_store::archive::{apply_tar, decompress, ApplyOptions, WhiteoutMode};

use super::in_root;
use crate::container::files::mkdir_all_in_root;

fn err(e: impl std::fmt::Display) -> BuildError {
    BuildError::Backend(format!("failed to copy files: {e}"))
}

/// Copies `req`'s sources from `src` into the tree mounted at `root`.
pub(super) fn copy_into(root: &Path, src: &Context, req: &CopyRequest) -> Result<(), BuildError> {
    let owner = if req.chown.is_empty() {
        if req.preserve_owner {
            None
        } else {
            Some((0, 0))
        }
    } else {
        Some(parse_chown(root, &req.chown)?)
    };
    let (duid, dgid) = owner.unwrap_or((0, 0));
    let dest_is_dir = |p: &str| in_root(root, p).is_dir();
    for s in &req.sources {
        match s {
            CopySource::Inline { name, content } => {
                let target = file_target(&req.dest, name, dest_is_dir(&req.dest));
                let (parent, base) = split(&target);
                mkdir_all_in_root(root, &parent, duid, dgid).map_err(err)?;
                let mut h = tar::Header::new_ustar();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(content.len() as u64);
                h.set_mode(req.chmod.unwrap_or(0o644));
                h.set_mtime(now_secs());
                stream(root, &parent, owner.or(Some((0, 0))), |b| {
                    b.append_data(&mut h, base, content.as_slice())
                })?;
            }
            CopySource::Path {
                rel,
                is_dir,
                extract,
            } => {
                let host = src.resolve(rel);
                if *extract {
                    mkdir_all_in_root(root, &req.dest, duid, dgid).map_err(err)?;
                    let f = fs::File::open(&host).map_err(err)?;
                    let r = decompress(io::BufReader::new(f)).map_err(err)?;
                    let dir = in_root(root, &req.dest);
                    apply_tar(r, &dir, &opts(None)).map_err(err)?;
                } else if *is_dir {
                    mkdir_all_in_root(root, &req.dest, duid, dgid).map_err(err)?;
                    let entries = src
                        .walk(rel)
                        .map_err(|e| BuildError::Backend(e.to_string()))?;
                    let dest = req.dest.clone();
                    stream(root, &dest, owner, |b| {
                        for e in entries.iter().filter(|e| !e.rel.is_empty()) {
                            append_entry(b, e, &e.rel, req.chmod)?;
                        }
                        Ok(())
                    })?;
                } else {
                    let name = rel.rsplit('/').next().unwrap_or(rel);
                    let target = file_target(&req.dest, name, dest_is_dir(&req.dest));
                    let (parent, base) = split(&target);
                    mkdir_all_in_root(root, &parent, duid, dgid).map_err(err)?;
                    let meta = fs::symlink_metadata(&host).map_err(err)?;
                    let e = Entry {
                        path: host,
                        rel: base.to_string(),
                        meta,
                    };
                    stream(root, &parent, owner, |b| {
                        append_entry(b, &e, base, req.chmod)
                    })?;
                }
            }
        }
    }
    Ok(())
}

fn opts(owner: Option<(u32, u32)>) -> ApplyOptions {
    ApplyOptions {
        no_overwrite_dir_non_dir: false,
        skip_devices: false,
        whiteouts: WhiteoutMode::Delete,
        root_metadata: false,
        owner,
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Where a file named `name` goes: inside `dest` when it is (or must be) a directory.
fn file_target(dest: &str, name: &str, dest_is_dir: bool) -> String {
    if dest.ends_with('/') || dest_is_dir {
        format!("{}/{name}", dest.trim_end_matches('/'))
    } else {
        dest.to_string()
    }
}

fn split(path: &str) -> (String, &str) {
    match path.rsplit_once('/') {
        Some((p, b)) => (
            if p.is_empty() {
                "/".into()
            } else {
                p.to_string()
            },
            b,
        ),
        None => ("/".into(), path),
    }
}

/// Writes a tar made by `fill` and unpacks it, as it is written, into `dir` beneath `root`.
fn stream(
    root: &Path,
    dir: &str,
    owner: Option<(u32, u32)>,
    fill: impl FnOnce(&mut tar::Builder<fs::File>) -> io::Result<()> + Send,
) -> Result<(), BuildError> {
    let target = in_root(root, dir);
    let (r, w) = rustix::pipe::pipe().map_err(|e| err(io::Error::from(e)))?;
    let (written, applied) = std::thread::scope(|s| {
        let writer = s.spawn(move || {
            let mut b = tar::Builder::new(fs::File::from(w));
            b.follow_symlinks(false);
            fill(&mut b)?;
            b.finish()
        });
        let applied = apply_tar(fs::File::from(r), &target, &opts(owner));
        (writer.join().expect("tar writer"), applied)
    });
    applied.map_err(err)?;
    written.map_err(err)?;
    Ok(())
}

fn append_entry(
    b: &mut tar::Builder<fs::File>,
    e: &Entry,
    name: &str,
    chmod: Option<u32>,
) -> io::Result<()> {
    let m = &e.meta;
    let ft = m.file_type();
    let mut h = tar::Header::new_gnu();
    h.set_mode(chmod.unwrap_or(m.mode() & 0o7777));
    h.set_uid(m.uid() as u64);
    h.set_gid(m.gid() as u64);
    h.set_mtime(m.mtime().max(0) as u64);
    h.set_size(0);
    if ft.is_dir() {
        h.set_entry_type(tar::EntryType::Directory);
        b.append_data(&mut h, format!("{name}/"), io::empty())
    } else if ft.is_symlink() {
        h.set_entry_type(tar::EntryType::Symlink);
        let target = fs::read_link(&e.path)?;
        b.append_link(&mut h, name, target)
    } else if ft.is_file() {
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(m.len());
        let f = fs::File::open(&e.path)?;
        b.append_data(&mut h, name, f.take(m.len()))
    } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() {
        h.set_entry_type(if ft.is_char_device() {
            tar::EntryType::Char
        } else if ft.is_block_device() {
            tar::EntryType::Block
        } else {
            tar::EntryType::Fifo
        });
        let rdev = m.rdev();
        h.set_device_major(((rdev >> 8) & 0xfff) as u32)?;
        h.set_device_minor(((rdev & 0xff) | ((rdev >> 12) & 0xfff00)) as u32)?;
        b.append_data(&mut h, name, io::empty())
    } else {
        Ok(())
    }
}

/// Docker's `--chown` parsing: `user[:group]`, names looked up in the destination image; a
/// missing group part means the user part again.
fn parse_chown(root: &Path, spec: &str) -> Result<(u32, u32), BuildError> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, g),
        None => (spec, spec),
    };
    let lookup = |file: &str, name: &str, what: &'static str| -> Result<u32, BuildError> {
        if let Ok(n) = name.parse::<u32>() {
            return Ok(n);
        }
        let text = berth_runtime::user::open_in_root(root, file)
            .and_then(|mut f| {
                let mut s = String::new();
                f.read_to_string(&mut s).map(|_| s)
            })
            .unwrap_or_default();
        for line in text.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() >= 3 && fields[0] == name {
                if let Ok(id) = fields[2].parse() {
                    return Ok(id);
                }
            }
        }
        let kind = if what == "uid" { "user" } else { "group" };
        Err(Refusal::Chown {
            what,
            kind,
            name: name.to_string(),
        }
        .into())
    };
    Ok((
        lookup("/etc/passwd", user, "uid")?,
        lookup("/etc/group", group, "gid")?,
    ))
}
