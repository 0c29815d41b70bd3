//! `evidex watch`: keep the library current. File system notifications trigger a re-index once
//! changes have been quiet for the debounce time; a periodic re-index catches what
//! notifications miss (network shares do not send them). A root that goes offline is left to
//! the index run's offline handling, and is watched again when it comes back.

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::index::update::{self, Options, Silent, Summary};
use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct WatchOptions {
    pub debounce: Duration,
    pub interval: Duration,
    pub poll_only: bool,
    /// Stop after this many runs (scripts and tests).
    pub max_runs: Option<usize>,
}

fn remembered_roots(dir: &Path) -> Vec<PathBuf> {
    crate::index::state::State::load(dir)
        .ok()
        .flatten()
        .map(|s| {
            s.roots
                .iter()
                .map(|r| crate::paths::from_key(&r.path))
                .collect()
        })
        .unwrap_or_default()
}

pub fn watch<E: From<Error>>(
    dir: &Path,
    fw: &Framework,
    make: impl Fn() -> std::result::Result<Options, E>,
    wo: WatchOptions,
    mut on_summary: impl FnMut(&Summary) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher: Option<notify::RecommendedWatcher> = if wo.poll_only {
        None
    } else {
        notify::recommended_watcher(tx).ok()
    };
    let mut watched: Vec<PathBuf> = Vec::new();
    let mut runs = 0usize;
    let mut first = true;
    loop {
        let mut opts = make()?;
        if !first {
            // After the first run the roots are remembered; re-index them all.
            opts.roots.clear();
        }
        first = false;
        match update::run(dir, fw, opts, &Silent) {
            Ok(summary) => on_summary(&summary)?,
            Err(Error::Busy { .. }) => {
                eprintln!("evidex watch: another index run is in progress; trying again later");
            }
            Err(e) => return Err(e.into()),
        }
        runs += 1;
        if wo.max_runs.is_some_and(|m| runs >= m) {
            return Ok(());
        }
        // (Re-)watch roots that are reachable now; an offline share is picked up when back.
        if let Some(w) = watcher.as_mut() {
            for root in remembered_roots(dir) {
                if !watched.contains(&root)
                    && root.is_dir()
                    && w.watch(&root, RecursiveMode::Recursive).is_ok()
                {
                    watched.push(root);
                }
            }
            watched.retain(|r| {
                let alive = r.is_dir();
                if !alive {
                    let _ = w.unwatch(r);
                }
                alive
            });
        }
        // Wait for a change (then for quiet), or for the polling interval.
        let deadline = Instant::now() + wo.interval;
        let mut changed = false;
        loop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let wait = if changed { wo.debounce } else { deadline - now };
            match rx.recv_timeout(wait) {
                Ok(Ok(ev)) => {
                    if is_relevant(&ev, dir) {
                        changed = true;
                    }
                }
                Ok(Err(_)) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if changed {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    break;
                }
            }
        }
    }
}

/// Events inside the index folder itself (our own writes) do not trigger a run.
fn is_relevant(ev: &notify::Event, index_dir: &Path) -> bool {
    use notify::EventKind;
    matches!(
        ev.kind,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any
    ) && ev.paths.iter().any(|p| !p.starts_with(index_dir))
}

/// Result alias kept for callers that want the library's error type.
pub type WatchResult = Result<()>;
