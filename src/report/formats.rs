//! The gap report as CSV (one row per statement x category, for spreadsheets) and as Markdown
//! (pasteable into a self-assessment document).

use super::{GapReport, Status};
use std::io::{self, Write};

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn write_csv(r: &GapReport, w: &mut impl Write) -> io::Result<()> {
    writeln!(
        w,
        "as_of,statement,title,theme,statement_status,category,count,total,newest,cell_status"
    )?;
    for row in &r.statements {
        for cat in &r.category_order {
            let cell = &row.categories[cat];
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{},{}",
                r.as_of,
                row.code,
                csv_field(&row.title),
                row.theme,
                row.status.as_str(),
                cat,
                cell.count,
                cell.total,
                cell.newest.as_deref().unwrap_or(""),
                cell.status.as_str()
            )?;
        }
    }
    Ok(())
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Missing => "**missing**",
        Status::Stale => "**stale**",
        Status::Thin => "thin",
        Status::Ok => "ok",
    }
}

pub fn write_markdown(r: &GapReport, w: &mut impl Write) -> io::Result<()> {
    writeln!(w, "# Evidence gap report\n")?;
    writeln!(
        w,
        "As of {}; evidence counts as current when dated in the {} months before, or when a policy or strategy is within its review date. A category needs at least {} current document{}.\n",
        r.as_of,
        r.window_months,
        r.min_per_category,
        if r.min_per_category == 1 { "" } else { "s" }
    )?;
    write!(w, "| Statement | Status |")?;
    for t in &r.category_titles {
        write!(w, " {} |", md_escape(t))?;
    }
    writeln!(w)?;
    write!(w, "|---|---|")?;
    for _ in &r.category_titles {
        write!(w, "---|")?;
    }
    writeln!(w)?;
    for row in &r.statements {
        write!(
            w,
            "| {} {} | {} |",
            row.code,
            md_escape(&row.title),
            status_word(row.status)
        )?;
        for cat in &r.category_order {
            let c = &row.categories[cat];
            match (&c.newest, c.status) {
                (_, Status::Missing) => write!(w, " none |")?,
                (Some(n), s) => write!(w, " {} current, newest {} ({}) |", c.count, n, s.as_str())?,
                (None, s) => write!(w, " {} current ({}) |", c.count, s.as_str())?,
            }
        }
        writeln!(w)?;
    }
    writeln!(w, "\n## Documents tagged to no statement\n")?;
    if r.untagged.is_empty() {
        writeln!(w, "None.")?;
    }
    for d in &r.untagged {
        writeln!(
            w,
            "- {} ({}{}) — `{}`",
            md_escape(&d.title),
            d.doc_type,
            d.date
                .as_deref()
                .map(|d| format!(", {d}"))
                .unwrap_or_default(),
            d.path
        )?;
    }
    writeln!(w, "\n## Policies and strategies past their review date\n")?;
    if r.review_overdue.is_empty() {
        writeln!(w, "None.")?;
    }
    for d in &r.review_overdue {
        writeln!(
            w,
            "- {} ({}, review date {}; {}) — `{}`",
            md_escape(&d.title),
            d.doc_type,
            d.review_date,
            if d.statements.is_empty() {
                "no statement".to_string()
            } else {
                d.statements.join(", ")
            },
            d.path
        )?;
    }
    writeln!(w, "\n## Files that could not be read\n")?;
    if r.failed.is_empty() {
        writeln!(w, "None.")?;
    }
    for d in &r.failed {
        writeln!(
            w,
            "- `{}`: {}{}",
            d.path,
            md_escape(&d.message),
            if d.may_hold.is_empty() {
                String::new()
            } else {
                format!(" (may hold evidence for {})", d.may_hold.join(", "))
            }
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(
            csv_field("Governance, management"),
            "\"Governance, management\""
        );
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
