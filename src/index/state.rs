//! What the index remembers between runs: its format version, the roots it was given, when each
//! was last indexed or found offline, which framework tagged it, and the last run's summary.
//! Written atomically (temporary file, then rename), so readers never see half a file.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RootState {
    /// The root as a stored path key.
    pub path: String,
    pub added: String,
    #[serde(default)]
    pub last_indexed: Option<String>,
    /// Set while the root is missing, unreadable or empty when it held documents: its
    /// documents are kept, marked unverified since then.
    #[serde(default)]
    pub offline_since: Option<String>,
    #[serde(default)]
    pub documents: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub format_version: u32,
    #[serde(default)]
    pub roots: Vec<RootState>,
    /// The framework the index was tagged with (id@version#content).
    #[serde(default)]
    pub framework: Option<String>,
    /// A framework file given with --framework, remembered like the roots.
    #[serde(default)]
    pub framework_path: Option<String>,
    #[serde(default)]
    pub last_run: Option<serde_json::Value>,
}

impl State {
    pub fn new() -> State {
        State {
            format_version: super::schema::FORMAT_VERSION,
            roots: Vec::new(),
            framework: None,
            framework_path: None,
            last_run: None,
        }
    }

    pub fn path(dir: &Path) -> std::path::PathBuf {
        dir.join("state.json")
    }

    /// `Ok(None)` when the directory holds no index yet.
    pub fn load(dir: &Path) -> Result<Option<State>> {
        let state = State::load_any(dir)?;
        if let Some(s) = &state
            && s.format_version != super::schema::FORMAT_VERSION
        {
            return Err(Error::Version {
                dir: dir.to_path_buf(),
                found: s.format_version,
                expected: super::schema::FORMAT_VERSION,
            });
        }
        Ok(state)
    }

    /// The state whatever its format version (for the upgrade).
    pub fn load_any(dir: &Path) -> Result<Option<State>> {
        let path = State::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let state: State = serde_json::from_str(&text).map_err(|e| {
            Error::index(
                dir,
                format!("state.json is damaged ({e}); move the index folder aside and re-index"),
            )
        })?;
        Ok(Some(state))
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        write_atomic(
            &State::path(dir),
            serde_json::to_string_pretty(self)
                .expect("state serialises")
                .as_bytes(),
        )
    }

    pub fn root_mut(&mut self, key: &str) -> &mut RootState {
        if let Some(i) = self
            .roots
            .iter()
            .position(|r| crate::paths::identity(&r.path) == crate::paths::identity(key))
        {
            return &mut self.roots[i];
        }
        self.roots.push(RootState {
            path: key.to_string(),
            added: jiff::Timestamp::now().to_string(),
            ..RootState::default()
        });
        self.roots.last_mut().expect("just pushed")
    }
}

impl Default for State {
    fn default() -> State {
        State::new()
    }
}

/// Writes a file so that readers see the old or the new content, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
