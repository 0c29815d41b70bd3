//! Rich Text Format.
//!
//! rtf-parser 0.4 was tried first and dropped: it ignores `\par`, `\tab` and `\cell`, so a
//! LibreOffice RTF came out as "DateMarch 2021Approved byJoint ..." (words glued across every
//! paragraph and table cell), and it rejects files that do not end on a closing brace. RTF text
//! is a small grammar, so it is read here: control words for breaks, `\'hh` bytes in the
//! document's code page, `\uN` with its fallback skipped, and destinations that hold no text
//! (font tables, pictures, field instructions, `\*` groups) skipped. Groups are tracked on an
//! explicit stack with a depth limit, so hostile nesting cannot overflow anything.

use super::{Extracted, Failure, Format, Limits, TextBuilder, UnitKind};
use std::path::Path;

/// Destinations whose content is not document text.
const SKIP_DESTINATIONS: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "listtable",
    "listoverridetable",
    "revtbl",
    "rsidtbl",
    "generator",
    "pict",
    "object",
    "objdata",
    "fldinst",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "xmlnstbl",
    "filetbl",
    "bkmkstart",
    "bkmkend",
    "pgdsctbl",
    "operator",
    "author",
    "keywords",
    "company",
    "creatim",
    "revtim",
    "printim",
    "buptim",
    "doccomm",
    "nonshppict",
    "shpinst",
    "mmathPr",
    "xmlopen",
    "wgrffmtfilter",
    "template",
];

#[derive(Clone)]
struct Group {
    skip: bool,
    /// Characters to skip after a `\uN` (its ANSI fallback).
    uc: usize,
    in_title: bool,
}

pub fn extract(path: &Path, limits: &Limits) -> Result<Extracted, Failure> {
    let bytes = std::fs::read(path)?;
    parse(&bytes, limits)
}

pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Extracted, Failure> {
    if !bytes.starts_with(b"{\\rtf") {
        return Err(Failure::damaged("damaged RTF: no {\\rtf header"));
    }
    let mut b = TextBuilder::new(Format::Rtf, limits);
    b.begin_unit(UnitKind::Part, "body");
    let mut encoding: &'static encoding_rs::Encoding = encoding_rs::WINDOWS_1252;
    let mut stack: Vec<Group> = Vec::new();
    let mut cur = Group {
        skip: false,
        uc: 1,
        in_title: false,
    };
    let mut title = String::new();
    let mut pending_skip = 0usize;
    // Bytes from `\'hh` escapes, decoded together (multi-byte code pages need that).
    let mut raw: Vec<u8> = Vec::new();
    let mut i = 0;
    let n = bytes.len();

    macro_rules! flush_raw {
        () => {
            if !raw.is_empty() {
                let s = encoding.decode_without_bom_handling(&raw).0.into_owned();
                raw.clear();
                if cur.in_title {
                    title.push_str(&s);
                } else if !cur.skip {
                    b.push_str(&s);
                }
            }
        };
    }
    let emit = |b: &mut TextBuilder, title: &mut String, cur: &Group, s: &str| {
        if cur.in_title {
            title.push_str(s);
        } else if !cur.skip {
            b.push_str(s);
        }
    };

    while i < n && !b.is_full() {
        let c = bytes[i];
        match c {
            b'{' => {
                flush_raw!();
                if stack.len() >= limits.max_xml_depth {
                    return Err(Failure::damaged(format!(
                        "damaged RTF: groups nested more than {} deep",
                        limits.max_xml_depth
                    )));
                }
                stack.push(cur.clone());
                i += 1;
                // `{\*\dest ...}`: an optional destination; unknown ones are skipped.
                if bytes[i..].starts_with(b"\\*") {
                    cur.skip = true;
                    i += 2;
                }
            }
            b'}' => {
                flush_raw!();
                cur = stack.pop().unwrap_or(Group {
                    skip: false,
                    uc: 1,
                    in_title: false,
                });
                i += 1;
            }
            b'\\' => {
                i += 1;
                if i >= n {
                    break;
                }
                let c2 = bytes[i];
                if c2.is_ascii_alphabetic() {
                    let start = i;
                    while i < n && bytes[i].is_ascii_alphabetic() && i - start < 32 {
                        i += 1;
                    }
                    let word = std::str::from_utf8(&bytes[start..i]).unwrap_or("");
                    let num_start = i;
                    if i < n && (bytes[i] == b'-' || bytes[i].is_ascii_digit()) {
                        i += 1;
                        while i < n && bytes[i].is_ascii_digit() && i - num_start < 11 {
                            i += 1;
                        }
                    }
                    let param: Option<i64> = std::str::from_utf8(&bytes[num_start..i])
                        .ok()
                        .and_then(|s| s.parse().ok());
                    if i < n && bytes[i] == b' ' {
                        i += 1;
                    }
                    if word != "u" {
                        flush_raw!();
                    }
                    if pending_skip > 0 && word != "u" {
                        pending_skip = 0;
                    }
                    match word {
                        "par" | "line" | "sect" | "page" | "row" => {
                            emit(&mut b, &mut title, &cur, "\n")
                        }
                        "tab" => emit(&mut b, &mut title, &cur, "\t"),
                        "cell" | "nestcell" if !cur.skip && !cur.in_title => b.end_cell(),
                        "emdash" => emit(&mut b, &mut title, &cur, "\u{2014}"),
                        "endash" => emit(&mut b, &mut title, &cur, "\u{2013}"),
                        "bullet" => emit(&mut b, &mut title, &cur, "\u{2022}"),
                        "lquote" => emit(&mut b, &mut title, &cur, "\u{2018}"),
                        "rquote" => emit(&mut b, &mut title, &cur, "\u{2019}"),
                        "ldblquote" => emit(&mut b, &mut title, &cur, "\u{201C}"),
                        "rdblquote" => emit(&mut b, &mut title, &cur, "\u{201D}"),
                        "uc" => cur.uc = param.unwrap_or(1).clamp(0, 8) as usize,
                        "u" => {
                            flush_raw!();
                            let v = param.unwrap_or(0);
                            let v = if v < 0 { v + 65536 } else { v } as u32;
                            if let Some(ch) = char::from_u32(v) {
                                let mut buf = [0u8; 4];
                                emit(&mut b, &mut title, &cur, ch.encode_utf8(&mut buf));
                            }
                            pending_skip = cur.uc;
                        }
                        "ansicpg" => {
                            if let Some(cp) = param
                                && let Some(enc) = codepage(cp)
                            {
                                encoding = enc;
                            }
                        }
                        "title" => cur.in_title = true,
                        "info" => cur.skip = true,
                        "fldrslt" => cur.skip = false,
                        "bin" => {
                            // Binary data of the given length: jump over it.
                            i = i.saturating_add(param.unwrap_or(0).max(0) as usize).min(n);
                        }
                        w if SKIP_DESTINATIONS.contains(&w) => cur.skip = true,
                        _ => {}
                    }
                    // The title sits inside \info, which is skipped; keep reading it.
                    if word == "title" {
                        cur.skip = false;
                    }
                } else {
                    i += 1;
                    match c2 {
                        b'\'' => {
                            if i + 2 <= n
                                && let Ok(h) = u8::from_str_radix(
                                    std::str::from_utf8(&bytes[i..i + 2]).unwrap_or("zz"),
                                    16,
                                )
                            {
                                i += 2;
                                if pending_skip > 0 {
                                    pending_skip -= 1;
                                } else {
                                    raw.push(h);
                                }
                            }
                        }
                        b'~' => emit(&mut b, &mut title, &cur, " "),
                        b'_' => emit(&mut b, &mut title, &cur, "-"),
                        b'-' => {}
                        b'\n' | b'\r' => emit(&mut b, &mut title, &cur, "\n"),
                        b'\\' | b'{' | b'}' => {
                            flush_raw!();
                            let s = [c2];
                            emit(
                                &mut b,
                                &mut title,
                                &cur,
                                std::str::from_utf8(&s).unwrap_or(""),
                            );
                        }
                        _ => {}
                    }
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                flush_raw!();
                // A run of plain bytes up to the next control character.
                let start = i;
                while i < n && !matches!(bytes[i], b'{' | b'}' | b'\\' | b'\r' | b'\n') {
                    i += 1;
                }
                let mut run = &bytes[start..i];
                while pending_skip > 0 && !run.is_empty() {
                    run = &run[1..];
                    pending_skip -= 1;
                }
                if !run.is_empty() {
                    let s = encoding.decode_without_bom_handling(run).0.into_owned();
                    emit(&mut b, &mut title, &cur, &s);
                }
            }
        }
    }
    flush_raw!();
    let title = super::collapse_ws(&title);
    if !title.is_empty() {
        b.meta().title = Some(title);
    }
    Ok(b.finish())
}

fn codepage(cp: i64) -> Option<&'static encoding_rs::Encoding> {
    let label = match cp {
        1250..=1258 => format!("windows-{cp}"),
        932 => "shift_jis".into(),
        936 => "gbk".into(),
        949 => "euc-kr".into(),
        950 => "big5".into(),
        65001 => "utf-8".into(),
        _ => return None,
    };
    encoding_rs::Encoding::for_label(label.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(rtf: &str) -> Extracted {
        parse(rtf.as_bytes(), &Limits::default()).unwrap()
    }

    #[test]
    fn paragraphs_tabs_cells_and_escapes() {
        let out = text(
            r"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}{\colortbl;\red0;}{\info{\title Transition protocol}{\author X}}{\*\generator Writer}\pard Date\tab March 2021\par Caf\'e9 r\u233?sum\u233?\par\trowd A1\cell B1\cell\row {\field{\*\fldinst HYPERLINK x}{\fldrslt link text}}}",
        );
        assert_eq!(out.title.as_deref(), Some("Transition protocol"));
        assert!(out.text.contains("Date\tMarch 2021\n"), "{:?}", out.text);
        assert!(out.text.contains("Café résumé"));
        assert!(out.text.contains("A1\tB1\t"));
        assert!(out.text.contains("link text"));
        for junk in ["Arial", "Writer", "HYPERLINK", "red0"] {
            assert!(!out.text.contains(junk), "{junk}: {:?}", out.text);
        }
    }

    #[test]
    fn deep_groups_are_refused_not_overflowed() {
        let rtf = format!("{{\\rtf1 {}x{}}}", "{".repeat(5000), "}".repeat(5000));
        assert!(parse(rtf.as_bytes(), &Limits::default()).is_err());
    }
}
