//! Bounded reading of zip packages (OOXML and ODF).
//!
//! The `zip` crate has no limits of its own, and a zip's declared sizes are whatever its
//! author wrote. Every part is read through [`SafeZip::read_part`], which refuses parts whose
//! declared size or inflation ratio is absurd before inflating a byte, caps what is actually
//! inflated with `take`, and keeps a budget for the whole document. A 1 GiB zip bomb is refused
//! from its central directory, in milliseconds.

use super::{Failure, Format, Limits, Reason};
use std::io::{Read, Seek};

pub struct SafeZip<R: Read + Seek> {
    zip: zip::ZipArchive<R>,
    names: Vec<String>,
    limits: Limits,
    inflated: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageKind {
    Docx,
    Pptx,
    Xlsx,
    Odf(Format),
    Other,
}

fn zip_failure(e: zip::result::ZipError) -> Failure {
    use zip::result::ZipError;
    match e {
        ZipError::UnsupportedArchive(m) if m.to_ascii_lowercase().contains("password") => {
            Failure::encrypted("password-protected zip entries")
        }
        ZipError::UnsupportedArchive(m) => {
            Failure::new(Reason::Unsupported, format!("unsupported zip feature: {m}"))
        }
        ZipError::Io(e) => Failure::damaged(format!("damaged zip package: {e}")),
        other => Failure::damaged(format!("damaged zip package: {other}")),
    }
}

impl<R: Read + Seek> SafeZip<R> {
    pub fn open(reader: R, limits: &Limits) -> Result<SafeZip<R>, Failure> {
        let zip = zip::ZipArchive::new(reader).map_err(zip_failure)?;
        if zip.len() > limits.max_zip_entries {
            return Err(Failure::new(
                Reason::TooLarge,
                format!(
                    "too large: the package holds {} parts (limit {})",
                    zip.len(),
                    limits.max_zip_entries
                ),
            ));
        }
        let names = zip
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .collect();
        Ok(SafeZip {
            zip,
            names,
            limits: limits.clone(),
            inflated: 0,
        })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn has(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// What kind of office package this is, from its parts (not its file name).
    pub fn package_kind(&mut self) -> PackageKind {
        if self.has("word/document.xml") {
            return PackageKind::Docx;
        }
        if self.has("ppt/presentation.xml") {
            return PackageKind::Pptx;
        }
        if self.has("xl/workbook.xml") || self.has("xl/workbook.bin") {
            return PackageKind::Xlsx;
        }
        if self.has("content.xml") || self.has("mimetype") {
            let mime = self
                .read_part_string("mimetype")
                .unwrap_or_default()
                .unwrap_or_default();
            let kind = if mime.contains("spreadsheet") {
                Format::Ods
            } else if mime.contains("presentation") {
                Format::Odp
            } else {
                Format::Odt
            };
            return PackageKind::Odf(kind);
        }
        // OOXML with a non-default main part name: follow the root relationships.
        if let Ok(Some(rels)) = self.read_part_string("_rels/.rels") {
            if rels.contains("word/") {
                return PackageKind::Docx;
            }
            if rels.contains("ppt/") {
                return PackageKind::Pptx;
            }
            if rels.contains("xl/") {
                return PackageKind::Xlsx;
            }
        }
        PackageKind::Other
    }

    /// Checks a part's declared sizes against the limits without inflating anything.
    pub fn check_part(&mut self, name: &str) -> Result<Option<(u64, u64)>, Failure> {
        let Some(index) = self.zip.index_for_name(name) else {
            return Ok(None);
        };
        let entry = self.zip.by_index_raw(index).map_err(zip_failure)?;
        if entry.encrypted() {
            return Err(Failure::encrypted("password-protected zip entries"));
        }
        let (size, packed) = (entry.size(), entry.compressed_size());
        drop(entry);
        self.check_sizes(name, size, packed)?;
        Ok(Some((size, packed)))
    }

    fn check_sizes(&self, name: &str, size: u64, packed: u64) -> Result<(), Failure> {
        let l = &self.limits;
        if size > l.max_part_bytes {
            return Err(bomb(name, size, l.max_part_bytes));
        }
        // Only large parts: small XML parts full of repeated markup legitimately compress hard.
        if size > (8 << 20) && size / packed.max(1) > l.max_ratio {
            return Err(Failure::new(
                Reason::TooLarge,
                format!(
                    "too large: part {name} inflates {}x ({} MB from {} KB), refused as a zip bomb",
                    size / packed.max(1),
                    size >> 20,
                    packed >> 10
                ),
            ));
        }
        if self.inflated + size > l.max_total_inflated {
            return Err(bomb(
                "the package",
                self.inflated + size,
                l.max_total_inflated,
            ));
        }
        Ok(())
    }

    /// Checks every part's declared size, so a bomb is refused before any parser sees it.
    pub fn check_all(&mut self) -> Result<(), Failure> {
        let mut total = 0u64;
        for i in 0..self.zip.len() {
            let entry = self.zip.by_index_raw(i).map_err(zip_failure)?;
            let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
            let (size, packed) = (entry.size(), entry.compressed_size());
            drop(entry);
            self.check_sizes(&name, size, packed)?;
            total = total.saturating_add(size);
        }
        if total > self.limits.max_total_inflated {
            return Err(bomb("the package", total, self.limits.max_total_inflated));
        }
        Ok(())
    }

    /// Reads one part, inflating at most the limits allow. `Ok(None)` when absent.
    pub fn read_part(&mut self, name: &str) -> Result<Option<Vec<u8>>, Failure> {
        let Some((size, _)) = self.check_part(name)? else {
            return Ok(None);
        };
        let cap = self
            .limits
            .max_part_bytes
            .min(self.limits.max_total_inflated - self.inflated);
        let entry = self.zip.by_name(name).map_err(zip_failure)?;
        let mut buf = Vec::with_capacity(size.min(cap).min(16 << 20) as usize);
        entry
            .take(cap + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Failure::damaged(format!("damaged zip package: part {name}: {e}")))?;
        if buf.len() as u64 > cap {
            // The declared size lied: the real stream inflates past the limit.
            return Err(bomb(name, buf.len() as u64, cap));
        }
        self.inflated += buf.len() as u64;
        Ok(Some(buf))
    }

    /// Reads a part as UTF-8 text (BOM dropped; invalid bytes replaced).
    pub fn read_part_string(&mut self, name: &str) -> Result<Option<String>, Failure> {
        Ok(self.read_part(name)?.map(|bytes| {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            match std::str::from_utf8(bytes) {
                Ok(s) => s.to_string(),
                Err(_) => {
                    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
                        let enc = if bytes[0] == 0xFF {
                            encoding_rs::UTF_16LE
                        } else {
                            encoding_rs::UTF_16BE
                        };
                        enc.decode(bytes).0.into_owned()
                    } else {
                        String::from_utf8_lossy(bytes).into_owned()
                    }
                }
            }
        }))
    }
}

fn bomb(name: &str, size: u64, limit: u64) -> Failure {
    Failure::new(
        Reason::TooLarge,
        format!(
            "too large: {name} inflates to {} MB (limit {} MB), refused as a possible zip bomb",
            size >> 20,
            limit >> 20
        ),
    )
}

/// Resolves a relationship target against the folder of the part that owns it.
pub fn resolve_target(base_part: &str, target: &str) -> String {
    if let Some(abs) = target.strip_prefix('/') {
        return abs.to_string();
    }
    let mut parts: Vec<&str> = base_part.split('/').collect();
    parts.pop();
    for seg in target.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn zip_with(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in parts {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        buf.into_inner()
    }

    #[test]
    fn targets_resolve_relative_to_their_part() {
        assert_eq!(
            resolve_target("word/document.xml", "header1.xml"),
            "word/header1.xml"
        );
        assert_eq!(
            resolve_target("ppt/slides/slide1.xml", "../notesSlides/notesSlide1.xml"),
            "ppt/notesSlides/notesSlide1.xml"
        );
        assert_eq!(
            resolve_target("ppt/presentation.xml", "/ppt/slides/s.xml"),
            "ppt/slides/s.xml"
        );
    }

    #[test]
    fn bombs_are_refused_before_inflating() {
        let big = vec![b'a'; 16 << 20];
        let bytes = zip_with(&[("word/document.xml", &big)]);
        let limits = Limits::default();
        let mut z = SafeZip::open(Cursor::new(bytes), &limits).unwrap();
        let err = z.read_part("word/document.xml").unwrap_err();
        assert_eq!(err.reason, Reason::TooLarge, "{err}");
    }

    #[test]
    fn small_parts_read_and_kind_is_sniffed() {
        let bytes = zip_with(&[("word/document.xml", b"<w:document/>")]);
        let mut z = SafeZip::open(Cursor::new(bytes), &Limits::default()).unwrap();
        assert_eq!(z.package_kind(), PackageKind::Docx);
        assert_eq!(
            z.read_part_string("word/document.xml").unwrap().unwrap(),
            "<w:document/>"
        );
        assert!(z.read_part("missing.xml").unwrap().is_none());
    }

    #[test]
    fn total_budget_is_enforced() {
        let part = vec![b'x'; 600 << 10];
        let bytes = zip_with(&[("a.xml", &part), ("b.xml", &part)]);
        let limits = Limits {
            max_total_inflated: 1 << 20,
            ..Limits::default()
        };
        let mut z = SafeZip::open(Cursor::new(bytes), &limits).unwrap();
        assert!(z.read_part("a.xml").unwrap().is_some());
        assert_eq!(z.read_part("b.xml").unwrap_err().reason, Reason::TooLarge);
    }
}
