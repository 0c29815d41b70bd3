//! How paths are stored and compared, so the same file is recognised however it is reached.
//!
//! Stored paths are absolute and canonical (symlinked roots resolved; on Windows `dunce` keeps
//! `\\server\share\...` and `C:\...` instead of the `\\?\` forms that would never match a path
//! a person types). Keys are lossless strings: a name that is not valid Unicode (old Samba
//! shares hold Latin-1 names) is kept byte for byte, hex-encoded behind a marker.

use std::path::{Component, Path, PathBuf};

/// Marks a key holding raw bytes (Unix) or UTF-16 units (Windows) that are not valid Unicode.
const RAW: &str = "\u{1}raw:";

/// The stored, lossless form of a path.
pub fn to_key(path: &Path) -> String {
    if let Some(s) = path.to_str() {
        return s.to_string();
    }
    let mut out = String::from(RAW);
    for b in raw_units(path) {
        out.push_str(&format!("{b:04x}"));
    }
    out
}

/// The path a key was made from.
pub fn from_key(key: &str) -> PathBuf {
    let Some(hex) = key.strip_prefix(RAW) else {
        return PathBuf::from(key);
    };
    let units: Vec<u16> = (0..hex.len() / 4)
        .filter_map(|i| u16::from_str_radix(&hex[i * 4..i * 4 + 4], 16).ok())
        .collect();
    from_raw_units(&units)
}

#[cfg(unix)]
fn raw_units(path: &Path) -> Vec<u16> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str()
        .as_bytes()
        .iter()
        .map(|b| *b as u16)
        .collect()
}

#[cfg(unix)]
fn from_raw_units(units: &[u16]) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(
        units.iter().map(|u| *u as u8).collect(),
    ))
}

#[cfg(windows)]
fn raw_units(path: &Path) -> Vec<u16> {
    use std::os::windows::ffi::OsStrExt;
    path.as_os_str().encode_wide().collect()
}

#[cfg(windows)]
fn from_raw_units(units: &[u16]) -> PathBuf {
    use std::os::windows::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_wide(units))
}

/// How a path is shown to people (lossy for names that are not valid Unicode).
pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The form of a key used to compare identities: Windows file systems ignore case.
pub fn identity(key: &str) -> String {
    if cfg!(windows) {
        key.to_lowercase().replace('/', "\\")
    } else {
        key.to_string()
    }
}

/// An absolute, canonical form of a root or a path the user typed. Falls back to a lexical
/// absolute path when the path cannot be resolved (an offline share keeps its remembered name).
pub fn canonical(path: &Path) -> PathBuf {
    match dunce::canonicalize(path) {
        Ok(p) => p,
        Err(_) => absolute_lexical(path),
    }
}

/// `path` made absolute against the current directory, with `.` and `..` folded away.
pub fn absolute_lexical(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether `path` lies under `root` (or is it), comparing identities.
pub fn is_under(path_key: &str, root_key: &str) -> bool {
    let p = identity(path_key);
    let r = identity(root_key);
    let sep = std::path::MAIN_SEPARATOR;
    p == r || (p.starts_with(&r) && (r.ends_with(sep) || p[r.len()..].starts_with(sep)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let p = Path::new("/share/Adult Social Care/Politique d'évaluation.docx");
        assert_eq!(to_key(p), p.to_str().unwrap());
        assert_eq!(from_key(&to_key(p)), p);
    }

    #[cfg(unix)]
    #[test]
    fn non_unicode_names_round_trip() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"/share/caf\xE9.txt"));
        let key = to_key(p);
        assert!(key.starts_with(RAW));
        assert_eq!(from_key(&key), p);
        assert!(display(p).contains("caf"));
    }

    #[test]
    fn under_respects_separators() {
        let sep = std::path::MAIN_SEPARATOR;
        let root = format!("{sep}share{sep}asc");
        assert!(is_under(&format!("{root}{sep}a.pdf"), &root));
        assert!(is_under(&root, &root));
        assert!(!is_under(
            &format!("{sep}share{sep}asc-old{sep}a.pdf"),
            &root
        ));
    }

    #[test]
    fn lexical_absolute_folds_dots() {
        let p = absolute_lexical(Path::new("/a/b/../c/./d"));
        assert_eq!(p, PathBuf::from("/a/c/d"));
    }
}
