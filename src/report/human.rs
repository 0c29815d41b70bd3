//! What people read in a terminal: tables and lists, with colour only when asked for (the
//! caller turns it on for a terminal and off for pipes, files and `NO_COLOR`).

use super::{EvidenceHit, GapReport, LibraryStatus, Status};
use crate::framework::Framework;
use crate::index::docs::StoredDoc;
use crate::index::update::Summary;
use crate::query::Hit;
use crate::tag::Reason;
use std::io::{self, Write};

#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.wrap("36", s)
    }
    fn status(&self, s: Status, text: &str) -> String {
        match s {
            Status::Missing => self.red(text),
            Status::Stale => self.yellow(text),
            Status::Thin => self.yellow(text),
            Status::Ok => self.green(text),
        }
    }
}

/// Pads by characters, not bytes, so accented titles line up.
fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn short_category(code: &str) -> &str {
    match code {
        "people_experience" => "People",
        "staff_leaders" => "Staff/leaders",
        "partners" => "Partners",
        "processes" => "Processes",
        other => other,
    }
}

pub fn write_gaps(r: &GapReport, w: &mut impl Write, st: Style) -> io::Result<()> {
    writeln!(
        w,
        "{} as of {} (current = dated in the last {} months, or a policy within its review date; minimum {} per category)",
        st.bold("Evidence gap report"),
        r.as_of,
        r.window_months,
        r.min_per_category
    )?;
    writeln!(w)?;
    let name_w = 44;
    let col_w = 18;
    write!(w, "{}", st.bold(&pad("Statement", name_w)))?;
    write!(w, "{}", st.bold(&pad("Status", 9)))?;
    for c in &r.category_order {
        write!(w, "{}", st.bold(&pad(short_category(c), col_w)))?;
    }
    writeln!(w)?;
    let mut theme = String::new();
    for row in &r.statements {
        if row.theme != theme {
            theme = row.theme.clone();
            writeln!(w, "{}", st.dim(&row.theme_title))?;
        }
        let name = truncate(&format!("{} {}", row.code, row.title), name_w - 2);
        write!(w, "{}", pad(&name, name_w))?;
        write!(w, "{}", st.status(row.status, &pad(row.status.as_str(), 9)))?;
        for c in &r.category_order {
            let cell = &row.categories[c];
            let text = match (cell.status, &cell.newest) {
                (Status::Missing, _) => "-".to_string(),
                (_, Some(n)) => format!(
                    "{} {} {}",
                    cell.count,
                    &n[..7.min(n.len())],
                    cell.status.as_str()
                ),
                (_, None) => format!("{} {}", cell.count, cell.status.as_str()),
            };
            write!(w, "{}", st.status(cell.status, &pad(&text, col_w)))?;
        }
        writeln!(w)?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "{} ({})",
        st.bold("Tagged to no statement"),
        r.untagged.len()
    )?;
    for d in &r.untagged {
        writeln!(w, "  {}  {}", d.title, st.dim(&d.path))?;
    }
    writeln!(
        w,
        "{} ({})",
        st.bold("Past their review date"),
        r.review_overdue.len()
    )?;
    for d in &r.review_overdue {
        writeln!(
            w,
            "  {} (review {}; {})  {}",
            d.title,
            st.red(&d.review_date),
            if d.statements.is_empty() {
                "no statement".into()
            } else {
                d.statements.join(", ")
            },
            st.dim(&d.path)
        )?;
    }
    writeln!(w, "{} ({})", st.bold("Could not be read"), r.failed.len())?;
    for d in &r.failed {
        let hold = if d.may_hold.is_empty() {
            String::new()
        } else {
            format!(" [may hold {}]", d.may_hold.join(", "))
        };
        writeln!(w, "  {}: {}{}", d.path, d.message, hold)?;
    }
    Ok(())
}

fn reasons_line(reasons: &[Reason]) -> String {
    // The text model's words go last, as one item, so they never crowd out the cues.
    let words: Vec<String> = reasons
        .iter()
        .filter(|r| r.source == "model")
        .map(|r| format!("\"{}\"", r.phrase))
        .collect();
    let model = (!words.is_empty()).then(|| format!("model: {}", words.join(" ")));
    reasons
        .iter()
        .filter(|r| r.source != "model")
        .take(6)
        .map(|r| {
            let who = if r.source == "librarian" {
                "librarian: "
            } else {
                ""
            };
            if r.count > 1 {
                format!("{who}\"{}\" x{} ({})", r.phrase, r.count, r.place)
            } else {
                format!("{who}\"{}\" ({})", r.phrase, r.place)
            }
        })
        .chain(model)
        .collect::<Vec<_>>()
        .join(", ")
}

fn highlighted(text: &str, highlights: &[(usize, usize)], st: Style) -> String {
    if !st.color || highlights.is_empty() {
        return text.to_string();
    }
    let mut out = String::new();
    let mut last = 0;
    for &(a, b) in highlights {
        if a < last || b > text.len() || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        out.push_str(&text[last..a]);
        out.push_str(&st.wrap("1;33", &text[a..b]));
        last = b;
    }
    out.push_str(&text[last..]);
    out
}

pub fn write_search(hits: &[Hit], w: &mut impl Write, st: Style) -> io::Result<()> {
    if hits.is_empty() {
        writeln!(w, "No documents match.")?;
        return Ok(());
    }
    for (i, h) in hits.iter().enumerate() {
        let title = if h.title.is_empty() {
            "(untitled)"
        } else {
            &h.title
        };
        let mut meta = vec![h.doc_type.clone()];
        if let Some(d) = &h.date {
            meta.push(d.clone());
        }
        if !h.statements.is_empty() {
            meta.push(h.statements.join(" "));
        }
        writeln!(
            w,
            "{}. {}  {}",
            i + 1,
            st.bold(title),
            st.dim(&format!("[{}]", meta.join(", ")))
        )?;
        writeln!(w, "   {}", st.cyan(&h.path))?;
        let page = h
            .page
            .as_deref()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        writeln!(
            w,
            "   {}{}",
            st.dim(&page),
            highlighted(&h.snippet, &h.highlights, st)
        )?;
        if h.paths.len() > 1 {
            writeln!(
                w,
                "   {}",
                st.dim(&format!("also at {}", h.paths[1..].join("; ")))
            )?;
        }
    }
    Ok(())
}

pub fn write_evidence(
    fw: &Framework,
    code: &str,
    category: Option<&str>,
    hits: &[EvidenceHit],
    w: &mut impl Write,
    st: Style,
) -> io::Result<()> {
    let title = fw.statement(code).map(|s| s.title.as_str()).unwrap_or("");
    let code = fw.statement(code).map(|s| s.code.as_str()).unwrap_or(code);
    match category {
        Some(c) => writeln!(
            w,
            "{} {} — {}",
            st.bold(code),
            st.bold(title),
            short_category(c)
        )?,
        None => writeln!(w, "{} {}", st.bold(code), st.bold(title))?,
    }
    if hits.is_empty() {
        writeln!(w, "No evidence found.")?;
        return Ok(());
    }
    for (i, h) in hits.iter().enumerate() {
        let when = h.date.clone().unwrap_or_else(|| "undated".into());
        let current = if h.current {
            st.green("current")
        } else {
            st.yellow("not current")
        };
        writeln!(
            w,
            "{}. {}  {:.2}  {}",
            i + 1,
            st.bold(if h.title.is_empty() {
                "(untitled)"
            } else {
                &h.title
            }),
            h.score,
            st.dim(&format!(
                "[{}, {}, {}]",
                h.doc_type,
                h.category.join("+"),
                when
            ))
        )?;
        writeln!(w, "   {}  {}", st.cyan(&h.path), current)?;
        writeln!(w, "   why: {}", reasons_line(&h.reasons))?;
        if let Some(p) = &h.passage {
            let page = h
                .page
                .as_deref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default();
            writeln!(w, "   {}{}", st.dim(&page), truncate(p, 240))?;
        }
    }
    Ok(())
}

/// "2 of 5 passages": in how many of a document's passages a statement is discussed.
fn passages(t: &crate::tag::TagScore) -> Option<String> {
    t.coverage.map(|(a, b)| format!("{a} of {b} passages"))
}

pub fn write_show(doc: &StoredDoc, w: &mut impl Write, st: Style) -> io::Result<()> {
    let title = if doc.title.is_empty() {
        "(untitled)"
    } else {
        &doc.title
    };
    writeln!(w, "{}", st.bold(title))?;
    for p in &doc.paths {
        writeln!(
            w,
            "  path      {}",
            st.cyan(&crate::paths::display(&crate::paths::from_key(p)))
        )?;
    }
    let status = if doc.ok {
        st.green("ok")
    } else {
        st.red(&format!("failed: {}", doc.error.as_deref().unwrap_or("")))
    };
    writeln!(w, "  status    {status}")?;
    writeln!(w, "  format    {}  ({} bytes)", doc.meta.format, doc.size)?;
    writeln!(w, "  type      {}", doc.tags.doc_type)?;
    let date = doc.tags.date.clone().unwrap_or_else(|| "unknown".into());
    let source = doc
        .tags
        .date_source
        .map(|s| {
            format!(
                " (from {})",
                serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
                    .replace('_', " ")
            )
        })
        .unwrap_or_default();
    writeln!(w, "  date      {date}{source}")?;
    if let Some(r) = &doc.tags.review_date {
        writeln!(w, "  review    {r}")?;
    }
    if let Some(a) = &doc.author {
        writeln!(w, "  author    {a}")?;
    }
    writeln!(
        w,
        "  words     {}{}",
        crate::extract::count_words(&doc.body),
        if doc.meta.truncated {
            " (truncated)"
        } else {
            ""
        }
    )?;
    writeln!(w, "  framework {}", doc.tags.framework)?;
    writeln!(w, "{}", st.bold("Statements"))?;
    if doc.tags.statements.is_empty() {
        writeln!(w, "  none")?;
    }
    for t in &doc.tags.statements {
        let cov = passages(t).map(|p| format!(", {p}")).unwrap_or_default();
        writeln!(
            w,
            "  {} {:.2}{}  {}",
            st.bold(&t.code),
            t.score,
            cov,
            reasons_line(&t.reasons)
        )?;
        if let Some(p) = &t.passage {
            writeln!(w, "      {}: {}", p.unit, st.dim(&truncate(&p.text, 200)))?;
        }
    }
    if !doc.tags.near_misses.is_empty() {
        let near: Vec<String> = doc
            .tags
            .near_misses
            .iter()
            .map(|t| {
                let cov = passages(t).map(|p| format!(" ({p})")).unwrap_or_default();
                format!("{} {:.2}{cov}", t.code, t.score)
            })
            .collect();
        // Not "below threshold": a statement beside the leading one, or far below it, is
        // left out at a score that would tag it alone (schema: further_threshold,
        // relative_floor).
        writeln!(
            w,
            "  {}",
            st.dim(&format!("not tagged: {}", near.join(", ")))
        )?;
    }
    writeln!(w, "{}", st.bold("Evidence categories"))?;
    for c in &doc.tags.categories {
        writeln!(
            w,
            "  {} {:.2}  {}",
            st.bold(&c.code),
            c.score,
            reasons_line(&c.reasons)
        )?;
    }
    if !doc.meta.warnings.is_empty() {
        writeln!(w, "{}", st.bold("Warnings"))?;
        for warn in &doc.meta.warnings {
            writeln!(w, "  {warn}")?;
        }
    }
    Ok(())
}

pub fn write_status(s: &LibraryStatus, w: &mut impl Write, st: Style) -> io::Result<()> {
    writeln!(w, "{} {}", st.bold("Index"), s.index)?;
    writeln!(
        w,
        "{} documents: {} read, {} could not be read",
        s.documents,
        st.green(&s.ok.to_string()),
        if s.failed > 0 {
            st.red(&s.failed.to_string())
        } else {
            "0".into()
        }
    )?;
    writeln!(w, "{}", st.bold("By format"))?;
    for f in &s.formats {
        writeln!(
            w,
            "  {}{:>6} ok {:>6} failed",
            pad(&f.format, 8),
            f.ok,
            f.failed
        )?;
    }
    writeln!(w, "{}", st.bold("Roots"))?;
    for r in &s.roots {
        let state = match (&r.offline_since, &r.last_indexed) {
            (Some(since), _) => st.yellow(&format!(
                "offline since {since} (documents kept, unverified)"
            )),
            (None, Some(t)) => format!("last indexed {t}"),
            (None, None) => "not indexed yet".into(),
        };
        writeln!(
            w,
            "  {}  {} documents, {}",
            st.cyan(&r.path),
            r.documents,
            state
        )?;
    }
    if !s.failures.is_empty() {
        writeln!(w, "{}", st.bold("Could not be read"))?;
        for f in &s.failures {
            writeln!(w, "  {}: {} [{}]", f.path, f.message, f.reason)?;
        }
    }
    Ok(())
}

/// The one line that ends every `index` run, then what failed and what was refused.
pub fn write_index_summary(s: &Summary, w: &mut impl Write, st: Style) -> io::Result<()> {
    for f in &s.failures {
        writeln!(w, "{} {}: {}", st.red("failed"), f.path, f.message)?;
    }
    for i in &s.crawl_issues {
        writeln!(w, "{} {}: {}", st.yellow("skipped"), i.path, i.message)?;
    }
    for r in &s.offline_roots {
        writeln!(
            w,
            "{} {}: documents kept, marked unverified",
            st.yellow("offline"),
            r
        )?;
    }
    for r in &s.removals_refused {
        writeln!(w, "{} {}", st.yellow("not removed:"), r.message)?;
    }
    let secs = s.elapsed_ms as f64 / 1000.0;
    let mut parts = vec![
        format!("{} added", s.added),
        format!("{} updated", s.updated),
    ];
    if s.moved > 0 {
        parts.push(format!("{} moved", s.moved));
    }
    parts.push(format!("{} removed", s.removed));
    parts.push(format!("{} unchanged", s.unchanged));
    parts.push(format!("{} failed", s.failed));
    if s.duplicates > 0 {
        parts.push(format!("{} duplicates", s.duplicates));
    }
    if s.retagged > 0 {
        parts.push(format!("{} re-tagged", s.retagged));
    }
    if s.kept_offline > 0 {
        parts.push(format!("{} kept offline", s.kept_offline));
    }
    let nothing = s.added + s.updated + s.moved + s.removed + s.failed + s.retagged == 0;
    writeln!(
        w,
        "{} {} in {:.1}s; {} documents in the library{}",
        st.bold("indexed:"),
        parts.join(", "),
        secs,
        s.documents,
        if nothing {
            " (nothing changed, nothing re-extracted)"
        } else {
            ""
        }
    )?;
    Ok(())
}
