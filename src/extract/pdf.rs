//! PDF text, page by page, so results can cite the page.
//!
//! Measured on the shared real-world corpus (57 PDFs, word recall against pdftotext; the
//! commit adding this file has the table): pdf-extract 0.12 found 22% of the words in
//! aggregate (73% mean per file) and panicked on a 117-page pdfTeX book; lopdf 88%; unpdf 95%
//! (98% mean) with an explicit "encrypted" error. So unpdf is the engine, and pdf-extract and
//! lopdf are kept as second opinions for files unpdf cannot parse. All three run inside the
//! worker process, whose time and memory limits catch what they do wrong.
//!
//! unpdf is slow on the PDFs councils have most of, those a word processor exported: 50 ms
//! for a 6-page LibreOffice export, twice pdftotext, and 96% of all extraction time on the
//! benchmark drive. lopdf's plain reading takes 10 ms on the same files with the same words,
//! but it glues words that a PDF spaces by position, skips text inside form XObjects, and
//! misreads fonts without a Unicode map. So lopdf goes first only on pages without those
//! features, and its text is kept only when it reads as prose ([`reads_as_prose`]); any
//! doubt, and unpdf reads the file as before.

use super::{Extracted, Failure, Format, Limits, Reason, TextBuilder, UnitKind};
use std::path::Path;

fn is_encryption_error(e: &unpdf::Error) -> bool {
    matches!(
        e.kind(),
        unpdf::ErrorKind::Encrypted | unpdf::ErrorKind::InvalidPassword
    )
}

/// Whether the file carries an `/Encrypt` dictionary in a trailer (a cheap byte scan, used to
/// name the failure right when every engine gives up).
fn declares_encryption(bytes: &[u8]) -> bool {
    bytes.windows(8).any(|w| w == b"/Encrypt")
}

pub fn extract(path: &Path, limits: &Limits) -> Result<Extracted, Failure> {
    let bytes = std::fs::read(path)?;
    extract_bytes(&bytes, limits)
}

pub fn extract_bytes(bytes: &[u8], limits: &Limits) -> Result<Extracted, Failure> {
    if let Some(out) = fast_path(bytes, limits) {
        return Ok(out);
    }
    let options = unpdf::ParseOptions {
        // Workers are the parallelism; a thread pool per file would only add memory.
        parallel: false,
        // Keep invisible OCR text layers of scanned-and-OCRed PDFs: that text is the evidence.
        suppress_low_confidence_ocr: false,
        extract_resources: false,
        ..unpdf::ParseOptions::default()
    };
    let primary = unpdf::parse_bytes_with_options(bytes, options);
    let mut out = match primary {
        Ok(doc) => from_unpdf(&doc, limits),
        Err(e) if is_encryption_error(&e) => {
            return Err(Failure::encrypted("encrypted PDF"));
        }
        Err(e) => match fallback(bytes, limits) {
            Some(out) => {
                let mut out = out;
                out.warnings
                    .push(format!("read with a fallback engine: {e}"));
                out
            }
            None if declares_encryption(bytes) => {
                return Err(Failure::encrypted("encrypted PDF"));
            }
            None => return Err(Failure::damaged(format!("damaged PDF: {e}"))),
        },
    };
    if out.word_count() == 0 {
        // Before calling it a scan, let the other engines look: some files defeat one parser.
        if let Some(other) = fallback(bytes, limits)
            && other.word_count() > 0
        {
            out = other;
        }
    }
    if out.word_count() == 0 {
        return Err(Failure::new(
            Reason::NoText,
            "no text layer: a scan or image-only PDF (OCR is not available)",
        ));
    }
    Ok(out)
}

fn from_unpdf(doc: &unpdf::Document, limits: &Limits) -> Extracted {
    let mut b = TextBuilder::new(Format::Pdf, limits);
    {
        let m = b.meta();
        m.title = doc.metadata.title.clone();
        m.author = doc.metadata.author.clone();
        m.subject = doc.metadata.subject.clone();
        m.keywords = doc.metadata.keywords.clone();
        m.created = doc.metadata.created.map(|d| d.to_rfc3339());
        m.modified = doc.metadata.modified.map(|d| d.to_rfc3339());
    }
    for page in &doc.pages {
        if b.is_full() {
            break;
        }
        b.begin_unit(UnitKind::Page, format!("p. {}", page.number));
        for block in &page.elements {
            let mut text = String::new();
            block.append_plain_text(&mut text);
            if text.trim().is_empty() {
                continue;
            }
            let offset = b.len();
            b.push_str(&text);
            b.newline();
            if let unpdf::Block::Paragraph(p) = block
                && let Some(level) = p.style.heading_level
            {
                b.heading(level, &text, offset);
            }
        }
    }
    b.end_unit();
    b.finish()
}

/// pdf-extract, then lopdf. pdf-extract panics by design on what it does not support, so it
/// runs under `catch_unwind` (the worker catches what unwinding cannot).
fn fallback(bytes: &[u8], limits: &Limits) -> Option<Extracted> {
    let by_pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .ok()
        .and_then(Result::ok)
        .filter(|pages| pages.iter().any(|p| super::count_words(p) > 0));
    let pages = by_pages.or_else(|| {
        let doc = lopdf::Document::load_mem(bytes).ok()?;
        let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
        let pages: Vec<String> = numbers
            .iter()
            .map(|n| doc.extract_text(&[*n]).unwrap_or_default())
            .collect();
        pages
            .iter()
            .any(|p| super::count_words(p) > 0)
            .then_some(pages)
    })?;
    let mut b = TextBuilder::new(Format::Pdf, limits);
    for (i, text) in pages.iter().enumerate() {
        b.begin_unit(UnitKind::Page, format!("p. {}", i + 1));
        b.push_str(text);
    }
    Some(b.finish())
}

/// Largest decompressed content of one page the fast path reads (more goes to unpdf).
const FAST_PAGE_LIMIT: usize = 16 << 20;

/// lopdf's plain text reading, where it can be trusted; `None` sends the file to unpdf.
fn fast_path(bytes: &[u8], limits: &Limits) -> Option<Extracted> {
    let doc = lopdf::Document::load_mem(bytes).ok()?;
    if doc.is_encrypted() || doc.trailer.get(b"Encrypt").is_ok() {
        return None;
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return None;
    }
    let mut texts: Vec<(u32, Vec<Line>)> = Vec::with_capacity(pages.len());
    for (&number, &id) in &pages {
        let fonts = doc.get_page_fonts(id).ok()?;
        if !plain_page(&doc, id, &fonts) {
            return None;
        }
        texts.push((number, page_lines(&doc, id, fonts)?));
    }
    let all_lines = || texts.iter().flat_map(|(_, lines)| lines.iter());
    if !reads_as_prose(all_lines().map(|l| l.text.as_str())) {
        return None;
    }
    // Headings are lines set larger than the body text, the size most characters have.
    let mut by_size: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for line in all_lines() {
        *by_size.entry((line.size * 2.0).round() as u32).or_default() += line.text.len();
    }
    let body = by_size
        .into_iter()
        .max_by_key(|&(size, chars)| (chars, std::cmp::Reverse(size)))
        .map(|(size, _)| size as f32 / 2.0)
        .unwrap_or(0.0);
    let mut b = TextBuilder::new(Format::Pdf, limits);
    info_metadata(&doc, b.meta());
    for (number, lines) in &texts {
        if b.is_full() {
            break;
        }
        b.begin_unit(UnitKind::Page, format!("p. {number}"));
        for block in paragraphs(lines) {
            let offset = b.len();
            b.push_str(&block.text);
            b.newline();
            let words = block.text.split_whitespace().count();
            if body > 0.0 && block.size >= body * 1.2 && (1..=20).contains(&words) {
                let ratio = block.size / body;
                let level = if ratio >= 1.6 {
                    1
                } else if ratio >= 1.35 {
                    2
                } else {
                    3
                };
                b.heading(level, &block.text, offset);
            }
        }
    }
    b.end_unit();
    Some(b.finish())
}

/// A page's fonts by resource name, as lopdf finds them.
type PageFonts<'a> = std::collections::BTreeMap<Vec<u8>, &'a lopdf::Dictionary>;

/// A line of a page as drawn, with the largest font size on it and its height on the page
/// (both in page units).
struct Line {
    text: String,
    size: f32,
    y: f32,
}

/// Lines joined into paragraphs: the next line of the same size, at most a line and a half
/// below, continues the paragraph. A label and its date broken over two lines ("Review /
/// date: March 2026") read as one again, and a title set on two lines is one heading.
fn paragraphs(lines: &[Line]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for line in lines {
        if let Some(last) = out.last_mut() {
            let gap = last.y - line.y;
            let same_size = (last.size - line.size).abs() <= 0.5;
            if same_size && gap > 0.0 && gap <= 1.5 * line.size.max(1.0) {
                if !last.text.ends_with('-') {
                    last.text.push(' ');
                }
                last.text.push_str(&line.text);
                last.y = line.y;
                continue;
            }
        }
        out.push(Line {
            text: line.text.clone(),
            size: line.size,
            y: line.y,
        });
    }
    out
}

/// The text of a page in drawing order, a line per text line: lopdf decodes the strings,
/// this follows the text-positioning operators to break lines and to put back the spaces
/// that a PDF draws as a gap (a TJ offset, a move along the line) rather than a character.
fn page_lines(doc: &lopdf::Document, page: lopdf::ObjectId, fonts: PageFonts) -> Option<Vec<Line>> {
    let mut encodings = std::collections::HashMap::new();
    for (name, font) in fonts {
        encodings.insert(
            name,
            font.get_font_encoding_with_limit(doc, FAST_PAGE_LIMIT)
                .ok()?,
        );
    }
    let data = doc
        .get_page_content_with_limit(page, FAST_PAGE_LIMIT)
        .ok()?;
    let content = lopdf::content::Content::decode(&data).ok()?;

    let num = |o: &lopdf::Object| o.as_float().ok();
    let scale_of = |ops: &[lopdf::Object]| -> Option<f32> {
        let (a, b, c, d) = (
            num(ops.first()?)?,
            num(ops.get(1)?)?,
            num(ops.get(2)?)?,
            num(ops.get(3)?)?,
        );
        Some((a * d - b * c).abs().sqrt())
    };
    let mut lines = Vec::new();
    let mut line = Line {
        text: String::new(),
        size: 0.0,
        y: 0.0,
    };
    let mut ctm_stack: Vec<f32> = Vec::new();
    let (mut ctm, mut tm, mut font_size) = (1.0f32, 1.0f32, 0.0f32);
    let mut y = 0.0f32;
    let mut encoding = None;
    let break_line = |line: &mut Line, lines: &mut Vec<Line>| {
        let text = line.text.trim();
        if !text.is_empty() {
            lines.push(Line {
                text: text.to_string(),
                size: line.size,
                y: line.y,
            });
        }
        line.text.clear();
        line.size = 0.0;
    };
    let space = |line: &mut Line| {
        if !line.text.is_empty() && !line.text.ends_with(' ') {
            line.text.push(' ');
        }
    };
    for op in &content.operations {
        let o = &op.operands;
        match op.operator.as_str() {
            "q" => ctm_stack.push(ctm),
            "Q" => ctm = ctm_stack.pop().unwrap_or(1.0),
            "cm" => ctm *= scale_of(o).unwrap_or(1.0),
            // Each text object starts from the identity text matrix.
            "BT" => {
                tm = 1.0;
                y = 0.0;
            }
            "Tf" => {
                font_size = o.get(1).and_then(num).unwrap_or(0.0).abs();
                encoding = o
                    .first()
                    .and_then(|n| n.as_name().ok())
                    .and_then(|n| encodings.get(n));
            }
            "Tm" => {
                tm = scale_of(o).unwrap_or(1.0);
                let new_y = o.get(5).and_then(num).unwrap_or(y);
                if (new_y - y).abs() > 0.5 * font_size.max(1.0) {
                    break_line(&mut line, &mut lines);
                } else {
                    space(&mut line);
                }
                y = new_y;
            }
            "Td" | "TD" => {
                let ty = o.get(1).and_then(num).unwrap_or(0.0);
                if ty.abs() > 0.01 {
                    y += ty * tm;
                    break_line(&mut line, &mut lines);
                } else {
                    space(&mut line);
                }
            }
            "T*" => break_line(&mut line, &mut lines),
            "Tj" | "'" | "\"" | "TJ" => {
                if matches!(op.operator.as_str(), "'" | "\"") {
                    break_line(&mut line, &mut lines);
                }
                let Some(enc) = encoding else { continue };
                let shown: &[lopdf::Object] = match op.operator.as_str() {
                    "\"" => o.get(2).map(std::slice::from_ref).unwrap_or(&[]),
                    "TJ" => o
                        .first()
                        .and_then(|a| a.as_array().ok())
                        .map(Vec::as_slice)
                        .unwrap_or(&[]),
                    _ => o.first().map(std::slice::from_ref).unwrap_or(&[]),
                };
                if line.text.is_empty() {
                    line.y = y * ctm;
                }
                for item in shown {
                    match item {
                        lopdf::Object::String(bytes, _) => {
                            if let Ok(t) = lopdf::Document::decode_text(enc, bytes) {
                                line.text.push_str(&t);
                            }
                        }
                        // A gap of a fifth of the font size or more is a word space.
                        other => {
                            if num(other).is_some_and(|n| n < -200.0) {
                                space(&mut line);
                            }
                        }
                    }
                }
                line.size = line.size.max(font_size * tm * ctm);
            }
            _ => {}
        }
    }
    break_line(&mut line, &mut lines);
    for l in &mut lines {
        l.text = expand_ligatures(&l.text);
    }
    Some(lines)
}

/// Whether lopdf reads every font and every piece of text on a page: no form XObjects (whose
/// text it skips), no Type3 fonts, and every font either mapped to Unicode or in a standard
/// Latin encoding.
fn plain_page(doc: &lopdf::Document, page: lopdf::ObjectId, fonts: &PageFonts) -> bool {
    for font in fonts.values() {
        // Without a ToUnicode map lopdf guesses from the encoding, and guesses wrong for
        // anything but the standard Latin encodings ("6&&6$" for a CJK line).
        let mapped = font.get(b"ToUnicode").is_ok();
        let standard = font
            .get(b"Encoding")
            .and_then(|e| e.as_name())
            .is_ok_and(|n| n == b"WinAnsiEncoding" || n == b"MacRomanEncoding");
        let subtype = font
            .get(b"Subtype")
            .and_then(|s| s.as_name())
            .unwrap_or(b"");
        if subtype == b"Type3" || !(mapped || standard && subtype != b"Type0") {
            return false;
        }
    }
    let Ok((own, inherited)) = doc.get_page_resources(page) else {
        return false;
    };
    let dicts = own.into_iter().chain(
        inherited
            .iter()
            .filter_map(|id| doc.get_dictionary(*id).ok()),
    );
    for resources in dicts {
        let Ok(xobjects) = resources.get(b"XObject") else {
            continue;
        };
        let xobjects = match xobjects {
            lopdf::Object::Reference(id) => doc.get_dictionary(*id).ok(),
            lopdf::Object::Dictionary(d) => Some(d),
            _ => None,
        };
        for (_, x) in xobjects.into_iter().flat_map(|d| d.iter()) {
            let stream = match x {
                lopdf::Object::Reference(id) => doc.get_object(*id).ok(),
                other => Some(other),
            };
            let is_form = stream
                .and_then(|o| o.as_stream().ok())
                .and_then(|s| s.dict.get(b"Subtype").ok())
                .and_then(|t| t.as_name().ok())
                .is_some_and(|t| t == b"Form");
            if is_form {
                return false;
            }
        }
    }
    true
}

/// Whether text looks like what a person wrote rather than a misread: words of ordinary
/// length (a PDF that spaces words by position comes out glued: "Herestothecrazyones", one that
/// places each glyph comes out spaced: "H e a d e r"), mostly letters, no
/// replacement, control or private-use characters (an unmapped font), and no right-to-left
/// script (lopdf returns it in drawing order).
fn reads_as_prose<'a>(pages: impl Iterator<Item = &'a str>) -> bool {
    let (mut chars, mut bad, mut tokens, mut long, mut token_chars) = (0usize, 0, 0, 0, 0);
    let (mut visible, mut letters, mut single) = (0usize, 0usize, 0usize);
    for text in pages {
        for c in text.chars() {
            chars += 1;
            if !c.is_whitespace() {
                visible += 1;
                letters += c.is_alphabetic() as usize;
            }
            let cp = c as u32;
            let control = c.is_control() && !matches!(c, '\n' | '\r' | '\t');
            let private = (0xE000..=0xF8FF).contains(&cp);
            let rtl = (0x0590..=0x08FF).contains(&cp) || (0xFB1D..=0xFEFF).contains(&cp);
            if rtl {
                return false;
            }
            if control || private || c == '\u{FFFD}' {
                bad += 1;
            }
        }
        for token in text.split_whitespace() {
            let n = token.chars().filter(|c| c.is_alphanumeric()).count();
            if n == 0 {
                continue;
            }
            tokens += 1;
            token_chars += n;
            if n == 1 && token.chars().any(char::is_alphabetic) {
                single += 1;
            }
            if n > 24 {
                long += 1;
            }
        }
    }
    // Prose is about four-fifths letters; a misread font gives symbols ("6&&6$ &P/p"). A
    // table of figures falls under this too and goes to unpdf, which is only slower.
    tokens > 0
        && bad * 200 <= chars
        && long * 100 <= tokens
        && token_chars <= tokens * 9
        && letters * 2 >= visible
        && single * 4 <= tokens
}

/// Word processors' fonts map fi, fl and friends to one ligature glyph; searches type letters.
fn expand_ligatures(text: &str) -> String {
    if !text.chars().any(|c| ('\u{FB00}'..='\u{FB06}').contains(&c)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            c => out.push(c),
        }
    }
    out
}

/// Title, author, subject, keywords and dates from the document information dictionary.
fn info_metadata(doc: &lopdf::Document, m: &mut Extracted) {
    let Some(info) = doc.trailer.get(b"Info").ok().and_then(|o| match o {
        lopdf::Object::Reference(id) => doc.get_dictionary(*id).ok(),
        lopdf::Object::Dictionary(d) => Some(d),
        _ => None,
    }) else {
        return;
    };
    let text = |key: &[u8]| {
        info.get(key)
            .ok()
            .and_then(|o| lopdf::decode_text_string(o).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    m.title = text(b"Title");
    m.author = text(b"Author");
    m.subject = text(b"Subject");
    m.keywords = text(b"Keywords");
    m.created = text(b"CreationDate").and_then(|d| pdf_date(&d));
    m.modified = text(b"ModDate").and_then(|d| pdf_date(&d));
}

/// `D:20240315103000+01'00'` as RFC 3339 (`2024-03-15T10:30:00+01:00`); missing parts default
/// as ISO 32000-1 7.9.4 says (month and day 1, time 0, offset UTC).
fn pdf_date(s: &str) -> Option<String> {
    let s = s.trim().strip_prefix("D:").unwrap_or(s.trim());
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return None;
    }
    let part = |a: usize, b: usize, default: &str| -> String {
        digits.get(a..b).unwrap_or(default).to_string()
    };
    let (y, mo, d) = (part(0, 4, ""), part(4, 6, "01"), part(6, 8, "01"));
    let (h, mi, se) = (part(8, 10, "00"), part(10, 12, "00"), part(12, 14, "00"));
    let rest = &s[digits.len()..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let od: String = rest[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let oh = od.get(0..2).unwrap_or("00");
            let om = od.get(2..4).unwrap_or("00");
            format!("{sign}{oh}:{om}")
        }
        _ => "+00:00".to_string(),
    };
    let out = format!("{y}-{mo}-{d}T{h}:{mi}:{se}{offset}");
    // Only a real date goes on (a "D:20241345" month 13 is dropped, not stored).
    out.parse::<jiff::Timestamp>().ok().map(|_| out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_become_rfc3339() {
        assert_eq!(
            pdf_date("D:20240315103000+01'00'").as_deref(),
            Some("2024-03-15T10:30:00+01:00")
        );
        assert_eq!(
            pdf_date("D:20231201").as_deref(),
            Some("2023-12-01T00:00:00+00:00")
        );
        assert_eq!(pdf_date("D:20241345").as_deref(), None);
        assert_eq!(pdf_date("yesterday"), None);
    }

    #[test]
    fn glued_garbled_and_right_to_left_text_is_not_prose() {
        let prose = "The Care Act assessment found eligible needs for the carer.";
        assert!(reads_as_prose([prose].into_iter()));
        let glued = "Herestothecrazyones.Themisfits.Therebels.Thetroublemakers. Theroundpegsinthesquareholes.";
        assert!(!reads_as_prose([prose, glued].into_iter()));
        let garbled = "\u{E001}\u{E002}\u{E003} \u{E004}\u{E005}";
        assert!(!reads_as_prose([garbled].into_iter()));
        assert!(!reads_as_prose([prose, "حبيبي"].into_iter()));
        assert!(!reads_as_prose(["   ", ""].into_iter()));
        assert!(!reads_as_prose(["6&&6$\n&P/p\n"].into_iter()));
        assert!(!reads_as_prose(["H e a d e r\nF o o : b a r"].into_iter()));
    }

    #[test]
    fn lines_close_together_in_one_size_make_a_paragraph() {
        let line = |text: &str, size: f32, y: f32| Line {
            text: text.into(),
            size,
            y,
        };
        let lines = [
            line("Carers strategy", 20.0, 700.0),
            line("2024-2027", 20.0, 676.0),
            line("Owner: Jo Bloggs. Review", 11.0, 640.0),
            line("date: March 2026. Strengths-", 11.0, 627.0),
            line("based practice.", 11.0, 614.0),
            line("Next paragraph.", 11.0, 580.0),
        ];
        let texts: Vec<String> = paragraphs(&lines).into_iter().map(|l| l.text).collect();
        assert_eq!(
            texts,
            [
                "Carers strategy 2024-2027",
                "Owner: Jo Bloggs. Review date: March 2026. Strengths-based practice.",
                "Next paragraph."
            ]
        );
    }

    #[test]
    fn ligatures_are_spelled_out() {
        assert_eq!(
            expand_ligatures("Auﬂage ﬁnance oﬃce"),
            "Auflage finance office"
        );
    }
}
