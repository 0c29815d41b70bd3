//! PDF text, page by page, so results can cite the page.
//!
//! Measured on the shared real-world corpus (57 PDFs, word recall against pdftotext; the
//! commit adding this file has the table): pdf-extract 0.12 found 22% of the words in
//! aggregate (73% mean per file) and panicked on a 117-page pdfTeX book; lopdf 88%; unpdf 95%
//! (98% mean) with an explicit "encrypted" error. So unpdf is the engine, and pdf-extract and
//! lopdf are kept as second opinions for files unpdf cannot parse. All three run inside the
//! worker process, whose time and memory limits catch what they do wrong.

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
