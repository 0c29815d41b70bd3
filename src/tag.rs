//! The tagger: a pure function from a document's text and metadata to statement, theme,
//! category and document-type tags, each with a score in 0..1 and the reasons for it.
//!
//! Long documents are judged passage by passage, not by raw keyword counts: the text is cut
//! into passages of about `passage_words` words, each passage is scored for each statement from
//! the cue phrases in it (and the heading it sits under), and a statement's score combines how
//! densely it is discussed where it is discussed (its best few passages), how much of the
//! document discusses it, whether the title, file name or folder names it, and how it compares
//! with the document's leading statement. A cabinet report that mentions all nine statements
//! is tagged only with those it dwells on, an annual report with a section on each with each;
//! a short page about direct payments is QS2, not everything that shares a word with it.
//! Pages about other council services (council tax, bins, children's services) are recognised
//! by their own cues and pulled down.

use crate::dates::{DateSource, document_dates};
use crate::extract::{Extracted, Format, Heading};
use crate::framework::{Cue, Framework};
use crate::model::Judgement;
use crate::textnorm::{Normalized, normalize};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Why a tag was given: a phrase and where it was found, or a librarian's decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// `rule` (a cue in the framework) or `librarian` (an override).
    pub source: String,
    /// `title`, `file name`, `folder`, `heading`, `body`, `document type` or `note`.
    #[serde(rename = "where")]
    pub place: String,
    /// The phrase that matched, or the librarian's note.
    pub phrase: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub count: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The passage that best shows a tag, with where it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    /// "p. 3", "slide 2", "body".
    pub unit: String,
    /// Byte offset of the passage in the document's text.
    pub offset: usize,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagScore {
    pub code: String,
    pub score: f32,
    pub reasons: Vec<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passage: Option<Passage>,
    /// Passages that discuss it, out of how many (for "central or passing" at a glance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<(u32, u32)>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tags {
    /// Tagged statements, highest score first.
    pub statements: Vec<TagScore>,
    /// Statements with some evidence that fell below the threshold (shown by `show`).
    #[serde(default)]
    pub near_misses: Vec<TagScore>,
    pub themes: Vec<String>,
    /// Evidence categories, primary first.
    pub categories: Vec<TagScore>,
    pub doc_type: String,
    #[serde(default)]
    pub doc_type_reasons: Vec<Reason>,
    pub date: Option<String>,
    pub date_source: Option<DateSource>,
    pub review_date: Option<String>,
    /// How clearly the document is about adult social care at all (0..1).
    pub relevance: f32,
    /// The framework (id@version#content) these tags came from.
    pub framework: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Statement(u16),
    Neutral,
    OutOfScope,
    Adult,
    Category(u16),
    DocType(u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Topic,
    Voice,
    Kind,
}

impl Target {
    fn family(self) -> Family {
        match self {
            Target::Statement(_) | Target::Neutral | Target::OutOfScope | Target::Adult => {
                Family::Topic
            }
            Target::Category(_) => Family::Voice,
            Target::DocType(_) => Family::Kind,
        }
    }
}

struct Pattern {
    phrase: String,
    prefix: bool,
    targets: Vec<(Target, f32)>,
}

/// One automaton over every cue phrase; overlaps are resolved per family, longest first, so a
/// longer phrase ("risk assessment") shadows a shorter one inside it ("assessment").
struct Matcher {
    ac: AhoCorasick,
    patterns: Vec<Pattern>,
}

#[derive(Clone, Copy, Debug)]
struct Hit {
    pattern: usize,
    /// Normalized offsets: `start` at the leading space, `end` at the trailing space.
    start: usize,
    end: usize,
}

impl Matcher {
    fn build(sets: Vec<(Target, Vec<Cue>)>, neutral: &[String]) -> Matcher {
        let mut index: HashMap<(String, bool), usize> = HashMap::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut add = |phrase: &str, prefix: bool, target: Target, weight: f32| {
            let key = (phrase.to_string(), prefix);
            let i = *index.entry(key).or_insert_with(|| {
                patterns.push(Pattern {
                    phrase: phrase.to_string(),
                    prefix,
                    targets: Vec::new(),
                });
                patterns.len() - 1
            });
            let targets = &mut patterns[i].targets;
            match targets.iter_mut().find(|(t, _)| *t == target) {
                Some(existing) => existing.1 = existing.1.max(weight),
                None => targets.push((target, weight)),
            }
        };
        for (target, cues) in &sets {
            for cue in cues {
                add(&cue.phrase, cue.prefix, *target, cue.weight);
            }
        }
        for phrase in neutral {
            add(phrase, false, Target::Neutral, 0.0);
        }
        let needles: Vec<String> = patterns
            .iter()
            .map(|p| {
                if p.prefix {
                    format!(" {}", p.phrase)
                } else {
                    format!(" {} ", p.phrase)
                }
            })
            .collect();
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&needles)
            .expect("cue automaton builds");
        Matcher { ac, patterns }
    }

    /// Every match, overlapping, with prefix matches extended to the end of their word.
    fn hits(&self, norm: &str) -> Vec<Hit> {
        let bytes = norm.as_bytes();
        let mut out = Vec::new();
        for m in self.ac.find_overlapping_iter(norm) {
            let p = m.pattern().as_usize();
            let mut end = m.end();
            if self.patterns[p].prefix {
                while end < bytes.len() && bytes[end] != b' ' {
                    end += 1;
                }
            } else {
                end -= 1;
            }
            out.push(Hit {
                pattern: p,
                start: m.start(),
                end,
            });
        }
        out
    }

    /// The non-overlapping hits of one family, longest first. Claimed bytes are kept in a
    /// bitset, so this stays linear on a 30 MB document with a million hits.
    fn select(&self, hits: &[Hit], family: Family) -> Vec<Hit> {
        let mut cands: Vec<Hit> = hits
            .iter()
            .copied()
            .filter(|h| {
                self.patterns[h.pattern]
                    .targets
                    .iter()
                    .any(|(t, _)| t.family() == family)
            })
            .collect();
        cands.sort_by(|a, b| {
            (b.end - b.start)
                .cmp(&(a.end - a.start))
                .then(a.start.cmp(&b.start))
        });
        let len = cands.iter().map(|h| h.end + 1).max().unwrap_or(0);
        let mut claimed = vec![0u64; len / 64 + 1];
        let is_set = |bits: &[u64], i: usize| bits[i / 64] & (1 << (i % 64)) != 0;
        let mut out = Vec::new();
        for h in cands {
            // The spaces at either end may be shared with a neighbour; the words may not.
            let (a, b) = (h.start + 1, h.end);
            if (a..b).any(|i| is_set(&claimed, i)) {
                continue;
            }
            for i in a..b {
                claimed[i / 64] |= 1 << (i % 64);
            }
            out.push(h);
        }
        out.sort_by_key(|h| h.start);
        out
    }

    fn weights(&self, hit: &Hit) -> impl Iterator<Item = (Target, f32)> + '_ {
        self.patterns[hit.pattern].targets.iter().copied()
    }

    fn phrase(&self, hit: &Hit) -> &str {
        &self.patterns[hit.pattern].phrase
    }
}

/// What the tagger needs to know about a document.
pub struct TagInput<'a> {
    pub extracted: &'a Extracted,
    /// The file's path as shown to people.
    pub path: &'a str,
    /// The root it was found under (folder names below it are cues).
    pub root: Option<&'a str>,
}

/// The tagger for one framework; build once, tag many documents (it is `Sync`).
pub struct Tagger<'f> {
    fw: &'f Framework,
    body: Matcher,
    title: Matcher,
    /// Per body pattern: the statements whose title it is (part of), such as "healthier lives"
    /// for QS2, so that a list naming the statements can be told from discussion of them.
    names: Vec<Vec<u16>>,
    /// Statement titles in normal form.
    titles: Vec<String>,
}

struct PassageSpan {
    start: usize,
    end: usize,
}

/// Saturating map of a non-negative score to 0..1.
fn sat(x: f32, scale: f32) -> f32 {
    1.0 - (-x.max(0.0) / scale).exp()
}

/// Repeats count, with diminishing returns: the tenth mention adds less than the second.
fn damp(weight: f32, count: u32) -> f32 {
    weight * (1.0 + 0.5 * (count.max(1) as f32).ln())
}

impl<'f> Tagger<'f> {
    pub fn new(fw: &'f Framework) -> Tagger<'f> {
        let mut body_sets: Vec<(Target, Vec<Cue>)> = Vec::new();
        let mut title_sets: Vec<(Target, Vec<Cue>)> = Vec::new();
        for (i, s) in fw.statements.iter().enumerate() {
            body_sets.push((Target::Statement(i as u16), s.cues.clone()));
            title_sets.push((Target::Statement(i as u16), merge(&s.title_cues, &s.cues)));
        }
        for (i, c) in fw.categories.iter().enumerate().filter(|(_, c)| c.enabled) {
            body_sets.push((Target::Category(i as u16), c.cues.clone()));
            title_sets.push((Target::Category(i as u16), c.title_cues.clone()));
        }
        for (i, d) in fw.doc_types.iter().enumerate() {
            body_sets.push((Target::DocType(i as u16), d.cues.clone()));
            title_sets.push((Target::DocType(i as u16), d.title_cues.clone()));
        }
        body_sets.push((Target::OutOfScope, fw.out_of_scope.clone()));
        body_sets.push((Target::Adult, fw.adult_context.clone()));
        title_sets.push((Target::OutOfScope, fw.out_of_scope.clone()));
        title_sets.push((Target::Adult, fw.adult_context.clone()));
        let body = Matcher::build(body_sets, &fw.neutral);
        let titles: Vec<String> = fw
            .statements
            .iter()
            .map(|s| normalize(&s.title).text)
            .collect();
        let names = body
            .patterns
            .iter()
            .map(|p| {
                p.targets
                    .iter()
                    .filter_map(|(t, _)| match t {
                        Target::Statement(i) => Some(*i),
                        _ => None,
                    })
                    .filter(|i| {
                        let title = &titles[*i as usize];
                        if p.prefix {
                            title.contains(&format!(" {}", p.phrase))
                        } else {
                            title.contains(&format!(" {} ", p.phrase))
                        }
                    })
                    .collect()
            })
            .collect();
        Tagger {
            fw,
            body,
            title: Matcher::build(title_sets, &fw.neutral),
            names,
            titles,
        }
    }

    pub fn framework(&self) -> &Framework {
        self.fw
    }

    fn passages(&self, doc: &Extracted) -> Vec<PassageSpan> {
        let target = self.fw.scoring.passage_words.max(20);
        let mut out = Vec::new();
        let mut start = 0usize;
        let mut words = 0usize;
        let mut pos = 0usize;
        let unit_starts: Vec<usize> = doc.units.iter().map(|u| u.start).collect();
        for line in doc.text.split_inclusive('\n') {
            let line_start = pos;
            pos += line.len();
            if words > 0 && unit_starts.binary_search(&line_start).is_ok() {
                out.push(PassageSpan {
                    start,
                    end: line_start,
                });
                start = line_start;
                words = 0;
            }
            words += line.split_whitespace().count();
            if words >= target {
                out.push(PassageSpan { start, end: pos });
                start = pos;
                words = 0;
            }
        }
        if words > 0 || out.is_empty() {
            out.push(PassageSpan {
                start,
                end: doc.text.len(),
            });
        }
        // A short tail joins the passage before it, so a closing line is not a passage alone.
        if out.len() >= 2 {
            let last = out.len() - 1;
            let tail_words = doc.text[out[last].start..out[last].end]
                .split_whitespace()
                .count();
            if tail_words < target / 4 && !unit_starts.contains(&out[last].start) {
                out[last - 1].end = out[last].end;
                out.pop();
            }
        }
        out
    }

    /// Marks the topic hits that name a statement inside a list of statement names: `min`
    /// or more statements named within about 150 words of each other. A name is a statement's
    /// whole title or two or more words of it ("healthier lives", "equity in experience"); one
    /// word of a longer title ("improvement", "sustainability") is ordinary discussion.
    fn name_lists(&self, norm: &str, hits: &[Hit], min: f32) -> Vec<bool> {
        const SPAN: usize = 1000;
        let mut listed = vec![false; hits.len()];
        if min < 2.0 {
            return listed;
        }
        let named: Vec<(usize, usize, Vec<u16>)> = hits
            .iter()
            .enumerate()
            .filter(|(_, h)| !self.names[h.pattern].is_empty())
            .filter_map(|(k, h)| {
                let said = norm.get(h.start + 1..h.end)?;
                let sts: Vec<u16> = self.names[h.pattern]
                    .iter()
                    .copied()
                    .filter(|i| {
                        let title = &self.titles[*i as usize];
                        (said.contains(' ') || title.trim() == said)
                            && title.contains(&format!(" {said} "))
                    })
                    .collect();
                (!sts.is_empty()).then_some((k, h.start, sts))
            })
            .collect();
        if named.len() < min as usize {
            return listed;
        }
        let mut lo = 0;
        for hi in 0..named.len() {
            while named[hi].1 - named[lo].1 > SPAN {
                lo += 1;
            }
            let window = &named[lo..=hi];
            let mut distinct: Vec<u16> = window.iter().flat_map(|n| n.2.iter().copied()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() as f32 >= min {
                for n in window {
                    listed[n.0] = true;
                }
            }
        }
        listed
    }

    /// Tags one document. Pure: the same input gives the same tags.
    pub fn tag(&self, input: &TagInput<'_>) -> Tags {
        let fw = self.fw;
        let doc = input.extracted;
        let n_st = fw.statements.len();
        let n_cat = fw.categories.len();
        let n_dt = fw.doc_types.len();
        let scoring = &fw.scoring;

        // --- title, file name, folders ---------------------------------------------------
        let file_name = std::path::Path::new(input.path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = file_name
            .rsplit_once('.')
            .map(|(s, _)| s)
            .unwrap_or(&file_name)
            .to_string();
        let title = doc.title.clone().unwrap_or_default();
        let folders = folder_names(input.path, input.root);

        let mut title_score = vec![0f32; n_st];
        let mut folder_score = vec![0f32; n_st];
        let mut reasons: Vec<Vec<Reason>> = vec![Vec::new(); n_st];
        let mut cat_title = vec![0f32; n_cat];
        let mut cat_reasons: Vec<Vec<Reason>> = vec![Vec::new(); n_cat];
        let mut dt_score = vec![0f32; n_dt];
        let mut dt_reasons: Vec<Vec<Reason>> = vec![Vec::new(); n_dt];
        let mut oos_title = 0f32;

        let title_norm = normalize(&title).text;
        let stem_norm = normalize(&stem).text;
        // A file name that repeats the title adds nothing new.
        let places: Vec<(&str, String, f32)> = {
            let mut v = vec![("title", title_norm.clone(), 1.0f32)];
            if stem_norm.trim() != title_norm.trim() && !title_norm.contains(stem_norm.trim()) {
                v.push((
                    "file name",
                    stem_norm,
                    if title.is_empty() { 1.0 } else { 0.6 },
                ));
            }
            for f in &folders {
                v.push(("folder", normalize(f).text, 0.5));
            }
            v
        };
        for (place, norm, factor) in &places {
            let hits = self.title.hits(norm);
            for family in [Family::Topic, Family::Voice, Family::Kind] {
                for h in self.title.select(&hits, family) {
                    for (t, w) in self.title.weights(&h) {
                        if t.family() != family {
                            continue;
                        }
                        let w = w * factor;
                        let reason = Reason {
                            source: "rule".into(),
                            place: place.to_string(),
                            phrase: self.title.phrase(&h).to_string(),
                            count: 0,
                        };
                        match t {
                            Target::Statement(i) => {
                                let i = i as usize;
                                if *place == "folder" {
                                    folder_score[i] += w;
                                } else {
                                    title_score[i] += w;
                                }
                                push_reason(&mut reasons[i], reason);
                            }
                            Target::Category(i) => {
                                cat_title[i as usize] += w;
                                push_reason(&mut cat_reasons[i as usize], reason);
                            }
                            Target::DocType(i) => {
                                if *place != "folder" {
                                    dt_score[i as usize] += w * 1.5;
                                    push_reason(&mut dt_reasons[i as usize], reason);
                                }
                            }
                            Target::OutOfScope => {
                                if *place != "folder" {
                                    oos_title += w;
                                }
                            }
                            Target::Neutral | Target::Adult => {}
                        }
                    }
                }
            }
        }

        // --- body, passage by passage ------------------------------------------------------
        let norm: Normalized = normalize(&doc.text);
        let passages = self.passages(doc);
        let n_p = passages.len();
        let starts: Vec<usize> = passages.iter().map(|p| p.start).collect();
        let passage_of = |src: usize| starts.partition_point(|s| *s <= src).saturating_sub(1);

        let all_hits = self.body.hits(&norm.text);
        // (passage, statement) -> (pattern -> count)
        let mut per_passage: Vec<HashMap<usize, u32>> = vec![HashMap::new(); n_p * n_st];
        let mut cue_counts: Vec<HashMap<usize, u32>> = vec![HashMap::new(); n_st];
        let mut oos_counts: HashMap<usize, u32> = HashMap::new();
        let mut adult_counts: HashMap<usize, u32> = HashMap::new();
        let topic_hits = self.body.select(&all_hits, Family::Topic);
        let listed = self.name_lists(&norm.text, &topic_hits, scoring.weight("name_list_min"));
        for (k, h) in topic_hits.iter().enumerate() {
            let p = passage_of(norm.source_offset(h.start + 1));
            for (t, _) in self.body.weights(h) {
                match t {
                    Target::Statement(_) if listed[k] => {}
                    Target::Statement(i) => {
                        let i = i as usize;
                        *per_passage[p * n_st + i].entry(h.pattern).or_default() += 1;
                        *cue_counts[i].entry(h.pattern).or_default() += 1;
                    }
                    Target::OutOfScope => *oos_counts.entry(h.pattern).or_default() += 1,
                    Target::Adult => *adult_counts.entry(h.pattern).or_default() += 1,
                    _ => {}
                }
            }
        }
        let weight_of = |pattern: usize, target: Target| -> f32 {
            self.body.patterns[pattern]
                .targets
                .iter()
                .find(|(t, _)| *t == target)
                .map(|(_, w)| *w)
                .unwrap_or(0.0)
        };

        // Headings: a section headed "Safeguarding" makes its passages about safeguarding.
        let mut heading_bonus = vec![0f32; n_p * n_st];
        let mut heading_hits = vec![0f32; n_st];
        let derived;
        let headings: &[Heading] = if doc.headings.len() >= 2 {
            &doc.headings
        } else {
            derived = derive_headings(&doc.text);
            &derived
        };
        for (hi, heading) in headings.iter().enumerate() {
            let hn = normalize(&heading.text).text;
            let hits = self.title.hits(&hn);
            let mut w_by_st = vec![0f32; n_st];
            for h in self.title.select(&hits, Family::Topic) {
                for (t, w) in self.title.weights(&h) {
                    if let Target::Statement(i) = t {
                        w_by_st[i as usize] = w_by_st[i as usize].max(w);
                        push_reason(
                            &mut reasons[i as usize],
                            Reason {
                                source: "rule".into(),
                                place: "heading".into(),
                                phrase: self.title.phrase(&h).to_string(),
                                count: 0,
                            },
                        );
                    }
                }
            }
            if w_by_st.iter().all(|w| *w == 0.0) {
                continue;
            }
            let section_end = headings[hi + 1..]
                .iter()
                .find(|n| n.level <= heading.level)
                .map(|n| n.offset)
                .unwrap_or(doc.text.len());
            let first = passage_of(heading.offset);
            let last = passage_of(section_end.saturating_sub(1)).max(first);
            for p in first..=last.min(n_p - 1) {
                for (s, w) in w_by_st.iter().enumerate() {
                    let b = &mut heading_bonus[p * n_st + s];
                    *b = b.max(0.5 * w);
                }
            }
            for (s, w) in w_by_st.iter().enumerate() {
                heading_hits[s] += w;
            }
        }

        let mut ps = vec![0f32; n_p * n_st];
        for p in 0..n_p {
            for s in 0..n_st {
                let body: f32 = per_passage[p * n_st + s]
                    .iter()
                    .map(|(pat, n)| damp(weight_of(*pat, Target::Statement(s as u16)), *n))
                    .sum();
                // Heading bonus counts only where the passage itself says something on it.
                let bonus = if body > 0.0 {
                    heading_bonus[p * n_st + s]
                } else {
                    0.0
                };
                ps[p * n_st + s] = body + bonus;
            }
        }

        // --- adult social care relevance ---------------------------------------------------
        let oos_body: f32 = oos_counts
            .iter()
            .map(|(pat, n)| damp(weight_of(*pat, Target::OutOfScope), *n))
            .sum();
        let adult: f32 = adult_counts
            .iter()
            .map(|(pat, n)| damp(weight_of(*pat, Target::Adult), *n))
            .sum();
        let topic_total: f32 = ps.iter().sum::<f32>() + title_score.iter().sum::<f32>();
        let oos = oos_body + 3.0 * oos_title;
        let asc_signal = adult + 0.25 * topic_total / (n_p as f32).sqrt();
        let relevance = if oos <= 0.0 {
            1.0
        } else {
            (asc_signal / (asc_signal + 1.5 * oos)).clamp(0.0, 1.0)
        };

        // --- statement scores -----------------------------------------------------------------
        let totals: Vec<f32> = (0..n_st)
            .map(|s| (0..n_p).map(|p| ps[p * n_st + s]).sum::<f32>() + 2.0 * title_score[s])
            .collect();
        let max_total = totals.iter().cloned().fold(0.0f32, f32::max);
        // The text model's view, blended in below: it catches statements discussed in words
        // no cue holds.
        let features = fw.model.as_ref().map(|m| m.model.features(&norm.text));
        let mut judged: Vec<Option<Judgement>> = vec![None; n_st];
        if let (Some(m), Some(f)) = (&fw.model, &features) {
            for (code, j) in m.model.statements(f) {
                if let Some(i) = fw.statement_index(&code) {
                    judged[i] = Some(j);
                }
            }
        }
        // A long report is also read a stretch at a time: the model was trained on pages of a
        // few hundred words and reads only the first `max_words` of a document, so a section
        // deep in a report would go unseen. A statement takes the mean of its best three
        // stretches where that is higher than the whole: with one or two, a page on something
        // else inside a long report was tagged (benches/tagging/long_reports.py, "aside").
        // Only probabilities per stretch; the terms behind a statement are worked out once, for
        // its best stretch, when the stretches win.
        if let Some(m) = &fw.model {
            let windows = m.model.window_features(&norm.text, MODEL_WINDOW);
            let probs: Vec<Vec<f32>> = windows
                .iter()
                .map(|f| m.model.statement_probabilities(f))
                .collect();
            for (l, code) in m.model.statement_labels().iter().enumerate() {
                let Some(i) = fw.statement_index(code) else {
                    continue;
                };
                let mut ranked: Vec<(f32, usize)> =
                    probs.iter().enumerate().map(|(w, p)| (p[l], w)).collect();
                ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
                let top = &ranked[..MODEL_WINDOW_TOP.min(ranked.len())];
                if top.is_empty() {
                    continue;
                }
                let mean = top.iter().map(|(p, _)| p).sum::<f32>() / top.len() as f32;
                if judged[i].as_ref().is_none_or(|j| mean > j.probability) {
                    judged[i] = Some(Judgement {
                        probability: mean,
                        top_terms: m.model.statement_judgement(l, &windows[top[0].1]).top_terms,
                    });
                }
            }
        }
        let model_weight = fw.model.as_ref().map_or(0.0, |m| m.weight);
        let mut scored: Vec<TagScore> = Vec::new();
        for s in 0..n_st {
            let col: Vec<f32> = (0..n_p).map(|p| ps[p * n_st + s]).collect();
            let sum: f32 = col.iter().sum();
            let model_part = judged[s]
                .as_ref()
                .map_or(0.0, |j| model_weight * j.probability);
            let w = |k: &str| scoring.weight(k);
            // How surely the page is about adult social care at all; it gates the model too,
            // which reads topic, not whose services.
            let mut gate = relevance.powf(0.7);
            if fw.statements[s].needs_context {
                // Graded: a council-wide report that names adult social care once among its
                // departments is not evidence of the council's partnerships or governance in it.
                let cf = w("context_factor").clamp(0.0, 1.0);
                let context = (adult / w("context_needed").max(0.1)).min(1.0);
                gate *= cf + (1.0 - cf) * context;
            }
            // Nothing in the cues and little from the model after the gate: not even a near miss.
            if sum == 0.0
                && title_score[s] == 0.0
                && folder_score[s] == 0.0
                && gate * model_part < 0.1
            {
                continue;
            }
            let strong = col
                .iter()
                .filter(|v| **v >= scoring.passage_threshold)
                .count();
            // How densely it is discussed where it is discussed: over its best `focus_passages`
            // passages, so a long report with a section on each statement (a CQC assessment, an
            // annual report) is evidence for each, while a mention in one passage stays thin.
            // A document no longer than that is judged as a whole, as before.
            let focus = (w("focus_passages").max(1.0) as usize).min(n_p);
            let mut best_first = col.clone();
            best_first.sort_by(|a, b| b.total_cmp(a));
            let density = best_first[..focus].iter().sum::<f32>() / focus as f32;
            let coverage = (strong as f32 / focus as f32).max(2.0 * strong as f32 / n_p as f32);
            // The densest run of three passages: a section devoted to the statement shows
            // here, a scattering of passing mentions does not.
            let window = 3.min(n_p);
            let section = (0..=n_p - window)
                .map(|i| col[i..i + window].iter().sum::<f32>() / window as f32)
                .fold(0.0f32, f32::max);
            let parts = [
                (w("density"), sat(density, w("density_scale"))),
                (w("section"), sat(section, w("section_scale"))),
                (w("coverage"), coverage.min(1.0)),
                (w("title"), sat(title_score[s], w("title_scale"))),
                (w("heading"), sat(heading_hits[s], w("heading_scale"))),
                (w("folder"), sat(folder_score[s], w("folder_scale"))),
            ];
            let raw = parts.iter().map(|(wt, v)| wt * v).sum::<f32>().min(1.0);
            let share = if max_total > 0.0 {
                totals[s] / max_total
            } else {
                0.0
            };
            let floor = w("share_floor").clamp(0.0, 1.0);
            let mut score = raw * (floor + (1.0 - floor) * share) * gate;

            // Reasons: the strongest body cues, with counts.
            let mut cues: Vec<(usize, u32)> = cue_counts[s].iter().map(|(p, n)| (*p, *n)).collect();
            cues.sort_by(|a, b| {
                let wa = damp(weight_of(a.0, Target::Statement(s as u16)), a.1);
                let wb = damp(weight_of(b.0, Target::Statement(s as u16)), b.1);
                wb.total_cmp(&wa).then(a.0.cmp(&b.0))
            });
            let mut rs = reasons[s].clone();
            for (pat, n) in cues.into_iter().take(6) {
                rs.push(Reason {
                    source: "rule".into(),
                    place: "body".into(),
                    phrase: self.body.patterns[pat].phrase.clone(),
                    count: n,
                });
            }
            if let Some(j) = &judged[s] {
                // The model can raise a statement the cues under-read, never lower one they
                // found: on pages neither was tuned on, blending both ways cost recall on one
                // set as much as it gained precision on another (BENCHMARKS.md).
                let blended = (1.0 - model_weight) * score + gate * model_part;
                if blended > score {
                    score = blended;
                    rs.extend(model_reasons(j));
                }
            }
            let best = col
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                .filter(|(_, v)| **v > 0.0)
                .map(|(p, _)| passage_excerpt(doc, &passages[p]));
            scored.push(TagScore {
                code: fw.statements[s].code.clone(),
                score: round3(score),
                reasons: rs,
                passage: best,
                coverage: Some((strong as u32, n_p as u32)),
            });
        }
        let top = scored.iter().map(|t| t.score).fold(0.0f32, f32::max);
        let (mut tagged, mut near): (Vec<TagScore>, Vec<TagScore>) =
            scored.into_iter().partition(|t| {
                // A statement beside the leading one needs more: most pages are about one
                // statement and share words with others (BENCHMARKS.md, "a second statement needs more").
                // Not so where it has passages of its own: a report's section on it.
                let own_passages = t.coverage.map_or(0, |c| c.0);
                let bar = if t.score >= top || own_passages >= scoring.further_passages {
                    scoring.threshold
                } else {
                    scoring.threshold.max(scoring.further_threshold)
                };
                t.score >= bar && t.score >= scoring.relative_floor * top
            });
        tagged.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.code.cmp(&b.code)));
        near.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.code.cmp(&b.code)));
        near.truncate(4);

        let mut themes: Vec<String> = Vec::new();
        for t in &tagged {
            if let Some(st) = fw.statement(&t.code) {
                let theme = &fw.themes[st.theme].id;
                if !themes.contains(theme) {
                    themes.push(theme.clone());
                }
            }
        }

        // --- document type ----------------------------------------------------------------------
        let voice_hits = self.body.select(&all_hits, Family::Voice);
        let kind_hits = self.body.select(&all_hits, Family::Kind);
        let mut dt_counts: HashMap<(usize, u16), u32> = HashMap::new();
        for h in &kind_hits {
            for (t, _) in self.body.weights(h) {
                if let Target::DocType(i) = t {
                    *dt_counts.entry((h.pattern, i)).or_default() += 1;
                }
            }
        }
        for ((pat, i), n) in dt_counts {
            let w = weight_of(pat, Target::DocType(i));
            dt_score[i as usize] += damp(w, n).min(2.0 * w);
            push_reason(
                &mut dt_reasons[i as usize],
                Reason {
                    source: "rule".into(),
                    place: "body".into(),
                    phrase: self.body.patterns[pat].phrase.clone(),
                    count: n,
                },
            );
        }
        for (i, d) in fw.doc_types.iter().enumerate() {
            if d.formats.iter().any(|f| f == doc.format.as_str()) {
                dt_score[i] += 2.0;
                push_reason(
                    &mut dt_reasons[i],
                    Reason {
                        source: "rule".into(),
                        place: "format".into(),
                        phrase: doc.format.as_str().into(),
                        count: 0,
                    },
                );
            }
        }
        let best_dt = dt_score
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .filter(|(_, v)| **v >= 2.5)
            .map(|(i, _)| i);
        let dt_index = best_dt.or_else(|| {
            fw.doc_types
                .iter()
                .position(|d| d.code == default_type(doc.format))
        });
        let (doc_type, doc_type_reasons, dt_category) = match dt_index {
            Some(i) => (
                fw.doc_types[i].code.clone(),
                std::mem::take(&mut dt_reasons[i]),
                fw.doc_types[i].category,
            ),
            None => ("other".to_string(), Vec::new(), None),
        };

        // --- evidence categories: whose voice --------------------------------------------------
        // A voice carried through the document (in many of its passages) is its category; a
        // few quotes in a long report are not.
        let mut cat_counts: HashMap<(usize, u16), u32> = HashMap::new();
        let mut cat_passages: Vec<HashSet<usize>> = vec![HashSet::new(); n_cat];
        for h in &voice_hits {
            let p = passage_of(norm.source_offset(h.start + 1));
            for (t, _) in self.body.weights(h) {
                if let Target::Category(i) = t {
                    *cat_counts.entry((h.pattern, i)).or_default() += 1;
                    cat_passages[i as usize].insert(p);
                }
            }
        }
        let mut cat_body = vec![0f32; n_cat];
        let mut cat_cue_list: Vec<Vec<(usize, u32)>> = vec![Vec::new(); n_cat];
        for ((pat, i), n) in cat_counts {
            cat_body[i as usize] += damp(weight_of(pat, Target::Category(i)), n);
            cat_cue_list[i as usize].push((pat, n));
        }
        let default_cat = fw.categories.iter().position(|c| c.default && c.enabled);
        let w = |k: &str| scoring.weight(k);
        let voice_evidence: Vec<f32> = (0..n_cat)
            .map(|c| {
                w("voice_passages") * cat_passages[c].len() as f32 / n_p as f32
                    + w("voice_density") * sat(cat_body[c] / n_p as f32, 3.0) * 3.0
                    + w("voice_title") * cat_title[c]
            })
            .collect();
        let mut cat_score = vec![0f32; n_cat];
        for (c, cat) in fw.categories.iter().enumerate() {
            if !cat.enabled {
                continue;
            }
            let mut v = voice_evidence[c];
            if Some(c) == dt_category {
                v += w("type_prior");
            }
            if Some(c) == default_cat {
                v += w("default_prior");
            }
            cat_score[c] = v;
        }
        let cat_total: f32 = cat_score.iter().sum::<f32>().max(1e-6);
        if let (Some(m), Some(f)) = (&fw.model, &features) {
            // Blend each category's share of the cue evidence with the model's probability.
            let cw = m.category_weight;
            let judged = m.model.categories(f);
            if !judged.is_empty() {
                let mut blended = vec![0f32; n_cat];
                for (c, cat) in fw.categories.iter().enumerate().filter(|(_, c)| c.enabled) {
                    let p = judged.iter().find(|(code, _)| *code == cat.code);
                    let share = cat_score[c] / cat_total;
                    blended[c] = (1.0 - cw) * share + cw * p.map_or(0.0, |(_, j)| j.probability);
                    if let Some((_, j)) = p.filter(|(_, j)| cw * j.probability >= 0.1) {
                        cat_reasons[c].extend(model_reasons(j));
                    }
                }
                // Rescaled to the cue total, so the secondary-category bars below still apply
                // (and the total is unchanged).
                let total: f32 = blended.iter().sum::<f32>().max(1e-6);
                for c in 0..n_cat {
                    cat_score[c] = blended[c] * cat_total / total;
                }
            }
        }
        let primary = cat_score
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
            .map(|(i, v)| (i, *v));
        let mut categories = Vec::new();
        if let Some((p, pv)) = primary {
            let mut order: Vec<usize> = (0..n_cat).filter(|c| fw.categories[*c].enabled).collect();
            order.sort_by(|a, b| cat_score[*b].total_cmp(&cat_score[*a]).then(a.cmp(b)));
            for c in order {
                let is_primary = c == p;
                if !is_primary
                    && (cat_score[c] < scoring.category_secondary * pv || voice_evidence[c] < 1.5)
                {
                    continue;
                }
                let mut rs = std::mem::take(&mut cat_reasons[c]);
                let mut cl = std::mem::take(&mut cat_cue_list[c]);
                cl.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                for (pat, n) in cl.into_iter().take(5) {
                    rs.push(Reason {
                        source: "rule".into(),
                        place: "body".into(),
                        phrase: self.body.patterns[pat].phrase.clone(),
                        count: n,
                    });
                }
                if Some(c) == dt_category {
                    rs.push(Reason {
                        source: "rule".into(),
                        place: "document type".into(),
                        phrase: doc_type.clone(),
                        count: 0,
                    });
                }
                categories.push(TagScore {
                    code: fw.categories[c].code.clone(),
                    score: round3(cat_score[c] / cat_total),
                    reasons: rs,
                    passage: None,
                    coverage: None,
                });
            }
        }

        // --- dates --------------------------------------------------------------------------------
        let dates = document_dates(
            &doc.text,
            doc.title.as_deref(),
            &file_name,
            doc.created.as_deref(),
            doc.modified.as_deref(),
            &fw.dates,
        );

        Tags {
            statements: tagged,
            near_misses: near,
            themes,
            categories,
            doc_type,
            doc_type_reasons,
            date: dates.date.map(|d| d.to_string()),
            date_source: dates.source,
            review_date: dates.review.map(|d| d.to_string()),
            relevance: round3(relevance),
            framework: fw.tag_version(),
        }
    }
}

/// Words in each stretch of a long document that the text model reads on its own: about the
/// length of the pages it was trained on. With 600 fewer of the statements long reports dwell on
/// were found, with 300 a page in a report about something else was tagged
/// (benches/tagging/long_reports.py).
const MODEL_WINDOW: usize = 400;
/// A statement's stretch-level probability is the mean of its best this-many stretches.
const MODEL_WINDOW_TOP: usize = 3;

/// How many non-empty lines after a candidate heading are looked at for its paragraph (so up
/// to two short lines may come between).
const HEADING_LOOKAHEAD: usize = 3;

/// Headings for text that does not mark them (plain text, many PDFs): short lines that do not
/// end like a sentence and are followed by a paragraph.
fn derive_headings(text: &str) -> Vec<Heading> {
    let lines: Vec<(usize, &str)> = {
        let mut pos = 0;
        text.split_inclusive('\n')
            .map(|l| {
                let start = pos;
                pos += l.len();
                (start, l.trim_end())
            })
            .collect()
    };
    let mut out: Vec<Heading> = Vec::new();
    // Where the paragraph of the last heading that was not itself under another begins.
    let mut inside_until = 0;
    for (i, (offset, line)) in lines.iter().enumerate() {
        let t = line.trim().trim_start_matches('#').trim();
        let words = t.split_whitespace().count();
        if !(1..=10).contains(&words) || t.len() > 90 {
            continue;
        }
        if t.ends_with(['.', ',', ';', '?', '!']) || !t.chars().any(char::is_alphabetic) {
            continue;
        }
        let first = t.chars().next().unwrap_or(' ');
        if !(first.is_uppercase() || first.is_ascii_digit()) {
            continue;
        }
        // Followed by a paragraph, perhaps after up to two short lines: a CQC report puts
        // "Score: 3" and the score's wording between a statement's name and its findings, and a
        // report's sub-heading may follow its heading directly.
        let Some(paragraph) = lines[i + 1..]
            .iter()
            .filter(|(_, l)| !l.trim().is_empty())
            .take(HEADING_LOOKAHEAD)
            .find(|(_, l)| l.split_whitespace().count() >= 8)
            .map(|(o, _)| *o)
        else {
            continue;
        };
        let numbered = t.split_whitespace().next().unwrap_or("");
        // A short line between a heading and its paragraph is under that heading, whatever it
        // looks like ("3 - Evidence shows a good standard"): it must not end the section.
        let under = out
            .last()
            .is_some_and(|h: &Heading| h.offset < *offset && *offset < inside_until);
        let level = if under
            || numbered.chars().filter(|c| *c == '.').count() >= 2
            || (numbered.contains('.') && numbered.trim_end_matches('.').contains('.'))
        {
            3
        } else if numbered.chars().next().is_some_and(|c| c.is_ascii_digit())
            || t == t.to_uppercase()
        {
            1
        } else {
            2
        };
        if !under {
            inside_until = paragraph;
        }
        out.push(Heading {
            level,
            text: t.to_string(),
            offset: *offset,
        });
    }
    out
}

/// The words that weighed most in the model's judgement, as reasons.
fn model_reasons(j: &Judgement) -> impl Iterator<Item = Reason> + '_ {
    j.top_terms.iter().take(3).map(|t| Reason {
        source: "model".into(),
        place: "body".into(),
        phrase: t.clone(),
        count: 0,
    })
}

/// Title cues plus body cues (a body cue in a title counts too), title weights first.
fn merge(title: &[Cue], body: &[Cue]) -> Vec<Cue> {
    let mut out: Vec<Cue> = title.to_vec();
    for c in body {
        if !out
            .iter()
            .any(|t| t.phrase == c.phrase && t.prefix == c.prefix)
        {
            out.push(c.clone());
        }
    }
    out
}

fn push_reason(list: &mut Vec<Reason>, r: Reason) {
    if let Some(existing) = list
        .iter_mut()
        .find(|x| x.place == r.place && x.phrase == r.phrase)
    {
        existing.count = existing.count.max(r.count);
    } else if list.len() < 12 {
        list.push(r);
    }
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

fn default_type(format: Format) -> &'static str {
    match format {
        Format::Html => "web_page",
        Format::Pptx | Format::Odp | Format::Ppt => "presentation",
        Format::Csv | Format::Xlsx | Format::Xls | Format::Ods => "data",
        _ => "other",
    }
}

/// Folder names between the root and the file: "Safeguarding", "Policies".
fn folder_names(path: &str, root: Option<&str>) -> Vec<String> {
    let p = std::path::Path::new(path);
    let rel = root.and_then(|r| p.strip_prefix(r).ok()).unwrap_or(p);
    let mut out: Vec<String> = rel
        .parent()
        .map(|parent| {
            parent
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    // Without a known root, only the nearest folders are the library's own.
    if root.is_none() && out.len() > 3 {
        out.drain(..out.len() - 3);
    }
    out
}

fn passage_excerpt(doc: &Extracted, p: &PassageSpan) -> Passage {
    let text = &doc.text[p.start..p.end];
    let trimmed = crate::extract::collapse_ws(text);
    let mut cut = trimmed.len().min(320);
    while !trimmed.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut excerpt = trimmed[..cut].to_string();
    if cut < trimmed.len() {
        excerpt.push('…');
    }
    Passage {
        unit: doc
            .unit_at(p.start)
            .map(|u| u.label.clone())
            .unwrap_or_else(|| "body".into()),
        offset: p.start,
        text: excerpt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Unit, UnitKind};

    fn doc(title: &str, text: &str, format: Format) -> Extracted {
        Extracted {
            format,
            title: Some(title.into()),
            text: text.into(),
            units: vec![Unit {
                kind: UnitKind::Part,
                label: "body".into(),
                start: 0,
                end: text.len(),
            }],
            ..Extracted::default()
        }
    }

    /// Tags a document with the built-in framework.
    fn tag(d: &Extracted, path: &str, root: Option<&str>) -> Tags {
        tag_with(&Framework::builtin(), d, path, root)
    }

    fn tag_with(fw: &Framework, d: &Extracted, path: &str, root: Option<&str>) -> Tags {
        Tagger::new(fw).tag(&TagInput {
            extracted: d,
            path,
            root,
        })
    }

    fn codes(t: &Tags) -> Vec<&str> {
        t.statements.iter().map(|s| s.code.as_str()).collect()
    }

    /// The built-in framework with a one-word model: "wibble" means QS2.
    fn with_wibble_model() -> Framework {
        let mut fw = Framework::builtin();
        let model = crate::model::TextModel::parse(
            r#"{"format":"evidex-text-model/1","max_words":3000,"terms":["wibble"],"idf":[1.0],
                "statements":{"labels":["QS2"],"intercept":[-2.0],"weights":[[6.0]]}}"#,
        )
        .unwrap();
        fw.model = Some(crate::framework::ModelUse {
            model: std::sync::Arc::new(model),
            file: "wibble.json".into(),
            weight: 0.5,
            category_weight: 0.5,
        });
        fw
    }

    #[test]
    fn the_model_raises_what_the_cues_miss_and_says_so() {
        let fw = with_wibble_model();
        let text = "Wibble at home\nThe wibble team visits adults with care and support needs at home. Adult social care arranges the wibble.";
        let d = doc("Wibble at home", text, Format::Html);
        let tags = tag_with(&fw, &d, "/web/wibble.html", None);
        assert_eq!(codes(&tags), ["QS2"], "{tags:#?}");
        let reasons = &tags.statements[0].reasons;
        assert!(
            reasons
                .iter()
                .any(|r| r.source == "model" && r.phrase == "wibble"),
            "{reasons:?}"
        );
        // Without the model, no cue reads it.
        let mut no_model = Framework::builtin();
        no_model.model = None;
        assert!(
            tag_with(&no_model, &d, "/web/wibble.html", None)
                .statements
                .is_empty()
        );
    }

    #[test]
    fn the_model_reads_a_long_report_a_stretch_at_a_time() {
        // A section beyond the first `max_words` words is read, but a paragraph alone is not
        // evidence: a statement takes the mean of its best three stretches.
        // At full weight, as the built-in framework uses the model.
        let mut fw = with_wibble_model();
        if let Some(m) = fw.model.as_mut() {
            m.weight = 1.0;
        }
        let filler = "The team met every month during the year and kept notes of each meeting. ";
        let section = "Adult social care runs the wibble service for people at home. ";
        let report = |n: usize| {
            let mut text = String::from("Annual report\n");
            for _ in 0..240 {
                text.push_str(filler);
            }
            for _ in 0..n {
                text.push_str(section);
            }
            for _ in 0..40 {
                text.push_str(filler);
            }
            doc("Annual report", &text, Format::Pdf)
        };
        let path = "/x/annual-report.pdf";
        let tags = tag_with(&fw, &report(120), path, None);
        assert_eq!(codes(&tags), ["QS2"], "{tags:#?}");
        let tags = tag_with(&fw, &report(3), path, None);
        assert!(tags.statements.is_empty(), "{tags:#?}");
    }

    #[test]
    fn the_model_never_lowers_a_cue_score_nor_tags_other_services() {
        let fw = with_wibble_model();
        let mut cues_only = Framework::builtin();
        cues_only.model = None;
        let text = "Direct payments\nA direct payment is money from adult social care so you can arrange your own care and support. You can use a direct payment to employ a personal assistant. We review your direct payment after six weeks.";
        let d = doc("Direct payments", text, Format::Html);
        let with = tag_with(&fw, &d, "/web/dp.html", None);
        let without = tag_with(&cues_only, &d, "/web/dp.html", None);
        assert_eq!(codes(&with), codes(&without));
        assert_eq!(with.statements[0].score, without.statements[0].score);
        // A council tax page full of the model's word stays untagged: the model reads topic,
        // not whose service, so the adult social care gate applies to it too.
        let text = "Council tax wibble\nWibble your council tax bill online. Council tax bills are sent in March. Contact the council tax team about your wibble.";
        let d = doc("Council tax wibble", text, Format::Html);
        let tags = tag_with(&fw, &d, "/web/ct.html", None);
        assert!(tags.statements.is_empty(), "{tags:#?}");
        // ...nor offered as a near miss: the gated model part is too small to show.
        assert!(tags.near_misses.is_empty(), "{tags:#?}");
    }

    #[test]
    fn longest_cue_wins_and_neutral_shadows() {
        let fw = Framework::builtin();
        let tagger = Tagger::new(&fw);
        let hits = tagger
            .body
            .hits(" the cqc assessment of risk assessment and carers assessments ");
        let sel = tagger.body.select(&hits, Family::Topic);
        let phrases: Vec<&str> = sel.iter().map(|h| tagger.body.phrase(h)).collect();
        assert!(phrases.contains(&"cqc assessment"));
        assert!(phrases.contains(&"risk assessment"));
        assert!(phrases.contains(&"carers assessment"));
        assert!(!phrases.contains(&"assessment"));
    }

    #[test]
    fn direct_payments_page_is_qs2_only() {
        let text = "Direct payments\nA direct payment is money from the council so you can arrange your own care and support instead of us arranging it. You need an assessment first to show you have eligible needs. Direct payments give you choice and control and help you stay independent. You can use a direct payment to employ a personal assistant. If you have concerns about abuse, tell us. We review direct payments regularly to check the money is spent on your support plan. Direct payments can pay for a personal assistant, a day activity or equipment.";
        let d = doc(
            "Direct payments | Anyshire County Council",
            text,
            Format::Html,
        );
        let tags = tag(&d, "/share/web/direct-payments.html", Some("/share"));
        assert_eq!(codes(&tags), ["QS2"], "{tags:#?}");
        assert_eq!(tags.doc_type, "web_page");
        assert_eq!(tags.categories[0].code, "processes");
        let reasons = &tags.statements[0].reasons;
        assert!(
            reasons
                .iter()
                .any(|r| r.place == "title" && r.phrase.starts_with("direct payment")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.place == "body" && r.phrase == "direct payment" && r.count >= 4),
            "{reasons:?}"
        );
    }

    #[test]
    fn other_council_services_get_no_statement() {
        let text = "Council tax reduction\nYou may get council tax reduction if you are on a low income. Apply online. Council tax bills are sent in March. If you are a carer or disabled you may get a discount. Contact the council tax team.";
        let d = doc("Council tax reduction", text, Format::Html);
        let tags = tag(&d, "/web/ctr.html", None);
        assert!(tags.statements.is_empty(), "{tags:#?}");
        assert!(tags.relevance < 0.5);
    }

    #[test]
    fn survey_of_carers_is_peoples_experience() {
        let text = "Survey of Adult Carers in England 2024: results\nCarers told us they want more information and advice. 62% of respondents were satisfied with support. \"I felt listened to at my carer's assessment,\" one carer said. Carers said breaks matter. My mum's social worker was kind.";
        let d = doc("Carers survey results 2024", text, Format::Pdf);
        let tags = tag(&d, "/s/Surveys/carers.pdf", Some("/s"));
        assert_eq!(
            tags.categories[0].code, "people_experience",
            "{:#?}",
            tags.categories
        );
        assert_eq!(tags.doc_type, "survey_report");
        assert_eq!(tags.date.as_deref(), Some("2024-07-01"));
    }

    #[test]
    fn long_report_tags_what_it_dwells_on() {
        let market = "The market position statement sets out commissioning intentions for home care and care homes. Fee rates and the cost of care were agreed with providers to support market sustainability and sufficiency of provision. ";
        let mut text = String::from("Cabinet report: home care recommissioning\n");
        for _ in 0..12 {
            text.push_str(market);
            text.push('\n');
        }
        text.push_str("Safeguarding is everyone's business. Carers are important. Governance is through the board.\n");
        let d = doc(
            "Cabinet report: home care recommissioning",
            &text,
            Format::Docx,
        );
        let tags = tag(&d, "/x/report.docx", None);
        assert_eq!(codes(&tags), ["QS4"], "{tags:#?}");
        let qs4 = &tags.statements[0];
        assert!(qs4.coverage.unwrap().0 >= 1);
        assert!(qs4.passage.is_some());
    }

    #[test]
    fn a_statement_beside_the_leading_one_needs_the_further_threshold() {
        let text = "Direct payments\nA direct payment is money from the council so you can arrange \
            your own care and support instead of the council arranging it. You can use a direct \
            payment to employ a personal assistant or buy support from an agency. A support \
            organisation can help you manage your direct payment account. You may have to pay \
            towards your care after a financial assessment of your income and savings. The \
            charging policy sets out how the financial assessment works out your contribution \
            after your needs assessment.\n";
        let d = doc("Direct payments", text, Format::Html);
        let mut fw = Framework::builtin();
        fw.scoring.further_threshold = 0.0;
        let all = tag_with(&fw, &d, "/x/dp.html", None);
        assert!(all.statements.len() >= 2, "{all:#?}");
        let (lead, second) = (&all.statements[0], &all.statements[1]);
        assert!(second.score < lead.score, "{all:#?}");
        assert!(
            second.coverage.unwrap().0 < fw.scoring.further_passages,
            "{all:#?}"
        );

        fw.scoring.further_threshold = second.score + 0.01;
        let fewer = tag_with(&fw, &d, "/x/dp.html", None);
        assert_eq!(codes(&fewer)[0], lead.code);
        assert!(!codes(&fewer).contains(&second.code.as_str()), "{fewer:#?}");
        // Passages of its own lift the bar: a report's section on a second statement counts.
        fw.scoring.further_passages = 0;
        let sections = tag_with(&fw, &d, "/x/dp.html", None);
        assert!(
            codes(&sections).contains(&second.code.as_str()),
            "{sections:#?}"
        );
    }

    #[test]
    fn long_report_with_a_section_on_each_statement_is_evidence_for_each() {
        // An annual report or CQC assessment gives each statement its own section: each is
        // a small share of the whole, but a section of several passages is discussion, not a
        // passing mention. Judged on the whole document's density, only two were tagged.
        let sections = [
            "Safeguarding adults concerns were triaged by the hub and Section 42 enquiries followed within two days.",
            "The market position statement sets out commissioning intentions for home care and care homes.",
            "Needs assessments and carers assessments were completed within 28 days of the first contact.",
            "Reablement helped people regain independence at home, and equipment and adaptations were fitted quickly.",
            "Hospital discharge and transitions from children's services to adult services were planned early.",
            "Learning from complaints and co-production with people who use services shaped the improvement plan.",
        ];
        let filler = [
            "The team met monthly through the year in the civic centre and in local libraries.",
            "Figures in this section are drawn from the council's own records for the year to March.",
        ];
        let mut text = String::from("Adult social care annual report\n");
        for s in sections {
            for k in 0..20 {
                text.push_str(&format!("{s} {}\n", filler[k % 2]));
            }
        }
        let d = doc("Adult social care annual report", &text, Format::Pdf);
        let tags = tag(&d, "/x/annual-report.pdf", None);
        let mut got = codes(&tags);
        got.sort();
        assert_eq!(got, ["QS1", "QS2", "QS4", "QS6", "QS7", "QS9"], "{tags:#?}");
    }

    #[test]
    fn an_ombudsman_decision_carries_the_complainants_experience() {
        let text = "Summary: Ms X complained the Council delayed assessing her son's needs and \
            producing a support plan. This caused Ms X distress and uncertainty. The Council has \
            agreed to apologise to Ms X and her son.\nThe complaint\nMs X complained the Council \
            delayed carrying out a needs assessment which she requested in November. She says \
            this left her son without support and caused the family significant frustration.\n";
        let d = doc("Decision 24 016 356", text, Format::Html);
        let tags = tag(&d, "/x/decision.html", None);
        assert_eq!(tags.categories[0].code, "people_experience", "{tags:#?}");
    }

    #[test]
    fn headings_are_found_in_plain_text_even_before_a_score_line() {
        // As a CQC assessment report reads once its PDF is text.
        let text = "Local authority assessment\nSafeguarding\nScore: 3\n3 - Evidence shows a good \
            standard\nThe local authority had effective systems to protect people from abuse and \
            neglect.\nContact us\nMenu\nHome\n";
        let found = derive_headings(text);
        let level = |t: &str| found.iter().find(|h| h.text == t).map(|h| h.level);
        assert_eq!(level("Safeguarding"), Some(2), "{found:?}");
        // The lines between it and its findings are under it: they do not end its section.
        assert_eq!(level("Score: 3"), Some(3), "{found:?}");
        assert_eq!(
            level("3 - Evidence shows a good standard"),
            Some(3),
            "{found:?}"
        );
        // A run of short lines with no paragraph after it is a menu, not headings.
        assert_eq!(level("Menu"), None, "{found:?}");
        // Up to two short lines may come between a heading and its paragraph, not three.
        let text = "Safeguarding\nScore: 3\nGood\nRated\nThe local authority had effective \
            systems to protect people from abuse.\n";
        assert!(
            derive_headings(text)
                .iter()
                .all(|h| h.text != "Safeguarding")
        );
    }

    #[test]
    fn headings_mark_sections() {
        let text = "Safeguarding\nConcerns are triaged by the hub and Section 42 enquiries follow. Making Safeguarding Personal guides every enquiry.\n";
        let mut d = doc("Annual report", text, Format::Docx);
        d.headings = vec![Heading {
            level: 1,
            text: "Safeguarding".into(),
            offset: 0,
        }];
        let tags = tag(&d, "/x/a.docx", None);
        let qs7 = tags
            .statements
            .iter()
            .find(|s| s.code == "QS7")
            .expect("QS7 tagged");
        assert!(qs7.reasons.iter().any(|r| r.place == "heading"));
    }

    #[test]
    fn a_list_of_statement_names_is_not_discussion_of_each() {
        let text = "CQC rates council as requires improvement\nThe regulator rated Anyshire County Council's adult social care as requires improvement. It looked at assessing needs, supporting people to live healthier lives, equity in experiences and outcomes, care provision, integration and continuity, partnerships and communities, safe systems, pathways and transitions, safeguarding, governance, management and sustainability, and learning, improvement and innovation.\nInspectors found long waits for safeguarding enquiries: section 42 enquiries were delayed and adults at risk of abuse waited weeks. The safeguarding adults board has asked for a plan.";
        let d = doc("CQC rates council", text, Format::Html);
        let tags = tag(&d, "/web/news.html", None);
        assert_eq!(codes(&tags), ["QS7"], "{tags:#?}");
    }

    #[test]
    fn generic_statements_need_adult_social_care_context() {
        let text = "Partnership guidance\nThis guidance explains how the council works in partnership. Partnership working with the voluntary and community sector, joint working with partners and a partnership board help us deliver shared objectives for the district. Every partnership is reviewed each year by the partnership board.";
        let d = doc("Partnership guidance", text, Format::Html);
        let tags = tag(&d, "/web/partnerships.html", None);
        assert!(tags.statements.is_empty(), "{tags:#?}");
        // The same page about adult social care is QS5 evidence.
        let text = text.replace("for the district", "for adults with care and support needs");
        let d = doc("Partnership guidance", &text, Format::Html);
        let tags = tag(&d, "/web/partnerships.html", None);
        assert_eq!(codes(&tags), ["QS5"], "{tags:#?}");
    }

    #[test]
    fn folders_below_the_root_only() {
        assert_eq!(
            folder_names(
                "/share/ASC/Safeguarding/Policies/p.docx",
                Some("/share/ASC")
            ),
            ["Safeguarding", "Policies"]
        );
        assert_eq!(folder_names("/a/b/c/d/e/f.pdf", None), ["c", "d", "e"]);
    }
}
