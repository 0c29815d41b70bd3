//! Upgrading an index written by an earlier evidex: the tantivy index is rebuilt from the
//! documents it stores (text, structure, tags), so no file is read again and the manifest,
//! roots and librarian overrides are kept as they are.
//!
//! Only an index run upgrades (`index` and `watch`, under the writer lock). The new index is
//! built beside the old one and swapped in by renames, so a run killed part-way leaves the old
//! index in use and the next run starts the upgrade again; every other command meanwhile says
//! to run `evidex index`.

use super::docs::StoredDoc;
use super::schema::{self, Fields};
use super::state::State;
use super::update::Progress;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use tantivy::{DocAddress, Index, IndexWriter, TantivyDocument};

/// Formats this version can rebuild from.
const UPGRADABLE: &[u32] = &[1];

fn dirs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (
        dir.join("tantivy"),
        dir.join("tantivy.upgrade"),
        dir.join("tantivy.old"),
    )
}

/// Brings the index in `dir` to the current format if it is of an older one. Returns how many
/// documents were carried over (0 when nothing needed doing).
pub fn upgrade_if_needed(dir: &Path, progress: &dyn Progress) -> Result<u64> {
    let Some(mut state) = State::load_any(dir)? else {
        return Ok(0);
    };
    let (current, building, old) = dirs(dir);
    if state.format_version == schema::FORMAT_VERSION {
        return Ok(0);
    }
    if !UPGRADABLE.contains(&state.format_version) {
        return Err(Error::Version {
            dir: dir.to_path_buf(),
            found: state.format_version,
            expected: schema::FORMAT_VERSION,
        });
    }
    // A run killed after the swap but before the state was saved: finish it.
    if !current.exists() && building.join("READY").exists() {
        rename(&building, &current)?;
    }
    if current_is_new(&current) {
        state.format_version = schema::FORMAT_VERSION;
        state.save(dir)?;
        let _ = std::fs::remove_dir_all(&old);
        return Ok(0);
    }

    progress.phase("upgrading the index to this version's format (from its stored text)");
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(&building).map_err(|e| Error::io(&building, e))?;
    let source = Index::open_in_dir(&current).map_err(|e| Error::index(dir, e))?;
    schema::register(&source);
    let read_fields = Fields::by_name(&source.schema()).ok_or_else(|| Error::Version {
        dir: dir.to_path_buf(),
        found: state.format_version,
        expected: schema::FORMAT_VERSION,
    })?;
    let (new_schema, new_fields) = schema::build();
    let target = Index::create_in_dir(&building, new_schema).map_err(|e| Error::index(dir, e))?;
    schema::register(&target);
    let mut writer: IndexWriter = target
        .writer_with_num_threads(1, 96 << 20)
        .map_err(|e| Error::index(dir, e))?;
    writer.set_merge_policy(Box::new(super::update::merge_policy()));

    let reader = source.reader().map_err(|e| Error::index(dir, e))?;
    let searcher = reader.searcher();
    let total = searcher.num_docs();
    progress.set_total(total);
    let mut carried = 0u64;
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let alive = segment.alive_bitset();
        for doc in 0..segment.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            let d: TantivyDocument = searcher
                .doc(DocAddress::new(ord as u32, doc))
                .map_err(|e| Error::index(dir, e))?;
            let stored = StoredDoc::from_tantivy(&d, &read_fields);
            writer
                .add_document(stored.to_tantivy(&new_fields))
                .map_err(|e| Error::index(dir, e))?;
            carried += 1;
            progress.tick(stored.primary_path());
        }
    }
    writer.commit().map_err(|e| Error::index(dir, e))?;
    writer
        .wait_merging_threads()
        .map_err(|e| Error::index(dir, e))?;
    drop(searcher);
    drop(reader);
    drop(source);
    progress.finish();
    std::fs::write(building.join("READY"), b"").map_err(|e| Error::io(&building, e))?;

    let _ = std::fs::remove_dir_all(&old);
    rename(&current, &old)?;
    rename(&building, &current)?;
    state.format_version = schema::FORMAT_VERSION;
    state.save(dir)?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(carried)
}

fn current_is_new(current: &Path) -> bool {
    current.join("meta.json").exists()
        && Index::open_in_dir(current)
            .ok()
            .and_then(|i| Fields::from_schema(&i.schema()))
            .is_some()
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| Error::io(from, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::update::Silent;
    use tantivy::query::TermQuery;
    use tantivy::schema::{IndexRecordOption, Schema};
    use tantivy::{Term, collector::Count};

    /// Format 1: today's schema without the word pairs.
    fn format_1_schema() -> Schema {
        let (now, _) = schema::build();
        let mut b = Schema::builder();
        for (_, entry) in now.fields() {
            if entry.name() != "body_pairs" {
                b.add_field(entry.clone());
            }
        }
        b.build()
    }

    fn doc(id: &str, title: &str, body: &str) -> StoredDoc {
        StoredDoc {
            doc_id: id.into(),
            paths: vec![format!("/share/{id}.txt")],
            title: title.into(),
            body: body.into(),
            ok: true,
            ..StoredDoc::default()
        }
    }

    #[test]
    fn a_format_1_index_is_rebuilt_with_word_pairs_and_keeps_its_documents() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let tdir = dir.join("tantivy");
        std::fs::create_dir_all(&tdir).unwrap();
        let old = Index::create_in_dir(&tdir, format_1_schema()).unwrap();
        schema::register(&old);
        let f = Fields::by_name(&old.schema()).unwrap();
        assert!(Fields::from_schema(&old.schema()).is_none());
        let mut w: IndexWriter = old.writer_with_num_threads(1, 15 << 20).unwrap();
        w.add_document(
            doc("a", "Carers", "Every carer is offered a carers assessment.").to_tantivy(&f),
        )
        .unwrap();
        w.add_document(doc("b", "Transport", "Assessment of carers' parking.").to_tantivy(&f))
            .unwrap();
        w.commit().unwrap();
        drop(w);
        drop(old);
        let mut state = State::new();
        state.format_version = 1;
        state.roots.push(Default::default());
        state.save(dir).unwrap();
        assert!(matches!(
            State::load(dir),
            Err(Error::Version { found: 1, .. })
        ));

        assert_eq!(upgrade_if_needed(dir, &Silent).unwrap(), 2);

        let state = State::load(dir).unwrap().unwrap();
        assert_eq!(state.format_version, schema::FORMAT_VERSION);
        assert_eq!(state.roots.len(), 1, "roots are kept");
        assert!(!dir.join("tantivy.upgrade").exists() && !dir.join("tantivy.old").exists());
        let new = Index::open_in_dir(&tdir).unwrap();
        schema::register(&new);
        let f = Fields::from_schema(&new.schema()).expect("the current format");
        let searcher = new.reader().unwrap().searcher();
        assert_eq!(searcher.num_docs(), 2);
        let pair = TermQuery::new(
            Term::from_field_text(f.body_pairs, "carer assess"),
            IndexRecordOption::Basic,
        );
        assert_eq!(searcher.search(&pair, &Count).unwrap(), 1);
        // Nothing to do the second time.
        assert_eq!(upgrade_if_needed(dir, &Silent).unwrap(), 0);
    }
}
