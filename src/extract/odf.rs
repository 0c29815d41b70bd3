//! OpenDocument text, spreadsheets and presentations (ODT, ODS, ODP).
//!
//! All three keep their text in `content.xml` as `text:p`/`text:h` paragraphs, headers and
//! footers in `styles.xml` and properties in `meta.xml`, so one streaming walk serves them:
//! sheets and slides become units, footnote bodies and comments are read, tracked deletions are
//! not. (calamine reads ODS too, but densifies the used range; this walk streams.)

use super::xml::{self, Ev, attr, local};
use super::zipsafe::SafeZip;
use super::{Extracted, Failure, Format, Limits, TextBuilder, UnitKind};
use std::collections::HashMap;
use std::io::{Read, Seek};

struct OdfWalker {
    /// Depth inside `text:p` / `text:h`; text outside paragraphs is layout whitespace.
    para: usize,
    /// Depth inside table cells: a cell's paragraphs stay on the row's line.
    cell: usize,
    /// Depth inside content that is not current text (tracked changes, note citations,
    /// annotation metadata).
    skip: usize,
    heading: Option<(u8, usize)>,
    slide: usize,
    title_frame: Option<usize>,
    titles: Vec<(usize, String)>,
    units: bool,
}

fn skipped(name: &str) -> bool {
    matches!(
        name,
        "tracked-changes" | "note-citation" | "creator" | "date" | "sequence-decls" | "forms"
    )
}

impl OdfWalker {
    fn new(units: bool) -> OdfWalker {
        OdfWalker {
            para: 0,
            cell: 0,
            skip: 0,
            heading: None,
            slide: 0,
            title_frame: None,
            titles: Vec::new(),
            units,
        }
    }

    fn event(&mut self, b: &mut TextBuilder, ev: Ev<'_, '_>) {
        match ev {
            Ev::Open(e) => {
                let name = local(e);
                if self.skip > 0 {
                    if skipped(name) {
                        self.skip += 1;
                    }
                    return;
                }
                if skipped(name) {
                    self.skip = 1;
                    return;
                }
                match name {
                    "table-cell" | "covered-table-cell" => self.cell += 1,
                    "p" | "h" => {
                        if self.para == 0 && self.cell == 0 {
                            b.newline();
                        } else {
                            b.separate(' ');
                        }
                        self.para += 1;
                        if name == "h" && self.heading.is_none() {
                            let level = attr(e, "text:outline-level")
                                .and_then(|v| v.parse::<u8>().ok())
                                .unwrap_or(1);
                            self.heading = Some((level, b.len()));
                        }
                    }
                    "s" if self.para > 0 => {
                        let n = attr(e, "text:c")
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(1)
                            .min(16);
                        for _ in 0..n {
                            b.push_char(' ');
                        }
                    }
                    "tab" if self.para > 0 => b.push_char('\t'),
                    "line-break" if self.para > 0 => b.push_char('\n'),
                    "note-body" => b.separate(' '),
                    "table" if self.units && attr(e, "table:name").is_some() => {
                        let sheet = attr(e, "table:name").unwrap_or_default();
                        if b.meta().format == Format::Ods {
                            b.begin_unit(UnitKind::Sheet, format!("sheet {sheet}"));
                        }
                    }
                    "page" if self.units => {
                        self.slide += 1;
                        b.begin_unit(UnitKind::Slide, format!("slide {}", self.slide));
                    }
                    "frame" if attr(e, "presentation:class").as_deref() == Some("title") => {
                        self.title_frame = Some(b.len());
                    }
                    _ => {}
                }
            }
            Ev::Close(name) => {
                if self.skip > 0 {
                    if skipped(name) {
                        self.skip -= 1;
                    }
                    return;
                }
                match name {
                    "p" | "h" => {
                        self.para = self.para.saturating_sub(1);
                        if self.para == 0 {
                            if name == "h"
                                && let Some((level, start)) = self.heading.take()
                            {
                                let start = start.min(b.len());
                                let text = b.meta().text[start..].to_string();
                                b.heading(level, &text, start);
                            }
                            if self.cell > 0 {
                                b.separate(' ');
                            } else {
                                b.newline();
                            }
                        }
                    }
                    "table-cell" | "covered-table-cell" => {
                        self.cell = self.cell.saturating_sub(1);
                        b.end_cell();
                    }
                    "table-row" => b.newline(),
                    "frame" => {
                        if let Some(start) = self.title_frame.take() {
                            let start = start.min(b.len());
                            let text = super::collapse_ws(&b.meta().text[start..]);
                            if !text.is_empty() {
                                self.titles.push((start, text));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Ev::Text(t) => {
                if self.skip == 0 && self.para > 0 {
                    b.push_str(t);
                }
            }
        }
    }
}

fn read_meta<R: Read + Seek>(zip: &mut SafeZip<R>, b: &mut TextBuilder, limits: &Limits) {
    let Ok(Some(meta)) = zip.read_part_string("meta.xml") else {
        return;
    };
    let mut field: Option<String> = None;
    let mut values: HashMap<String, String> = HashMap::new();
    let _ = xml::walk(&meta, limits.max_xml_depth, |ev| match ev {
        Ev::Open(e) => field = Some(local(e).to_string()),
        Ev::Close(_) => field = None,
        Ev::Text(t) => {
            if let Some(f) = &field {
                values.entry(f.clone()).or_default().push_str(t);
            }
        }
    });
    let m = b.meta();
    let mut take = |k: &str| values.remove(k).filter(|v| !v.trim().is_empty());
    m.title = take("title");
    m.author = take("initial-creator").or_else(|| take("creator"));
    m.subject = take("subject");
    m.keywords = take("keyword");
    m.created = take("creation-date").map(|s| s.trim().to_string());
    m.modified = take("date").map(|s| s.trim().to_string());
}

pub fn extract<R: Read + Seek>(
    zip: &mut SafeZip<R>,
    format: Format,
    limits: &Limits,
) -> Result<Extracted, Failure> {
    if zip.has("META-INF/manifest.xml")
        && let Ok(Some(manifest)) = zip.read_part_string("META-INF/manifest.xml")
        && manifest.contains("encryption-data")
    {
        return Err(Failure::encrypted("password-protected OpenDocument file"));
    }
    let mut b = TextBuilder::new(format, limits);
    read_meta(zip, &mut b, limits);
    let content = zip
        .read_part_string("content.xml")?
        .ok_or_else(|| Failure::damaged("damaged OpenDocument file: no content.xml"))?;
    let mut w = OdfWalker::new(true);
    if format == Format::Odt {
        b.begin_unit(UnitKind::Part, "body");
    }
    if let Some(warn) = xml::walk(&content, limits.max_xml_depth, |ev| w.event(&mut b, ev))? {
        b.warn(format!("content: {warn}"));
    }
    for (offset, title) in std::mem::take(&mut w.titles) {
        b.heading(1, &title, offset);
    }
    b.end_unit();
    if format != Format::Ods
        && let Some(styles) = zip.read_part_string("styles.xml")?
    {
        let mut sub = TextBuilder::new(format, limits);
        let mut sw = OdfWalker::new(false);
        let _ = xml::walk(&styles, limits.max_xml_depth, |ev| sw.event(&mut sub, ev));
        let text = sub.finish().text;
        let mut lines: Vec<&str> = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        if !lines.is_empty() {
            b.begin_unit(UnitKind::Part, "headers and footers");
            b.push_str(&lines.join("\n"));
            b.end_unit();
        }
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn package(parts: &[(&str, &str)]) -> SafeZip<Cursor<Vec<u8>>> {
        let mut buf = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in parts {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data.as_bytes()).unwrap();
        }
        w.finish().unwrap();
        SafeZip::open(Cursor::new(buf.into_inner()), &Limits::default()).unwrap()
    }

    #[test]
    fn odt_text_notes_headers_and_meta() {
        let content = r#"<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text>
          <text:tracked-changes><text:changed-region><text:deletion><text:p>gone words</text:p></text:deletion></text:changed-region></text:tracked-changes>
          <text:h text:outline-level="2">Eligibility</text:h>
          <text:p>Care Act<text:s text:c="2"/>assessment<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>Footnote body text</text:p></text:note-body></text:note> done.</text:p>
          </office:text></office:body></office:document-content>"#;
        let styles = r#"<office:document-styles xmlns:office="o" xmlns:style="s" xmlns:text="t"><style:master-page><style:header><text:p>Anyshire header</text:p></style:header><style:footer><text:p>Anyshire header</text:p></style:footer></style:master-page></office:document-styles>"#;
        let meta = r#"<office:document-meta xmlns:office="o" xmlns:dc="d" xmlns:meta="m"><office:meta><dc:title>Assessment procedure</dc:title><meta:creation-date>2024-11-02T10:00:00</meta:creation-date></office:meta></office:document-meta>"#;
        let mut zip = package(&[
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", content),
            ("styles.xml", styles),
            ("meta.xml", meta),
        ]);
        let out = extract(&mut zip, Format::Odt, &Limits::default()).unwrap();
        assert!(!out.text.contains("gone words"));
        assert!(
            out.text
                .contains("Care Act  assessment Footnote body text done."),
            "{}",
            out.text
        );
        assert_eq!(out.text.matches("Anyshire header").count(), 1);
        assert_eq!(out.headings[0].text, "Eligibility");
        assert_eq!(out.headings[0].level, 2);
        assert_eq!(out.title.as_deref(), Some("Assessment procedure"));
        assert_eq!(out.created.as_deref(), Some("2024-11-02T10:00:00"));
    }

    #[test]
    fn ods_sheets_become_units() {
        let content = r#"<office:document-content xmlns:office="o" xmlns:text="t" xmlns:table="tb"><office:body><office:spreadsheet>
          <table:table table:name="KPIs"><table:table-row><table:table-cell><text:p>Measure</text:p></table:table-cell><table:table-cell><text:p>Value</text:p></table:table-cell></table:table-row></table:table>
          <table:table table:name="Budget"><table:table-row><table:table-cell><text:p>Overspend</text:p></table:table-cell></table:table-row></table:table>
          </office:spreadsheet></office:body></office:document-content>"#;
        let mut zip = package(&[("content.xml", content)]);
        let out = extract(&mut zip, Format::Ods, &Limits::default()).unwrap();
        assert!(out.text.contains("Measure\tValue"));
        let o = out.text.find("Overspend").unwrap();
        assert_eq!(out.unit_at(o).unwrap().label, "sheet Budget");
    }
}
