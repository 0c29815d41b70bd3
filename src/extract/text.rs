//! Plain text formats: TXT, Markdown, CSV, e-mail (EML).
//!
//! Council shares hold text in every encoding Windows ever wrote: BOMs are honoured, UTF-8 is
//! tried next, and anything else is guessed with chardetng (Windows-1252 in practice). Files
//! are read up to the text cap only, so a 200 MB CSV costs what its first 32 MB cost.

use super::{Extracted, Failure, Format, Limits, Reason, TextBuilder, UnitKind};
use std::io::Read;
use std::path::Path;

/// Decodes bytes of unknown encoding. `None` means the bytes are binary, not text.
pub fn decode(bytes: &[u8]) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Some(String::from_utf8_lossy(rest).into_owned());
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Some(encoding_rs::UTF_16LE.decode(bytes).0.into_owned());
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Some(encoding_rs::UTF_16BE.decode(bytes).0.into_owned());
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(s.to_string()),
        Err(e) if e.error_len().is_none() && e.valid_up_to() + 4 > bytes.len() => {
            // Valid UTF-8 cut mid-character by the read cap.
            Some(String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned())
        }
        Err(_) => {
            let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            det.feed(&bytes[..bytes.len().min(1 << 20)], true);
            let enc = det.guess(Some(b"uk"), chardetng::Utf8Detection::Allow);
            Some(enc.decode(bytes).0.into_owned())
        }
    }
}

fn read_capped(path: &Path, cap: usize) -> Result<(Vec<u8>, bool), Failure> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(cap as u64 + 1)
        .read_to_end(&mut bytes)?;
    let truncated = bytes.len() > cap;
    bytes.truncate(cap);
    Ok((bytes, truncated))
}

pub fn extract(path: &Path, format: Format, limits: &Limits) -> Result<Extracted, Failure> {
    let (bytes, cut) = read_capped(path, limits.max_text_bytes)?;
    let text = decode(&bytes).ok_or_else(|| {
        Failure::new(
            Reason::Unsupported,
            format!(
                "binary content, not text (named .{})",
                path.extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or_default()
            ),
        )
    })?;
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut b = TextBuilder::new(format, limits);
    match format {
        Format::Md => markdown(&mut b, &text),
        Format::Eml => email(&mut b, &text),
        _ => {
            b.begin_unit(UnitKind::Part, "body");
            b.push_str(&text);
        }
    }
    let mut out = b.finish();
    if cut {
        out.truncated = true;
        out.warnings.push(format!(
            "only the first {} MB were read",
            limits.max_text_bytes >> 20
        ));
    }
    Ok(out)
}

fn markdown(b: &mut TextBuilder, text: &str) {
    b.begin_unit(UnitKind::Part, "body");
    let mut in_front_matter = text.starts_with("---\n");
    for (i, line) in text.lines().enumerate() {
        if in_front_matter {
            if i > 0 && line.trim() == "---" {
                in_front_matter = false;
            } else if let Some(t) = line.strip_prefix("title:") {
                b.meta().title = Some(t.trim().trim_matches('"').to_string());
            } else if let Some(d) = line.strip_prefix("date:") {
                b.meta().created = Some(d.trim().trim_matches('"').to_string());
            }
            continue;
        }
        let trimmed = line.trim_start();
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            let title = trimmed[hashes..].trim().trim_end_matches('#').trim();
            let offset = b.len();
            b.push_str(title);
            b.heading(hashes as u8, title, offset);
        } else {
            b.push_str(line);
        }
        b.push_char('\n');
    }
}

fn email(b: &mut TextBuilder, text: &str) {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    for line in head.lines() {
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim().to_string();
            match k.to_ascii_lowercase().as_str() {
                "subject" => b.meta().title = Some(v),
                "from" => b.meta().author = Some(v),
                "date" => b.meta().created = Some(v),
                _ => {}
            }
        }
    }
    b.begin_unit(UnitKind::Part, "body");
    if let Some(subject) = b.meta().title.clone() {
        b.push_str(&subject);
        b.push_char('\n');
    }
    b.push_str(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_boms_utf8_and_windows_1252() {
        assert_eq!(decode(b"\xEF\xBB\xBFcaf\xC3\xA9").unwrap(), "café");
        assert_eq!(decode(b"\xFF\xFEc\0a\0f\0\xE9\0").unwrap(), "café");
        assert_eq!(decode("plain café".as_bytes()).unwrap(), "plain café");
        assert_eq!(
            decode(b"Caf\xE9 au lait, na\xEFve r\xE9sum\xE9 for the carers' group").unwrap(),
            "Café au lait, naïve résumé for the carers' group"
        );
        assert_eq!(decode(b"MZ\0\0binary"), None);
    }

    #[test]
    fn markdown_headings_and_front_matter() {
        let mut b = TextBuilder::new(Format::Md, &Limits::default());
        markdown(
            &mut b,
            "---\ntitle: Audit\ndate: 2024-08-01\n---\n# Practice audit\nText here\n## Findings\n",
        );
        let out = b.finish();
        assert_eq!(out.title.as_deref(), Some("Audit"));
        assert_eq!(out.created.as_deref(), Some("2024-08-01"));
        assert_eq!(out.headings.len(), 2);
        assert_eq!(out.headings[1].text, "Findings");
        assert!(out.text.starts_with("Practice audit\nText here"));
    }
}
