//! The evidence library on disk: a tantivy index of documents, the writer's manifest of files,
//! the remembered roots and the librarian's overrides, all in one folder on a local disk.
//!
//! ```text
//! INDEX/
//!   state.json      format version, roots, framework, last run
//!   tantivy/        the search index (one document per piece of evidence)
//!   manifest.redb   the writer's record of every file seen
//!   overrides.json  librarian overrides (never derived, never rebuilt)
//!   config.toml     optional: exclude globs
//!   writer.lock     held by the one process writing
//! ```
//!
//! Readers (`search`, `evidence`, `gaps`, `show`, `status`, `export`) open only `state.json`
//! and the tantivy index, so they keep working while an `index` run writes, and see its work
//! after each commit.

pub mod docs;
pub mod lock;
pub mod manifest;
pub mod overrides;
pub mod pairs;
pub mod schema;
pub mod state;
pub mod stem;
pub mod update;
pub mod upgrade;

use crate::error::{Error, Result};
use docs::{StoredDoc, Summary};
use schema::Fields;
use state::State;
use std::path::{Path, PathBuf};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

/// The default index folder: `EVIDEX_INDEX`, else the user's data folder.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("EVIDEX_INDEX") {
        return PathBuf::from(d);
    }
    #[cfg(windows)]
    let base = std::env::var_os("LOCALAPPDATA").map(PathBuf::from);
    #[cfg(not(windows))]
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    base.unwrap_or_else(|| PathBuf::from(".")).join("evidex")
}

pub struct Library {
    pub dir: PathBuf,
    pub index: Index,
    pub fields: Fields,
    pub state: State,
    reader: IndexReader,
}

impl Library {
    fn tantivy_dir(dir: &Path) -> PathBuf {
        dir.join("tantivy")
    }

    /// Opens an existing library for reading.
    pub fn open(dir: &Path) -> Result<Library> {
        let state = State::load(dir)?.ok_or_else(|| Error::NoIndex(dir.to_path_buf()))?;
        let tdir = Library::tantivy_dir(dir);
        if !tdir.join("meta.json").exists() {
            return Err(Error::NoIndex(dir.to_path_buf()));
        }
        let index = Index::open_in_dir(&tdir).map_err(|e| Error::index(dir, e))?;
        Library::finish_open(dir, index, state)
    }

    /// Opens the library for writing, creating it if needed.
    pub fn open_or_create(dir: &Path) -> Result<Library> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let state = State::load(dir)?.unwrap_or_default();
        let tdir = Library::tantivy_dir(dir);
        std::fs::create_dir_all(&tdir).map_err(|e| Error::io(&tdir, e))?;
        let index = if tdir.join("meta.json").exists() {
            Index::open_in_dir(&tdir).map_err(|e| Error::index(dir, e))?
        } else {
            let (schema, _) = schema::build();
            Index::create_in_dir(&tdir, schema).map_err(|e| Error::index(dir, e))?
        };
        if !State::path(dir).exists() {
            state.save(dir)?;
        }
        Library::finish_open(dir, index, state)
    }

    fn finish_open(dir: &Path, mut index: Index, state: State) -> Result<Library> {
        schema::register(&index);
        // Segments are searched in parallel: a phrase over 100k documents is several segments'
        // work, and the machine evidex runs on has cores to spare while a person waits.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        if threads > 1 {
            index
                .set_multithread_executor(threads)
                .map_err(|e| Error::index(dir, e))?;
        }
        let fields = Fields::from_schema(&index.schema()).ok_or_else(|| Error::Version {
            dir: dir.to_path_buf(),
            found: 0,
            expected: schema::FORMAT_VERSION,
        })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| Error::index(dir, e))?;
        Ok(Library {
            dir: dir.to_path_buf(),
            index,
            fields,
            state,
            reader,
        })
    }

    pub fn reload(&self) -> Result<()> {
        self.reader.reload().map_err(|e| Error::index(&self.dir, e))
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    pub fn num_docs(&self) -> u64 {
        self.searcher().num_docs()
    }

    fn load(&self, searcher: &Searcher, addr: DocAddress) -> Result<StoredDoc> {
        let d: TantivyDocument = searcher.doc(addr).map_err(|e| Error::index(&self.dir, e))?;
        Ok(StoredDoc::from_tantivy(&d, &self.fields))
    }

    pub fn doc_at(&self, searcher: &Searcher, addr: DocAddress) -> Result<StoredDoc> {
        self.load(searcher, addr)
    }

    fn find_one(&self, term: Term) -> Result<Option<StoredDoc>> {
        let searcher = self.searcher();
        let q = TermQuery::new(term, IndexRecordOption::Basic);
        let hits = searcher
            .search(&q, &TopDocs::with_limit(1).order_by_score())
            .map_err(|e| Error::index(&self.dir, e))?;
        match hits.first() {
            Some((_, addr)) => Ok(Some(self.load(&searcher, *addr)?)),
            None => Ok(None),
        }
    }

    pub fn doc_by_id(&self, doc_id: &str) -> Result<Option<StoredDoc>> {
        self.find_one(Term::from_field_text(self.fields.doc_id, doc_id))
    }

    /// The document a path (as typed by a person) is a location of.
    pub fn doc_by_path(&self, path: &Path) -> Result<Option<StoredDoc>> {
        let candidates = [
            crate::paths::to_key(&crate::paths::canonical(path)),
            crate::paths::to_key(&crate::paths::absolute_lexical(path)),
        ];
        for key in candidates {
            let term = Term::from_field_text(self.fields.path_key, &crate::paths::identity(&key));
            if let Some(d) = self.find_one(term)? {
                return Ok(Some(d));
            }
        }
        Ok(None)
    }

    pub fn count(&self, query: &dyn tantivy::query::Query) -> Result<usize> {
        self.searcher()
            .search(query, &Count)
            .map_err(|e| Error::index(&self.dir, e))
    }

    /// Every live document's summary, read from the fast column (no document store access).
    ///
    /// The column's dictionary is read once, in order: looking each document's summary up by
    /// its ordinal re-scans a dictionary block per document, which was most of the gap report's
    /// time on a large library.
    pub fn summaries(&self, searcher: &Searcher) -> Result<Vec<(DocAddress, Summary)>> {
        let mut out = Vec::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let Some(col) = segment
                .fast_fields()
                .bytes("summary")
                .map_err(|e| Error::index(&self.dir, e))?
            else {
                continue;
            };
            let mut by_ord: Vec<Option<Summary>> = Vec::with_capacity(col.num_terms());
            let mut terms = col
                .dictionary()
                .stream()
                .map_err(|e| Error::index(&self.dir, e))?;
            while terms.advance() {
                by_ord.push(serde_json::from_slice::<Summary>(terms.key()).ok());
            }
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let Some(term_ord) = col.term_ords(doc).next() else {
                    continue;
                };
                if let Some(Some(s)) = by_ord.get(term_ord as usize) {
                    out.push((DocAddress::new(ord as u32, doc), s.clone()));
                }
            }
        }
        Ok(out)
    }

    /// Every live document, in index order (for export and re-tagging).
    pub fn for_each_doc(&self, mut f: impl FnMut(StoredDoc) -> Result<()>) -> Result<()> {
        let searcher = self.searcher();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                f(self.load(&searcher, DocAddress::new(ord as u32, doc))?)?;
            }
        }
        Ok(())
    }
}
