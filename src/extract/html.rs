//! HTML pages, including web pages saved from council sites.
//!
//! A saved council page is mostly navigation: menus listing every service, breadcrumbs, cookie
//! banners, footers. Left in, that boilerplate would tag a page about bins to safeguarding, so
//! the page's main content is read when the page marks it (`<main>`, `role=main`, `<article>`,
//! common content ids), and navigation, headers, footers, scripts and styles are dropped
//! everywhere. The walk is iterative, so deeply nested markup cannot overflow the stack.

use super::{Extracted, Failure, Format, Limits, TextBuilder, UnitKind, collapse_ws};
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};
use std::path::Path;

const SKIP_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "form", "button",
    "select", "iframe", "object", "head", "dialog",
];

const SKIP_ROLES: &[&str] = &["navigation", "banner", "contentinfo", "search", "dialog"];

const BOILERPLATE_MARKS: &[&str] = &[
    "cookie",
    "breadcrumb",
    "skip-link",
    "skiplink",
    "skip-to",
    "navbar",
    "megamenu",
    "mega-menu",
    "site-nav",
    "sitenav",
    "main-nav",
    "mainnav",
    "navigation",
    "menu",
    "footer",
    "masthead",
    "site-header",
    "siteheader",
    "global-header",
    "page-header__nav",
    "sidebar",
    "social",
    "sharing",
    "share-",
    "feedback",
    "back-to-top",
    "alert-banner",
];

const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "blockquote",
    "pre",
    "address",
    "figure",
    "figcaption",
    "details",
    "summary",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "caption",
    "body",
];

fn is_boilerplate(el: &scraper::node::Element) -> bool {
    let name = el.name();
    if SKIP_TAGS.contains(&name) {
        return true;
    }
    if let Some(role) = el.attr("role")
        && SKIP_ROLES.contains(&role)
    {
        return true;
    }
    if el.attr("aria-hidden") == Some("true") || el.attr("hidden").is_some() {
        return true;
    }
    let marks = el
        .attr("class")
        .unwrap_or_default()
        .split_whitespace()
        .chain(el.attr("id"))
        .map(|t| t.to_ascii_lowercase());
    for token in marks {
        if token == "nav" || token == "header" || token == "footer" || token == "share" {
            return true;
        }
        if BOILERPLATE_MARKS.iter().any(|m| token.contains(m)) {
            return true;
        }
    }
    false
}

fn main_root(doc: &Html) -> Option<ElementRef<'_>> {
    for sel in [
        "main",
        "[role=main]",
        "#main-content",
        "#maincontent",
        "#main",
        "#content",
        ".main-content",
        "article",
    ] {
        let selector = Selector::parse(sel).ok()?;
        if let Some(el) = doc.select(&selector).next() {
            return Some(el);
        }
    }
    None
}

/// Writes the readable text under `root`, skipping boilerplate below it.
fn walk(root: ElementRef<'_>, b: &mut TextBuilder) {
    let mut skipping: Option<ego_tree::NodeId> = None;
    let mut heading: Option<(u8, usize)> = None;
    let mut pre = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        let name = el.name();
                        if node.id() != root.id() && is_boilerplate(el) {
                            skipping = Some(node.id());
                            continue;
                        }
                        if BLOCK_TAGS.contains(&name) {
                            b.newline();
                        }
                        match name {
                            "br" => b.push_char('\n'),
                            "td" | "th" => b.separate('\t'),
                            "pre" => pre += 1,
                            "img" => {
                                if let Some(alt) = el.attr("alt").map(collapse_ws)
                                    && alt.split_whitespace().count() >= 3
                                {
                                    b.separate(' ');
                                    b.push_str(&alt);
                                }
                            }
                            h if h.len() == 2 && h.starts_with('h') => {
                                if let Some(level) =
                                    h[1..].parse::<u8>().ok().filter(|l| (1..=6).contains(l))
                                {
                                    heading = Some((level, b.len()));
                                }
                            }
                            _ => {}
                        }
                    }
                    Node::Text(t) => {
                        if pre > 0 {
                            b.push_str(t);
                        } else {
                            push_inline(b, t);
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if let Some(id) = skipping {
                    if id == node.id() {
                        skipping = None;
                    }
                    continue;
                }
                if let Node::Element(el) = node.value() {
                    let name = el.name();
                    if name == "pre" {
                        pre = pre.saturating_sub(1);
                    }
                    if let Some((level, start)) = heading
                        && name.len() == 2
                        && name.starts_with('h')
                        && name[1..].parse::<u8>().ok() == Some(level)
                    {
                        let start = start.min(b.len());
                        let text = b.meta().text[start..].to_string();
                        b.heading(level, &text, start);
                        heading = None;
                    }
                    if BLOCK_TAGS.contains(&name) || name == "tr" {
                        b.newline();
                    }
                }
            }
        }
    }
}

/// HTML whitespace: runs collapse to one space, and no space opens a line.
fn push_inline(b: &mut TextBuilder, t: &str) {
    let starts_ws = t.starts_with(char::is_whitespace);
    let ends_ws = t.ends_with(char::is_whitespace);
    let body = collapse_ws(t);
    if body.is_empty() {
        if starts_ws || ends_ws {
            b.separate(' ');
        }
        return;
    }
    if starts_ws {
        b.separate(' ');
    }
    b.push_str(&body);
    if ends_ws {
        b.push_char(' ');
    }
}

fn meta_content(doc: &Html, selectors: &[&str]) -> Option<String> {
    for sel in selectors {
        let selector = Selector::parse(sel).ok()?;
        if let Some(v) = doc
            .select(&selector)
            .next()
            .and_then(|e| {
                e.value()
                    .attr("content")
                    .or_else(|| e.value().attr("datetime"))
            })
            .map(collapse_ws)
            .filter(|v| !v.is_empty())
        {
            return Some(v);
        }
    }
    None
}

fn read_under(root: ElementRef<'_>, limits: &Limits) -> Extracted {
    let mut b = TextBuilder::new(Format::Html, limits);
    b.begin_unit(UnitKind::Part, "page");
    walk(root, &mut b);
    b.finish()
}

pub fn extract_str(html: &str, limits: &Limits) -> Extracted {
    let doc = Html::parse_document(html);
    let mut out = main_root(&doc)
        .map(|root| read_under(root, limits))
        .unwrap_or_default();
    if out.text.trim().len() < 200 {
        // No marked main content, or too little of it to be the page: read the whole body,
        // still without its boilerplate.
        let body = Selector::parse("body")
            .ok()
            .and_then(|s| doc.select(&s).next())
            .unwrap_or_else(|| doc.root_element());
        let whole = read_under(body, limits);
        if whole.text.trim().len() > out.text.trim().len() {
            out = whole;
        }
    }
    out.format = Format::Html;
    out.title = Selector::parse("title")
        .ok()
        .and_then(|s| {
            doc.select(&s)
                .next()
                .map(|t| collapse_ws(&t.text().collect::<String>()))
        })
        .filter(|t| !t.is_empty())
        .or_else(|| meta_content(&doc, &["meta[property='og:title']"]));
    out.author = meta_content(&doc, &["meta[name=author]", "meta[name='dc.creator']"]);
    out.subject = meta_content(&doc, &["meta[name=description]"]);
    out.keywords = meta_content(&doc, &["meta[name=keywords]"]);
    out.created = meta_content(
        &doc,
        &[
            "meta[property='article:published_time']",
            "meta[name='dcterms.created']",
            "meta[name='dc.date.created']",
            "meta[name='dc.date']",
        ],
    );
    out.modified = meta_content(
        &doc,
        &[
            "meta[property='article:modified_time']",
            "meta[name='dcterms.modified']",
            "meta[name='dc.date.modified']",
            "meta[name='last-modified']",
        ],
    );
    tidy(out)
}

/// Drops blank lines' indentation and runs of empty lines that block nesting leaves behind.
fn tidy(mut out: Extracted) -> Extracted {
    let mut cleaned = String::with_capacity(out.text.len());
    let mut blank = 0;
    // Offsets must stay valid for units and headings, so map old offsets to new ones.
    let mut map: Vec<(usize, usize)> = Vec::new();
    let mut pos = 0;
    for line in out.text.split_inclusive('\n') {
        map.push((pos, cleaned.len()));
        pos += line.len();
        let t = line.trim();
        if t.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
            cleaned.push('\n');
        } else {
            blank = 0;
            cleaned.push_str(t);
            cleaned.push('\n');
        }
    }
    map.push((pos, cleaned.len()));
    let remap = |off: usize| -> usize {
        match map.binary_search_by_key(&off, |(o, _)| *o) {
            Ok(i) => map[i].1,
            Err(i) => map[i.saturating_sub(1)].1,
        }
    };
    for u in &mut out.units {
        u.start = remap(u.start);
        u.end = remap(u.end).max(u.start);
    }
    for h in &mut out.headings {
        h.offset = remap(h.offset);
    }
    let trimmed = cleaned.trim_end().len();
    cleaned.truncate(trimmed);
    for u in &mut out.units {
        u.end = u.end.min(trimmed);
        u.start = u.start.min(u.end);
    }
    out.text = cleaned;
    out
}

pub fn extract(path: &Path, limits: &Limits) -> Result<Extracted, Failure> {
    let mut bytes = Vec::new();
    use std::io::Read;
    std::fs::File::open(path)?
        .take(limits.max_text_bytes as u64 * 2)
        .read_to_end(&mut bytes)?;
    let html = super::text::decode(&bytes)
        .ok_or_else(|| Failure::damaged("damaged HTML: binary content"))?;
    Ok(extract_str(&html, limits))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head><title>Direct payments | Anyshire County Council</title>
      <meta name="description" content="How direct payments work">
      <script>var safeguarding = "should not be indexed";</script><style>.x{}</style></head>
      <body><div class="cookie-banner">We use cookies. Accept all cookies</div>
      <header><a href="/">Anyshire</a><nav><ul><li>Council tax</li><li>Bins and recycling</li><li>Safeguarding adults</li></ul></nav></header>
      <div class="breadcrumbs">Home &gt; Adult social care</div>
      <main><h1>Direct payments</h1><p>A direct payment is money   the council
      gives you to arrange your own care.</p><table><tr><td>Rate</td><td>£12.50</td></tr></table></main>
      <footer>Contact us · Accessibility · Privacy</footer></body></html>"#;

    #[test]
    fn main_content_without_boilerplate() {
        let out = extract_str(PAGE, &Limits::default());
        assert_eq!(
            out.title.as_deref(),
            Some("Direct payments | Anyshire County Council")
        );
        assert!(
            out.text
                .contains("A direct payment is money the council gives you"),
            "{}",
            out.text
        );
        assert!(out.text.contains("Rate\t£12.50"));
        for junk in [
            "cookies",
            "Council tax",
            "Safeguarding",
            "should not be indexed",
            "Privacy",
            "Home >",
        ] {
            assert!(!out.text.contains(junk), "{junk} leaked: {}", out.text);
        }
        assert_eq!(out.headings[0].text, "Direct payments");
        assert_eq!(out.subject.as_deref(), Some("How direct payments work"));
    }

    #[test]
    fn pages_without_main_use_the_body_minus_boilerplate() {
        let body = "Carers can ask for an assessment of their own needs. ".repeat(8);
        let html = format!(
            r#"<html><body><div id="site-header"><ul class="menu"><li>Parking</li></ul></div><div class="content-area"><h2>Carers</h2><p>{body}</p></div><div class="site-footer">Privacy</div></body></html>"#
        );
        let out = extract_str(&html, &Limits::default());
        assert!(out.text.contains("Carers can ask"));
        assert!(!out.text.contains("Parking"));
        assert!(!out.text.contains("Privacy"));
        assert_eq!(out.units.len(), 1);
        assert_eq!(out.units[0].end, out.text.len());
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<div>".repeat(3_000) + "deep text" + &"</div>".repeat(3_000);
        let out = extract_str(&html, &Limits::default());
        assert!(out.text.contains("deep text"));
    }
}
