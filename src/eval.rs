//! Measuring the tagger against a labelled set: precision, recall and F1 per statement,
//! macro-F1, evidence-category accuracy and document-type accuracy.
//!
//! The labelled sets live in `eval/dev` (the cues were tuned on it) and `eval/test` (held out);
//! `labels.csv` has `file,statements,category,doc_type,date,notes`, statements `;`-separated.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub file: String,
    pub statements: Vec<String>,
    pub category: String,
    pub doc_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub file: String,
    pub statements: Vec<String>,
    pub category: Option<String>,
    pub doc_type: String,
    /// Extraction failed: nothing was predicted.
    pub failed: bool,
}

/// Splits one CSV line, honouring quotes.
fn csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

pub fn read_labels(path: &Path) -> Result<Vec<Label>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header = csv_line(
        lines
            .next()
            .ok_or_else(|| format!("{}: empty", path.display()))?,
    );
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| format!("{}: no '{name}' column", path.display()))
    };
    let (f, s, c, t) = (
        col("file")?,
        col("statements")?,
        col("category")?,
        col("doc_type")?,
    );
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cells = csv_line(line);
        let get = |k: usize| {
            cells
                .get(k)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        if get(f).is_empty() {
            return Err(format!("{}:{}: no file name", path.display(), i + 2));
        }
        out.push(Label {
            file: get(f),
            statements: get(s)
                .split(';')
                .map(|x| x.trim().to_ascii_uppercase())
                .filter(|x| !x.is_empty())
                .collect(),
            category: get(c),
            doc_type: get(t),
        });
    }
    Ok(out)
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StatementMetric {
    pub code: String,
    pub support: usize,
    pub predicted: usize,
    pub true_positives: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Metrics {
    pub documents: usize,
    pub statements: Vec<StatementMetric>,
    pub macro_f1: f64,
    pub micro_f1: f64,
    /// Share of documents whose primary category matches the label.
    pub category_accuracy: f64,
    pub doc_type_accuracy: f64,
    /// Documents labelled with no statement that got none.
    pub negatives_correct: usize,
    pub negatives: usize,
    pub exact_match: f64,
    pub failed: usize,
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

pub fn score(codes: &[String], labels: &[Label], preds: &[Prediction]) -> Metrics {
    let by_file: BTreeMap<&str, &Prediction> = preds.iter().map(|p| (p.file.as_str(), p)).collect();
    let mut stats: Vec<StatementMetric> = Vec::new();
    let (mut tp_all, mut fp_all, mut fn_all) = (0usize, 0usize, 0usize);
    for code in codes {
        let (mut tp, mut fp, mut fneg) = (0, 0, 0);
        for l in labels {
            let gold = l.statements.contains(code);
            let pred = by_file
                .get(l.file.as_str())
                .is_some_and(|p| p.statements.contains(code));
            match (gold, pred) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fneg += 1,
                (false, false) => {}
            }
        }
        tp_all += tp;
        fp_all += fp;
        fn_all += fneg;
        let precision = if tp + fp == 0 {
            0.0
        } else {
            tp as f64 / (tp + fp) as f64
        };
        let recall = if tp + fneg == 0 {
            0.0
        } else {
            tp as f64 / (tp + fneg) as f64
        };
        stats.push(StatementMetric {
            code: code.clone(),
            support: tp + fneg,
            predicted: tp + fp,
            true_positives: tp,
            precision,
            recall,
            f1: f1(precision, recall),
        });
    }
    let counted: Vec<&StatementMetric> = stats
        .iter()
        .filter(|s| s.support + s.predicted > 0)
        .collect();
    let macro_f1 = if counted.is_empty() {
        0.0
    } else {
        counted.iter().map(|s| s.f1).sum::<f64>() / counted.len() as f64
    };
    let micro_p = if tp_all + fp_all == 0 {
        0.0
    } else {
        tp_all as f64 / (tp_all + fp_all) as f64
    };
    let micro_r = if tp_all + fn_all == 0 {
        0.0
    } else {
        tp_all as f64 / (tp_all + fn_all) as f64
    };
    let n = labels.len().max(1) as f64;
    let cat_ok = labels
        .iter()
        .filter(|l| {
            by_file
                .get(l.file.as_str())
                .and_then(|p| p.category.as_deref())
                == Some(l.category.as_str())
        })
        .count();
    let type_ok = labels
        .iter()
        .filter(|l| {
            by_file
                .get(l.file.as_str())
                .is_some_and(|p| p.doc_type == l.doc_type)
        })
        .count();
    let negatives: Vec<&Label> = labels.iter().filter(|l| l.statements.is_empty()).collect();
    let negatives_correct = negatives
        .iter()
        .filter(|l| {
            by_file
                .get(l.file.as_str())
                .is_none_or(|p| p.statements.is_empty())
        })
        .count();
    let exact = labels
        .iter()
        .filter(|l| {
            let mut gold = l.statements.clone();
            gold.sort();
            let mut pred = by_file
                .get(l.file.as_str())
                .map(|p| p.statements.clone())
                .unwrap_or_default();
            pred.sort();
            gold == pred
        })
        .count();
    Metrics {
        documents: labels.len(),
        statements: stats,
        macro_f1,
        micro_f1: f1(micro_p, micro_r),
        category_accuracy: cat_ok as f64 / n,
        doc_type_accuracy: type_ok as f64 / n,
        negatives_correct,
        negatives: negatives.len(),
        exact_match: exact as f64 / n,
        failed: preds.iter().filter(|p| p.failed).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_with_quotes() {
        assert_eq!(
            csv_line(r#"a.md,QS1;QS2,processes,"note, with ""comma""""#),
            ["a.md", "QS1;QS2", "processes", "note, with \"comma\""]
        );
    }

    #[test]
    fn metrics_per_statement_and_macro() {
        let codes: Vec<String> = ["QS1", "QS2"].iter().map(|s| s.to_string()).collect();
        let labels = vec![
            Label {
                file: "a".into(),
                statements: vec!["QS1".into()],
                category: "processes".into(),
                doc_type: "policy".into(),
            },
            Label {
                file: "b".into(),
                statements: vec!["QS2".into()],
                category: "partners".into(),
                doc_type: "report".into(),
            },
            Label {
                file: "c".into(),
                statements: vec![],
                category: "processes".into(),
                doc_type: "web_page".into(),
            },
        ];
        let preds = vec![
            Prediction {
                file: "a".into(),
                statements: vec!["QS1".into(), "QS2".into()],
                category: Some("processes".into()),
                doc_type: "policy".into(),
                failed: false,
            },
            Prediction {
                file: "b".into(),
                statements: vec!["QS2".into()],
                category: Some("processes".into()),
                doc_type: "report".into(),
                failed: false,
            },
            Prediction {
                file: "c".into(),
                statements: vec![],
                category: Some("processes".into()),
                doc_type: "web_page".into(),
                failed: false,
            },
        ];
        let m = score(&codes, &labels, &preds);
        assert_eq!(m.statements[0].f1, 1.0);
        assert!((m.statements[1].precision - 0.5).abs() < 1e-9);
        assert!((m.macro_f1 - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-9);
        assert!((m.category_accuracy - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(m.negatives_correct, 1);
    }
}
