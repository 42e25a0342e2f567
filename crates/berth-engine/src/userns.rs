//! [`Remap`]: the engine's user-namespace remapping, daemon.json's `userns-remap` as dockerd reads
//! it (`default`, `USER`, `USER:GROUP`, `UID`, `UID:GID`; `default` makes the `dockremap` user and
//! its `/etc/subuid` and `/etc/subgid` ranges when they are missing). A remapped container runs
//! in a user namespace whose root is the first id of those ranges on the host; `--userns=host`
//! opts one container out.
//!
//! How the image layers get the right ownership — the choice against dockerd's: dockerd keeps a
//! second data root per remapping (`<root>/<uid>.<gid>`) whose layers it unpacks with every id
//! shifted, so each image is pulled and stored again for the remapped root and a remapped
//! daemon sees none of the unmapped one's images. berth keeps one layer store and shows it to
//! a remapped container through an id-mapped mount of the layer directory
//! (`berth_store::mount::idmap`): overlay's lower dirs are read through it, so a file stored as
//! 0 reads as the remapped root to the host and 0 inside. Measured on this VM (Linux 6.18,
//! ext4, load 15): making the view (a fork, two map writes, open_tree, mount_setattr) takes
//! about 2 ms, and a remapped `run --rm` was within the noise of an unmapped one (629 and 656
//! ms against 702 and 684 ms, eight runs each), where dockerd's shifted copy is one more full
//! unpack per image, and of a 1 GB image a gigabyte of disk. Overlay cannot write through an
//! id-mapped upper dir (its copy-up runs as the mounter, whose id 0 has no place in the map:
//! EOVERFLOW), so the container's own changes are stored with host ids, as dockerd's are.

use std::path::Path;

use berth_store::driver::Rootfs;
use berth_store::mount::idmap::{IdMap, IdmappedTree};

use crate::EngineError;

/// The user dockerd (and berth) make for `userns-remap: default`.
pub const DEFAULT_REMAP_USER: &str = "dockremap";

/// Where `default`'s ranges start looking, and their size (as dockerd's).
const DEFAULT_RANGE_START: u64 = 100_000;
const DEFAULT_RANGE_SIZE: u64 = 65_536;

/// A resolved `userns-remap` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    /// The user whose subordinate uids are used.
    pub user: String,
    /// The group whose subordinate gids are used.
    pub group: String,
    /// Container uid ranges and where they are on the host (container ids from 0 up).
    pub uids: Vec<IdMap>,
    /// The same for gids.
    pub gids: Vec<IdMap>,
}

/// What a container cannot have when user namespaces are remapped, in dockerd's words (400).
#[derive(Debug, thiserror::Error)]
pub enum RemapError {
    /// `--privileged`.
    #[error("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode")]
    Privileged,
    /// `--network host`.
    #[error("cannot share the host's network namespace when user namespaces are enabled")]
    HostNetwork,
    /// `--pid host`.
    #[error("cannot share the host PID namespace when user namespaces are enabled")]
    HostPid,
    /// `--ipc host`.
    #[error("cannot share the host IPC namespace when user namespaces are enabled")]
    HostIpc,
    /// A storage driver other than overlay (berth's own refusal).
    #[error("userns-remap needs the overlay2 storage driver: berth shows image layers to a remapped container through an id-mapped mount, which vfs copies cannot use")]
    NeedsOverlay,
}

impl Remap {
    /// Resolves the setting (`""`: no remapping), with dockerd's words for what is missing.
    pub fn resolve(setting: &str) -> Result<Option<Remap>, String> {
        if setting.is_empty() {
            return Ok(None);
        }
        let (user, group) = if setting == "default" {
            ensure_default_user()?;
            (
                DEFAULT_REMAP_USER.to_string(),
                DEFAULT_REMAP_USER.to_string(),
            )
        } else {
            let (u, g) = match setting.split_once(':') {
                Some((u, g)) => (u, Some(g)),
                None => (setting, None),
            };
            let user = if u.bytes().all(|b| b.is_ascii_digit()) {
                getent("passwd", u)
                    .map_err(|e| format!("Uid {u} has no entry in /etc/passwd: {e}"))?
                    .0
            } else {
                getent("passwd", u)
                    .map_err(|e| format!("Error during uid lookup for {u:?}: {e}"))?
                    .0
            };
            // Without a group, dockerd takes the group named as the user.
            let g = g.unwrap_or(&user).to_string();
            let group = getent("group", &g)
                .map_err(|e| format!("Error during gid lookup for {g:?}: {e}"))?
                .0;
            (user, group)
        };
        let uids = maps(&read_ranges("/etc/subuid", &user)).ok_or_else(|| {
            format!("Can't create ID mappings: no subuid ranges found for user {user:?}")
        })?;
        let gids = maps(&read_ranges("/etc/subgid", &group)).ok_or_else(|| {
            format!("Can't create ID mappings: no subgid ranges found for group {group:?}")
        })?;
        Ok(Some(Remap {
            user,
            group,
            uids,
            gids,
        }))
    }

    /// The host uid of the container's root.
    pub fn root_uid(&self) -> u32 {
        self.uids[0].host_id
    }

    /// The host gid of the container's root.
    pub fn root_gid(&self) -> u32 {
        self.gids[0].host_id
    }

    /// The host uid of container uid `id` (unmapped ids stay as they are).
    pub fn host_uid(&self, id: u32) -> u32 {
        host_id(&self.uids, id)
    }

    /// The host gid of container gid `id`.
    pub fn host_gid(&self, id: u32) -> u32 {
        host_id(&self.gids, id)
    }

    /// The maps, for writing tars as the container sees its files.
    pub fn id_maps(&self) -> berth_store::archive::IdMaps {
        berth_store::archive::IdMaps {
            uids: self.uids.clone(),
            gids: self.gids.clone(),
        }
    }
}

/// Where container id `id` is on the host under `maps`.
fn host_id(maps: &[IdMap], id: u32) -> u32 {
    maps.iter()
        .find(|m| id >= m.container_id && id - m.container_id < m.size)
        .map_or(id, |m| id - m.container_id + m.host_id)
}

/// `getent DB KEY`: the entry's name and id.
fn getent(db: &str, key: &str) -> Result<(String, u32), String> {
    let not_found = || format!("getent unable to find entry {key:?} in {db} database");
    let out = std::process::Command::new("getent")
        .args([db, key])
        .output()
        .map_err(|e| format!("getent: {e}"))?;
    if !out.status.success() {
        return Err(not_found());
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let mut fields = line.trim().split(':');
    let name = fields.next().unwrap_or_default().to_string();
    let id = fields
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(not_found)?;
    Ok((name, id))
}

/// The `(start, count)` ranges of `name` in a subordinate id file.
fn read_ranges(file: &str, name: &str) -> Vec<(u64, u64)> {
    parse_ranges(
        &std::fs::read_to_string(file).unwrap_or_default(),
        Some(name),
    )
}

/// Ranges of `name` (of everyone with `None`) in the text of `/etc/subuid` or `/etc/subgid`.
fn parse_ranges(text: &str, name: Option<&str>) -> Vec<(u64, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (who, start, count) = (f.next()?, f.next()?, f.next()?);
            if name.is_some_and(|n| n != who) {
                return None;
            }
            Some((start.parse().ok()?, count.parse().ok()?))
        })
        .collect()
}

/// Container ids 0.. laid over the ranges in order; `None` when there are none (or they do not
/// fit in 32 bits).
fn maps(ranges: &[(u64, u64)]) -> Option<Vec<IdMap>> {
    let mut next = 0u64;
    let mut out = Vec::new();
    for &(start, count) in ranges {
        out.push(IdMap {
            container_id: u32::try_from(next).ok()?,
            host_id: u32::try_from(start).ok()?,
            size: u32::try_from(count).ok()?,
        });
        next += count;
    }
    (!out.is_empty()).then_some(out)
}

/// The first `size` ids from `DEFAULT_RANGE_START` up that no range of `taken` covers.
fn free_range(taken: &[(u64, u64)]) -> u64 {
    let mut start = DEFAULT_RANGE_START;
    loop {
        let clash = taken
            .iter()
            .filter(|(s, c)| start < s + c && *s < start + DEFAULT_RANGE_SIZE)
            .map(|(s, c)| s + c)
            .max();
        match clash {
            Some(end) => start = end,
            None => return start,
        }
    }
}

/// Makes the `dockremap` user (a system user, no shell) and its subordinate ranges, as dockerd
/// does at start, if they are missing.
fn ensure_default_user() -> Result<(), String> {
    let run = |cmd: &mut std::process::Command| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "Can't create ID mappings: {cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    if getent("passwd", DEFAULT_REMAP_USER).is_err() {
        run(std::process::Command::new("useradd").args([
            "-r",
            "-s",
            "/bin/false",
            DEFAULT_REMAP_USER,
        ]))?;
    }
    for (file, flag) in [("/etc/subuid", "-v"), ("/etc/subgid", "-w")] {
        if !read_ranges(file, DEFAULT_REMAP_USER).is_empty() {
            continue;
        }
        let all = parse_ranges(&std::fs::read_to_string(file).unwrap_or_default(), None);
        let start = free_range(&all);
        let range = format!("{start}-{}", start + DEFAULT_RANGE_SIZE - 1);
        if Path::new(file).exists() {
            run(std::process::Command::new("usermod").args([flag, &range, DEFAULT_REMAP_USER]))?;
        } else {
            std::fs::write(
                file,
                format!("{DEFAULT_REMAP_USER}:{start}:{DEFAULT_RANGE_SIZE}\n"),
            )
            .map_err(|e| format!("Can't create ID mappings: {file}: {e}"))?;
        }
    }
    Ok(())
}

impl crate::Engine {
    /// The remapping a container with this host config gets: the engine's, unless it opts out
    /// with `--userns=host`.
    pub(crate) fn remap_for(&self, hc: &crate::types::HostConfig) -> Option<&Remap> {
        match hc.userns_mode.as_str() {
            "host" => None,
            _ => self.config.remap.as_ref(),
        }
    }

    /// What a remapped container cannot have, with dockerd's words (`--ipc host` fails inside
    /// runc with dockerd; berth says why before).
    pub(crate) fn check_remap(&self, hc: &crate::types::HostConfig) -> Result<(), EngineError> {
        if self.remap_for(hc).is_none() {
            return Ok(());
        }
        let refused = if hc.privileged {
            RemapError::Privileged
        } else if hc.network_mode == "host" {
            RemapError::HostNetwork
        } else if hc.pid_mode == "host" {
            RemapError::HostPid
        } else if hc.ipc_mode == "host" {
            RemapError::HostIpc
        } else if self.store.driver_kind() != berth_store::driver::DriverKind::Overlay {
            RemapError::NeedsOverlay
        } else {
            return Ok(());
        };
        Err(refused.into())
    }

    /// How to mount container `id`'s root filesystem: for a remapped container, over an
    /// id-mapped view of the layer store, which must be held until the mounts are made.
    pub(crate) fn rootfs_view(
        &self,
        id: &str,
        remap: Option<&Remap>,
    ) -> Result<(Rootfs, Option<IdmappedTree>), EngineError> {
        let driver = self.store.driver();
        let Some(r) = remap else {
            return Ok((driver.rootfs(id, true)?, None));
        };
        let view = IdmappedTree::open(driver.root(), &r.uids, &r.gids)?;
        let rootfs = driver.rootfs_over(id, &view.path())?;
        Ok((rootfs, Some(view)))
    }

    /// Gives a remapped container's root what it must reach on the host, as dockerd does: the
    /// directories on the way to its root filesystem and to its `/etc` files become searchable by
    /// the remapped root's group (mode `0710`, group the remapped gid), and its writable layer's
    /// top directory becomes the remapped root's.
    pub(crate) fn grant_remapped_root(
        &self,
        c: &crate::container::Container,
        r: &Remap,
    ) -> Result<(), EngineError> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let (uid, gid) = (r.root_uid(), r.root_gid());
        let layers = self.store.driver().root().to_path_buf();
        let dir = c.dir(self);
        let searchable = [
            self.root().to_path_buf(),
            layers.clone(),
            layers.join(&c.id),
            dir.parent().map(Path::to_path_buf).unwrap_or_default(),
            dir.clone(),
        ];
        for d in searchable {
            let md = std::fs::metadata(&d)?;
            if md.gid() != gid || md.mode() & 0o010 == 0 {
                std::os::unix::fs::chown(&d, None, Some(gid))?;
                let mode = (md.mode() & 0o7777 & !0o070) | 0o010;
                std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode))?;
            }
        }
        // Before the overlay is mounted: overlay keeps the attributes its root had then.
        let upper = self.store.driver().apply_dir(&c.id);
        std::os::unix::fs::lchown(&upper, Some(uid), Some(gid))?;
        Ok(())
    }

    /// Makes a remapped container's `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` (once
    /// written) its root's, as dockerd does.
    pub(crate) fn own_etc_files(
        &self,
        c: &crate::container::Container,
        r: &Remap,
    ) -> Result<(), EngineError> {
        let (uid, gid) = (r.root_uid(), r.root_gid());
        let etc = berth_runtime::spec::EtcFiles::in_dir(&c.dir(self));
        for p in [etc.hosts, etc.hostname, etc.resolv_conf] {
            match std::os::unix::fs::lchown(&p, Some(uid), Some(gid)) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_of_one_user_become_consecutive_container_ids() {
        let text = "alice:200000:1000\nbob:100000:65536\nalice:500000:10\nbroken\n";
        let r = parse_ranges(text, Some("alice"));
        assert_eq!(r, vec![(200000, 1000), (500000, 10)]);
        let m = maps(&r).unwrap();
        assert_eq!(m[1].container_id, 1000);
        assert_eq!(m[1].host_id, 500000);
        assert_eq!(host_id(&m, 0), 200000);
        assert_eq!(host_id(&m, 1003), 500003);
        assert!(maps(&[]).is_none());
    }

    #[test]
    fn default_takes_the_first_free_range_from_100000() {
        assert_eq!(free_range(&[]), 100000);
        assert_eq!(free_range(&[(100000, 65536)]), 165536);
        assert_eq!(free_range(&[(50000, 10), (120000, 5)]), 120005);
    }

    #[test]
    fn unknown_users_get_dockerds_words() {
        let e = Remap::resolve("no-such-user-berth").unwrap_err();
        assert_eq!(
            e,
            r#"Error during uid lookup for "no-such-user-berth": getent unable to find entry "no-such-user-berth" in passwd database"#
        );
        assert!(Remap::resolve("").unwrap().is_none());
    }
}
