//! The text model: a linear classifier over words and word pairs, trained on labelled real
//! pages (`schema/model/train.py`), whose probabilities the tagger blends with its cue scores.
//!
//! Cues say what a phrase means; they miss pages that discuss a statement in words nobody wrote
//! a cue for ("people waiting", "regain skills", "fair cost of care"). The model has read the
//! words real pages use, and on pages it was not trained on the blend tags better than cues
//! alone (BENCHMARKS.md). It is data, like the framework: a council can retrain it on its own
//! labelled documents, or drop it. Its reasons are the words that weighed most.
//!
//! Words are read as `train.py` reads them: the normal form of [`crate::textnorm`], the first
//! `max_words` words, words of one character dropped, pairs of neighbouring kept words;
//! tf-idf with a log of the count, scaled to unit length.

use rustc_hash::FxHashMap;
use serde::Deserialize;

/// One yes/no model per label (statements) or one model choosing among labels (categories).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub labels: Vec<String>,
    pub intercept: Vec<f32>,
    /// `weights[label][term]`.
    pub weights: Vec<Vec<f32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    format: String,
    #[serde(default)]
    about: String,
    max_words: usize,
    terms: Vec<String>,
    idf: Vec<f32>,
    statements: Head,
    #[serde(default)]
    categories: Option<Head>,
}

#[derive(Debug, Clone)]
pub struct TextModel {
    pub about: String,
    max_words: usize,
    terms: Vec<String>,
    index: FxHashMap<String, u32>,
    idf: Vec<f32>,
    pub statements: Head,
    pub categories: Option<Head>,
}

/// A document as the model sees it: term index and tf-idf weight, unit length.
pub struct Features(Vec<(u32, f32)>);

/// A label's probability and the words that pushed it up most.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub probability: f32,
    pub top_terms: Vec<String>,
}

pub const FORMAT: &str = "evidex-text-model/1";

impl TextModel {
    /// Reads a model; the message says which field is wrong (the caller adds the file).
    pub fn parse(src: &str) -> Result<TextModel, String> {
        let raw: RawModel = serde_json::from_str(src).map_err(|e| e.to_string())?;
        if raw.format != FORMAT {
            return Err(format!(
                "format: expected \"{FORMAT}\", found \"{}\"",
                raw.format
            ));
        }
        let n = raw.terms.len();
        if raw.idf.len() != n {
            return Err(format!("idf: {} values for {n} terms", raw.idf.len()));
        }
        for (name, head) in [
            ("statements", Some(&raw.statements)),
            ("categories", raw.categories.as_ref()),
        ] {
            let Some(h) = head else { continue };
            if h.intercept.len() != h.labels.len() || h.weights.len() != h.labels.len() {
                return Err(format!(
                    "{name}: {} labels, {} intercepts, {} weight rows",
                    h.labels.len(),
                    h.intercept.len(),
                    h.weights.len()
                ));
            }
            if let Some((i, w)) = h.weights.iter().enumerate().find(|(_, w)| w.len() != n) {
                return Err(format!(
                    "{name}.weights[{i}]: {} values for {n} terms",
                    w.len()
                ));
            }
        }
        let index = raw
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        Ok(TextModel {
            about: raw.about,
            max_words: raw.max_words.max(1),
            terms: raw.terms,
            index,
            idf: raw.idf,
            statements: raw.statements,
            categories: raw.categories,
        })
    }

    /// Features of each stretch of `size` words of a long text (a last stretch shorter than
    /// half that is left out), or none for a text of up to one and a half stretches, which is
    /// read whole only: the model was trained on pages of a few hundred words, so a long
    /// report is read a stretch at a time as well as whole.
    pub fn window_features(&self, normalized: &str, size: usize) -> Vec<Features> {
        let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
        let size = size.max(1);
        if words.len() <= size * 3 / 2 {
            return Vec::new();
        }
        words
            .chunks(size)
            .filter(|c| c.len() * 2 >= size)
            .map(|c| self.features_of(c.iter().copied()))
            .collect()
    }

    /// Features of text already in normal form (" word word ... ").
    pub fn features(&self, normalized: &str) -> Features {
        self.features_of(normalized.split(' ').filter(|w| !w.is_empty()))
    }

    fn features_of<'a>(&self, words: impl Iterator<Item = &'a str>) -> Features {
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        let mut pair = String::new();
        let mut prev: Option<&str> = None;
        for w in words
            .take(self.max_words)
            .filter(|w| w.chars().nth(1).is_some())
        {
            if let Some(&i) = self.index.get(w) {
                *counts.entry(i).or_default() += 1;
            }
            if let Some(p) = prev {
                pair.clear();
                pair.push_str(p);
                pair.push(' ');
                pair.push_str(w);
                if let Some(&i) = self.index.get(pair.as_str()) {
                    *counts.entry(i).or_default() += 1;
                }
            }
            prev = Some(w);
        }
        let mut v: Vec<(u32, f32)> = counts
            .into_iter()
            .map(|(i, n)| (i, (1.0 + (n as f32).ln()) * self.idf[i as usize]))
            .collect();
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, x) in &mut v {
                *x /= norm;
            }
        }
        v.sort_unstable_by_key(|(i, _)| *i);
        Features(v)
    }

    /// Each statement label's probability, with the words that weighed most for it.
    pub fn statements(&self, f: &Features) -> Vec<(String, Judgement)> {
        let h = &self.statements;
        self.statement_probabilities(f)
            .into_iter()
            .enumerate()
            .map(|(l, p)| (h.labels[l].clone(), self.judgement(p, &h.weights[l], f)))
            .collect()
    }

    /// The statement labels, in the order of `statement_probabilities`.
    pub fn statement_labels(&self) -> &[String] {
        &self.statements.labels
    }

    /// Each statement's probability alone, without the terms behind it: for the stretches of a
    /// long document, where only the best stretch's terms are shown.
    pub fn statement_probabilities(&self, f: &Features) -> Vec<f32> {
        (0..self.statements.labels.len())
            .map(|l| self.statement_probability(l, f))
            .collect()
    }

    /// Statement `l`'s judgement (probability and the terms that weighed most).
    pub fn statement_judgement(&self, l: usize, f: &Features) -> Judgement {
        let p = self.statement_probability(l, f);
        self.judgement(p, &self.statements.weights[l], f)
    }

    fn statement_probability(&self, l: usize, f: &Features) -> f32 {
        let h = &self.statements;
        1.0 / (1.0 + (-(h.intercept[l] + dot(&h.weights[l], f))).exp())
    }

    /// The category probabilities (they sum to 1), if the model has a category head.
    pub fn categories(&self, f: &Features) -> Vec<(String, Judgement)> {
        let Some(h) = &self.categories else {
            return Vec::new();
        };
        let z: Vec<f32> = (0..h.labels.len())
            .map(|l| h.intercept[l] + dot(&h.weights[l], f))
            .collect();
        let max = z.iter().cloned().fold(f32::MIN, f32::max);
        let e: Vec<f32> = z.iter().map(|z| (z - max).exp()).collect();
        let sum: f32 = e.iter().sum();
        (0..h.labels.len())
            .map(|l| {
                (
                    h.labels[l].clone(),
                    self.judgement(e[l] / sum, &h.weights[l], f),
                )
            })
            .collect()
    }

    fn judgement(&self, probability: f32, weights: &[f32], f: &Features) -> Judgement {
        let mut contrib: Vec<(f32, u32)> =
            f.0.iter()
                .map(|(i, x)| (weights[*i as usize] * x, *i))
                .filter(|(c, _)| *c > 0.0)
                .collect();
        contrib.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        Judgement {
            probability,
            top_terms: contrib
                .into_iter()
                .take(4)
                .map(|(_, i)| self.terms[i as usize].clone())
                .collect(),
        }
    }
}

fn dot(w: &[f32], f: &Features) -> f32 {
    f.0.iter().map(|(i, x)| w[*i as usize] * x).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::textnorm::normalize;

    fn tiny() -> TextModel {
        TextModel::parse(
            r#"{"format":"evidex-text-model/1","max_words":100,
                "terms":["direct","direct payments","payments","abuse"],
                "idf":[1.5,2.0,1.5,2.0],
                "statements":{"labels":["QS2","QS7"],"intercept":[-1.0,-1.0],
                  "weights":[[1.0,3.0,1.0,-1.0],[0.0,0.0,0.0,4.0]]}}"#,
        )
        .unwrap()
    }

    #[test]
    fn words_and_pairs_weigh_toward_their_statement() {
        let m = tiny();
        let f = m.features(&normalize("Direct payments: a guide").text);
        let j = m.statements(&f);
        assert_eq!(j[0].0, "QS2");
        assert!(j[0].1.probability > 0.8, "{j:?}");
        assert_eq!(j[0].1.top_terms[0], "direct payments");
        assert!(j[1].1.probability < 0.3, "{j:?}");
        let f = m.features(&normalize("Abuse and neglect").text);
        assert!(m.statements(&f)[1].1.probability > 0.8);
    }

    #[test]
    fn text_without_known_words_gets_the_prior() {
        let m = tiny();
        let f = m.features(&normalize("Bin collection days").text);
        let p = m.statements(&f)[0].1.probability;
        assert!((p - 1.0 / (1.0 + 1f32.exp())).abs() < 1e-6);
    }

    #[test]
    fn a_malformed_model_names_the_field() {
        let e = TextModel::parse(
            r#"{"format":"evidex-text-model/1","max_words":10,"terms":["a"],"idf":[1.0,2.0],
                "statements":{"labels":[],"intercept":[],"weights":[]}}"#,
        )
        .unwrap_err();
        assert!(e.contains("idf"), "{e}");
    }

    #[test]
    fn a_long_text_is_read_in_stretches_and_a_short_tail_is_left_out() {
        let m = TextModel::parse(
            r#"{"format":"evidex-text-model/1","max_words":100,"terms":["aa","bb"],
                "idf":[1.0,1.0],
                "statements":{"labels":["X"],"intercept":[0.0],"weights":[[1.0,0.0]]}}"#,
        )
        .unwrap();
        let text = format!(" {} {} cc ", "aa ".repeat(4), "bb ".repeat(4));
        let w = m.window_features(&text, 4);
        // "aa aa aa aa", "bb bb bb bb"; the one-word tail "cc" is under half a stretch.
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].0, vec![(0, 1.0)]);
        assert_eq!(w[1].0, vec![(1, 1.0)]);
        // Six words are one and a half stretches of four: read whole only.
        assert!(m.window_features(" aa aa aa aa bb bb ", 4).is_empty());
    }

    #[test]
    fn features_are_computed_the_way_the_trainer_computes_them() {
        // Same numbers as scikit-learn's TfidfVectorizer(sublinear_tf, smooth idf, l2) for
        // a two-word text where both words and their pair are terms.
        let m = TextModel::parse(
            r#"{"format":"evidex-text-model/1","max_words":100,"terms":["aa","aa bb","bb"],
                "idf":[1.0,2.0,1.0],
                "statements":{"labels":["X"],"intercept":[0.0],"weights":[[1.0,0.0,0.0]]}}"#,
        )
        .unwrap();
        let f = m.features(" aa bb aa x ");
        // aa twice (1 + ln 2), pair "aa bb" once (idf 2), bb once; "bb aa" unknown, "x" dropped.
        let a = 1.0 + 2f32.ln();
        let norm = (a * a + 4.0 + 1.0).sqrt();
        assert!((f.0[0].1 - a / norm).abs() < 1e-6);
        assert!((f.0[1].1 - 2.0 / norm).abs() < 1e-6);
    }
}
