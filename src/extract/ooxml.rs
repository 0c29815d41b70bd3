//! Word (DOCX) and PowerPoint (PPTX) packages, read with `zip` + `quick-xml`.
//!
//! docx-rs is a writer whose reader misses footnotes, endnotes, core properties and the headers
//! of every section but the last, and has no size limits (see the commit that added this file
//! and `../shared/notes/extraction-and-indexing.md`), so reading is done here: every part that
//! holds text, in reading order, with text boxes once (the VML fallback copy is skipped),
//! tracked deletions and field codes left out, and pages cut where Word last laid them out.

use super::xml::{self, Ev, attr, local, qname};
use super::zipsafe::{SafeZip, resolve_target};
use super::{Extracted, Failure, Format, Limits, TextBuilder, UnitKind};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

/// A relationship from a part's `.rels`.
struct Rel {
    id: String,
    kind: String,
    target: String,
}

fn rels_path(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

fn read_rels<R: Read + Seek>(
    zip: &mut SafeZip<R>,
    part: &str,
    limits: &Limits,
) -> Result<Vec<Rel>, Failure> {
    let Some(xml_text) = zip.read_part_string(&rels_path(part))? else {
        return Ok(Vec::new());
    };
    let mut rels = Vec::new();
    xml::walk(&xml_text, limits.max_xml_depth, |ev| {
        if let Ev::Open(e) = ev
            && local(e) == "Relationship"
            && attr(e, "TargetMode").as_deref() != Some("External")
            && let (Some(id), Some(kind), Some(target)) =
                (attr(e, "Id"), attr(e, "Type"), attr(e, "Target"))
        {
            rels.push(Rel {
                id,
                kind,
                target: resolve_target(part, &target),
            });
        }
    })?;
    Ok(rels)
}

/// Title, author, subject, keywords and dates from `docProps/core.xml`.
pub(crate) fn read_core_props<R: Read + Seek>(
    zip: &mut SafeZip<R>,
    b: &mut TextBuilder,
    limits: &Limits,
) {
    let Ok(Some(core)) = zip.read_part_string("docProps/core.xml") else {
        return;
    };
    let mut field: Option<String> = None;
    let mut values: HashMap<String, String> = HashMap::new();
    let _ = xml::walk(&core, limits.max_xml_depth, |ev| match ev {
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
    m.author = take("creator");
    m.subject = take("subject");
    m.keywords = take("keywords");
    m.created = take("created").map(|s| s.trim().to_string());
    m.modified = take("modified").map(|s| s.trim().to_string());
}

/// Heading levels of paragraph styles, from `word/styles.xml` (names and outline levels), so
/// custom and localised heading styles are recognised too.
fn heading_styles<R: Read + Seek>(zip: &mut SafeZip<R>, limits: &Limits) -> HashMap<String, u8> {
    let mut levels = HashMap::new();
    let Ok(Some(styles)) = zip.read_part_string("word/styles.xml") else {
        return levels;
    };
    let mut current: Option<String> = None;
    let _ = xml::walk(&styles, limits.max_xml_depth, |ev| {
        if let Ev::Open(e) = ev {
            match local(e) {
                "style" => current = attr(e, "w:styleId"),
                "name" => {
                    if let (Some(id), Some(name)) = (&current, attr(e, "w:val"))
                        && let Some(level) = heading_level_from_name(&name)
                    {
                        levels.insert(id.clone(), level);
                    }
                }
                "outlineLvl" => {
                    if let (Some(id), Some(v)) = (&current, attr(e, "w:val"))
                        && let Ok(n) = v.parse::<u8>()
                        && n < 9
                    {
                        levels.entry(id.clone()).or_insert(n + 1);
                    }
                }
                _ => {}
            }
        }
    });
    levels
}

fn heading_level_from_name(name: &str) -> Option<u8> {
    let n = name.to_ascii_lowercase().replace(' ', "");
    if n == "title" {
        return Some(1);
    }
    let digits = n.strip_prefix("heading")?;
    digits.parse::<u8>().ok().filter(|d| (1..=9).contains(d))
}

/// Walks one WordprocessingML part (body, header, footnotes...) into the builder.
struct WordWalker<'s> {
    styles: &'s HashMap<String, u8>,
    /// >0 while inside content that must not be read (VML fallback, deleted text, field code).
    skip: usize,
    in_text: bool,
    in_run: usize,
    /// Depth inside table cells: a cell's paragraphs stay on the row's line.
    in_cell: usize,
    para_start: usize,
    para_level: Option<u8>,
    /// Page breaks seen (only counted in the body).
    pages: u32,
    track_pages: bool,
}

impl WordWalker<'_> {
    fn event(&mut self, b: &mut TextBuilder, ev: Ev<'_, '_>) {
        match ev {
            Ev::Open(e) => {
                let name = local(e);
                if self.skip > 0 {
                    if is_skipped(qname(e), name) {
                        self.skip += 1;
                    }
                    return;
                }
                if is_skipped(qname(e), name) {
                    self.skip = 1;
                    return;
                }
                match name {
                    "p" => {
                        if self.in_cell > 0 {
                            b.separate(' ');
                        } else {
                            b.newline();
                        }
                        self.para_start = b.len();
                        self.para_level = None;
                    }
                    "pStyle" => {
                        if let Some(id) = attr(e, "w:val") {
                            self.para_level = self
                                .styles
                                .get(&id)
                                .copied()
                                .or_else(|| heading_level_from_name(&id));
                        }
                    }
                    "outlineLvl" => {
                        if let Some(n) = attr(e, "w:val").and_then(|v| v.parse::<u8>().ok())
                            && n < 9
                        {
                            self.para_level = Some(n + 1);
                        }
                    }
                    "r" => self.in_run += 1,
                    "tc" => self.in_cell += 1,
                    "t" => self.in_text = true,
                    "tab" if self.in_run > 0 => b.push_char('\t'),
                    "br" | "cr" if self.in_run > 0 => {
                        if self.track_pages && attr(e, "w:type").as_deref() == Some("page") {
                            self.page_break(b);
                        } else {
                            b.push_char('\n');
                        }
                    }
                    "lastRenderedPageBreak" if self.track_pages => self.page_break(b),
                    "noBreakHyphen" | "softHyphen" if self.in_run > 0 => b.push_char('-'),
                    _ => {}
                }
            }
            Ev::Close(name) => {
                if self.skip > 0 {
                    if is_skipped_local(name) {
                        self.skip -= 1;
                    }
                    return;
                }
                match name {
                    "t" => self.in_text = false,
                    "r" => self.in_run = self.in_run.saturating_sub(1),
                    "p" => {
                        if let Some(level) = self.para_level.take() {
                            let start = self.para_start.min(b.len());
                            let text = b.meta().text[start..].to_string();
                            b.heading(level, &text, start);
                        }
                        if self.in_cell > 0 {
                            b.separate(' ');
                        } else {
                            b.newline();
                        }
                    }
                    "tc" => {
                        self.in_cell = self.in_cell.saturating_sub(1);
                        b.end_cell();
                    }
                    "tr" => b.newline(),
                    _ => {}
                }
            }
            Ev::Text(t) => {
                if self.skip == 0 && self.in_text {
                    b.push_str(t);
                }
            }
        }
    }

    fn page_break(&mut self, b: &mut TextBuilder) {
        self.pages += 1;
        // A paragraph's heading text must not straddle units; the page starts at the break.
        b.begin_unit(UnitKind::Page, format!("p. {}", self.pages));
        self.para_start = b.len();
    }
}

/// Elements whose content is not part of the document's current text.
fn is_skipped(qname: &str, local: &str) -> bool {
    qname == "mc:Fallback" || is_skipped_local(local)
}

fn is_skipped_local(local: &str) -> bool {
    matches!(local, "Fallback" | "delText" | "instrText" | "delInstrText")
}

/// The package's main part, from the root relationships (`_rels/.rels`); some producers
/// (Word Online among them) name it other than `word/document.xml`.
fn main_part<R: Read + Seek>(
    zip: &mut SafeZip<R>,
    limits: &Limits,
    default: &str,
) -> Result<String, Failure> {
    if zip.has(default) {
        return Ok(default.to_string());
    }
    Ok(read_rels(zip, "", limits)?
        .into_iter()
        .find(|r| r.kind.ends_with("/officeDocument"))
        .map(|r| r.target)
        .unwrap_or_else(|| default.to_string()))
}

pub fn extract_docx<R: Read + Seek>(
    zip: &mut SafeZip<R>,
    limits: &Limits,
) -> Result<Extracted, Failure> {
    let mut b = TextBuilder::new(Format::Docx, limits);
    read_core_props(zip, &mut b, limits);
    let styles = heading_styles(zip, limits);
    let main = main_part(zip, limits, "word/document.xml")?;
    let body = zip
        .read_part_string(&main)?
        .ok_or_else(|| Failure::damaged("damaged DOCX: no main document part"))?;
    let rels = read_rels(zip, &main, limits)?;

    let mut w = WordWalker {
        styles: &styles,
        skip: 0,
        in_text: false,
        in_run: 0,
        in_cell: 0,
        para_start: 0,
        para_level: None,
        pages: 1,
        track_pages: true,
    };
    b.begin_unit(UnitKind::Page, "p. 1");
    if let Some(warn) = xml::walk(&body, limits.max_xml_depth, |ev| w.event(&mut b, ev))? {
        b.warn(format!("body: {warn}"));
    }
    b.end_unit();
    if w.pages == 1 {
        // Word did not record where pages fall: one unit for the body, not a fake "p. 1".
        if let Some(u) = b.meta().units.last_mut() {
            u.label = "body".into();
            u.kind = UnitKind::Part;
        }
    }

    // Headers and footers of every section, then notes and comments.
    let mut hf: Vec<String> = rels
        .iter()
        .filter(|r| r.kind.ends_with("/header") || r.kind.ends_with("/footer"))
        .map(|r| r.target.clone())
        .collect();
    if hf.is_empty() {
        hf = zip
            .names()
            .iter()
            .filter(|n| {
                (n.starts_with("word/header") || n.starts_with("word/footer"))
                    && n.ends_with(".xml")
            })
            .cloned()
            .collect();
    }
    hf.sort_by_key(|n| natural_key(n));
    hf.dedup();
    let by_kind = |suffix: &str, fallback: &str| -> String {
        rels.iter()
            .find(|r| r.kind.ends_with(suffix))
            .map(|r| r.target.clone())
            .unwrap_or_else(|| fallback.to_string())
    };
    let groups: Vec<(&str, Vec<String>)> = vec![
        ("headers and footers", hf),
        (
            "footnotes",
            vec![by_kind("/footnotes", "word/footnotes.xml")],
        ),
        ("endnotes", vec![by_kind("/endnotes", "word/endnotes.xml")]),
        ("comments", vec![by_kind("/comments", "word/comments.xml")]),
    ];
    for (label, parts) in groups {
        let mut seen_text: HashSet<String> = HashSet::new();
        let mut opened = false;
        for part in parts {
            let Some(xml_text) = zip.read_part_string(&part)? else {
                continue;
            };
            // Collect this part alone first, so identical first/odd/even headers appear once.
            let mut sub = TextBuilder::new(Format::Docx, limits);
            let mut pw = WordWalker {
                styles: &styles,
                skip: 0,
                in_text: false,
                in_run: 0,
                in_cell: 0,
                para_start: 0,
                para_level: None,
                pages: 1,
                track_pages: false,
            };
            if let Some(warn) =
                xml::walk(&xml_text, limits.max_xml_depth, |ev| pw.event(&mut sub, ev))?
            {
                b.warn(format!("{part}: {warn}"));
            }
            let text = sub.finish().text;
            let key = super::collapse_ws(&text);
            if key.is_empty() || !seen_text.insert(key) {
                continue;
            }
            if !opened {
                b.begin_unit(UnitKind::Part, label);
                opened = true;
            }
            b.push_str(&text);
            b.newline();
        }
        if opened {
            b.end_unit();
        }
    }
    Ok(b.finish())
}

/// Sorts `header10.xml` after `header2.xml`.
fn natural_key(s: &str) -> (String, u64) {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let stem: String = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    (stem, digits.parse().unwrap_or(0))
}

/// Walks DrawingML text (slides, notes): paragraphs, runs, table cells, and which shapes are
/// titles or placeholders to leave out.
struct SlideWalker {
    in_text: bool,
    shape_start: usize,
    shape_title: bool,
    /// Inside a placeholder that carries no content (slide number, date, footer).
    shape_skip: bool,
    skip_kinds: &'static [&'static str],
    titles: Vec<(usize, String)>,
}

impl SlideWalker {
    fn new(skip_kinds: &'static [&'static str]) -> SlideWalker {
        SlideWalker {
            in_text: false,
            shape_start: 0,
            shape_title: false,
            shape_skip: false,
            skip_kinds,
            titles: Vec::new(),
        }
    }

    fn event(&mut self, b: &mut TextBuilder, ev: Ev<'_, '_>) {
        match ev {
            Ev::Open(e) => match local(e) {
                "sp" => {
                    self.shape_start = b.len();
                    self.shape_title = false;
                    self.shape_skip = false;
                }
                "ph" => {
                    let kind = attr(e, "type").unwrap_or_default();
                    self.shape_title = kind == "title" || kind == "ctrTitle";
                    self.shape_skip = self.skip_kinds.contains(&kind.as_str());
                }
                "t" => self.in_text = true,
                "br" => b.push_char('\n'),
                _ => {}
            },
            Ev::Close(name) => match name {
                "t" => self.in_text = false,
                "p" => b.newline(),
                "tc" => b.separate('\t'),
                "tr" => b.newline(),
                "sp" => {
                    if self.shape_title {
                        let start = self.shape_start.min(b.len());
                        let text = super::collapse_ws(&b.meta().text[start..]);
                        if !text.is_empty() {
                            self.titles.push((start, text));
                        }
                    }
                    self.shape_title = false;
                    self.shape_skip = false;
                }
                _ => {}
            },
            Ev::Text(t) => {
                if self.in_text && !self.shape_skip {
                    b.push_str(t);
                }
            }
        }
    }
}

pub fn extract_pptx<R: Read + Seek>(
    zip: &mut SafeZip<R>,
    limits: &Limits,
) -> Result<Extracted, Failure> {
    let mut b = TextBuilder::new(Format::Pptx, limits);
    read_core_props(zip, &mut b, limits);
    let pres = "ppt/presentation.xml";
    let pres_xml = zip
        .read_part_string(pres)?
        .ok_or_else(|| Failure::damaged("damaged PPTX: no presentation part"))?;
    let rels = read_rels(zip, pres, limits)?;
    let mut order: Vec<String> = Vec::new();
    xml::walk(&pres_xml, limits.max_xml_depth, |ev| {
        if let Ev::Open(e) = ev
            && local(e) == "sldId"
            && let Some(rid) = attr(e, "r:id")
            && let Some(rel) = rels.iter().find(|r| r.id == rid)
        {
            order.push(rel.target.clone());
        }
    })?;
    if order.is_empty() {
        order = zip
            .names()
            .iter()
            .filter(|n| n.starts_with("ppt/slides/slide") && n.ends_with(".xml"))
            .cloned()
            .collect();
        order.sort_by_key(|n| natural_key(n));
    }
    for (i, slide) in order.iter().enumerate() {
        if b.is_full() {
            break;
        }
        let Some(xml_text) = zip.read_part_string(slide)? else {
            b.warn(format!("slide {} is missing ({slide})", i + 1));
            continue;
        };
        b.begin_unit(UnitKind::Slide, format!("slide {}", i + 1));
        let mut w = SlideWalker::new(&["sldNum", "dt", "ftr", "hdr"]);
        if let Some(warn) = xml::walk(&xml_text, limits.max_xml_depth, |ev| w.event(&mut b, ev))? {
            b.warn(format!("slide {}: {warn}", i + 1));
        }
        for (offset, title) in w.titles {
            b.heading(1, &title, offset);
        }
        let notes = read_rels(zip, slide, limits)?
            .into_iter()
            .find(|r| r.kind.ends_with("/notesSlide"));
        if let Some(notes) = notes
            && let Some(notes_xml) = zip.read_part_string(&notes.target)?
        {
            b.newline();
            let mut nw = SlideWalker::new(&["sldNum", "dt", "ftr", "hdr", "sldImg"]);
            if let Some(warn) =
                xml::walk(&notes_xml, limits.max_xml_depth, |ev| nw.event(&mut b, ev))?
            {
                b.warn(format!("notes of slide {}: {warn}", i + 1));
            }
        }
    }
    b.end_unit();
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

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

    #[test]
    fn docx_reads_body_tables_textboxes_once_and_notes() {
        let body = format!(
            r#"<w:document {W}><w:body>
            <w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Safeguarding policy</w:t></w:r></w:p>
            <w:p><w:r><w:t xml:space="preserve">Hello </w:t></w:r><w:r><w:t>world</w:t><w:tab/><w:t>tabbed</w:t></w:r>
              <w:r><mc:AlternateContent><mc:Choice><w:txbxContent><w:p><w:r><w:t>box text</w:t></w:r></w:p></w:txbxContent></mc:Choice>
              <mc:Fallback><w:txbxContent><w:p><w:r><w:t>box text</w:t></w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r></w:p>
            <w:p><w:del><w:r><w:delText>deleted words</w:delText></w:r></w:del><w:r><w:instrText>PAGE</w:instrText></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell one</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>cell two</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            <w:p><w:r><w:lastRenderedPageBreak/><w:t>second page</w:t></w:r></w:p>
            </w:body></w:document>"#
        );
        let rels = r#"<Relationships><Relationship Id="rId1" Type="http://x/header" Target="header1.xml"/><Relationship Id="rId2" Type="http://x/header" Target="header2.xml"/><Relationship Id="rId3" Type="http://x/footnotes" Target="footnotes.xml"/></Relationships>"#;
        let h1 =
            format!(r#"<w:hdr {W}><w:p><w:r><w:t>Section one header</w:t></w:r></w:p></w:hdr>"#);
        let h2 = format!(r#"<w:hdr {W}><w:p><w:r><w:t>Appendix header</w:t></w:r></w:p></w:hdr>"#);
        let notes = format!(
            r#"<w:footnotes {W}><w:footnote><w:p><w:r><w:t>A footnote.</w:t></w:r></w:p></w:footnote></w:footnotes>"#
        );
        let core = r#"<cp:coreProperties xmlns:cp="c" xmlns:dc="d" xmlns:dcterms="t"><dc:title>Adult Safeguarding Policy</dc:title><dc:creator>Jo Bloggs</dc:creator><dcterms:created>2024-04-01T09:00:00Z</dcterms:created></cp:coreProperties>"#;
        let mut zip = package(&[
            ("word/document.xml", &body),
            ("word/_rels/document.xml.rels", rels),
            ("word/header1.xml", &h1),
            ("word/header2.xml", &h2),
            ("word/footnotes.xml", &notes),
            ("docProps/core.xml", core),
        ]);
        let out = extract_docx(&mut zip, &Limits::default()).unwrap();
        assert_eq!(out.title.as_deref(), Some("Adult Safeguarding Policy"));
        assert_eq!(out.author.as_deref(), Some("Jo Bloggs"));
        assert_eq!(out.created.as_deref(), Some("2024-04-01T09:00:00Z"));
        assert!(out.text.contains("Hello world\ttabbed"), "{}", out.text);
        assert_eq!(out.text.matches("box text").count(), 1, "{}", out.text);
        assert!(!out.text.contains("deleted words"));
        assert!(!out.text.contains("PAGE"));
        assert!(out.text.contains("cell one\tcell two"));
        assert!(out.text.contains("Section one header"));
        assert!(out.text.contains("Appendix header"));
        assert!(out.text.contains("A footnote."));
        assert_eq!(out.headings[0].text, "Safeguarding policy");
        let second = out.text.find("second page").unwrap();
        assert_eq!(out.unit_at(second).unwrap().label, "p. 2");
        let note = out.text.find("A footnote").unwrap();
        assert_eq!(out.unit_at(note).unwrap().label, "footnotes");
    }

    #[test]
    fn pptx_reads_slides_in_order_with_notes() {
        let pres = r#"<p:presentation xmlns:p="p" xmlns:r="r"><p:sldIdLst><p:sldId r:id="rId3"/><p:sldId r:id="rId2"/></p:sldIdLst></p:presentation>"#;
        let rels = r#"<Relationships><Relationship Id="rId2" Type="x/slide" Target="slides/slide1.xml"/><Relationship Id="rId3" Type="x/slide" Target="slides/slide2.xml"/></Relationships>"#;
        let s = |title: &str, body: &str| {
            format!(
                r#"<p:sld xmlns:p="p" xmlns:a="a"><p:sp><p:nvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>{title}</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:txBody><a:p><a:r><a:t>{body}</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:nvSpPr><p:nvPr><p:ph type="sldNum"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:fld><a:t>99</a:t></a:fld></a:p></p:txBody></p:sp></p:sld>"#
            )
        };
        let s1 = s("Later slide", "second in order");
        let s2 = s("Opening slide", "first in order");
        let s2rels = r#"<Relationships><Relationship Id="rId1" Type="x/notesSlide" Target="../notesSlides/notesSlide1.xml"/></Relationships>"#;
        let notes = r#"<p:notes xmlns:p="p" xmlns:a="a"><p:sp><p:txBody><a:p><a:r><a:t>speaker note words</a:t></a:r></a:p></p:txBody></p:sp></p:notes>"#;
        let mut zip = package(&[
            ("ppt/presentation.xml", pres),
            ("ppt/_rels/presentation.xml.rels", rels),
            ("ppt/slides/slide1.xml", &s1),
            ("ppt/slides/slide2.xml", &s2),
            ("ppt/slides/_rels/slide2.xml.rels", s2rels),
            ("ppt/notesSlides/notesSlide1.xml", notes),
        ]);
        let out = extract_pptx(&mut zip, &Limits::default()).unwrap();
        let first = out.text.find("first in order").unwrap();
        let second = out.text.find("second in order").unwrap();
        assert!(first < second);
        assert!(!out.text.contains("99"));
        let note = out.text.find("speaker note words").unwrap();
        assert_eq!(out.unit_at(note).unwrap().label, "slide 1");
        assert_eq!(out.unit_at(second).unwrap().label, "slide 2");
        assert_eq!(out.headings[0].text, "Opening slide");
    }
}
