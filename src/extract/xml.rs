//! A bounded walk over an XML part, shared by the OOXML and ODF extractors.
//!
//! quick-xml does not expand DTD entities, so a billion-laughs part is inert; custom entity
//! references are dropped. What quick-xml does not bound is nesting, so the walk refuses parts
//! nested deeper than the limit (callers keep per-element stacks).

use super::Failure;
use quick_xml::events::{BytesStart, Event};

pub enum Ev<'a, 'x> {
    /// An element opens (an empty element produces `Open` then `Close`).
    Open(&'a BytesStart<'x>),
    /// An element closes; the local name.
    Close(&'a str),
    /// Character data, already unescaped.
    Text(&'a str),
}

/// The local part of an element name (`w:p` -> `p`).
pub fn local<'a>(e: &'a BytesStart<'_>) -> &'a str {
    let name = e.name().into_inner();
    name.rsplit(':').next().unwrap_or(name)
}

/// The full qualified name (`w:p`).
pub fn qname<'a>(e: &'a BytesStart<'_>) -> &'a str {
    e.name().into_inner()
}

/// An attribute's value by qualified name (`w:val`) or, failing that, by local name.
pub fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    let want_local = key.rsplit(':').next().unwrap_or(key);
    let mut by_local = None;
    for a in e.attributes().with_checks(false).flatten() {
        let k = a.key.into_inner();
        if k == key {
            return Some(unescape_attr(&a.value));
        }
        if by_local.is_none() && k.rsplit(':').next() == Some(want_local) {
            by_local = Some(unescape_attr(&a.value));
        }
    }
    by_local
}

fn unescape_attr(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        match rest.find(';') {
            Some(j) if j <= 12 => {
                if let Some(c) = resolve_entity(&rest[..j]) {
                    out.push(c);
                }
                rest = &rest[j + 1..];
            }
            _ => out.push('&'),
        }
    }
    out.push_str(rest);
    out
}

fn resolve_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        "nbsp" => Some(' '),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                num.parse().ok()?
            };
            char::from_u32(code).filter(|c| *c != '\0')
        }
    }
}

/// Walks `xml`, calling `f` for each element and text run, refusing nesting deeper than
/// `max_depth`. Malformed XML after some content yields what was read plus a warning string;
/// malformed XML before any content is an error.
pub fn walk(
    xml: &str,
    max_depth: usize,
    mut f: impl FnMut(Ev<'_, '_>),
) -> Result<Option<String>, Failure> {
    let mut reader = quick_xml::Reader::from_str(xml);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = false;
        cfg.allow_unmatched_ends = true;
        cfg.allow_dangling_amp = true;
        cfg.check_comments = false;
    }
    let mut depth = 0usize;
    let mut seen = 0usize;
    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let msg = format!("malformed XML at byte {}: {e}", reader.buffer_position());
                if seen > 0 {
                    return Ok(Some(msg));
                }
                return Err(Failure::damaged(format!("damaged document: {msg}")));
            }
        };
        seen += 1;
        match ev {
            Event::Start(e) => {
                depth += 1;
                if depth > max_depth {
                    return Err(Failure::damaged(format!(
                        "damaged document: XML nested more than {max_depth} levels deep"
                    )));
                }
                f(Ev::Open(&e));
            }
            Event::Empty(e) => {
                f(Ev::Open(&e));
                f(Ev::Close(local(&e)));
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let name = e.name();
                let n = name.into_inner();
                f(Ev::Close(n.rsplit(':').next().unwrap_or(n)));
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                if !s.is_empty() {
                    f(Ev::Text(&s));
                }
            }
            Event::CData(t) => {
                let s = t.into_inner();
                f(Ev::Text(&s));
            }
            Event::GeneralRef(r) => {
                let name = r.into_inner();
                if let Some(c) = resolve_entity(&name) {
                    let mut buf = [0u8; 4];
                    f(Ev::Text(c.encode_utf8(&mut buf)));
                }
            }
            Event::Eof => return Ok(None),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(xml: &str) -> String {
        let mut out = String::new();
        walk(xml, 100, |ev| {
            if let Ev::Text(t) = ev {
                out.push_str(t)
            }
        })
        .unwrap();
        out
    }

    #[test]
    fn entities_resolve_and_custom_ones_drop() {
        assert_eq!(texts("<a>x &amp; y &#233; &lol;</a>"), "x & y é ");
    }

    #[test]
    fn billion_laughs_is_inert() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><lolz>&lol2;</lolz>"#;
        assert_eq!(texts(xml), "");
    }

    #[test]
    fn depth_is_bounded() {
        let xml = "<a>".repeat(200) + &"</a>".repeat(200);
        assert!(walk(&xml, 100, |_| {}).is_err());
        assert!(walk(&xml, 300, |_| {}).is_ok());
    }

    #[test]
    fn attributes_by_qualified_or_local_name() {
        let mut got = Vec::new();
        walk(r#"<w:p w:val="Heading1" r:id="rId3&amp;"/>"#, 10, |ev| {
            if let Ev::Open(e) = ev {
                got.push(attr(e, "w:val"));
                got.push(attr(e, "id"));
                got.push(attr(e, "missing"));
            }
        })
        .unwrap();
        assert_eq!(
            got,
            vec![Some("Heading1".into()), Some("rId3&".into()), None]
        );
    }
}
