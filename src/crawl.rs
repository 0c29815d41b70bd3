//! Walking a share: which files are documents, and what they look like from the outside (size,
//! times, file id), without reading them.
//!
//! Symbolic links are not followed, so a link loop cannot trap the walk. What every share holds
//! besides documents is skipped: Office owner files (`~$Report.docx`), `Thumbs.db`,
//! `desktop.ini`, temporary files, hidden and system folders, plus the council's own excludes
//! (globs). A folder that cannot be read is reported, and the documents indexed under it are
//! kept (the caller is told), because on a flaky share "unreadable" does not mean "deleted".

use crate::extract::Format;
use crate::paths;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub key: String,
    pub size: u64,
    /// Modification time, nanoseconds since 1970.
    pub mtime: i64,
    /// Inode change time (Unix), nanoseconds; 0 where the platform has none.
    pub ctime: i64,
    /// Inode number (Unix); 0 where unavailable.
    pub file_id: u64,
    pub format: Format,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Crawl {
    pub files: Vec<Candidate>,
    /// Folders (keys) that could not be listed: documents under them must not be purged.
    pub unreadable: Vec<String>,
    pub issues: Vec<Issue>,
    /// Files that are not documents, or excluded.
    pub skipped: usize,
}

/// File and folder names that are never documents.
pub fn is_junk_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with("~$")
        || name.starts_with("._")
        || name.starts_with('.')
        || lower == "thumbs.db"
        || lower == "desktop.ini"
        || lower == "ehthumbs.db"
        || lower.ends_with(".tmp")
        || lower.ends_with(".temp")
        || lower.ends_with(".bak")
        || lower.ends_with(".lnk")
        || lower.ends_with(".crdownload")
        || lower.ends_with(".partial")
        || (lower.starts_with('~') && lower.ends_with(".tmp"))
}

fn is_system_dir(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with("~snapshot")
        || lower == "$recycle.bin"
        || lower == "system volume information"
        || lower == "~snapshot"
        || lower == "#recycle"
        || lower == "@eadir"
}

/// Glob excludes from the config file and `--exclude`.
#[derive(Clone, Debug, Default)]
pub struct Excludes {
    set: Option<GlobSet>,
    pub patterns: Vec<String>,
}

impl Excludes {
    pub fn new(patterns: &[String]) -> Result<Excludes, String> {
        if patterns.is_empty() {
            return Ok(Excludes::default());
        }
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            let glob = Glob::new(p).map_err(|e| format!("exclude pattern '{p}': {e}"))?;
            b.add(glob);
            // "Archive" or "*.bak" should also match anywhere below the root.
            if !p.contains('/') && !p.starts_with("**") {
                b.add(
                    Glob::new(&format!("**/{p}"))
                        .map_err(|e| format!("exclude pattern '{p}': {e}"))?,
                );
            }
        }
        Ok(Excludes {
            set: Some(b.build().map_err(|e| e.to_string())?),
            patterns: patterns.to_vec(),
        })
    }

    fn matches(&self, rel: &Path) -> bool {
        self.set.as_ref().is_some_and(|s| s.is_match(rel))
    }
}

#[cfg(unix)]
fn change_time_and_id(meta: &std::fs::Metadata) -> (i64, u64) {
    use std::os::unix::fs::MetadataExt;
    (
        meta.ctime()
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.ctime_nsec()),
        meta.ino(),
    )
}

#[cfg(not(unix))]
fn change_time_and_id(_meta: &std::fs::Metadata) -> (i64, u64) {
    (0, 0)
}

pub fn nanos(t: std::io::Result<std::time::SystemTime>) -> i64 {
    t.ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

/// Describes a single file as the crawler would.
pub fn candidate(path: &Path, meta: &std::fs::Metadata) -> Option<Candidate> {
    let format = Format::from_path(path)?;
    let (ctime, file_id) = change_time_and_id(meta);
    Some(Candidate {
        path: path.to_path_buf(),
        key: paths::to_key(path),
        size: meta.len(),
        mtime: nanos(meta.modified()),
        ctime,
        file_id,
        format,
    })
}

/// Walks `root` (a canonical path) in sorted order.
pub fn crawl(root: &Path, excludes: &Excludes) -> Crawl {
    let mut out = Crawl::default();
    let walker = WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            if e.file_type().is_dir() {
                let rel = e.path().strip_prefix(root).unwrap_or(e.path());
                return !is_system_dir(&name) && !excludes.matches(rel);
            }
            true
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let path = err.path().map(paths::display).unwrap_or_default();
                let is_dir = err
                    .path()
                    .and_then(|p| std::fs::symlink_metadata(p).ok())
                    .is_some_and(|m| m.is_dir());
                if is_dir && let Some(p) = err.path() {
                    out.unreadable.push(paths::to_key(p));
                }
                let message = err
                    .io_error()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| err.to_string());
                out.issues.push(Issue {
                    path,
                    message: if is_dir {
                        format!(
                            "folder cannot be read ({message}); its documents are kept as they were"
                        )
                    } else {
                        format!("cannot be read ({message})")
                    },
                });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if is_junk_name(&name) {
            out.skipped += 1;
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        if excludes.matches(rel) {
            out.skipped += 1;
            continue;
        }
        if Format::from_path(entry.path()).is_none() {
            out.skipped += 1;
            continue;
        }
        match entry.metadata() {
            Ok(meta) => {
                if let Some(c) = candidate(entry.path(), &meta) {
                    out.files.push(c);
                }
            }
            Err(e) => out.issues.push(Issue {
                path: paths::display(entry.path()),
                message: format!("cannot be read ({e})"),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_recognised() {
        for junk in [
            "~$port.docx",
            "Thumbs.db",
            "desktop.ini",
            "~WRL0001.tmp",
            ".DS_Store",
            "._x.pdf",
            "a.bak",
        ] {
            assert!(is_junk_name(junk), "{junk}");
        }
        for doc in ["Report.docx", "Carers ~ survey.pdf", "policy.PDF"] {
            assert!(!is_junk_name(doc), "{doc}");
        }
    }

    #[test]
    fn walks_documents_skips_junk_and_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("A/Archive")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        for f in [
            "A/one.docx",
            "A/~$one.docx",
            "A/Thumbs.db",
            "A/Archive/old.pdf",
            ".hidden/h.pdf",
            "two.txt",
            "pic.jpg",
        ] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        let ex = Excludes::new(&["Archive".into()]).unwrap();
        let c = crawl(root, &ex);
        let names: Vec<String> = c
            .files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["A/one.docx", "two.txt"]);
        assert!(c.skipped >= 3);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_do_not_trap_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/doc.txt"), b"x").unwrap();
        std::os::unix::fs::symlink(root, root.join("a/loop")).unwrap();
        let c = crawl(root, &Excludes::default());
        assert_eq!(c.files.len(), 1);
    }
}
