//! `evidex index`: bring the library up to date with its roots.
//!
//! 1. Crawl each root. A root that is missing, unreadable, or empty when it held documents is
//!    *offline*: its documents are kept (unverified since then), never purged.
//! 2. Compare with the manifest by signature (size, mtime, ctime, file id), never by "newer than
//!    the last run", so files copied in with old dates are seen. Unchanged files are not read.
//! 3. Hash what changed or is new (blake3). Same content at a new path where a path vanished is
//!    a move: its tags and overrides follow, nothing is re-extracted. Same content as a document
//!    still present is another location of that document (a duplicate).
//! 4. Extract the rest in worker processes, `threads` at a time, tag them, and feed one
//!    `IndexWriter`; commit every batch, then record the batch in the manifest. A killed run
//!    loses at most the batch in flight; the next run finishes the job.
//! 5. Removals are applied unless they would remove more than a set share of a root's
//!    documents, which usually means a share came back half-mounted: then none are removed
//!    until the librarian confirms with `--allow-removals`.

use super::Library;
use super::docs::{StoredDoc, StoredMeta};
use super::lock::WriterLock;
use super::manifest::{FileRecord, Manifest};
use super::overrides::{self, Overrides};
use crate::crawl::{self, Candidate, Excludes, Issue};
use crate::error::{Error, Result};
use crate::extract::worker::{Worker, WorkerConfig};
use crate::extract::{Extracted, Failure, Format, Reason};
use crate::framework::Framework;
use crate::paths;
use crate::tag::{TagInput, Tagger};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tantivy::{IndexWriter, Term};

/// What the caller wants from a run.
pub struct Options {
    /// Roots to index (and remember); empty re-indexes every remembered root.
    pub roots: Vec<PathBuf>,
    pub threads: usize,
    pub allow_removals: bool,
    pub retry_failed: bool,
    /// Refuse a run that would remove more than this share of a root's documents.
    pub removal_share: f64,
    pub worker: WorkerConfig,
    pub excludes: Vec<String>,
    /// A framework file given on the command line, remembered for later runs.
    pub framework_path: Option<String>,
    /// Commit after this many documents...
    pub batch_docs: usize,
    /// ...or this long.
    pub batch_time: Duration,
}

/// Progress of a long run (a terminal progress bar, or nothing).
pub trait Progress: Sync {
    fn phase(&self, _name: &str) {}
    fn set_total(&self, _n: u64) {}
    fn tick(&self, _path: &str) {}
    fn finish(&self) {}
}

pub struct Silent;
impl Progress for Silent {}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FailedFile {
    pub path: String,
    pub reason: String,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RefusedRemoval {
    pub root: String,
    pub would_remove: usize,
    pub of: usize,
    pub message: String,
}

/// The run's outcome; the JSON summary of `index --json`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    pub added: usize,
    pub updated: usize,
    pub moved: usize,
    pub removed: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub offline_roots: Vec<String>,
    /// Documents kept because their root is offline.
    pub kept_offline: usize,
    /// New locations of content already in the library.
    pub duplicates: usize,
    /// Documents re-tagged without re-extraction (framework change, moves).
    pub retagged: usize,
    /// Files that are not documents, or excluded, or junk (lock files, thumbnails).
    pub skipped: usize,
    pub removals_refused: Vec<RefusedRemoval>,
    /// Files that could not be read in this run, with reasons.
    pub failures: Vec<FailedFile>,
    /// Folders or files the crawl could not read.
    pub crawl_issues: Vec<Issue>,
    /// Documents in the library after the run.
    pub documents: u64,
    pub elapsed_ms: u64,
}

fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn hash_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

fn content_id(hash: &str) -> String {
    format!("b3:{hash}")
}

fn path_id(key: &str) -> String {
    format!(
        "path:{}",
        &blake3::hash(paths::identity(key).as_bytes()).to_hex()[..32]
    )
}

/// A file to extract (all paths with the same content share one extraction).
struct Job {
    doc_id: String,
    hash: Option<String>,
    /// Each path with its root and whether it is new to the library.
    files: Vec<(Candidate, String, bool)>,
    /// Set when the file could not even be read for hashing.
    unreadable: Option<Failure>,
}

struct Done {
    job: Job,
    result: std::result::Result<Extracted, Failure>,
}

impl Done {
    /// Bytes of text held against the [`InFlight`] budget until this is stored.
    fn held(&self) -> usize {
        self.result.as_ref().map_or(0, |x| x.text.len())
    }
}

/// Extracted text waiting for the writer thread, bounded in bytes rather than documents.
///
/// A commit stops the writer thread for half a second or more (segment serialised, manifest
/// written); with a queue of a few documents the extraction workers sat idle meanwhile, about a
/// tenth of a 10k-document run. Workers now run on while the queue holds less than `limit`
/// bytes of text, so the queue can hold many small documents but only a few large ones.
struct InFlight {
    used: std::sync::Mutex<(usize, bool)>,
    freed: std::sync::Condvar,
    limit: usize,
}

impl InFlight {
    fn new(limit: usize) -> InFlight {
        InFlight {
            used: std::sync::Mutex::new((0, false)),
            freed: std::sync::Condvar::new(),
            limit,
        }
    }

    /// Waits until `bytes` fit (a lone document always fits); false once closed.
    fn acquire(&self, bytes: usize) -> bool {
        let mut g = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while !g.1 && g.0 > 0 && g.0 + bytes > self.limit {
            g = self.freed.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        g.0 += bytes;
        !g.1
    }

    fn release(&self, bytes: usize) {
        let mut g = self.used.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = g.0.saturating_sub(bytes);
        self.freed.notify_all();
    }

    /// Wakes every waiting worker for good: the writer thread has stopped.
    fn close(&self) {
        self.used.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.freed.notify_all();
    }
}

/// Closes the budget when the writer thread leaves, by error or not, so no worker waits on.
struct CloseOnDrop<'a>(&'a InFlight);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Text the extraction queue may hold (see [`InFlight`]).
const IN_FLIGHT_BYTES: usize = 48 << 20;

/// The mutable state of one run, owned by the writer thread.
struct Run<'a> {
    lib: &'a Library,
    fw: &'a Framework,
    tagger: &'a Tagger<'a>,
    writer: IndexWriter,
    manifest: Manifest,
    records: HashMap<String, FileRecord>,
    overrides: Overrides,
    overrides_dirty: bool,
    doc_paths: HashMap<String, BTreeSet<String>>,
    pending_upserts: Vec<FileRecord>,
    pending_removals: Vec<String>,
    since_commit: usize,
    /// Documents written or deleted since the last commit: reading one of them back from the
    /// index needs a commit first, reading any other does not.
    uncommitted: HashSet<String>,
    last_commit: Instant,
    opts_batch_docs: usize,
    opts_batch_time: Duration,
    summary: Summary,
}

impl Run<'_> {
    fn retag(&self, doc: &mut StoredDoc) {
        let ex = doc.extracted();
        let shown = paths::display(&paths::from_key(doc.primary_path()));
        let root = doc
            .meta
            .roots
            .first()
            .map(|r| paths::display(&paths::from_key(r)));
        let mut tags = self.tagger.tag(&TagInput {
            extracted: &ex,
            path: &shown,
            root: root.as_deref(),
        });
        if !doc.ok {
            // A file that could not be read is not evidence yet: keep what its name suggests
            // as near misses, for the librarian, but tag nothing.
            let mut near = std::mem::take(&mut tags.statements);
            near.append(&mut tags.near_misses);
            tags.near_misses = near;
            tags.themes.clear();
        }
        if let Some(o) = self.overrides.find(&doc.doc_id, &doc.paths) {
            overrides::apply(&mut tags, o, self.fw);
        }
        doc.tags = tags;
    }

    fn upsert(&mut self, doc: &StoredDoc) -> Result<()> {
        self.writer
            .delete_term(Term::from_field_text(self.lib.fields.doc_id, &doc.doc_id));
        self.writer
            .add_document(doc.to_tantivy(&self.lib.fields))
            .map_err(|e| Error::index(&self.lib.dir, e))?;
        self.since_commit += 1;
        self.uncommitted.insert(doc.doc_id.clone());
        Ok(())
    }

    fn delete(&mut self, doc_id: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.lib.fields.doc_id, doc_id));
        self.since_commit += 1;
        self.uncommitted.insert(doc_id.to_string());
    }

    fn maybe_commit(&mut self) -> Result<()> {
        if self.since_commit >= self.opts_batch_docs
            || (self.since_commit > 0 && self.last_commit.elapsed() >= self.opts_batch_time)
        {
            self.commit()?;
        }
        Ok(())
    }

    /// Commits the index, then the manifest (so the manifest never runs ahead of the index).
    fn commit(&mut self) -> Result<()> {
        self.writer
            .commit()
            .map_err(|e| Error::index(&self.lib.dir, e))?;
        self.manifest
            .apply(&self.pending_upserts, &self.pending_removals)?;
        self.pending_upserts.clear();
        self.pending_removals.clear();
        if self.overrides_dirty {
            self.overrides.save(&self.lib.dir)?;
            self.overrides_dirty = false;
        }
        self.since_commit = 0;
        self.uncommitted.clear();
        self.last_commit = Instant::now();
        self.lib.reload()?;
        Ok(())
    }

    fn record(&mut self, rec: FileRecord) {
        let id = paths::identity(&rec.path);
        self.records.insert(id, rec.clone());
        self.pending_upserts.push(rec);
    }

    fn forget(&mut self, key: &str) {
        let id = paths::identity(key);
        self.records.remove(&id);
        self.pending_upserts
            .retain(|r| paths::identity(&r.path) != id);
        self.pending_removals.push(id);
    }

    /// Rewrites a stored document whose set of paths changed, without re-extracting.
    fn rewrite_paths(&mut self, doc_id: &str) -> Result<()> {
        let paths_now: Vec<String> = self
            .doc_paths
            .get(doc_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        if paths_now.is_empty() {
            self.delete(doc_id);
            self.doc_paths.remove(doc_id);
            return Ok(());
        }
        // Read from the last commit; a document written in this batch is committed first.
        // (Committing whenever anything was pending made moving a folder of n files cost n
        // commits.)
        if self.uncommitted.contains(doc_id) {
            self.commit()?;
        }
        let Some(mut doc) = self.lib.doc_by_id(doc_id)? else {
            return Ok(());
        };
        doc.paths = paths_now;
        let roots: BTreeSet<String> = doc
            .paths
            .iter()
            .filter_map(|p| {
                self.records
                    .get(&paths::identity(p))
                    .map(|r| r.root.clone())
            })
            .collect();
        doc.meta.roots = roots.into_iter().collect();
        self.retag(&mut doc);
        self.summary.retagged += 1;
        self.upsert(&doc)
    }

    /// The file records of a document's locations.
    fn records_of<'r>(&'r self, doc_id: &'r str) -> impl Iterator<Item = &'r FileRecord> + 'r {
        self.doc_paths
            .get(doc_id)
            .into_iter()
            .flatten()
            .filter_map(|p| self.records.get(&paths::identity(p)))
            .filter(move |r| r.doc_id == doc_id)
    }

    fn attach(&mut self, doc_id: &str, key: &str) {
        self.doc_paths
            .entry(doc_id.to_string())
            .or_default()
            .insert(key.to_string());
    }

    fn detach(&mut self, doc_id: &str, key: &str) {
        if let Some(set) = self.doc_paths.get_mut(doc_id) {
            set.retain(|p| paths::identity(p) != paths::identity(key));
        }
    }

    fn store_extraction(&mut self, done: Done) -> Result<()> {
        let Done { job, result } = done;
        let now = now_secs();
        for (c, _, _) in &job.files {
            // A path that held other content leaves its old document.
            if let Some(old) = self.records.get(&paths::identity(&c.key)).cloned()
                && old.doc_id != job.doc_id
            {
                self.detach(&old.doc_id, &c.key);
                self.rewrite_paths(&old.doc_id)?;
            }
            self.attach(&job.doc_id, &c.key);
        }
        let doc_paths: Vec<String> = self
            .doc_paths
            .get(&job.doc_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        let first = &job.files[0].0;
        let roots: Vec<String> = {
            let mut r: Vec<String> = job.files.iter().map(|(_, root, _)| root.clone()).collect();
            r.sort();
            r.dedup();
            r
        };
        let (ok, reason, error, ex) = match result {
            Ok(ex) => (true, None, None, ex),
            Err(f) => {
                for (c, _, _) in &job.files {
                    self.summary.failures.push(FailedFile {
                        path: paths::display(&c.path),
                        reason: f.reason.code().to_string(),
                        message: f.message.clone(),
                    });
                }
                let stem = first
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let ex = Extracted {
                    format: first.format,
                    title: Some(stem),
                    ..Extracted::default()
                };
                (
                    false,
                    Some(f.reason.code().to_string()),
                    Some(f.message),
                    ex,
                )
            }
        };
        let mut doc = StoredDoc {
            doc_id: job.doc_id.clone(),
            paths: doc_paths,
            title: ex.title.clone().unwrap_or_default(),
            body: ex.text.clone(),
            author: ex.author.clone(),
            ok,
            reason: reason.clone(),
            error,
            tags: Default::default(),
            meta: StoredMeta {
                format: if ok { ex.format } else { first.format },
                subject: ex.subject.clone(),
                keywords: ex.keywords.clone(),
                created: ex.created.clone(),
                modified: ex.modified.clone(),
                units: ex.units.clone(),
                headings: ex.headings.clone(),
                truncated: ex.truncated,
                warnings: ex.warnings.clone(),
                extractor: first.format.extractor_version(),
                roots,
            },
            size: first.size,
            hash: job.hash.clone(),
        };
        self.retag(&mut doc);
        self.upsert(&doc)?;
        for (c, root, is_new) in job.files {
            match (ok, is_new) {
                (true, true) => self.summary.added += 1,
                (true, false) => self.summary.updated += 1,
                (false, _) => self.summary.failed += 1,
            }
            let first_seen = self
                .records
                .get(&paths::identity(&c.key))
                .map(|r| r.first_seen)
                .unwrap_or(now);
            self.record(FileRecord {
                path: c.key.clone(),
                root,
                size: c.size,
                mtime: c.mtime,
                ctime: c.ctime,
                file_id: c.file_id,
                hash: job.hash.clone(),
                doc_id: job.doc_id.clone(),
                extractor: c.format.extractor_version(),
                ok,
                reason: reason.clone(),
                first_seen,
            });
        }
        self.maybe_commit()
    }
}

/// No merge produces a segment of more than this many documents.
///
/// A merge reads every segment it combines. Left to itself tantivy merged a 100k-document
/// library into one 95k segment at the end of the run, mapping the whole index into the
/// process (1.2 GB of RSS on top of the heap). Capped, a merge touches at most about 30k
/// documents' worth, and searches run over the several segments in parallel.
const MAX_MERGE_DOCS: u32 = 30_000;

/// tantivy's log merge policy, with merges split so none makes a segment larger than
/// [`MAX_MERGE_DOCS`]; segments already that large are left alone.
#[derive(Debug)]
pub(crate) struct CappedMergePolicy {
    inner: tantivy::indexer::LogMergePolicy,
    cap: u32,
}

impl tantivy::indexer::MergePolicy for CappedMergePolicy {
    fn compute_merge_candidates(
        &self,
        segments: &[tantivy::index::SegmentMeta],
    ) -> Vec<tantivy::indexer::MergeCandidate> {
        use tantivy::indexer::MergeCandidate;
        let docs = |id: &tantivy::index::SegmentId| {
            segments
                .iter()
                .find(|m| m.id() == *id)
                .map_or(0, |m| m.num_docs())
        };
        let mut out = Vec::new();
        for candidate in self.inner.compute_merge_candidates(segments) {
            let mut group: Vec<tantivy::index::SegmentId> = Vec::new();
            let mut total = 0u32;
            for id in candidate.0 {
                let n = docs(&id);
                if total + n > self.cap && !group.is_empty() {
                    if group.len() >= 2 {
                        out.push(MergeCandidate(std::mem::take(&mut group)));
                    }
                    group.clear();
                    total = 0;
                }
                group.push(id);
                total += n;
            }
            if group.len() >= 2 && total <= self.cap.max(1) {
                out.push(MergeCandidate(group));
            }
        }
        out
    }
}

pub(crate) fn merge_policy() -> CappedMergePolicy {
    let mut inner = tantivy::indexer::LogMergePolicy::default();
    // Updates are deletes plus adds: merge segments that are 30% deleted, or they pile up.
    inner.set_del_docs_ratio_before_merge(0.3);
    inner.set_max_docs_before_merge(MAX_MERGE_DOCS as usize / 2);
    CappedMergePolicy {
        inner,
        cap: MAX_MERGE_DOCS,
    }
}

/// Runs one `index` pass. Holds the writer lock for its whole length.
pub fn run(
    dir: &std::path::Path,
    fw: &Framework,
    opts: Options,
    progress: &dyn Progress,
) -> Result<Summary> {
    let started = Instant::now();
    let _lock = WriterLock::acquire(dir)?;
    super::upgrade::upgrade_if_needed(dir, progress)?;
    let lib = Library::open_or_create(dir)?;
    let mut state = lib.state.clone();
    let excludes = {
        let mut patterns = load_config_excludes(dir)?;
        patterns.extend(opts.excludes.iter().cloned());
        Excludes::new(&patterns).map_err(Error::Usage)?
    };

    // Roots: those given (remembered from now on), else all remembered ones.
    let mut roots: Vec<String> = Vec::new();
    if opts.roots.is_empty() {
        roots = state.roots.iter().map(|r| r.path.clone()).collect();
    } else {
        for r in &opts.roots {
            let key = paths::to_key(&paths::canonical(r));
            state.root_mut(&key);
            if !roots
                .iter()
                .any(|x| paths::identity(x) == paths::identity(&key))
            {
                roots.push(key);
            }
        }
    }
    // Remember the roots now, so a run killed part-way is finished by a bare `evidex index`.
    if !opts.roots.is_empty() {
        state.save(dir)?;
    }
    if roots.is_empty() {
        return Err(Error::Usage(
            "no folders to index yet: give one, for example `evidex index \\\\server\\share\\ASC` or `evidex index fixtures/library`".into(),
        ));
    }

    let manifest = Manifest::open(dir)?;
    let mut records = manifest.load_all()?;
    if records.is_empty() && lib.num_docs() > 0 {
        // The manifest was lost (or predates this index): rebuild it from what the index
        // stores, so files are checked by hash instead of being read again.
        records = records_from_index(&lib)?;
        manifest.apply(&records.values().cloned().collect::<Vec<_>>(), &[])?;
    }
    let mut doc_paths: HashMap<String, BTreeSet<String>> = HashMap::new();
    for r in records.values() {
        doc_paths
            .entry(r.doc_id.clone())
            .or_default()
            .insert(r.path.clone());
    }
    let tagger = Tagger::new(fw);
    let writer: IndexWriter = lib
        .index
        .writer_with_num_threads(1, 96 << 20)
        .map_err(|e| Error::index(dir, e))?;
    writer.set_merge_policy(Box::new(merge_policy()));

    let mut run = Run {
        lib: &lib,
        fw,
        tagger: &tagger,
        writer,
        manifest,
        records,
        overrides: Overrides::load(dir)?,
        overrides_dirty: false,
        doc_paths,
        pending_upserts: Vec::new(),
        pending_removals: Vec::new(),
        since_commit: 0,
        uncommitted: HashSet::new(),
        last_commit: Instant::now(),
        opts_batch_docs: opts.batch_docs.max(1),
        opts_batch_time: opts.batch_time,
        summary: Summary::default(),
    };

    // --- 1. crawl and compare ---------------------------------------------------------------
    progress.phase("scanning");
    let mut to_hash: Vec<(Candidate, String)> = Vec::new();
    let mut vanished: Vec<FileRecord> = Vec::new();
    let mut online_roots: Vec<String> = Vec::new();
    for root in &roots {
        let root_path = paths::from_key(root);
        let under: Vec<FileRecord> = run
            .records
            .values()
            .filter(|r| {
                paths::identity(&r.root) == paths::identity(root) || paths::is_under(&r.path, root)
            })
            .cloned()
            .collect();
        let reachable = std::fs::read_dir(&root_path).is_ok() && root_path.is_dir();
        let crawl = if reachable {
            Some(crawl::crawl(&root_path, &excludes))
        } else {
            None
        };
        let empty_now = crawl
            .as_ref()
            .is_some_and(|c| c.files.is_empty() && c.issues.is_empty());
        if crawl.is_none() || (empty_now && !under.is_empty()) {
            let rs = state.root_mut(root);
            if rs.offline_since.is_none() {
                rs.offline_since = Some(jiff::Timestamp::now().to_string());
            }
            run.summary.offline_roots.push(paths::display(&root_path));
            run.summary.kept_offline += under.len();
            continue;
        }
        let crawl = crawl.expect("reachable root crawled");
        state.root_mut(root).offline_since = None;
        online_roots.push(root.clone());
        run.summary.skipped += crawl.skipped;
        run.summary
            .crawl_issues
            .extend(crawl.issues.iter().cloned());
        let mut seen: HashSet<String> = HashSet::new();
        for c in crawl.files {
            let id = paths::identity(&c.key);
            seen.insert(id.clone());
            match run.records.get(&id) {
                Some(rec)
                    if rec.same_signature(c.size, c.mtime, c.ctime, c.file_id)
                        && rec.extractor == c.format.extractor_version()
                        && (rec.ok || !opts.retry_failed) =>
                {
                    run.summary.unchanged += 1;
                }
                _ => to_hash.push((c, root.clone())),
            }
        }
        let gone: Vec<FileRecord> = under
            .into_iter()
            .filter(|r| !seen.contains(&paths::identity(&r.path)))
            .filter(|r| !crawl.unreadable.iter().any(|u| paths::is_under(&r.path, u)))
            .collect();
        vanished.extend(gone);
    }

    // --- 2. hash what changed --------------------------------------------------------------
    progress.phase("checking changed files");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(|e| Error::index(dir, e))?;
    let hashed: Vec<(Candidate, String, std::io::Result<String>)> = pool.install(|| {
        use rayon::prelude::*;
        to_hash
            .into_par_iter()
            .map(|(c, root)| {
                let h = hash_file(&c.path);
                (c, root, h)
            })
            .collect()
    });

    // Vanished content by hash, for move detection.
    let mut vanished_by_hash: HashMap<String, Vec<FileRecord>> = HashMap::new();
    for r in &vanished {
        if let Some(h) = &r.hash {
            vanished_by_hash
                .entry(h.clone())
                .or_default()
                .push(r.clone());
        }
    }
    let mut moved_from: HashSet<String> = HashSet::new();
    let mut jobs: Vec<Job> = Vec::new();
    let mut job_by_hash: HashMap<String, usize> = HashMap::new();
    let mut dirty: BTreeSet<String> = BTreeSet::new();

    for (c, root, h) in hashed {
        let id = paths::identity(&c.key);
        let prior = run.records.get(&id).cloned();
        let hash = match h {
            Ok(h) => h,
            Err(e) => {
                let failure = Failure::new(Reason::Unreadable, format!("cannot be read: {e}"));
                let is_new = prior.is_none();
                jobs.push(Job {
                    doc_id: path_id(&c.key),
                    hash: None,
                    files: vec![(c, root, is_new)],
                    unreadable: Some(failure),
                });
                continue;
            }
        };
        let version = c.format.extractor_version();
        if let Some(p) = &prior
            && p.hash.as_deref() == Some(hash.as_str())
            && p.extractor == version
            && (p.ok || !opts.retry_failed)
        {
            // Touched, not changed (copied over itself, attributes changed): note the new
            // signature and move on.
            run.summary.unchanged += 1;
            let mut rec = p.clone();
            rec.size = c.size;
            rec.mtime = c.mtime;
            rec.ctime = c.ctime;
            rec.file_id = c.file_id;
            run.record(rec);
            continue;
        }
        let doc_id = content_id(&hash);
        if prior.is_none() {
            // Moved here? Same content at a path that vanished.
            if let Some(list) = vanished_by_hash.get_mut(&hash)
                && let Some(from) = list.pop()
            {
                if from.extractor == version && (from.ok || !opts.retry_failed) {
                    moved_from.insert(paths::identity(&from.path));
                    run.summary.moved += 1;
                    if run.overrides.follow_move(&from.path, &c.key) {
                        run.overrides_dirty = true;
                    }
                    run.detach(&from.doc_id, &from.path);
                    run.forget(&from.path);
                    run.attach(&from.doc_id, &c.key);
                    dirty.insert(from.doc_id.clone());
                    run.record(FileRecord {
                        path: c.key.clone(),
                        root: root.clone(),
                        size: c.size,
                        mtime: c.mtime,
                        ctime: c.ctime,
                        file_id: c.file_id,
                        hash: Some(hash.clone()),
                        doc_id: from.doc_id.clone(),
                        extractor: version,
                        ok: from.ok,
                        reason: from.reason.clone(),
                        first_seen: from.first_seen,
                    });
                    continue;
                }
                list.push(from);
            }
            // Another location of content already in the library?
            // (Looked up through the document's own paths: scanning every record here made
            // a drive full of copies quadratic.)
            let present = run
                .records_of(&doc_id)
                .any(|r| r.extractor == version && (r.ok || !opts.retry_failed));
            if present {
                let template = run.records_of(&doc_id).next().cloned().expect("present");
                run.summary.added += 1;
                run.summary.duplicates += 1;
                run.attach(&doc_id, &c.key);
                dirty.insert(doc_id.clone());
                run.record(FileRecord {
                    path: c.key.clone(),
                    root: root.clone(),
                    size: c.size,
                    mtime: c.mtime,
                    ctime: c.ctime,
                    file_id: c.file_id,
                    hash: Some(hash.clone()),
                    doc_id: doc_id.clone(),
                    extractor: version,
                    ok: template.ok,
                    reason: template.reason.clone(),
                    first_seen: now_secs(),
                });
                continue;
            }
        }
        let is_new = prior.is_none();
        match job_by_hash.get(&hash) {
            Some(&i) => {
                jobs[i].files.push((c, root, is_new));
                if prior.is_none() {
                    run.summary.duplicates += 1;
                }
            }
            None => {
                job_by_hash.insert(hash.clone(), jobs.len());
                jobs.push(Job {
                    doc_id,
                    hash: Some(hash),
                    files: vec![(c, root, is_new)],
                    unreadable: None,
                });
            }
        }
    }

    // --- 3. removals, guarded per root ------------------------------------------------------
    let truly_gone: Vec<FileRecord> = vanished
        .into_iter()
        .filter(|r| !moved_from.contains(&paths::identity(&r.path)))
        .collect();
    for root in &online_roots {
        let gone: Vec<&FileRecord> = truly_gone
            .iter()
            .filter(|r| {
                paths::identity(&r.root) == paths::identity(root) || paths::is_under(&r.path, root)
            })
            .collect();
        if gone.is_empty() {
            continue;
        }
        let of = run
            .records
            .values()
            .filter(|r| {
                paths::identity(&r.root) == paths::identity(root) || paths::is_under(&r.path, root)
            })
            .count()
            .max(1);
        let share = gone.len() as f64 / of as f64;
        if !opts.allow_removals && gone.len() > 1 && share > opts.removal_share {
            let shown = paths::display(&paths::from_key(root));
            run.summary.removals_refused.push(RefusedRemoval {
                root: shown.clone(),
                would_remove: gone.len(),
                of,
                message: format!(
                    "{} of {} documents under {} are gone; none were removed in case the share is only partly available. If they really were deleted, run `evidex index --allow-removals`",
                    gone.len(),
                    of,
                    shown
                ),
            });
            continue;
        }
        for r in gone {
            run.summary.removed += 1;
            run.detach(&r.doc_id, &r.path);
            run.forget(&r.path);
            dirty.insert(r.doc_id.clone());
        }
    }

    // --- 4. documents whose locations changed: rewrite without re-extracting --------------------
    progress.phase("updating moved and removed documents");
    let job_docs: HashSet<String> = job_by_hash
        .values()
        .map(|&i| jobs[i].doc_id.clone())
        .collect();
    for doc_id in dirty {
        if job_docs.contains(&doc_id) {
            continue;
        }
        run.rewrite_paths(&doc_id)?;
        run.maybe_commit()?;
    }

    // --- 5. extract, tag, write ----------------------------------------------------------------
    progress.phase("extracting");
    progress.set_total(jobs.len() as u64);
    let threads = opts.threads.max(1);
    let (job_tx, job_rx) = crossbeam_channel::bounded::<Job>(threads * 2);
    // Unbounded in count; `in_flight` bounds it in bytes.
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Done>();
    let in_flight = InFlight::new(IN_FLIGHT_BYTES);
    let worker_cfg = opts.worker.clone();
    let result: Result<()> = std::thread::scope(|scope| {
        let _close = CloseOnDrop(&in_flight);
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let done_tx = done_tx.clone();
            let cfg = worker_cfg.clone();
            let in_flight = &in_flight;
            scope.spawn(move || {
                let mut worker = Worker::new(cfg);
                for job in job_rx {
                    let result = match &job.unreadable {
                        Some(f) => Err(f.clone()),
                        None => {
                            let (c, _, _) = &job.files[0];
                            worker.extract(&c.path, c.size)
                        }
                    };
                    let done = Done { job, result };
                    if !in_flight.acquire(done.held()) || done_tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        drop(job_rx);
        scope.spawn(move || {
            for job in jobs {
                if job_tx.send(job).is_err() {
                    break;
                }
            }
        });
        for done in done_rx {
            let shown = paths::display(&done.job.files[0].0.path);
            let held = done.held();
            run.store_extraction(done)?;
            in_flight.release(held);
            progress.tick(&shown);
        }
        Ok(())
    });
    result?;
    progress.finish();

    // --- 6. re-tag what an earlier framework tagged --------------------------------------------
    let current = fw.tag_version();
    if state.framework.as_deref() != Some(current.as_str()) && state.framework.is_some() {
        progress.phase("re-tagging with the new framework");
        run.commit()?;
        let mut stale: Vec<String> = Vec::new();
        lib.for_each_doc(|d| {
            if d.tags.framework != current {
                stale.push(d.doc_id.clone());
            }
            Ok(())
        })?;
        for id in stale {
            if let Some(mut d) = lib.doc_by_id(&id)? {
                run.retag(&mut d);
                run.upsert(&d)?;
                run.summary.retagged += 1;
                run.maybe_commit()?;
            }
        }
    }
    state.framework = Some(current);
    if let Some(p) = &opts.framework_path {
        state.framework_path = Some(p.clone());
    }

    run.commit()?;
    let _ = run.writer.garbage_collect_files().wait();
    run.summary.documents = lib.num_docs();
    let now = jiff::Timestamp::now().to_string();
    for root in &online_roots {
        let count = run
            .records
            .values()
            .filter(|r| paths::identity(&r.root) == paths::identity(root))
            .count();
        let rs = state.root_mut(root);
        rs.last_indexed = Some(now.clone());
        rs.documents = count as u64;
    }
    run.summary.elapsed_ms = started.elapsed().as_millis() as u64;
    run.summary.failures.sort_by(|a, b| a.path.cmp(&b.path));
    state.last_run = serde_json::to_value(&run.summary).ok().map(|mut v| {
        if let Some(o) = v.as_object_mut() {
            o.insert("finished".into(), now.clone().into());
        }
        v
    });
    state.save(dir)?;
    let summary = run.summary.clone();
    let Run { writer, .. } = run;
    let _ = writer.wait_merging_threads();
    Ok(summary)
}

/// Manifest records rebuilt from stored documents. Their signatures are unknown (mtime 0), so
/// the next crawl hashes each file once and finds it unchanged.
fn records_from_index(lib: &Library) -> Result<HashMap<String, FileRecord>> {
    let mut out = HashMap::new();
    let now = now_secs();
    lib.for_each_doc(|d| {
        for p in &d.paths {
            let root = d
                .meta
                .roots
                .iter()
                .find(|r| paths::is_under(p, r))
                .cloned()
                .unwrap_or_default();
            out.insert(
                paths::identity(p),
                FileRecord {
                    path: p.clone(),
                    root,
                    size: d.size,
                    mtime: 0,
                    ctime: 0,
                    file_id: 0,
                    hash: d.hash.clone(),
                    doc_id: d.doc_id.clone(),
                    extractor: d.meta.extractor,
                    ok: d.ok,
                    reason: d.reason.clone(),
                    first_seen: now,
                },
            );
        }
        Ok(())
    })?;
    Ok(out)
}

/// Exclude globs from `INDEX/config.toml` (`exclude = ["Archive", "*.bak"]`).
pub fn load_config_excludes(dir: &std::path::Path) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Config {
        #[serde(default)]
        exclude: Vec<String>,
    }
    let path = dir.join("config.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let c: Config = toml::from_str(&text)
                .map_err(|e| Error::Usage(format!("{}: {}", path.display(), e.message())))?;
            Ok(c.exclude)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// Re-tags every document (after an override, or on request) without re-extracting.
pub fn retag(dir: &std::path::Path, fw: &Framework, only: Option<&[String]>) -> Result<usize> {
    let _lock = WriterLock::acquire(dir)?;
    let lib = Library::open(dir)?;
    let tagger = Tagger::new(fw);
    let manifest = Manifest::open(dir)?;
    let records = manifest.load_all()?;
    let writer: IndexWriter = lib
        .index
        .writer_with_num_threads(1, 64 << 20)
        .map_err(|e| Error::index(dir, e))?;
    writer.set_merge_policy(Box::new(merge_policy()));
    let mut run = Run {
        lib: &lib,
        fw,
        tagger: &tagger,
        writer,
        manifest,
        records,
        overrides: Overrides::load(dir)?,
        overrides_dirty: false,
        doc_paths: HashMap::new(),
        pending_upserts: Vec::new(),
        pending_removals: Vec::new(),
        since_commit: 0,
        uncommitted: HashSet::new(),
        last_commit: Instant::now(),
        opts_batch_docs: 1000,
        opts_batch_time: Duration::from_secs(30),
        summary: Summary::default(),
    };
    let mut ids: Vec<String> = Vec::new();
    match only {
        Some(list) => ids.extend(list.iter().cloned()),
        None => lib.for_each_doc(|d| {
            ids.push(d.doc_id);
            Ok(())
        })?,
    }
    let mut n = 0;
    for id in ids {
        if let Some(mut d) = lib.doc_by_id(&id)? {
            run.retag(&mut d);
            run.upsert(&d)?;
            n += 1;
        }
    }
    run.commit()?;
    let mut state = lib.state.clone();
    if only.is_none() {
        state.framework = Some(fw.tag_version());
        state.save(dir)?;
    }
    let Run { writer, .. } = run;
    let _ = writer.wait_merging_threads();
    Ok(n)
}

/// Whether a format is one evidex reads (for messages).
pub fn supported(format: Format) -> bool {
    !matches!(format, Format::Doc | Format::Ppt | Format::Unknown)
}

#[cfg(test)]
mod tests {
    use super::InFlight;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn the_queue_waits_for_room_in_bytes_and_lets_go_when_closed() {
        let q = InFlight::new(100);
        assert!(q.acquire(60));
        // A lone document larger than the budget still fits an empty queue.
        let big = InFlight::new(10);
        assert!(big.acquire(1_000));

        let got = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(q.acquire(60));
                got.store(true, Ordering::SeqCst);
            });
            std::thread::sleep(Duration::from_millis(50));
            assert!(
                !got.load(Ordering::SeqCst),
                "60 + 60 bytes do not fit in 100"
            );
            q.release(60);
        });
        assert!(got.load(Ordering::SeqCst));

        // Closed (the writer thread stopped): a waiting worker is let go, told to stop.
        std::thread::scope(|s| {
            let h = s.spawn(|| q.acquire(90));
            std::thread::sleep(Duration::from_millis(50));
            q.close();
            assert!(!h.join().unwrap());
        });
    }
}
