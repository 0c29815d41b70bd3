//! Reports computed from the library: the gap report (statement x category matrix), evidence
//! lists for one statement, and the record of one document. Logic here returns data; the
//! renderers beside it write that data as terminal text, JSON, CSV, Markdown or HTML.

pub mod formats;
pub mod html;
pub mod human;

use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::index::Library;
use crate::index::docs::{StoredDoc, Summary};
use crate::tag::{Reason, TagScore};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::BTreeMap;

/// Status of a statement or a cell of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No evidence at all.
    Missing,
    /// Evidence exists, but none is current.
    Stale,
    /// Current evidence, but below the minimum (or a category is empty).
    Thin,
    Ok,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Missing => "missing",
            Status::Stale => "stale",
            Status::Thin => "thin",
            Status::Ok => "ok",
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Cell {
    /// Current evidence (dated within the window, or a policy within its review date).
    pub count: usize,
    /// All evidence, current or not.
    pub total: usize,
    /// The newest date among all its evidence.
    pub newest: Option<String>,
    pub status: Status,
}

/// A document listed as evidence in the report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EvidenceItem {
    pub path: String,
    pub title: String,
    pub date: Option<String>,
    pub doc_type: String,
    pub category: String,
    pub score: f32,
    pub current: bool,
    pub reasons: Vec<Reason>,
    pub page: Option<String>,
    pub passage: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StatementRow {
    pub code: String,
    pub title: String,
    pub theme: String,
    pub theme_title: String,
    pub status: Status,
    /// Keyed by category code, in framework order.
    pub categories: BTreeMap<String, Cell>,
    /// Evidence per category (best first), for the HTML report's lists; not in the JSON.
    #[serde(skip)]
    pub evidence: BTreeMap<String, Vec<EvidenceItem>>,
    #[serde(skip)]
    pub evidence_more: BTreeMap<String, usize>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DocRef {
    pub path: String,
    pub title: String,
    pub date: Option<String>,
    pub doc_type: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OverdueDoc {
    pub path: String,
    pub title: String,
    pub doc_type: String,
    pub review_date: String,
    pub statements: Vec<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FailedDoc {
    pub path: String,
    pub title: String,
    pub reason: String,
    pub message: String,
    /// Statements its name suggests it may hold evidence for.
    pub may_hold: Vec<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GapReport {
    pub as_of: String,
    pub window_months: u32,
    pub min_per_category: usize,
    pub framework: String,
    /// Category codes in framework order (the matrix columns).
    pub category_order: Vec<String>,
    #[serde(skip)]
    pub category_titles: Vec<String>,
    pub statements: Vec<StatementRow>,
    pub untagged: Vec<DocRef>,
    pub review_overdue: Vec<OverdueDoc>,
    pub failed: Vec<FailedDoc>,
    /// Documents in the library (readable ones) considered as of the date.
    pub documents: usize,
}

pub struct GapOptions {
    pub as_of: Date,
    pub window_months: u32,
    pub min_per_category: usize,
    /// Evidence items kept per cell for the HTML lists.
    pub list_per_cell: usize,
}

fn parse_date(s: &Option<String>) -> Option<Date> {
    s.as_deref().and_then(|d| d.parse().ok())
}

/// Whether a document counts as current evidence on `as_of`.
pub fn is_current(s: &Summary, fw: &Framework, as_of: Date, window_start: Date) -> bool {
    let dated = parse_date(&s.d).is_some_and(|d| d >= window_start && d <= as_of);
    let reviewable = fw.doc_type(&s.t).is_some_and(|t| t.reviewable);
    let within_review = reviewable && parse_date(&s.r).is_some_and(|r| r >= as_of);
    dated || within_review
}

fn display_path(key: &str) -> String {
    crate::paths::display(&crate::paths::from_key(key))
}

/// A document's shown path and title, from its summary when that has them (loading the
/// stored document for a list of thousands was most of the gap report's time).
fn path_and_title(
    lib: &Library,
    searcher: &tantivy::Searcher,
    addr: tantivy::DocAddress,
    s: &Summary,
) -> Result<(String, String)> {
    if !s.p.is_empty() {
        return Ok((display_path(&s.p), s.n.clone()));
    }
    let d = lib.doc_at(searcher, addr)?;
    Ok((display_path(d.primary_path()), d.title.clone()))
}

fn item_from(doc: &StoredDoc, code: &str, category: &str, current: bool) -> EvidenceItem {
    let tag: Option<&TagScore> = doc.tags.statements.iter().find(|t| t.code == code);
    EvidenceItem {
        path: display_path(doc.primary_path()),
        title: doc.title.clone(),
        date: doc.tags.date.clone(),
        doc_type: doc.tags.doc_type.clone(),
        category: category.to_string(),
        score: tag.map(|t| t.score).unwrap_or(0.0),
        current,
        reasons: tag.map(|t| t.reasons.clone()).unwrap_or_default(),
        page: tag.and_then(|t| t.passage.as_ref().map(|p| p.unit.clone())),
        passage: tag.and_then(|t| t.passage.as_ref().map(|p| p.text.clone())),
    }
}

pub fn gaps(lib: &Library, fw: &Framework, opts: &GapOptions) -> Result<GapReport> {
    let searcher = lib.searcher();
    let summaries = lib.summaries(&searcher)?;
    let as_of = opts.as_of;
    let window_start = as_of
        .checked_sub(jiff::Span::new().months(opts.window_months as i64))
        .map_err(|e| Error::Usage(format!("--window-months: {e}")))?;
    let cats: Vec<&crate::framework::Category> = fw.enabled_categories().collect();

    // Documents dated after the as-of date did not exist yet.
    let live: Vec<&(tantivy::DocAddress, Summary)> = summaries
        .iter()
        .filter(|(_, s)| parse_date(&s.d).is_none_or(|d| d <= as_of))
        .collect();

    // One pass over the library sorts each tag into its cell; whether a document is current
    // is worked out once, not once per cell.
    type Member<'a> = (&'a tantivy::DocAddress, &'a Summary, f32, bool);
    let st_index: std::collections::HashMap<&str, usize> = fw
        .statements
        .iter()
        .enumerate()
        .map(|(i, st)| (st.code.as_str(), i))
        .collect();
    let mut cells: Vec<Vec<Vec<Member>>> = vec![vec![Vec::new(); cats.len()]; fw.statements.len()];
    for (a, s) in live.iter().copied().filter(|(_, s)| s.ok) {
        let current = is_current(s, fw, as_of, window_start);
        let in_category: Vec<bool> = cats
            .iter()
            .map(|cat| s.c.iter().any(|c| c == &cat.code))
            .collect();
        for (code, score) in &s.s {
            let Some(&si) = st_index.get(code.as_str()) else {
                continue;
            };
            for (ci, _) in in_category
                .iter()
                .enumerate()
                .filter(|(_, inside)| **inside)
            {
                let cell = &mut cells[si][ci];
                // A statement listed twice in one summary still counts the document once.
                if cell.last().is_none_or(|m| m.0 != a) {
                    cell.push((a, s, *score, current));
                }
            }
        }
    }

    let mut rows = Vec::new();
    for (st, st_cells) in fw.statements.iter().zip(cells) {
        let theme = &fw.themes[st.theme];
        let mut categories = BTreeMap::new();
        let mut evidence = BTreeMap::new();
        let mut evidence_more = BTreeMap::new();
        for (cat, mut members) in cats.iter().zip(st_cells) {
            let count = members.iter().filter(|m| m.3).count();
            let total = members.len();
            let newest = members
                .iter()
                .filter_map(|m| m.1.d.as_deref())
                .max()
                .map(str::to_string);
            let status = if total == 0 {
                Status::Missing
            } else if count == 0 {
                Status::Stale
            } else if count < opts.min_per_category.max(1) {
                Status::Thin
            } else {
                Status::Ok
            };
            categories.insert(
                cat.code.clone(),
                Cell {
                    count,
                    total,
                    newest,
                    status,
                },
            );
            // Ranked only for the evidence lists (the HTML report); the counts need no order.
            if opts.list_per_cell > 0 {
                members.sort_by(|a, b| {
                    b.3.cmp(&a.3)
                        .then(b.2.total_cmp(&a.2))
                        .then(b.1.d.cmp(&a.1.d))
                });
            }
            let shown: Vec<EvidenceItem> = members
                .iter()
                .take(opts.list_per_cell)
                .filter_map(|m| {
                    lib.doc_at(&searcher, *m.0)
                        .ok()
                        .map(|d| item_from(&d, &st.code, &cat.code, m.3))
                })
                .collect();
            evidence_more.insert(cat.code.clone(), members.len().saturating_sub(shown.len()));
            evidence.insert(cat.code.clone(), shown);
        }
        let any = categories.values().any(|c| c.total > 0);
        let any_current = categories.values().any(|c| c.count > 0);
        let all_enough = categories
            .values()
            .all(|c| c.count >= opts.min_per_category.max(1));
        let status = if !any {
            Status::Missing
        } else if !any_current {
            Status::Stale
        } else if !all_enough {
            Status::Thin
        } else {
            Status::Ok
        };
        rows.push(StatementRow {
            code: st.code.clone(),
            title: st.title.clone(),
            theme: theme.id.clone(),
            theme_title: theme.title.clone(),
            status,
            categories,
            evidence,
            evidence_more,
        });
    }

    let mut untagged = Vec::new();
    let mut review_overdue = Vec::new();
    let mut failed = Vec::new();
    for (addr, s) in &live {
        if !s.ok {
            let d = lib.doc_at(&searcher, *addr)?;
            failed.push(FailedDoc {
                path: display_path(d.primary_path()),
                title: d.title.clone(),
                reason: d.reason.clone().unwrap_or_default(),
                message: d.error.clone().unwrap_or_default(),
                may_hold: d.tags.near_misses.iter().map(|t| t.code.clone()).collect(),
            });
            continue;
        }
        if s.s.is_empty() {
            let (path, title) = path_and_title(lib, &searcher, *addr, s)?;
            untagged.push(DocRef {
                path,
                title,
                date: s.d.clone(),
                doc_type: s.t.clone(),
            });
        }
        let reviewable = fw.doc_type(&s.t).is_some_and(|t| t.reviewable);
        if reviewable
            && let Some(r) = parse_date(&s.r)
            && r < as_of
        {
            let (path, title) = path_and_title(lib, &searcher, *addr, s)?;
            review_overdue.push(OverdueDoc {
                path,
                title,
                doc_type: s.t.clone(),
                review_date: r.to_string(),
                statements: s.s.iter().map(|(c, _)| c.clone()).collect(),
            });
        }
    }
    untagged.sort_by(|a, b| a.path.cmp(&b.path));
    review_overdue.sort_by(|a, b| a.review_date.cmp(&b.review_date).then(a.path.cmp(&b.path)));
    failed.sort_by(|a, b| a.path.cmp(&b.path));

    Ok(GapReport {
        as_of: as_of.to_string(),
        window_months: opts.window_months,
        min_per_category: opts.min_per_category.max(1),
        framework: fw.tag_version(),
        category_order: cats.iter().map(|c| c.code.clone()).collect(),
        category_titles: cats.iter().map(|c| c.title.clone()).collect(),
        statements: rows,
        untagged,
        review_overdue,
        failed,
        documents: live.iter().filter(|(_, s)| s.ok).count(),
    })
}

/// One document ranked as evidence for a statement.
#[derive(Clone, Debug, Serialize)]
pub struct EvidenceHit {
    pub path: String,
    pub title: String,
    pub score: f32,
    pub category: Vec<String>,
    pub date: Option<String>,
    pub doc_type: String,
    pub current: bool,
    pub reasons: Vec<Reason>,
    pub page: Option<String>,
    pub passage: Option<String>,
}

pub fn evidence(
    lib: &Library,
    fw: &Framework,
    code: &str,
    category: Option<&str>,
    limit: usize,
    as_of: Date,
) -> Result<Vec<EvidenceHit>> {
    let st = fw.statement(code).ok_or_else(|| {
        Error::Usage(format!(
            "unknown statement '{code}'; the statements are {}",
            fw.statements
                .iter()
                .map(|s| s.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    if let Some(c) = category
        && fw.category(c).is_none()
    {
        return Err(Error::Usage(format!(
            "unknown category '{c}'; the categories are {}",
            fw.enabled_categories()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let window_start = as_of
        .checked_sub(jiff::Span::new().months(fw.window_months as i64))
        .unwrap_or(as_of);
    let searcher = lib.searcher();
    let mut members: Vec<(tantivy::DocAddress, Summary, f32)> = lib
        .summaries(&searcher)?
        .into_iter()
        .filter(|(_, s)| s.ok && category.is_none_or(|c| s.c.iter().any(|x| x == c)))
        .filter_map(|(a, s)| {
            let score = s.s.iter().find(|(c, _)| c == &st.code).map(|(_, v)| *v)?;
            Some((a, s, score))
        })
        .collect();
    members.sort_by(|a, b| b.2.total_cmp(&a.2).then(b.1.d.cmp(&a.1.d)));
    members.truncate(limit);
    let mut out = Vec::new();
    for (addr, s, score) in members {
        let d = lib.doc_at(&searcher, addr)?;
        let tag = d.tags.statements.iter().find(|t| t.code == st.code);
        out.push(EvidenceHit {
            path: display_path(d.primary_path()),
            title: d.title.clone(),
            score,
            category: s.c.clone(),
            date: s.d.clone(),
            doc_type: s.t.clone(),
            current: is_current(&s, fw, as_of, window_start),
            reasons: tag.map(|t| t.reasons.clone()).unwrap_or_default(),
            page: tag.and_then(|t| t.passage.as_ref().map(|p| p.unit.clone())),
            passage: tag.and_then(|t| t.passage.as_ref().map(|p| p.text.clone())),
        });
    }
    Ok(out)
}

/// What `evidex status` shows.
#[derive(Clone, Debug, Serialize)]
pub struct LibraryStatus {
    pub index: String,
    pub documents: usize,
    pub ok: usize,
    pub failed: usize,
    /// Documents by format: (format, ok, failed).
    pub formats: Vec<FormatCount>,
    pub roots: Vec<RootStatus>,
    pub failures: Vec<FailedDoc>,
    pub framework: Option<String>,
    pub last_run: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FormatCount {
    pub format: String,
    pub ok: usize,
    pub failed: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct RootStatus {
    pub path: String,
    pub last_indexed: Option<String>,
    pub offline_since: Option<String>,
    pub documents: u64,
}

pub fn status(lib: &Library) -> Result<LibraryStatus> {
    let searcher = lib.searcher();
    let summaries = lib.summaries(&searcher)?;
    let mut by_format: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (addr, s) in &summaries {
        let e = by_format.entry(s.f.clone()).or_default();
        if s.ok {
            e.0 += 1;
        } else {
            e.1 += 1;
            let d = lib.doc_at(&searcher, *addr)?;
            for p in &d.paths {
                failures.push(FailedDoc {
                    path: display_path(p),
                    title: d.title.clone(),
                    reason: d.reason.clone().unwrap_or_default(),
                    message: d.error.clone().unwrap_or_default(),
                    may_hold: d.tags.near_misses.iter().map(|t| t.code.clone()).collect(),
                });
            }
        }
    }
    failures.sort_by(|a, b| a.path.cmp(&b.path));
    let ok = summaries.iter().filter(|(_, s)| s.ok).count();
    Ok(LibraryStatus {
        index: lib.dir.display().to_string(),
        documents: summaries.len(),
        ok,
        failed: summaries.len() - ok,
        formats: by_format
            .into_iter()
            .map(|(format, (ok, failed))| FormatCount { format, ok, failed })
            .collect(),
        roots: lib
            .state
            .roots
            .iter()
            .map(|r| RootStatus {
                path: display_path(&r.path),
                last_indexed: r.last_indexed.clone(),
                offline_since: r.offline_since.clone(),
                documents: r.documents,
            })
            .collect(),
        failures,
        framework: lib.state.framework.clone(),
        last_run: lib.state.last_run.clone(),
    })
}
