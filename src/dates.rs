//! Which date a document speaks for, and when it is due for review.
//!
//! The file's own timestamps say when it was copied, not what it is about: a 2021 protocol
//! copied to a new share last week is still a 2021 protocol. So the date comes from the content
//! first (a labelled "Date:", "Approved", "Last updated"), then from the title ("Annual Report
//! 2023-24"), then from the document's properties, then from an unlabelled date near the top.
//! Dates are read the British way (12/03/2024 is 12 March).

use crate::framework::DateLabels;
use crate::textnorm::normalize_phrase;
use jiff::civil::Date;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Day,
    Month,
    Year,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    Issued,
    Review,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FoundDate {
    /// The first day of the period named ("March 2024" -> 2024-03-01).
    pub start: Date,
    /// The last day of the period named ("March 2024" -> 2024-03-31).
    pub end: Date,
    pub precision: Precision,
    pub offset: usize,
    pub label: Label,
}

/// Where a document's date came from, for the reasons shown to people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// A labelled date in the text ("Approved: 12 March 2024").
    Content,
    /// A date or period in the title or file name.
    Title,
    /// The document's own properties (created / modified).
    Properties,
    /// An unlabelled date near the top of the text.
    ContentUnlabelled,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocDates {
    pub date: Option<Date>,
    pub source: Option<DateSource>,
    pub review: Option<Date>,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_number(word: &str) -> Option<i8> {
    let w = word.to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    for (i, name) in full.iter().enumerate() {
        if name.starts_with(&w) || w == "sept" && i == 8 {
            return Some(i as i8 + 1);
        }
    }
    MONTHS.iter().position(|m| *m == w).map(|i| i as i8 + 1)
}

/// ASCII word boundaries and digits on purpose: with Unicode `\b` the regex engine's fast DFA
/// gives up at the first non-ASCII character (a curly quote, a dash), and the slow fallback
/// was half of all tagging time.
fn date_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?ix)
            (?-u:\b)(?P<iy>(?:19|20)[0-9]{2})[-/.](?P<im>[0-9]{1,2})[-/.](?P<id>[0-9]{1,2})(?-u:\b)
          | (?-u:\b)(?P<nd>[0-9]{1,2})[/.\-](?P<nm>[0-9]{1,2})[/.\-](?P<ny>(?:19|20)[0-9]{2})(?-u:\b)
          | (?-u:\b)(?P<dd>[0-9]{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<dm>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?,?\s+(?P<dy>(?:19|20)[0-9]{2})(?-u:\b)
          | (?-u:\b)(?P<am>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+(?P<ad>[0-9]{1,2})(?:st|nd|rd|th)?,?\s+(?P<ay>(?:19|20)[0-9]{2})(?-u:\b)
          | (?-u:\b)(?P<mm>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?[\s\-]+(?P<my>(?:19|20)[0-9]{2})(?-u:\b)
          | (?-u:\b)(?P<fy1>(?:19|20)[0-9]{2})\s*(?:-|/|–|to)\s*(?P<fy2>[0-9]{2}|(?:19|20)[0-9]{2})(?-u:\b)
            ",
        )
        .expect("date regex compiles")
    })
}

fn ymd(y: i64, m: i64, d: i64) -> Option<Date> {
    Date::new(y.try_into().ok()?, m.try_into().ok()?, d.try_into().ok()?).ok()
}

/// All dates in `text`, with what the words before each say about it.
pub fn find_dates(text: &str, labels: &DateLabels) -> Vec<FoundDate> {
    let mut out = Vec::new();
    for caps in date_regex().captures_iter(text) {
        let m = caps.get(0).expect("whole match");
        let num = |name: &str| caps.name(name).and_then(|v| v.as_str().parse::<i64>().ok());
        let word = |name: &str| caps.name(name).and_then(|v| month_number(v.as_str()));
        let found = if let (Some(y), Some(mo), Some(d)) = (num("iy"), num("im"), num("id")) {
            ymd(y, mo, d).map(|d| (d, d, Precision::Day))
        } else if let (Some(d), Some(mo), Some(y)) = (num("nd"), num("nm"), num("ny")) {
            ymd(y, mo, d).map(|d| (d, d, Precision::Day))
        } else if let (Some(d), Some(mo), Some(y)) = (num("dd"), word("dm"), num("dy")) {
            ymd(y, mo as i64, d).map(|d| (d, d, Precision::Day))
        } else if let (Some(mo), Some(d), Some(y)) = (word("am"), num("ad"), num("ay")) {
            ymd(y, mo as i64, d).map(|d| (d, d, Precision::Day))
        } else if let (Some(mo), Some(y)) = (word("mm"), num("my")) {
            ymd(y, mo as i64, 1).map(|d| (d, d.last_of_month(), Precision::Month))
        } else if let (Some(y1), Some(y2)) = (num("fy1"), num("fy2")) {
            // A financial year, 2023-24: April 2023 to March 2024.
            let y2 = if y2 < 100 { (y1 / 100) * 100 + y2 } else { y2 };
            if y2 == y1 + 1 {
                ymd(y1, 4, 1)
                    .zip(ymd(y2, 3, 31))
                    .map(|(s, e)| (s, e, Precision::Year))
            } else {
                None
            }
        } else {
            None
        };
        let Some((start, end, precision)) = found else {
            continue;
        };
        out.push(FoundDate {
            start,
            end,
            precision,
            offset: m.start(),
            label: label_before(text, m.start(), labels),
        });
    }
    out
}

/// What the words just before a date (on the same line or the line before, as in a table of
/// document properties) call it.
fn label_before(text: &str, offset: usize, labels: &DateLabels) -> Label {
    let mut start = offset.saturating_sub(60);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let before = &text[start..offset];
    // Only the current line, or the previous one when the date starts its line.
    let lines: Vec<&str> = before.split('\n').collect();
    let mut context = lines.last().copied().unwrap_or("").to_string();
    if context.trim().is_empty() && lines.len() >= 2 {
        context = lines[lines.len() - 2].to_string();
    }
    let norm = normalize_phrase(&context);
    // The label must end the context (allowing a colon and "on"/"of"/"is").
    let trimmed = norm
        .trim_end_matches(" on")
        .trim_end_matches(" of")
        .trim_end_matches(" is")
        .trim_end_matches(" from")
        .trim_end_matches(" by")
        .to_string();
    let ends_with = |label: &str| {
        trimmed == label
            || trimmed.ends_with(&format!(" {label}"))
            || norm.ends_with(&format!(" {label}"))
            || norm == label
    };
    let near = |label: &str| {
        // "Approved by Joint Board, 15 March 2021": the label leads the line.
        norm.starts_with(&format!("{label} "))
            && norm.split(' ').count() <= label.split(' ').count() + 8
    };
    if labels.review.iter().any(|l| ends_with(l) || near(l)) {
        return Label::Review;
    }
    if labels.issued.iter().any(|l| ends_with(l) || near(l)) {
        return Label::Issued;
    }
    Label::None
}

/// A date from a title or file name: "Minutes January 2025", "Annual Report 2023-24",
/// "Carers Survey 2024".
pub fn title_date(title: &str, labels: &DateLabels) -> Option<Date> {
    if let Some(d) = find_dates(title, labels).into_iter().max_by_key(|d| d.end) {
        return Some(match d.precision {
            Precision::Day => d.start,
            // A period speaks for its end: the 2023-24 annual report covers to March 2024.
            _ => d.end,
        });
    }
    static YEAR: OnceLock<Regex> = OnceLock::new();
    let re =
        YEAR.get_or_init(|| Regex::new(r"(?-u:\b)(?:19|20)[0-9]{2}(?-u:\b)").expect("year regex"));
    re.find_iter(title)
        .filter_map(|m| m.as_str().parse::<i64>().ok())
        .max()
        // A bare year: its middle, so a 2024 survey is neither fresher nor staler than it is.
        .and_then(|y| ymd(y, 7, 1))
}

/// Parses an ISO 8601 date or date-time as documents store them in their properties.
pub fn parse_property_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let head = s.get(..10)?;
    let d: Date = head.parse().ok()?;
    // Office writes 1601-01-01 or 1900-01-01 for "never set"; ignore dates no document has.
    (d.year() >= 1980).then_some(d)
}

/// The date a document speaks for and its review date.
pub fn document_dates(
    text: &str,
    title: Option<&str>,
    file_name: &str,
    created: Option<&str>,
    modified: Option<&str>,
    labels: &DateLabels,
) -> DocDates {
    let found = find_dates(text, labels);
    let review = found
        .iter()
        .find(|d| d.label == Label::Review)
        .map(|d| d.end);
    let head_limit = (text.len() / 3).max(4000);
    let issued = found
        .iter()
        .filter(|d| d.label == Label::Issued)
        .filter(|d| review.is_none_or(|r| d.start <= r))
        .max_by_key(|d| (d.offset < head_limit, d.start))
        .map(|d| d.start);
    if let Some(date) = issued {
        return DocDates {
            date: Some(date),
            source: Some(DateSource::Content),
            review,
        };
    }
    let from_title = title
        .and_then(|t| title_date(t, labels))
        .or_else(|| title_date(file_name, labels));
    if let Some(date) = from_title {
        return DocDates {
            date: Some(date),
            source: Some(DateSource::Title),
            review,
        };
    }
    let props = modified
        .and_then(parse_property_date)
        .into_iter()
        .chain(created.and_then(parse_property_date))
        .max();
    if let Some(date) = props {
        return DocDates {
            date: Some(date),
            source: Some(DateSource::Properties),
            review,
        };
    }
    let top = found
        .iter()
        .filter(|d| d.offset < 3000 && d.label == Label::None && d.precision != Precision::Year)
        .filter(|d| review.is_none_or(|r| d.start <= r))
        .map(|d| d.start)
        .max();
    DocDates {
        date: top,
        source: top.map(|_| DateSource::ContentUnlabelled),
        review,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Framework;

    fn labels() -> DateLabels {
        Framework::builtin().dates
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn formats_councils_write() {
        let l = labels();
        let cases = [
            ("12/03/2024", "2024-03-12"),
            ("2024-03-12", "2024-03-12"),
            ("12th March 2024", "2024-03-12"),
            ("12 Sept 2024", "2024-09-12"),
            ("March 12, 2024", "2024-03-12"),
            ("March 2024", "2024-03-01"),
            ("Mar-2024", "2024-03-01"),
        ];
        for (text, want) in cases {
            let found = find_dates(text, &l);
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].start, d(want), "{text}");
        }
        let fy = find_dates("Annual report 2023-24", &l);
        assert_eq!((fy[0].start, fy[0].end), (d("2023-04-01"), d("2024-03-31")));
        assert!(find_dates("31/02/2024 and 2024-13-01", &l).is_empty());
    }

    #[test]
    fn labels_decide_what_a_date_means() {
        let l = labels();
        let text = "Version 1.2\nDate: March 2021\nApproved by Joint Board, 15 March 2021\nReview date: March 2023\n\nBody mentions 1 April 2019.";
        let dates = document_dates(text, None, "x.rtf", None, None, &l);
        assert_eq!(dates.date, Some(d("2021-03-15")));
        assert_eq!(dates.source, Some(DateSource::Content));
        assert_eq!(dates.review, Some(d("2023-03-31")));

        let table = "Review date\n\tApril 2024\t\nLast updated: 3 May 2022";
        let dates = document_dates(table, None, "x", None, None, &l);
        assert_eq!(dates.review, Some(d("2024-04-30")));
        assert_eq!(dates.date, Some(d("2022-05-03")));
    }

    #[test]
    fn title_then_properties_then_top_of_text() {
        let l = labels();
        let t = document_dates(
            "no dates here",
            Some("Board Minutes January 2025"),
            "m.docx",
            None,
            None,
            &l,
        );
        assert_eq!(
            (t.date, t.source),
            (Some(d("2025-01-31")), Some(DateSource::Title))
        );
        let t = document_dates(
            "nothing",
            None,
            "Carers Survey Results 2024.xlsx",
            None,
            None,
            &l,
        );
        assert_eq!(t.date, Some(d("2024-07-01")));
        let p = document_dates(
            "nothing",
            Some("Policy"),
            "p.docx",
            Some("2022-04-12T09:30:00Z"),
            Some("1601-01-01T00:00:00Z"),
            &l,
        );
        assert_eq!(
            (p.date, p.source),
            (Some(d("2022-04-12")), Some(DateSource::Properties))
        );
        let u = document_dates(
            "Meeting held\n4 June 2024\nItems",
            Some("Notes"),
            "n.txt",
            None,
            None,
            &l,
        );
        assert_eq!(u.date, Some(d("2024-06-04")));
    }
}
