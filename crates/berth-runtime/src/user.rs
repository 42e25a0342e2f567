//! `resolve_user` turns Docker's `--user` value (`name[:group]`, `uid[:gid]`) into the numeric
//! [`User`](crate::spec::User) of the container's process, reading the image's `/etc/passwd` and `/etc/group`
//! through [`open_in_root`](crate::user::open_in_root), which resolves every path inside the root filesystem: a symlinked
//! `/etc/passwd` pointing at `/../../etc/passwd` reads the container's file, never the host's.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{Mode, OFlags};

use crate::spec::User;

/// Largest uid or gid Docker accepts.
const MAX_ID: i64 = i32::MAX as i64;

/// A `--user` or `--group-add` value that cannot be resolved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UserError {
    /// No passwd entry has this name, and it is not numeric.
    #[error("unable to find user {0}: no matching entries in passwd file")]
    NoUser(String),
    /// No group entry has this name, and it is not numeric.
    #[error("unable to find group {0}: no matching entries in group file")]
    NoGroup(String),
    /// A `--group-add` name no group entry has (dockerd's own lookup says it with a capital).
    #[error("Unable to find group {0}: no matching entries in group file")]
    NoAdditionalGroup(String),
    /// A numeric id out of range.
    #[error("uids and gids must be in range 0-{MAX_ID}")]
    Range,
    /// The file exists but could not be read.
    #[error("read {path} in the container's root filesystem: {message}")]
    Read {
        /// Path inside the rootfs.
        path: String,
        /// The error.
        message: String,
    },
}

impl UserError {
    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            UserError::Read { .. } => berth_store::ErrorKind::Internal,
            _ => berth_store::ErrorKind::InvalidArgument,
        }
    }
}

/// Opens `path` (relative to the root, leading `/` allowed) for reading inside `rootfs`, with
/// every symlink and `..` resolved as if `rootfs` were `/` (`openat2(RESOLVE_IN_ROOT)`).
pub fn open_in_root(rootfs: &Path, path: &str) -> io::Result<File> {
    let root = rustix::fs::open(
        rootfs,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let fd: OwnedFd = berth_store::fsutil::open_in_root(&root, path, OFlags::RDONLY)?;
    Ok(File::from(fd))
}

/// The file's text, or `None` when it cannot be opened (Docker treats a missing file as
/// empty).
fn read_in_root(rootfs: &Path, path: &str) -> Result<Option<String>, UserError> {
    let Ok(mut f) = open_in_root(rootfs, path) else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(|e| UserError::Read {
        path: path.to_string(),
        message: e.to_string(),
    })?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

struct PasswdEntry {
    name: String,
    uid: i64,
    gid: i64,
}

struct GroupEntry {
    name: String,
    gid: i64,
    members: Vec<String>,
}

fn records(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').collect())
}

fn passwd_entries(text: &str) -> Vec<PasswdEntry> {
    records(text)
        .filter_map(|f| {
            Some(PasswdEntry {
                name: f.first()?.to_string(),
                uid: f.get(2)?.parse().ok()?,
                gid: f.get(3)?.parse().ok()?,
            })
        })
        .collect()
}

fn group_entries(text: &str) -> Vec<GroupEntry> {
    records(text)
        .filter_map(|f| {
            Some(GroupEntry {
                name: f.first()?.to_string(),
                gid: f.get(2)?.parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn numeric_id(s: &str) -> Option<Result<u32, UserError>> {
    let n: i64 = s.parse().ok()?;
    Some(if (0..=MAX_ID).contains(&n) {
        Ok(n as u32)
    } else {
        Err(UserError::Range)
    })
}

fn to_id(n: i64) -> Result<u32, UserError> {
    if (0..=MAX_ID).contains(&n) {
        Ok(n as u32)
    } else {
        Err(UserError::Range)
    }
}

/// Resolves Docker's `--user` value against the image's `/etc/passwd` and `/etc/group`.
///
/// Like Docker 20.10: an empty user means root; a name (or a uid listed in passwd) takes that
/// entry's uid and primary gid; an unlisted numeric uid runs with gid 0; an explicit group
/// (name or number) replaces the primary gid and the supplementary groups; otherwise the
/// supplementary groups are the primary gid followed by every group listing the user.
pub fn resolve_user(rootfs: &Path, spec: &str) -> Result<User, UserError> {
    let mut parts = spec.split(':');
    let user_arg = parts.next().unwrap_or_default();
    let group_arg = parts.next().unwrap_or_default();
    let passwd = read_in_root(rootfs, "etc/passwd")?
        .map(|t| passwd_entries(&t))
        .unwrap_or_default();

    let mut uid: u32 = 0;
    let mut gid: u32 = 0;
    let mut name: Option<String> = None;
    let found = if user_arg.is_empty() {
        passwd.iter().find(|e| e.uid == 0)
    } else {
        passwd
            .iter()
            .find(|e| e.name == user_arg || e.uid.to_string() == user_arg)
    };
    match found {
        Some(e) => {
            uid = to_id(e.uid)?;
            gid = to_id(e.gid)?;
            name = Some(e.name.clone());
        }
        None if user_arg.is_empty() => {}
        None => match numeric_id(user_arg) {
            Some(n) => uid = n?,
            None => return Err(UserError::NoUser(user_arg.to_string())),
        },
    }

    let groups = read_in_root(rootfs, "etc/group")?
        .map(|t| group_entries(&t))
        .unwrap_or_default();
    let mut additional = Vec::new();
    if !group_arg.is_empty() {
        gid = match groups
            .iter()
            .find(|g| g.name == group_arg || g.gid.to_string() == group_arg)
        {
            Some(g) => to_id(g.gid)?,
            None => match numeric_id(group_arg) {
                Some(n) => n?,
                None => return Err(UserError::NoGroup(group_arg.to_string())),
            },
        };
        additional.push(gid);
    } else {
        additional.push(gid);
        if let Some(name) = &name {
            for g in groups
                .iter()
                .filter(|g| g.members.iter().any(|m| m == name))
            {
                let id = to_id(g.gid)?;
                if !additional.contains(&id) {
                    additional.push(id);
                }
            }
        }
    }
    Ok(User {
        uid,
        gid,
        additional_gids: additional,
    })
}

/// Resolves `--group-add` values (group names or numbers) against the image's `/etc/group`;
/// the engine appends them to [`User::additional_gids`].
pub fn resolve_additional_groups(rootfs: &Path, names: &[String]) -> Result<Vec<u32>, UserError> {
    let groups = read_in_root(rootfs, "etc/group")?
        .map(|t| group_entries(&t))
        .unwrap_or_default();
    let mut out = Vec::new();
    for n in names {
        let id = match groups
            .iter()
            .find(|g| g.name == *n || g.gid.to_string() == *n)
        {
            Some(g) => to_id(g.gid)?,
            None => match numeric_id(n) {
                Some(id) => id?,
                None => return Err(UserError::NoAdditionalGroup(n.clone())),
            },
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n# comment\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n";
    const GROUP: &str =
        "root:x:0:\nalice:x:1000:\nbob:x:1001:\nwheel:x:10:alice,bob\naudio:x:29:alice\n";

    fn rootfs() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("etc")).unwrap();
        std::fs::write(tmp.path().join("etc/passwd"), PASSWD).unwrap();
        std::fs::write(tmp.path().join("etc/group"), GROUP).unwrap();
        tmp
    }

    fn user(uid: u32, gid: u32, groups: &[u32]) -> User {
        User {
            uid,
            gid,
            additional_gids: groups.to_vec(),
        }
    }

    #[test]
    fn resolves_like_docker_20_10() {
        let r = rootfs();
        let r = r.path();
        // Each case was checked against dockerd 20.10's config.json.
        assert_eq!(resolve_user(r, "").unwrap(), user(0, 0, &[0]));
        assert_eq!(resolve_user(r, "root").unwrap(), user(0, 0, &[0]));
        assert_eq!(
            resolve_user(r, "alice").unwrap(),
            user(1000, 1000, &[1000, 10, 29])
        );
        assert_eq!(
            resolve_user(r, "1000").unwrap(),
            user(1000, 1000, &[1000, 10, 29])
        );
        assert_eq!(
            resolve_user(r, "alice:").unwrap(),
            user(1000, 1000, &[1000, 10, 29])
        );
        assert_eq!(
            resolve_user(r, "bob").unwrap(),
            user(1001, 1001, &[1001, 10])
        );
        assert_eq!(
            resolve_user(r, "alice:audio").unwrap(),
            user(1000, 29, &[29])
        );
        assert_eq!(resolve_user(r, "alice:10").unwrap(), user(1000, 10, &[10]));
        assert_eq!(resolve_user(r, "0:audio").unwrap(), user(0, 29, &[29]));
        assert_eq!(resolve_user(r, ":10").unwrap(), user(0, 10, &[10]));
        assert_eq!(resolve_user(r, "2000").unwrap(), user(2000, 0, &[0]));
        assert_eq!(
            resolve_user(r, "2000:3000").unwrap(),
            user(2000, 3000, &[3000])
        );
        assert_eq!(resolve_user(r, "1000:0").unwrap(), user(1000, 0, &[0]));
        assert_eq!(
            resolve_user(r, "1000:1000:1").unwrap(),
            user(1000, 1000, &[1000])
        );
    }

    #[test]
    fn errors_use_dockers_words() {
        let r = rootfs();
        let r = r.path();
        assert_eq!(
            resolve_user(r, "nosuch").unwrap_err().to_string(),
            "unable to find user nosuch: no matching entries in passwd file"
        );
        assert_eq!(
            resolve_user(r, "alice:nogrp").unwrap_err().to_string(),
            "unable to find group nogrp: no matching entries in group file"
        );
        assert_eq!(
            resolve_user(r, "-5").unwrap_err().to_string(),
            "uids and gids must be in range 0-2147483647"
        );
        assert_eq!(
            resolve_user(r, "1:4294967296").unwrap_err(),
            UserError::Range
        );
        assert_eq!(
            resolve_user(r, "nosuch").unwrap_err().kind(),
            berth_store::ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn missing_files_allow_only_numeric_ids() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(resolve_user(tmp.path(), "").unwrap(), user(0, 0, &[0]));
        assert_eq!(resolve_user(tmp.path(), "5:6").unwrap(), user(5, 6, &[6]));
        assert!(matches!(
            resolve_user(tmp.path(), "alice"),
            Err(UserError::NoUser(_))
        ));
        assert!(matches!(
            resolve_user(tmp.path(), "0:wheel"),
            Err(UserError::NoGroup(_))
        ));
    }

    #[test]
    fn symlinks_cannot_escape_the_rootfs() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(outside.path().join("etc")).unwrap();
        std::fs::write(
            outside.path().join("etc/passwd"),
            "evil:x:666:666::/:/bin/sh\n",
        )
        .unwrap();
        let r = tempfile::tempdir().unwrap();
        std::fs::create_dir(r.path().join("etc")).unwrap();
        // Absolute and relative links that would reach the host's file outside the rootfs.
        let escape_abs = outside.path().join("etc/passwd");
        std::os::unix::fs::symlink(&escape_abs, r.path().join("etc/passwd")).unwrap();
        assert!(matches!(
            resolve_user(r.path(), "evil"),
            Err(UserError::NoUser(_))
        ));
        std::fs::remove_file(r.path().join("etc/passwd")).unwrap();
        let ups = "../".repeat(20);
        let rel = format!(
            "{ups}{}",
            escape_abs.to_string_lossy().trim_start_matches('/')
        );
        std::os::unix::fs::symlink(&rel, r.path().join("etc/passwd")).unwrap();
        assert!(matches!(
            resolve_user(r.path(), "evil"),
            Err(UserError::NoUser(_))
        ));
        // The same absolute link name, resolved inside the rootfs, finds the rootfs's own file.
        let inner = r.path().join(escape_abs.strip_prefix("/").unwrap());
        std::fs::create_dir_all(inner.parent().unwrap()).unwrap();
        std::fs::write(&inner, "inner:x:7:8::/:/bin/sh\n").unwrap();
        assert_eq!(resolve_user(r.path(), "inner").unwrap(), user(7, 8, &[8]));
        std::fs::remove_file(r.path().join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink(&escape_abs, r.path().join("etc/passwd")).unwrap();
        assert_eq!(resolve_user(r.path(), "inner").unwrap(), user(7, 8, &[8]));
    }

    #[test]
    fn group_add_resolves_names_and_numbers() {
        let r = rootfs();
        assert_eq!(
            resolve_additional_groups(r.path(), &["audio".into(), "5".into(), "29".into()])
                .unwrap(),
            vec![29, 5]
        );
        assert_eq!(
            resolve_additional_groups(r.path(), &["nogrp".into()])
                .unwrap_err()
                .to_string(),
            "Unable to find group nogrp: no matching entries in group file"
        );
    }
}
