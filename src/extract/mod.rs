//! Text extraction: what a document says, in reading order, with where each part came from.
//!
//! One module per format family behind one entry point, [`extract_file`]. Everything here is
//! written to run inside an isolated worker process (see [`worker`]): parsers of untrusted files
//! can panic, overflow their stack, loop or allocate without bound, and only a child process with
//! a time and memory limit turns those into a per-file failure. The limits that can be enforced
//! in-process (input size, zip entries and inflation, XML depth, text size) live in [`Limits`].

pub mod html;
pub mod odf;
pub mod ooxml;
pub mod pdf;
pub mod rtf;
pub mod sheet;
pub mod text;
pub mod worker;
pub mod xml;
pub mod zipsafe;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Read;
use std::path::Path;

/// The document formats evidex reads (or recognises and reports as unsupported).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Docx,
    Pptx,
    Xlsx,
    Xls,
    Ods,
    Odt,
    Odp,
    Html,
    Txt,
    Md,
    Csv,
    Rtf,
    Eml,
    /// Legacy binary Word (97-2003); recognised so it is listed, not silently skipped.
    Doc,
    /// Legacy binary PowerPoint (97-2003).
    Ppt,
    #[default]
    Unknown,
}

impl Format {
    pub const ALL: [Format; 17] = [
        Format::Pdf,
        Format::Docx,
        Format::Pptx,
        Format::Xlsx,
        Format::Xls,
        Format::Ods,
        Format::Odt,
        Format::Odp,
        Format::Html,
        Format::Txt,
        Format::Md,
        Format::Csv,
        Format::Rtf,
        Format::Eml,
        Format::Doc,
        Format::Ppt,
        Format::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Pptx => "pptx",
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Ods => "ods",
            Format::Odt => "odt",
            Format::Odp => "odp",
            Format::Html => "html",
            Format::Txt => "txt",
            Format::Md => "md",
            Format::Csv => "csv",
            Format::Rtf => "rtf",
            Format::Eml => "eml",
            Format::Doc => "doc",
            Format::Ppt => "ppt",
            Format::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The format a file name claims. `None` means "not a document": the crawler skips it.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "pdf" => Format::Pdf,
            "docx" | "docm" | "dotx" | "dotm" => Format::Docx,
            "pptx" | "pptm" | "ppsx" | "potx" => Format::Pptx,
            "xlsx" | "xlsm" | "xltx" | "xlsb" => Format::Xlsx,
            "xls" => Format::Xls,
            "ods" | "ots" => Format::Ods,
            "odt" | "ott" | "fodt" => Format::Odt,
            "odp" | "otp" => Format::Odp,
            "html" | "htm" | "xhtml" | "mht" => Format::Html,
            "txt" | "text" | "log" => Format::Txt,
            "md" | "markdown" => Format::Md,
            "csv" | "tsv" => Format::Csv,
            "rtf" => Format::Rtf,
            "eml" => Format::Eml,
            "doc" | "dot" => Format::Doc,
            "ppt" | "pps" => Format::Ppt,
            _ => return None,
        })
    }

    /// Bumped whenever a format's extractor changes what it produces, so the next run
    /// re-extracts the affected documents (and only those).
    pub fn extractor_version(self) -> u32 {
        match self {
            Format::Pdf => 1,
            Format::Docx | Format::Pptx => 1,
            Format::Xlsx | Format::Xls => 1,
            Format::Ods | Format::Odt | Format::Odp => 1,
            Format::Html => 1,
            Format::Txt | Format::Md | Format::Csv | Format::Eml => 1,
            Format::Rtf => 1,
            Format::Doc | Format::Ppt | Format::Unknown => 1,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a file could not be read, in terms a librarian can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Needs a password to open.
    Encrypted,
    /// No text layer: a scan or image-only file (OCR is not available).
    NoText,
    /// Damaged, truncated or not what its name says.
    Damaged,
    /// Larger than the configured limits (including zip bombs).
    TooLarge,
    /// A format evidex does not read.
    Unsupported,
    /// The extractor ran past its time limit.
    Timeout,
    /// The extractor crashed (stack overflow, abort).
    Crashed,
    /// The extractor ran past its memory limit.
    OutOfMemory,
    /// The file could not be opened (permissions, vanished, offline).
    Unreadable,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::Encrypted => "encrypted",
            Reason::NoText => "no_text",
            Reason::Damaged => "damaged",
            Reason::TooLarge => "too_large",
            Reason::Unsupported => "unsupported",
            Reason::Timeout => "timeout",
            Reason::Crashed => "crashed",
            Reason::OutOfMemory => "out_of_memory",
            Reason::Unreadable => "unreadable",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        [
            Reason::Encrypted,
            Reason::NoText,
            Reason::Damaged,
            Reason::TooLarge,
            Reason::Unsupported,
            Reason::Timeout,
            Reason::Crashed,
            Reason::OutOfMemory,
            Reason::Unreadable,
        ]
        .into_iter()
        .find(|r| r.code() == s)
    }

    /// What the librarian can do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Reason::Encrypted => "save an unprotected copy or ask the owner to remove the password",
            Reason::NoText => {
                "run OCR on it (for example, save it through a scanner's OCR) and re-index"
            }
            Reason::Damaged => "open it in its application and save it again",
            Reason::TooLarge => "split it, or raise the limit with --max-file-mb",
            Reason::Unsupported => "save it in a current format (for example .docx or .pdf)",
            Reason::Timeout => "check it opens; re-run with --retry-failed or raise --timeout",
            Reason::Crashed => "open it in its application and save it again (or as PDF)",
            Reason::OutOfMemory => "split it, or raise the limit with --max-memory-mb",
            Reason::Unreadable => "check the file's permissions and that its share is online",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A file that could not be extracted: a recorded outcome, never a crash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub reason: Reason,
    /// A plain sentence: "needs a password to open (encrypted PDF)".
    pub message: String,
}

impl Failure {
    pub fn new(reason: Reason, message: impl Into<String>) -> Failure {
        Failure {
            reason,
            message: message.into(),
        }
    }
    pub fn damaged(message: impl Into<String>) -> Failure {
        Failure::new(Reason::Damaged, message)
    }
    pub fn encrypted(what: &str) -> Failure {
        Failure::new(
            Reason::Encrypted,
            format!("needs a password to open ({what})"),
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::new(Reason::Unreadable, format!("cannot be read: {e}"))
    }
}

/// Where a stretch of the text came from, so results can cite "p. 4" or "slide 3".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Page,
    Slide,
    Sheet,
    /// A part of a document without pages: headers and footers, footnotes, comments, notes.
    Part,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub kind: UnitKind,
    /// "p. 3", "slide 2", "sheet Budget", "footnotes".
    pub label: String,
    /// Byte range in [`Extracted::text`].
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    /// Byte offset in [`Extracted::text`] where the heading starts.
    pub offset: usize,
}

/// What a document says, with its metadata. Dates are ISO 8601 strings as the file claims them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Extracted {
    pub format: Format,
    pub title: Option<String>,
    pub author: Option<String>,
    pub subject: Option<String>,
    pub keywords: Option<String>,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub text: String,
    pub units: Vec<Unit>,
    pub headings: Vec<Heading>,
    /// The text hit the size cap and was cut.
    pub truncated: bool,
    pub warnings: Vec<String>,
}

impl Extracted {
    /// The unit (page, slide, part) holding a byte offset of the text.
    pub fn unit_at(&self, offset: usize) -> Option<&Unit> {
        unit_at(&self.units, offset)
    }

    /// Words of real text (runs of letters or digits), used to tell a scan from a document.
    pub fn word_count(&self) -> usize {
        count_words(&self.text)
    }
}

pub fn unit_at(units: &[Unit], offset: usize) -> Option<&Unit> {
    units
        .iter()
        .find(|u| u.start <= offset && offset < u.end.max(u.start + 1))
}

pub fn count_words(text: &str) -> usize {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .count()
}

/// The limits that keep one hostile file from stalling a run. Process-level limits (time,
/// memory) are applied by [`worker`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Limits {
    /// Files larger than this are not opened (text files are read up to `max_text_bytes`).
    pub max_file_bytes: u64,
    /// Extracted text is cut here, and the document flagged as truncated.
    pub max_text_bytes: usize,
    pub max_zip_entries: usize,
    /// Largest single part inflated from a zip container.
    pub max_part_bytes: u64,
    /// All parts of one document together.
    pub max_total_inflated: u64,
    /// Inflation ratio above which a large part is refused as a zip bomb.
    pub max_ratio: u64,
    pub max_xml_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 512 << 20,
            max_text_bytes: 32 << 20,
            max_zip_entries: 20_000,
            max_part_bytes: 128 << 20,
            max_total_inflated: 512 << 20,
            max_ratio: 250,
            max_xml_depth: 1_000,
        }
    }
}

/// Builds the text of a document piece by piece, recording units and headings, and stopping
/// at the size cap.
pub struct TextBuilder {
    out: Extracted,
    cap: usize,
    unit: Option<(UnitKind, String, usize)>,
}

impl TextBuilder {
    pub fn new(format: Format, limits: &Limits) -> TextBuilder {
        TextBuilder {
            out: Extracted {
                format,
                ..Extracted::default()
            },
            cap: limits.max_text_bytes,
            unit: None,
        }
    }

    pub fn meta(&mut self) -> &mut Extracted {
        &mut self.out
    }

    pub fn len(&self) -> usize {
        self.out.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.text.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.out.truncated
    }

    pub fn push_str(&mut self, s: &str) {
        if self.out.truncated || s.is_empty() {
            return;
        }
        let room = self.cap.saturating_sub(self.out.text.len());
        if s.len() <= room {
            self.out.text.push_str(s);
        } else {
            let mut cut = room;
            while cut > 0 && !s.is_char_boundary(cut) {
                cut -= 1;
            }
            self.out.text.push_str(&s[..cut]);
            self.out.truncated = true;
        }
    }

    pub fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push_str(c.encode_utf8(&mut buf));
    }

    /// Ends the current line unless the text already ends with one.
    pub fn newline(&mut self) {
        if !self.out.text.is_empty() && !self.out.text.ends_with('\n') {
            self.push_char('\n');
        }
    }

    /// Separates two pieces with a space or tab unless there already is whitespace.
    pub fn separate(&mut self, sep: char) {
        if let Some(last) = self.out.text.chars().last()
            && !last.is_whitespace()
        {
            self.push_char(sep);
        }
    }

    /// Ends a table cell: cells of a row are tab-separated on one line.
    pub fn end_cell(&mut self) {
        if self.out.truncated {
            return;
        }
        while self.out.text.ends_with(' ') {
            self.out.text.pop();
        }
        self.push_char('\t');
    }

    pub fn begin_unit(&mut self, kind: UnitKind, label: impl Into<String>) {
        self.end_unit();
        self.newline();
        self.unit = Some((kind, label.into(), self.out.text.len()));
    }

    pub fn end_unit(&mut self) {
        if let Some((kind, label, start)) = self.unit.take() {
            self.newline();
            let end = self.out.text.len();
            self.out.units.push(Unit {
                kind,
                label,
                start,
                end,
            });
        }
    }

    pub fn heading(&mut self, level: u8, text: &str, offset: usize) {
        let text = collapse_ws(text);
        if !text.is_empty() && text.len() < 400 {
            self.out.headings.push(Heading {
                level: level.clamp(1, 9),
                text,
                offset,
            });
        }
    }

    pub fn warn(&mut self, w: impl Into<String>) {
        if self.out.warnings.len() < 20 {
            self.out.warnings.push(w.into());
        }
    }

    pub fn finish(mut self) -> Extracted {
        self.end_unit();
        let trimmed = self.out.text.trim_end().len();
        self.out.text.truncate(trimmed);
        for u in &mut self.out.units {
            u.end = u.end.min(trimmed);
            u.start = u.start.min(u.end);
        }
        for f in [
            &mut self.out.title,
            &mut self.out.author,
            &mut self.out.subject,
            &mut self.out.keywords,
        ] {
            if let Some(v) = f.take() {
                let v = collapse_ws(&v);
                if !v.is_empty() {
                    *f = Some(v);
                }
            }
        }
        self.out
    }
}

/// Collapses runs of whitespace to one space and trims.
pub fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// What the first bytes of a file say it is. Content beats the name: a PDF saved as `.docx`
/// is read as a PDF, and an encrypted Office file (an OLE container) is recognised as such.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    Pdf,
    Zip,
    /// OLE compound file: legacy Office, or password-protected OOXML.
    Cfb,
    Rtf,
    Other,
}

pub fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Sniffed::Cfb;
    }
    if head.starts_with(b"{\\rtf") {
        return Sniffed::Rtf;
    }
    // PDF readers accept a header anywhere in the first KiB.
    let window = &head[..head.len().min(1024)];
    if window.windows(5).any(|w| w == b"%PDF-") {
        return Sniffed::Pdf;
    }
    Sniffed::Other
}

/// Extracts one file. Never panics on purpose; the worker catches what parsers do.
pub fn extract_file(path: &Path, limits: &Limits) -> Result<Extracted, Failure> {
    let meta = std::fs::metadata(path)?;
    let claimed = Format::from_path(path).unwrap_or(Format::Unknown);
    let size = meta.len();
    let text_like = matches!(
        claimed,
        Format::Txt | Format::Md | Format::Csv | Format::Eml
    );
    if size > limits.max_file_bytes && !text_like {
        return Err(Failure::new(
            Reason::TooLarge,
            format!(
                "too large: {} MB is over the {} MB limit",
                size >> 20,
                limits.max_file_bytes >> 20
            ),
        ));
    }
    if size == 0 {
        return Err(Failure::damaged("empty file (0 bytes)"));
    }
    let mut head = Vec::with_capacity(1024);
    std::fs::File::open(path)?
        .take(1024)
        .read_to_end(&mut head)?;
    let sniffed = sniff(&head);
    let mut out = match (sniffed, claimed) {
        (Sniffed::Pdf, _) => pdf::extract(path, limits)?,
        (Sniffed::Zip, _) => extract_zip_container(path, claimed, limits)?,
        (Sniffed::Cfb, Format::Xls) if !cfb_is_encrypted(path) => sheet::extract_xls(path)?,
        (Sniffed::Cfb, f) => return Err(cfb_failure(path, f)),
        (Sniffed::Rtf, _) => rtf::extract(path, limits)?,
        (Sniffed::Other, Format::Html) => html::extract(path, limits)?,
        (Sniffed::Other, f @ (Format::Txt | Format::Md | Format::Csv | Format::Eml)) => {
            text::extract(path, f, limits)?
        }
        (Sniffed::Other, Format::Pdf) => {
            return Err(Failure::damaged(
                "damaged PDF: no PDF header (the file is not a PDF or is corrupt)",
            ));
        }
        (
            Sniffed::Other,
            f @ (Format::Docx
            | Format::Pptx
            | Format::Xlsx
            | Format::Ods
            | Format::Odt
            | Format::Odp),
        ) => {
            return Err(Failure::damaged(format!(
                "damaged {}: not a zip package (the file is corrupt or is not really a .{} file)",
                f.as_str().to_uppercase(),
                f.as_str()
            )));
        }
        (Sniffed::Other, Format::Rtf) => {
            return Err(Failure::damaged("damaged RTF: no {\\rtf header"));
        }
        (Sniffed::Other, Format::Xls | Format::Doc | Format::Ppt) => {
            return Err(Failure::damaged(format!(
                "damaged {} file: not an Office 97-2003 container",
                claimed.as_str()
            )));
        }
        (Sniffed::Other, Format::Unknown) => {
            return Err(Failure::new(Reason::Unsupported, "unsupported format"));
        }
    };
    if out.word_count() == 0 {
        return Err(Failure::new(
            Reason::NoText,
            format!(
                "no text found: the {} is empty or holds only images",
                out.format.as_str().to_uppercase()
            ),
        ));
    }
    if out.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        out.title = out
            .headings
            .first()
            .map(|h| h.text.clone())
            .or_else(|| first_line_title(&out.text, out.format));
    }
    Ok(out)
}

/// A short first line stands in for a title when a format has no title property.
fn first_line_title(text: &str, format: Format) -> Option<String> {
    if matches!(
        format,
        Format::Csv | Format::Xlsx | Format::Xls | Format::Ods
    ) {
        return None;
    }
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.trim_start_matches('#').trim();
    let words = line.split_whitespace().count();
    ((2..=16).contains(&words) && line.len() <= 140 && line.chars().any(|c| c.is_alphabetic()))
        .then(|| collapse_ws(line))
}

fn extract_zip_container(
    path: &Path,
    claimed: Format,
    limits: &Limits,
) -> Result<Extracted, Failure> {
    let file = std::fs::File::open(path)?;
    let mut zip = zipsafe::SafeZip::open(file, limits)?;
    let kind = zip.package_kind();
    match kind {
        zipsafe::PackageKind::Docx => ooxml::extract_docx(&mut zip, limits),
        zipsafe::PackageKind::Pptx => ooxml::extract_pptx(&mut zip, limits),
        zipsafe::PackageKind::Xlsx => sheet::extract_xlsx(path, &mut zip, limits),
        zipsafe::PackageKind::Odf(Format::Ods) => odf::extract(&mut zip, Format::Ods, limits),
        zipsafe::PackageKind::Odf(Format::Odp) => odf::extract(&mut zip, Format::Odp, limits),
        zipsafe::PackageKind::Odf(_) => odf::extract(&mut zip, Format::Odt, limits),
        zipsafe::PackageKind::Other => Err(Failure::new(
            Reason::Unsupported,
            format!(
                "a zip archive, not an office document{}",
                if claimed == Format::Unknown {
                    String::new()
                } else {
                    format!(" (named .{})", claimed.as_str())
                }
            ),
        )),
    }
}

/// Password-protected OOXML is an OLE container holding an `EncryptedPackage` stream.
fn cfb_is_encrypted(path: &Path) -> bool {
    let needle: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    std::fs::read(path)
        .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_slice()))
        .unwrap_or(false)
}

/// OLE compound files evidex does not read: password-protected OOXML, legacy Office formats.
fn cfb_failure(path: &Path, claimed: Format) -> Failure {
    if cfb_is_encrypted(path) {
        return Failure::encrypted("password-protected Office document");
    }
    match claimed {
        Format::Doc => Failure::new(
            Reason::Unsupported,
            "legacy Word 97-2003 document (.doc) is not read yet",
        ),
        Format::Ppt => Failure::new(
            Reason::Unsupported,
            "legacy PowerPoint 97-2003 presentation (.ppt) is not read yet",
        ),
        _ => Failure::new(
            Reason::Unsupported,
            "an Office 97-2003 (OLE) file under a different name",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_prefers_content() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Pdf);
        assert_eq!(sniff(b"junk\n%PDF-1.4"), Sniffed::Pdf);
        assert_eq!(sniff(b"PK\x03\x04rest"), Sniffed::Zip);
        assert_eq!(sniff(b"{\\rtf1\\ansi"), Sniffed::Rtf);
        assert_eq!(
            sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]),
            Sniffed::Cfb
        );
        assert_eq!(sniff(b"hello"), Sniffed::Other);
    }

    #[test]
    fn builder_caps_text_on_a_char_boundary() {
        let limits = Limits {
            max_text_bytes: 5,
            ..Limits::default()
        };
        let mut b = TextBuilder::new(Format::Txt, &limits);
        b.push_str("abcé€x");
        let out = b.finish();
        assert!(out.truncated);
        assert_eq!(out.text, "abcé");
    }

    #[test]
    fn units_cover_their_text() {
        let mut b = TextBuilder::new(Format::Pdf, &Limits::default());
        b.begin_unit(UnitKind::Page, "p. 1");
        b.push_str("first page");
        b.begin_unit(UnitKind::Page, "p. 2");
        b.push_str("second page");
        let out = b.finish();
        assert_eq!(out.units.len(), 2);
        let second = out.text.find("second").unwrap();
        assert_eq!(out.unit_at(second).unwrap().label, "p. 2");
        assert_eq!(out.unit_at(0).unwrap().label, "p. 1");
    }

    #[test]
    fn first_line_stands_in_for_title() {
        assert_eq!(
            first_line_title("\n# Carers strategy 2024\nbody", Format::Md).as_deref(),
            Some("Carers strategy 2024")
        );
        assert_eq!(first_line_title("a,b,c\n1,2,3", Format::Csv), None);
    }
}
