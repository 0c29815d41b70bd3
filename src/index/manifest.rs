//! The writer's record of every file it has seen: its signature (size, modification and change
//! times, file id), its content hash, which document it is, and how extraction went.
//!
//! Kept in redb beside the tantivy index and committed right after each tantivy commit, so a
//! crash leaves the manifest at most one batch behind the index; the next run then re-does that
//! batch (updates are idempotent upserts) and nothing needs repair.

use crate::error::{Error, Result};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

const FILES: TableDefinition<&str, &[u8]> = TableDefinition::new("files");
/// The page cache the manifest database may keep (see `try_open`).
const MANIFEST_CACHE: usize = 32 << 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The stored path key (see [`crate::paths::to_key`]).
    pub path: String,
    /// The root (key) it was found under.
    pub root: String,
    pub size: u64,
    pub mtime: i64,
    #[serde(default)]
    pub ctime: i64,
    #[serde(default)]
    pub file_id: u64,
    /// blake3 of the content, when it could be read.
    pub hash: Option<String>,
    /// The tantivy document this file is a location of.
    pub doc_id: String,
    /// Extractor version of its format when it was extracted.
    pub extractor: u32,
    pub ok: bool,
    #[serde(default)]
    pub reason: Option<String>,
    /// When this path was first indexed (unix seconds).
    pub first_seen: i64,
}

impl FileRecord {
    /// Same size and times (and file id where the platform has one): unchanged without reading.
    pub fn same_signature(&self, size: u64, mtime: i64, ctime: i64, file_id: u64) -> bool {
        self.size == size
            && self.mtime == mtime
            && (self.ctime == 0 || ctime == 0 || self.ctime == ctime)
            && (self.file_id == 0 || file_id == 0 || self.file_id == file_id)
    }
}

pub struct Manifest {
    db: Database,
    /// The manifest was unreadable and started afresh: the caller rebuilds it from the index.
    pub rebuilt: bool,
}

impl Manifest {
    /// Opens the manifest. One that cannot be read (a process killed while creating it, a
    /// disk error) is moved aside and started afresh: it is derived data, and the index
    /// holds what is needed to rebuild it.
    pub fn open(dir: &Path) -> Result<Manifest> {
        let path = dir.join("manifest.redb");
        let (db, rebuilt) = match Manifest::try_open(&path) {
            Ok(db) => (db, false),
            Err(first) if path.exists() => {
                let aside = dir.join(format!(
                    "manifest.redb.unreadable-{}",
                    jiff::Timestamp::now().as_second()
                ));
                std::fs::rename(&path, &aside).map_err(|e| Error::io(&path, e))?;
                let db = Manifest::try_open(&path).map_err(|e| {
                    Error::index(
                        dir,
                        format!("cannot create manifest.redb ({e}; before: {first})"),
                    )
                })?;
                (db, true)
            }
            Err(e) => {
                return Err(Error::index(
                    dir,
                    format!("cannot create manifest.redb: {e}"),
                ));
            }
        };
        Ok(Manifest { db, rebuilt })
    }

    fn try_open(path: &Path) -> std::result::Result<Database, String> {
        // redb caches up to 1 GiB by default; the run keeps its own map of the records, so
        // the database needs little more than its write path.
        let db = redb::Builder::new()
            .set_cache_size(MANIFEST_CACHE)
            .create(path)
            .map_err(|e| e.to_string())?;
        let txn = db.begin_write().map_err(|e| e.to_string())?;
        txn.open_table(FILES).map_err(|e| e.to_string())?;
        txn.commit().map_err(|e| e.to_string())?;
        Ok(db)
    }

    /// Every record, keyed by path identity.
    pub fn load_all(&self) -> Result<HashMap<String, FileRecord>> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| Error::index("manifest", e))?;
        let table = txn
            .open_table(FILES)
            .map_err(|e| Error::index("manifest", e))?;
        let mut out = HashMap::new();
        for item in table.iter().map_err(|e| Error::index("manifest", e))? {
            let (k, v) = item.map_err(|e| Error::index("manifest", e))?;
            if let Ok(rec) = serde_json::from_slice::<FileRecord>(v.value()) {
                out.insert(k.value().to_string(), rec);
            }
        }
        Ok(out)
    }

    /// Applies one batch of changes in one transaction.
    pub fn apply(&self, upserts: &[FileRecord], removals: &[String]) -> Result<()> {
        if upserts.is_empty() && removals.is_empty() {
            return Ok(());
        }
        let txn = self
            .db
            .begin_write()
            .map_err(|e| Error::index("manifest", e))?;
        {
            let mut table = txn
                .open_table(FILES)
                .map_err(|e| Error::index("manifest", e))?;
            for key in removals {
                table
                    .remove(key.as_str())
                    .map_err(|e| Error::index("manifest", e))?;
            }
            for rec in upserts {
                let key = crate::paths::identity(&rec.path);
                let bytes = serde_json::to_vec(rec).expect("record serialises");
                table
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(|e| Error::index("manifest", e))?;
            }
        }
        txn.commit().map_err(|e| Error::index("manifest", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(path: &str) -> FileRecord {
        FileRecord {
            path: path.into(),
            root: "/r".into(),
            size: 10,
            mtime: 5,
            ctime: 6,
            file_id: 7,
            hash: Some("h".into()),
            doc_id: "b3:h".into(),
            extractor: 1,
            ok: true,
            reason: None,
            first_seen: 1,
        }
    }

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let m = Manifest::open(dir.path()).unwrap();
            m.apply(&[rec("/r/a"), rec("/r/b")], &[]).unwrap();
            m.apply(&[], &["/r/a".into()]).unwrap();
        }
        let m = Manifest::open(dir.path()).unwrap();
        let all = m.load_all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all["/r/b"], rec("/r/b"));
    }

    #[test]
    fn an_unreadable_manifest_is_moved_aside_and_started_afresh() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.redb"), vec![7u8; 70_000]).unwrap();
        let m = Manifest::open(dir.path()).unwrap();
        assert!(m.rebuilt);
        assert!(m.load_all().unwrap().is_empty());
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("manifest.redb.unreadable-")
            })
            .count();
        assert_eq!(aside, 1);
    }

    #[test]
    fn signatures_tolerate_missing_parts() {
        let r = rec("/r/a");
        assert!(r.same_signature(10, 5, 6, 7));
        assert!(r.same_signature(10, 5, 0, 0));
        assert!(!r.same_signature(10, 4, 6, 7));
        assert!(!r.same_signature(11, 5, 6, 7));
        assert!(!r.same_signature(10, 5, 9, 7));
    }
}
