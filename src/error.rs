//! Errors that stop a command. A document that cannot be read is not one of these: it is a
//! recorded outcome (see [`crate::extract::Failure`]).

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the index at {dir} is being updated by process {pid}{since}; try again when it finishes"
    )]
    Busy {
        dir: PathBuf,
        pid: String,
        since: String,
    },
    #[error("no index at {0}: run `evidex index FOLDER` first (or pass --index DIR)")]
    NoIndex(PathBuf),
    #[error("{}", version_message(dir, *found, *expected))]
    Version {
        dir: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("index {dir}: {message}")]
    Index { dir: PathBuf, message: String },
    #[error("{0}")]
    Framework(#[from] crate::framework::FrameworkError),
    #[error("{0}")]
    Query(String),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: not in the index (run `evidex index` on its folder, or check the path)")]
    NotIndexed { path: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn index(dir: impl Into<PathBuf>, message: impl std::fmt::Display) -> Error {
        Error::Index {
            dir: dir.into(),
            message: message.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

fn version_message(dir: &Path, found: u32, expected: u32) -> String {
    if found < expected {
        format!(
            "the index at {} was made by an earlier version of evidex (format {found}, this version uses {expected}); run `evidex index` once to upgrade it (it is rebuilt from the text it stores; no file is read again and librarian tags are kept)",
            dir.display()
        )
    } else {
        format!(
            "the index at {} was made by a newer version of evidex (format {found}, this version reads {expected}); use that version, or move the folder aside and run `evidex index` with your folders again",
            dir.display()
        )
    }
}
