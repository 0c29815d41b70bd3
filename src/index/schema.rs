//! The tantivy schema: one tantivy document per piece of evidence (identical files at several
//! paths are one document with all their paths), keyed by `doc_id`.
//!
//! Text fields use an English analyzer (lower case, accents folded, stemmed) so "safeguarding"
//! finds "safeguarded". The body is indexed a second time as word pairs (`body_pairs`, see
//! [`super::pairs`]) so that phrases are answered without reading every word's positions.
//! Everything the gap report and the evidence lists need per document is also kept in one
//! fast `summary` column, so they read 100k documents without touching the document store.

use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};

/// Bumped when the schema or what is stored changes; an index of another version is refused
/// with a message saying how to rebuild it.
///
/// 2: `body_pairs` (word pairs for phrase queries). An index of format 1 is rebuilt from its
/// stored documents by the next `evidex index`, without reading the files again.
pub const FORMAT_VERSION: u32 = 2;

pub const TOKENIZER: &str = "evidex_en";
pub const PAIR_TOKENIZER: &str = "evidex_pairs";

#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub doc_id: Field,
    pub path: Field,
    pub path_key: Field,
    pub title: Field,
    pub body: Field,
    pub body_pairs: Field,
    pub author: Field,
    pub format: Field,
    pub status: Field,
    pub reason: Field,
    pub error: Field,
    pub doc_type: Field,
    pub date: Field,
    pub review_date: Field,
    pub statement: Field,
    pub theme: Field,
    pub category: Field,
    pub summary: Field,
    pub tags: Field,
    pub meta: Field,
    pub size: Field,
    pub hash: Field,
}

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(super::stem::CachedStemmer)
        .build()
}

/// [`analyzer`] without its stemmer, with the same tokens and positions: snippets read words
/// with it and stem only those that could match, which is most of a search's time saved.
pub fn unstemmed_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Longer tokens (hashes, base64, run-together junk) are not indexed.
const MAX_TOKEN: usize = 40;

pub fn register(index: &tantivy::Index) {
    index.tokenizers().register(
        TOKENIZER,
        TextAnalyzer::from(super::pairs::Recording::new(analyzer())),
    );
    index.tokenizers().register(
        PAIR_TOKENIZER,
        TextAnalyzer::from(super::pairs::PairTokenizer::new(analyzer())),
    );
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_stored = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let keyword = STRING | STORED | FAST;
    let date_opts = DateOptions::default()
        .set_indexed()
        .set_stored()
        .set_fast()
        .set_precision(DateTimePrecision::Seconds);
    let fields = Fields {
        doc_id: b.add_text_field("doc_id", STRING | STORED),
        path: b.add_text_field("path", text_stored.clone()),
        path_key: b.add_text_field("path_key", STRING),
        title: b.add_text_field("title", text_stored.clone()),
        body: b.add_text_field("body", text_stored.clone()),
        body_pairs: b.add_text_field(
            "body_pairs",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(PAIR_TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        ),
        author: b.add_text_field("author", text_stored),
        format: b.add_text_field("format", keyword.clone()),
        status: b.add_text_field("status", keyword.clone()),
        reason: b.add_text_field("reason", keyword.clone()),
        error: b.add_text_field("error", STORED),
        doc_type: b.add_text_field("type", keyword.clone()),
        date: b.add_date_field("date", date_opts.clone()),
        review_date: b.add_date_field("review_date", date_opts),
        statement: b.add_text_field("statement", keyword.clone()),
        theme: b.add_text_field("theme", keyword.clone()),
        category: b.add_text_field("category", keyword),
        summary: b.add_bytes_field("summary", FAST),
        tags: b.add_text_field("tags_json", STORED),
        meta: b.add_text_field("meta_json", STORED),
        size: b.add_u64_field("size", STORED | FAST),
        hash: b.add_text_field("hash", STRING | STORED),
    };
    (b.build(), fields)
}

impl Fields {
    /// The handles of an index of an earlier format, by field name, for reading its stored
    /// documents during an upgrade. `body_pairs`, which earlier formats lack, is given the
    /// body's handle: nothing reads it back.
    pub fn by_name(schema: &Schema) -> Option<Fields> {
        let f = |name: &str| schema.get_field(name).ok();
        Some(Fields {
            doc_id: f("doc_id")?,
            path: f("path")?,
            path_key: f("path_key")?,
            title: f("title")?,
            body: f("body")?,
            body_pairs: f("body_pairs").or_else(|| f("body"))?,
            author: f("author")?,
            format: f("format")?,
            status: f("status")?,
            reason: f("reason")?,
            error: f("error")?,
            doc_type: f("type")?,
            date: f("date")?,
            review_date: f("review_date")?,
            statement: f("statement")?,
            theme: f("theme")?,
            category: f("category")?,
            summary: f("summary")?,
            tags: f("tags_json")?,
            meta: f("meta_json")?,
            size: f("size")?,
            hash: f("hash")?,
        })
    }

    /// The handles of an opened index, checked against what this version writes: a field that
    /// is missing or of another kind means the index is from another version.
    pub fn from_schema(schema: &Schema) -> Option<Fields> {
        let (expected, fields) = build();
        for (field, entry) in expected.fields() {
            let found = schema.get_field(entry.name()).ok()?;
            if found != field || schema.get_field_entry(found) != entry {
                return None;
            }
        }
        Some(fields)
    }
}
