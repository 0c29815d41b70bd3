//! Search: query text and filters in, ranked hits out (data, not text).
//!
//! The query language is tantivy's (phrases, AND/OR/NOT, `+`/`-`, `field:value`), with words
//! joined by AND as people expect from a search box, and with single-word prefix wildcards
//! (`safeguard*`), which tantivy's parser refuses: those are rewritten into regex queries on
//! the analysed terms. Snippets are cut around the densest cluster of matched words and say
//! which page (or slide, or sheet) they come from.

use crate::error::{Error, Result};
use crate::extract::unit_at;
use crate::index::Library;
use crate::index::docs::StoredDoc;
use crate::index::schema;
use jiff::civil::Date;
use serde::Serialize;
use std::collections::HashSet;
use std::ops::Bound;
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputLeaf};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TokenStream;
use tantivy::{DateTime, Term};

/// Filters on tags, applied on top of any query.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub statement: Option<String>,
    pub theme: Option<String>,
    pub category: Option<String>,
    pub doc_type: Option<String>,
    pub format: Option<String>,
    pub since: Option<Date>,
    pub until: Option<Date>,
    /// Include files that could not be read (off by default for search).
    pub include_failed: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Snippet {
    pub text: String,
    /// Byte ranges of matched words within `text`.
    pub highlights: Vec<(usize, usize)>,
    /// "p. 3", "slide 2", "sheet Budget"; absent for formats without pages.
    pub page: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Hit {
    pub path: String,
    pub paths: Vec<String>,
    pub title: String,
    pub score: f32,
    pub snippet: String,
    pub highlights: Vec<(usize, usize)>,
    pub page: Option<String>,
    pub format: String,
    pub doc_type: String,
    pub date: Option<String>,
    pub statements: Vec<String>,
    pub categories: Vec<String>,
    pub status: String,
}

/// What to highlight: analysed terms, and prefixes from wildcards.
#[derive(Debug, Default)]
struct Highlight {
    terms: HashSet<String>,
    prefixes: Vec<String>,
}

fn analyse(text: &str) -> Vec<String> {
    let mut a = schema::analyzer();
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// Whether every word of a phrase is indexed next to the one before it: a word the analyzer
/// drops (longer than it indexes) leaves a gap no word pair spans.
fn words_adjacent(text: &str) -> bool {
    let mut a = schema::analyzer();
    let mut stream = a.token_stream(text);
    let mut last: Option<usize> = None;
    while stream.advance() {
        let pos = stream.token().position;
        if last.is_some_and(|l| l + 1 != pos) {
            return false;
        }
        last = Some(pos);
    }
    true
}

/// Lower-cased, accent-folded but unstemmed form of a prefix.
fn fold_prefix(p: &str) -> String {
    crate::textnorm::normalize_phrase(p).replace(' ', "")
}

const TEXT_FIELDS: [&str; 4] = ["title", "body", "path", "author"];

/// Rewrites single-word prefix wildcards into regex leaves on each default field, normalises
/// tag values, and collects what to highlight.
fn rewrite(ast: UserInputAst, negated: bool, hl: &mut Highlight) -> UserInputAst {
    match ast {
        UserInputAst::Clause(items) => UserInputAst::Clause(
            items
                .into_iter()
                .map(|(occur, sub)| {
                    let neg = negated || occur == Some(Occur::MustNot);
                    (occur, rewrite(sub, neg, hl))
                })
                .collect(),
        ),
        UserInputAst::Boost(inner, b) => {
            UserInputAst::Boost(Box::new(rewrite(*inner, negated, hl)), b)
        }
        UserInputAst::Leaf(leaf) => match *leaf {
            UserInputLeaf::Literal(mut lit) => {
                let field = lit.field_name.clone();
                match field.as_deref() {
                    Some("statement") => lit.phrase = lit.phrase.to_ascii_uppercase(),
                    Some("category" | "type" | "theme" | "format" | "status" | "reason") => {
                        lit.phrase = lit.phrase.to_ascii_lowercase()
                    }
                    _ => {}
                }
                let text_field = field.as_deref().is_none_or(|f| TEXT_FIELDS.contains(&f));
                let single = !lit.phrase.trim().contains(char::is_whitespace);
                // tantivy marks `"a b"*` as a prefix; a bare `word*` arrives as text.
                let star = lit.phrase.ends_with('*') && lit.phrase.len() > 1;
                if star {
                    lit.phrase = lit.phrase.trim_end_matches('*').to_string();
                }
                if (lit.prefix || star) && single && text_field {
                    let prefix = fold_prefix(&lit.phrase);
                    if !negated && !prefix.is_empty() {
                        hl.prefixes.push(prefix.clone());
                    }
                    let pattern = format!("{}.*", regex_escape(&prefix));
                    let fields: Vec<String> = match field {
                        Some(f) => vec![f],
                        None => vec!["title".into(), "body".into()],
                    };
                    let leaves = fields
                        .into_iter()
                        .map(|f| {
                            (
                                Some(Occur::Should),
                                UserInputAst::Leaf(Box::new(UserInputLeaf::Regex {
                                    field: Some(f),
                                    pattern: pattern.clone(),
                                })),
                            )
                        })
                        .collect();
                    return UserInputAst::Clause(leaves);
                }
                let words = if text_field {
                    analyse(&lit.phrase)
                } else {
                    Vec::new()
                };
                if !negated {
                    hl.terms.extend(words.iter().cloned());
                }
                // A phrase in the body is answered from the word-pair index: one posting
                // list per pair instead of the positions of every word (see index::pairs).
                let plain_phrase = lit.delimiter != Delimiter::None
                    && lit.slop == 0
                    && !lit.prefix
                    && !star
                    && words.len() >= 2
                    && words_adjacent(&lit.phrase);
                if plain_phrase && matches!(field.as_deref(), None | Some("body")) {
                    let leaf = |f: &str| {
                        let mut l = lit.clone();
                        l.field_name = Some(f.to_string());
                        (
                            Some(Occur::Should),
                            UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(l))),
                        )
                    };
                    let fields: &[&str] = if field.is_none() {
                        &["title", "body_pairs", "path"]
                    } else {
                        &["body_pairs"]
                    };
                    return UserInputAst::Clause(fields.iter().map(|f| leaf(f)).collect());
                }
                UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(lit)))
            }
            other => UserInputAst::Leaf(Box::new(other)),
        },
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~\"@<>".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn date_term(field: tantivy::schema::Field, d: Date) -> Term {
    let ts = d
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_second())
        .unwrap_or(0);
    Term::from_field_date_for_search(field, DateTime::from_timestamp_secs(ts))
}

/// Builds the query for `text` plus filters. Returns what to highlight too.
fn build(lib: &Library, text: &str, filters: &Filters) -> Result<(Box<dyn Query>, Highlight)> {
    let f = &lib.fields;
    let mut hl = Highlight::default();
    let trimmed = text.trim();
    let main: Box<dyn Query> = if trimmed.is_empty() || trimmed == "*" {
        Box::new(AllQuery)
    } else {
        let ast = tantivy::query_grammar::parse_query(trimmed).map_err(|_| {
            Error::Query(format!(
                "cannot read the query '{trimmed}': check that quotes and brackets are paired. Examples: \"care act\" assessment, safeguard* AND title:policy, carers NOT children"
            ))
        })?;
        let ast = rewrite(ast, false, &mut hl);
        let mut parser = QueryParser::for_index(&lib.index, vec![f.title, f.body, f.path]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(f.title, 3.0);
        parser.set_field_boost(f.path, 0.5);
        parser.allow_regexes();
        parser
            .build_query_from_user_input_ast(ast)
            .map_err(|e| Error::Query(explain_parser_error(trimmed, &e)))?
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, main)];
    let term = |field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    };
    if let Some(s) = &filters.statement {
        clauses.push((Occur::Must, term(f.statement, &s.to_ascii_uppercase())));
    }
    if let Some(t) = &filters.theme {
        clauses.push((Occur::Must, term(f.theme, t)));
    }
    if let Some(c) = &filters.category {
        clauses.push((Occur::Must, term(f.category, c)));
    }
    if let Some(t) = &filters.doc_type {
        clauses.push((Occur::Must, term(f.doc_type, t)));
    }
    if let Some(t) = &filters.format {
        clauses.push((Occur::Must, term(f.format, &t.to_ascii_lowercase())));
    }
    if filters.since.is_some() || filters.until.is_some() {
        let lower = filters
            .since
            .map(|d| Bound::Included(date_term(f.date, d)))
            .unwrap_or(Bound::Unbounded);
        let upper = filters
            .until
            .map(|d| Bound::Included(date_term(f.date, d)))
            .unwrap_or(Bound::Unbounded);
        clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    if !filters.include_failed {
        clauses.push((Occur::Must, term(f.status, "ok")));
    }
    Ok((Box::new(BooleanQuery::new(clauses)), hl))
}

fn explain_parser_error(query: &str, e: &tantivy::query::QueryParserError) -> String {
    use tantivy::query::QueryParserError as E;
    match e {
        E::FieldDoesNotExist(f) => format!(
            "unknown field '{f}:' in '{query}'; fields are title, body, path, author, statement, theme, category, type, format"
        ),
        E::PhrasePrefixRequiresAtLeastTwoTerms { .. } => {
            format!(
                "cannot read '{query}': a wildcard works on the end of one word (safeguard*) or of a phrase of two or more words"
            )
        }
        other => format!("cannot run the query '{query}': {other}"),
    }
}

/// Cuts a snippet around the densest cluster of matched words.
fn snippet(doc: &StoredDoc, hl: &Highlight, width: usize) -> Snippet {
    let body = &doc.body;
    let mut matches: Vec<(usize, usize, String, usize)> = Vec::new();
    if !hl.terms.is_empty() || !hl.prefixes.is_empty() {
        // Stemming every word of every hit cost most of a search's time, so words are read
        // without stemming and only those that could stem to a query term are stemmed. A
        // stem and its word share all but the stem's last letter (happi/happy, relat/relational).
        let keys: Vec<String> = hl
            .terms
            .iter()
            .map(|t| {
                let mut k: String = t
                    .chars()
                    .take(t.chars().count().saturating_sub(1).max(1))
                    .collect();
                k.shrink_to_fit();
                k
            })
            .collect();
        let mut a = schema::unstemmed_analyzer();
        // Bound the work for huge documents: the first 4 MB hold enough to show.
        let mut limit = body.len().min(4 << 20);
        while !body.is_char_boundary(limit) {
            limit -= 1;
        }
        let mut stream = a.token_stream(&body[..limit]);
        while stream.advance() {
            let t = stream.token();
            let word = t.text.as_str();
            let stem = if keys.iter().any(|k| word.starts_with(k.as_str())) {
                analyse(word).pop().filter(|s| hl.terms.contains(s))
            } else {
                None
            };
            if stem.is_some() || hl.prefixes.iter().any(|p| word.starts_with(p.as_str())) {
                let text = stem.or_else(|| analyse(word).pop()).unwrap_or_default();
                matches.push((t.offset_from, t.offset_to, text, t.position));
            }
        }
    }
    let mut anchor = 0;
    let (start, end) = if matches.is_empty() {
        (0, body.len().min(width))
    } else {
        // The window of `width` bytes holding the most distinct matched words.
        let mut best = (0usize, 0usize, 0usize);
        for i in 0..matches.len() {
            let mut distinct: HashSet<&str> = HashSet::new();
            let mut n = 0;
            let mut adjacent = 0;
            let mut prev: Option<usize> = None;
            for m in &matches[i..] {
                if m.1 - matches[i].0 > width {
                    break;
                }
                distinct.insert(&m.2);
                n += 1;
                // Words of a phrase sit next to each other.
                if prev.is_some_and(|p| p + 1 == m.3) {
                    adjacent += 1;
                }
                prev = Some(m.3);
            }
            let score = distinct.len() * 100 + adjacent * 20 + n;
            if score > best.0 {
                best = (score, i, n);
            }
        }
        let first = matches[best.1].0;
        // Cite the page where the phrase (adjacent matches) starts, else the first match.
        let window = &matches[best.1..best.1 + best.2];
        anchor = window
            .windows(2)
            .find(|w| w[0].3 + 1 == w[1].3)
            .map(|w| w[0].0)
            .unwrap_or(first);
        let last = matches[best.1 + best.2 - 1].1;
        let pad = width.saturating_sub(last - first) / 2;
        (first.saturating_sub(pad), (last + pad).min(body.len()))
    };
    // Snap to word boundaries on char boundaries.
    let mut s = start;
    while s > 0 && !body.is_char_boundary(s) {
        s -= 1;
    }
    if s > 0
        && let Some(sp) = body[..s].rfind(char::is_whitespace)
        && s - sp < 20
    {
        s = sp + 1;
    }
    let mut e = end.min(body.len());
    while e < body.len() && !body.is_char_boundary(e) {
        e += 1;
    }
    if e < body.len()
        && let Some(sp) = body[e..].find(char::is_whitespace)
        && sp < 20
    {
        e += sp;
    }
    let raw = &body[s..e];
    // Collapse whitespace while mapping highlight offsets.
    let mut text = String::with_capacity(raw.len() + 2);
    let mut map = Vec::with_capacity(raw.len() + 1);
    if s > 0 {
        text.push('…');
    }
    let mut last_ws = true;
    for (i, c) in raw.char_indices() {
        map.resize(i + 1, text.len());
        if c.is_whitespace() {
            if !last_ws {
                text.push(' ');
            }
            last_ws = true;
        } else {
            text.push(c);
            last_ws = false;
        }
    }
    map.resize(raw.len() + 1, text.len());
    let trimmed_end = text.trim_end().len();
    text.truncate(trimmed_end);
    if e < body.len() {
        text.push('…');
    }
    let highlights = matches
        .iter()
        .filter(|m| m.0 >= s && m.1 <= e)
        .map(|m| (map[m.0 - s], map[m.1 - s].min(trimmed_end)))
        .filter(|(a, b)| a < b)
        .collect();
    let page = unit_at(&doc.meta.units, anchor)
        .filter(|u| u.kind != crate::extract::UnitKind::Part || doc.meta.units.len() > 1)
        .map(|u| u.label.clone());
    Snippet {
        text,
        highlights,
        page,
    }
}

pub fn search(lib: &Library, text: &str, filters: &Filters, limit: usize) -> Result<Vec<Hit>> {
    let (query, hl) = build(lib, text, filters)?;
    let searcher = lib.searcher();
    let top = searcher
        .search(&*query, &TopDocs::with_limit(limit.max(1)).order_by_score())
        .map_err(|e| Error::index(&lib.dir, e))?;
    let mut out = Vec::with_capacity(top.len());
    for (score, addr) in top {
        let doc = lib.doc_at(&searcher, addr)?;
        let snip = snippet(&doc, &hl, 220);
        out.push(Hit {
            path: crate::paths::display(&crate::paths::from_key(doc.primary_path())),
            paths: doc
                .paths
                .iter()
                .map(|p| crate::paths::display(&crate::paths::from_key(p)))
                .collect(),
            title: doc.title.clone(),
            score,
            snippet: snip.text,
            highlights: snip.highlights,
            page: snip.page,
            format: doc.meta.format.as_str().to_string(),
            doc_type: doc.tags.doc_type.clone(),
            date: doc.tags.date.clone(),
            statements: doc.tags.statements.iter().map(|t| t.code.clone()).collect(),
            categories: doc.tags.categories.iter().map(|t| t.code.clone()).collect(),
            status: if doc.ok { "ok" } else { "failed" }.into(),
        });
    }
    Ok(out)
}

/// The best passage of a document for a query (used by `evidence` when a query is given).
pub fn best_snippet(doc: &StoredDoc, words: &str) -> Snippet {
    let hl = Highlight {
        terms: analyse(words).into_iter().collect(),
        prefixes: Vec::new(),
    };
    snippet(doc, &hl, 220)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_become_regexes_and_tags_are_normalised() {
        let mut hl = Highlight::default();
        let ast =
            tantivy::query_grammar::parse_query("safeguard* AND statement:qs7 -children").unwrap();
        let out = rewrite(ast, false, &mut hl);
        let dbg = format!("{out:?}");
        assert!(dbg.contains("safeguard.*"), "{dbg}");
        assert!(dbg.contains("QS7"), "{dbg}");
        assert_eq!(hl.prefixes, ["safeguard"]);
        assert!(
            !hl.terms.contains("children"),
            "negated words are not highlighted"
        );
    }

    #[test]
    fn a_body_phrase_is_answered_from_the_word_pairs() {
        assert!(words_adjacent("Adult social-care act"));
        assert!(!words_adjacent(&format!("care {} act", "x".repeat(60))));
        let mut hl = Highlight::default();
        let out = rewrite(
            tantivy::query_grammar::parse_query("\"adult social care\"").unwrap(),
            false,
            &mut hl,
        );
        let dbg = format!("{out:?}");
        assert!(
            dbg.contains("\"body_pairs\":\"adult social care\""),
            "{dbg}"
        );
        let two = format!(
            "{:?}",
            rewrite(
                tantivy::query_grammar::parse_query("\"care act\"").unwrap(),
                false,
                &mut hl
            )
        );
        assert!(
            two.contains("\"body_pairs\":\"care act\"") && !two.contains("\"body\":"),
            "{two}"
        );
    }

    #[test]
    fn snippets_centre_on_matches_and_name_the_page() {
        let mut doc = StoredDoc::default();
        let filler = "lorem ipsum dolor sit amet ".repeat(40);
        doc.body = format!("{filler}\nThe Care Act assessment found eligible needs.\n{filler}");
        let at = doc.body.find("The Care Act").unwrap();
        doc.meta.units = vec![
            crate::extract::Unit {
                kind: crate::extract::UnitKind::Page,
                label: "p. 1".into(),
                start: 0,
                end: at,
            },
            crate::extract::Unit {
                kind: crate::extract::UnitKind::Page,
                label: "p. 2".into(),
                start: at,
                end: doc.body.len(),
            },
        ];
        let hl = Highlight {
            terms: analyse("assessments eligible").into_iter().collect(),
            prefixes: vec![],
        };
        let s = snippet(&doc, &hl, 120);
        assert!(s.text.contains("assessment found eligible"), "{}", s.text);
        let words: Vec<&str> = s.highlights.iter().map(|(a, b)| &s.text[*a..*b]).collect();
        assert_eq!(words, ["assessment", "eligible"]);
        assert_eq!(s.page.as_deref(), Some("p. 2"));
    }

    #[test]
    fn snippets_find_every_inflection_of_a_stem_and_prefixes() {
        let doc = StoredDoc {
            body: "Happiness of CARERS: a carer's happy day. Safeguarding adults; \
                   relational practice. Unrelated words here."
                .into(),
            ..StoredDoc::default()
        };
        let hl = Highlight {
            terms: analyse("happy carers relational").into_iter().collect(),
            prefixes: vec![fold_prefix("Safeguard")],
        };
        let s = snippet(&doc, &hl, 400);
        let words: Vec<&str> = s.highlights.iter().map(|(a, b)| &s.text[*a..*b]).collect();
        assert_eq!(
            words,
            [
                "Happiness",
                "CARERS",
                "carer",
                "happy",
                "Safeguarding",
                "relational"
            ]
        );
    }
}
