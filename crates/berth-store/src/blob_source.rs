//! [`BlobSource`] rows remember which compressed blob a layer (by diff ID) is in which registry
//! repository — recorded when a pull fetches it and when a push uploads it — so a later push
//! can ask the registry for that blob instead of compressing and uploading the layer again, and
//! mount it from a sibling repository (what Docker keeps as `v2metadata`).

use rusqlite::params;

use crate::digest::Digest;
use crate::{Store, StoreError};

/// One known place of a layer's compressed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobSource {
    /// The layer's diff ID.
    pub diff_id: Digest,
    /// The compressed blob's digest.
    pub digest: Digest,
    /// The registry (`localhost:5000`, `docker.io`).
    pub registry: String,
    /// The repository path in it (`team/app`).
    pub repository: String,
    /// The blob's media type.
    pub media_type: String,
    /// The blob's size.
    pub size: u64,
}

impl Store {
    /// Records (or refreshes) a blob source.
    pub fn add_blob_source(&mut self, s: &BlobSource) -> Result<(), StoreError> {
        self.db.write(|tx| -> Result<(), StoreError> {
            tx.execute(
                "INSERT INTO blob_sources(diff_id, digest, registry, repository, media_type, size, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(diff_id, digest, registry, repository)
                 DO UPDATE SET created_at = excluded.created_at",
                params![
                    s.diff_id.to_string(),
                    s.digest.to_string(),
                    s.registry,
                    s.repository,
                    s.media_type,
                    s.size as i64,
                    crate::db::now_rfc3339()
                ],
            )?;
            Ok(())
        })
    }

    /// Known blobs of layer `diff_id` in `registry`, most recently seen first.
    pub fn blob_sources(
        &self,
        diff_id: &Digest,
        registry: &str,
    ) -> Result<Vec<BlobSource>, StoreError> {
        let mut stmt = self.db.conn().prepare_cached(
            "SELECT digest, repository, media_type, size FROM blob_sources
             WHERE diff_id = ?1 AND registry = ?2 ORDER BY created_at DESC",
        )?;
        let rows = stmt.query_map(params![diff_id.to_string(), registry], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (digest, repository, media_type, size) = row?;
            let Ok(digest) = Digest::parse(&digest) else {
                continue;
            };
            out.push(BlobSource {
                diff_id: diff_id.clone(),
                digest,
                registry: registry.to_string(),
                repository,
                media_type,
                size: size as u64,
            });
        }
        Ok(out)
    }

    /// Forgets a blob source (the registry no longer has it).
    pub fn remove_blob_source(&mut self, s: &BlobSource) -> Result<(), StoreError> {
        self.db.write(|tx| -> Result<(), StoreError> {
            tx.execute(
                "DELETE FROM blob_sources WHERE diff_id = ?1 AND digest = ?2 AND registry = ?3 AND repository = ?4",
                params![s.diff_id.to_string(), s.digest.to_string(), s.registry, s.repository],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip_newest_first() {
        let t = tempfile::tempdir().unwrap();
        let mut store = Store::open(&crate::StoreOptions {
            root: t.path().join("root"),
            driver: Some(crate::driver::DriverKind::Vfs),
            mounter: crate::mount::Mounter::linux(),
        })
        .unwrap();
        let diff = Digest::of_bytes(b"tar");
        let a = BlobSource {
            diff_id: diff.clone(),
            digest: Digest::of_bytes(b"gz1"),
            registry: "localhost:5000".into(),
            repository: "team/a".into(),
            media_type: "application/vnd.docker.image.rootfs.diff.tar.gzip".into(),
            size: 3,
        };
        store.add_blob_source(&a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = BlobSource {
            repository: "team/b".into(),
            ..a.clone()
        };
        store.add_blob_source(&b).unwrap();
        let got = store.blob_sources(&diff, "localhost:5000").unwrap();
        assert_eq!(got, vec![b.clone(), a.clone()]);
        assert!(store.blob_sources(&diff, "docker.io").unwrap().is_empty());
        store.remove_blob_source(&b).unwrap();
        assert_eq!(
            store.blob_sources(&diff, "localhost:5000").unwrap(),
            vec![a]
        );
    }
}
