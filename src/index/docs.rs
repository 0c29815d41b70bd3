//! One indexed document: what is stored in tantivy for it, and how it is turned back into data.
//!
//! The extracted text and its structure (pages, headings) are stored, so a new framework or a
//! librarian's override re-tags a document without reading the file again, and a moved file
//! keeps its text and tags without re-extraction.

use super::schema::Fields;
use crate::extract::{Extracted, Format, Heading, Unit};
use crate::tag::Tags;
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::schema::Value;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredMeta {
    pub format: Format,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub keywords: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub units: Vec<Unit>,
    #[serde(default)]
    pub headings: Vec<Heading>,
    #[serde(default)]
    pub truncated: bool,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Extractor version that produced the text.
    #[serde(default)]
    pub extractor: u32,
    /// Roots the paths were found under (for folder cues when re-tagging).
    #[serde(default)]
    pub roots: Vec<String>,
}

/// A document as stored in the index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoredDoc {
    pub doc_id: String,
    /// Every location (path key) of this content, sorted.
    pub paths: Vec<String>,
    pub title: String,
    pub body: String,
    pub author: Option<String>,
    pub ok: bool,
    pub reason: Option<String>,
    pub error: Option<String>,
    pub tags: Tags,
    pub meta: StoredMeta,
    pub size: u64,
    pub hash: Option<String>,
}

/// What the gap report and evidence lists read for every document, from a fast column.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Tagged statements and scores.
    pub s: Vec<(String, f32)>,
    /// Evidence categories, primary first.
    pub c: Vec<String>,
    /// The date it speaks for.
    #[serde(default)]
    pub d: Option<String>,
    /// Review date.
    #[serde(default)]
    pub r: Option<String>,
    /// Document type.
    pub t: String,
    pub ok: bool,
    /// Format.
    #[serde(default)]
    pub f: String,
    /// Primary path (key form) and title, so that the gap report's lists need not load the
    /// stored document (which decompresses its whole body). Empty in indexes written before.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub p: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub n: String,
}

fn to_tantivy_date(iso: &str) -> Option<tantivy::DateTime> {
    let d: jiff::civil::Date = iso.parse().ok()?;
    let ts = d.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(tantivy::DateTime::from_timestamp_secs(ts.as_second()))
}

impl StoredDoc {
    pub fn primary_path(&self) -> &str {
        self.paths.first().map(String::as_str).unwrap_or("")
    }

    pub fn format(&self) -> Format {
        self.meta.format
    }

    pub fn summary(&self) -> Summary {
        Summary {
            s: self
                .tags
                .statements
                .iter()
                .map(|t| (t.code.clone(), t.score))
                .collect(),
            c: self
                .tags
                .categories
                .iter()
                .map(|c| c.code.clone())
                .collect(),
            d: self.tags.date.clone(),
            r: self.tags.review_date.clone(),
            t: self.tags.doc_type.clone(),
            ok: self.ok,
            f: self.meta.format.as_str().to_string(),
            p: self.primary_path().to_string(),
            n: self.title.clone(),
        }
    }

    /// The extracted document again, for re-tagging.
    pub fn extracted(&self) -> Extracted {
        Extracted {
            format: self.meta.format,
            title: (!self.title.is_empty()).then(|| self.title.clone()),
            author: self.author.clone(),
            subject: self.meta.subject.clone(),
            keywords: self.meta.keywords.clone(),
            created: self.meta.created.clone(),
            modified: self.meta.modified.clone(),
            text: self.body.clone(),
            units: self.meta.units.clone(),
            headings: self.meta.headings.clone(),
            truncated: self.meta.truncated,
            warnings: self.meta.warnings.clone(),
        }
    }

    pub fn to_tantivy(&self, f: &Fields) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_text(f.doc_id, &self.doc_id);
        for p in &self.paths {
            // The key itself: lossless, so a non-Unicode name can be opened again.
            d.add_text(f.path, p);
            d.add_text(f.path_key, crate::paths::identity(p));
        }
        d.add_text(f.title, &self.title);
        d.add_text(f.body, &self.body);
        // An earlier format's handles (Fields::by_name) point body_pairs at the body itself.
        if f.body_pairs != f.body {
            d.add_text(f.body_pairs, &self.body);
        }
        if let Some(a) = &self.author {
            d.add_text(f.author, a);
        }
        d.add_text(f.format, self.meta.format.as_str());
        d.add_text(f.status, if self.ok { "ok" } else { "failed" });
        if let Some(r) = &self.reason {
            d.add_text(f.reason, r);
        }
        if let Some(e) = &self.error {
            d.add_text(f.error, e);
        }
        d.add_text(f.doc_type, &self.tags.doc_type);
        if let Some(date) = self.tags.date.as_deref().and_then(to_tantivy_date) {
            d.add_date(f.date, date);
        }
        if let Some(date) = self.tags.review_date.as_deref().and_then(to_tantivy_date) {
            d.add_date(f.review_date, date);
        }
        for t in &self.tags.statements {
            d.add_text(f.statement, &t.code);
        }
        for t in &self.tags.themes {
            d.add_text(f.theme, t);
        }
        for c in &self.tags.categories {
            d.add_text(f.category, &c.code);
        }
        d.add_bytes(
            f.summary,
            &serde_json::to_vec(&self.summary()).expect("summary serialises"),
        );
        d.add_text(
            f.tags,
            serde_json::to_string(&self.tags).expect("tags serialise"),
        );
        d.add_text(
            f.meta,
            serde_json::to_string(&self.meta).expect("meta serialises"),
        );
        d.add_u64(f.size, self.size);
        if let Some(h) = &self.hash {
            d.add_text(f.hash, h);
        }
        d
    }

    pub fn from_tantivy(d: &TantivyDocument, f: &Fields) -> StoredDoc {
        let text = |field| {
            d.get_first(field)
                .and_then(|v| v.as_str().map(str::to_string))
        };
        let mut paths: Vec<String> = d
            .get_all(f.path)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        paths.sort();
        let meta: StoredMeta = text(f.meta)
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or_default();
        let tags: Tags = text(f.tags)
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or_default();
        StoredDoc {
            doc_id: text(f.doc_id).unwrap_or_default(),
            paths,
            title: text(f.title).unwrap_or_default(),
            body: text(f.body).unwrap_or_default(),
            author: text(f.author),
            ok: text(f.status).as_deref() == Some("ok"),
            reason: text(f.reason),
            error: text(f.error),
            tags,
            meta,
            size: d.get_first(f.size).and_then(|v| v.as_u64()).unwrap_or(0),
            hash: text(f.hash),
        }
    }
}
