//! One writer at a time. A second `index` (or `tag`) exits at once, naming the process that
//! holds the index, instead of queueing behind it or corrupting it. The lock is an OS file lock,
//! so it is released when the holder dies, even by `kill -9`; the pid written into the file is
//! only there for the message.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    pub fn acquire(dir: &Path) -> Result<WriterLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join("writer.lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let mut parts = holder.split_whitespace();
                let pid = parts.next().unwrap_or("?").to_string();
                let since = parts
                    .next()
                    .map(|s| format!(", running since {s}"))
                    .unwrap_or_default();
                return Err(Error::Busy {
                    dir: dir.to_path_buf(),
                    pid,
                    since,
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = writeln!(file, "{} {}", std::process::id(), jiff::Timestamp::now());
        let _ = file.flush();
        Ok(WriterLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path()).unwrap();
        let err = WriterLock::acquire(dir.path()).err().expect("refused");
        let msg = err.to_string();
        assert!(msg.contains(&std::process::id().to_string()), "{msg}");
        assert!(msg.contains("being updated"), "{msg}");
        drop(first);
        assert!(WriterLock::acquire(dir.path()).is_ok());
    }
}
