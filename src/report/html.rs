//! The gap report as one self-contained HTML5 file for a council's quality assurance board.
//!
//! This module owns the HTML rendering of a [`GapReport`](super::GapReport) and nothing else:
//! it takes the data computed in `report/mod.rs` and writes a page that
//!
//! * makes no network requests at all: inline `<style>` only, no scripts, no fonts, no images,
//!   no `url()` or `@import`; the only links are in-page anchors and `file:` links that open
//!   the council's own documents (a Content-Security-Policy of `default-src 'none'` makes the
//!   browser enforce this too);
//! * shows the statement x category matrix as a heat map in a real `<table>` (caption, column
//!   and row headers, statements grouped by theme), each cell giving its status in words, a
//!   symbol and a border style as well as a colour, so it reads in greyscale print and with a
//!   screen reader, and linking to the evidence list for that cell (`#ev-{code}-{category}`);
//! * lists the evidence for every statement and category (title, date, type, currency, score,
//!   the reasons with librarian decisions shown apart, the best passage, a link to the file),
//!   then the untagged documents, the policies past their review date and the unreadable files;
//! * is deterministic: the same report always gives the same bytes (no clock, no randomness).
//!
//! `file:` URLs are built from the stored display path by its shape, not by the platform the
//! report is written on: `/a b/c.pdf` gives `file:///a%20b/c.pdf`, `C:\x\y.docx` gives
//! `file:///C:/x/y.docx` and `\\server\share\a.pdf` gives `file://server/share/a.pdf`.

use super::{Cell, EvidenceItem, GapReport, StatementRow, Status};
use crate::tag::Reason;
use std::fmt::Write as _;

/// Write `report` as one self-contained HTML5 document.
pub fn write_html(report: &super::GapReport, w: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut out = String::with_capacity(64 * 1024);
    render(report, &mut out)
        .map_err(|_| std::io::Error::other("formatting the HTML report failed"))?;
    w.write_all(out.as_bytes())?;
    w.flush()
}

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 16px; line-height: 1.45; color: #1a1a1a; background: #fff; }
main { max-width: 78rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
a { color: #0b3d91; }
a:focus-visible, summary:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; background: #fff3b0; }
.skip { position: absolute; left: -9999px; top: 0; padding: .5rem 1rem; background: #1a1a1a; color: #fff; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
.sr { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
h1 { font-size: 1.9rem; margin: .5rem 0 .25rem; }
h2 { font-size: 1.45rem; margin: 2.25rem 0 .5rem; border-bottom: 2px solid #1a1a1a; padding-bottom: .2rem; }
h3 { font-size: 1.2rem; margin: 1.75rem 0 .4rem; }
h4 { font-size: 1.05rem; margin: 1.25rem 0 .3rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: .9em; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
nav.toc ul { margin: .25rem 0; padding-left: 1.25rem; }
.legend { list-style: none; padding: 0; margin: .5rem 0 1rem; display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .4rem .75rem; }
.legend li { padding: .35rem .5rem; }
.legend .s { font-weight: 700; }
.sym { display: inline-block; min-width: 1.1em; font-weight: 700; }
.st-missing { background-color: #f8d7da; background-image: repeating-linear-gradient(45deg, transparent 0 6px, rgba(150, 0, 20, .10) 6px 9px); border-left: 5px double #8a1c24; }
.st-stale { background-color: #ffe3bf; background-image: radial-gradient(rgba(140, 70, 0, .16) 1.5px, transparent 1.6px); background-size: 8px 8px; border-left: 5px dashed #8a4b00; }
.st-thin { background-color: #fff4b8; background-image: repeating-linear-gradient(0deg, transparent 0 7px, rgba(110, 90, 0, .13) 7px 8px); border-left: 5px dotted #6b5a00; }
.st-ok { background-color: #d5efdb; border-left: 5px solid #1e6b35; }
.st-missing, .st-stale, .st-thin, .st-ok { color: #1a1a1a; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0 .5rem; caption-side: top; }
th, td { border: 1px solid #767676; padding: .35rem .5rem; vertical-align: top; text-align: left; }
thead th { background: #e8e8e8; color: #1a1a1a; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
table.matrix { table-layout: fixed; }
table.matrix thead th:first-child { width: 22%; }
table.matrix th.theme { background: #f2f2f2; font-size: .95rem; letter-spacing: .01em; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
table.matrix th[scope="row"] { font-weight: 600; }
table.matrix th[scope="row"] a { display: block; }
.nw { white-space: nowrap; }
table.matrix td a.cell { display: block; color: #1a1a1a; text-decoration: none; }
table.matrix td a.cell:hover .s, table.matrix td a.cell:focus .s { text-decoration: underline; }
table.matrix td .s { font-weight: 700; }
table.matrix td .n, table.matrix td .d { display: block; font-size: .9rem; }
ol.evidence { padding-left: 1.5rem; }
ol.evidence > li { margin: 0 0 1rem; padding: .5rem .75rem; border: 1px solid #c8c8c8; border-radius: 4px; }
ol.evidence .item-title { font-weight: 600; margin: 0 0 .25rem; }
ol.evidence dl.facts { margin: .25rem 0; grid-template-columns: max-content 1fr max-content 1fr; }
.cur { font-weight: 600; color: #1e6b35; }
.notcur { font-weight: 600; color: #8a1c24; }
ul.reasons { margin: .25rem 0; padding-left: 1.25rem; }
ul.reasons li.librarian { list-style: none; margin-left: -1.25rem; padding: .2rem .5rem; border-left: 4px solid #4b2a8a; background: #efe9fb; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.badge { display: inline-block; font-size: .8rem; font-weight: 700; padding: 0 .35rem; border: 1px solid currentColor; border-radius: 3px; margin-right: .35rem; }
blockquote.passage { margin: .35rem 0; padding: .35rem .75rem; border-left: 4px solid #767676; background: #f6f6f6; }
blockquote.passage p { margin: 0; }
.where { font-size: .9rem; color: #444; }
.path { font-size: .9rem; margin: .25rem 0 0; }
.none { font-style: italic; }
.more { font-weight: 600; }
.back { font-size: .9rem; }
.cell-summary { margin: .25rem 0 .5rem; padding: .25rem .5rem; display: inline-block; }
footer.page-foot { margin-top: 3rem; font-size: .85rem; color: #444; border-top: 1px solid #c8c8c8; padding-top: .5rem; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { font-size: 9.5pt; line-height: 1.3; }
  main { max-width: none; padding: 0; }
  .skip, nav.toc, .back, footer.page-foot { display: none; }
  a { color: inherit; text-decoration: none; }
  h1 { font-size: 17pt; margin: 0 0 2mm; }
  h2 { font-size: 13pt; break-after: avoid; page-break-after: avoid; }
  h3, h4 { break-after: avoid; page-break-after: avoid; }
  header dl.facts { grid-template-columns: max-content 1fr max-content 1fr; gap: 0 4mm; margin: 0 0 2mm; font-size: 8.5pt; }
  .legend { grid-template-columns: 1fr 1fr; margin: 0 0 2mm; gap: 1mm 2mm; font-size: 8pt; }
  .legend li { padding: .5mm 1.5mm; }
  section.matrix-section h2 { margin: 2mm 0 1mm; }
  table.matrix caption { font-size: 8.5pt; padding: 0 0 1mm; }
  table.matrix { font-size: 8pt; line-height: 1.2; margin: 0; }
  table.matrix th, table.matrix td { padding: 1mm 1.2mm; }
  table.matrix thead th:first-child { width: 19%; }
  table.matrix td .n, table.matrix td .d { font-size: 7.5pt; white-space: nowrap; }
  table.matrix th.theme { font-size: 8.5pt; padding: .6mm 1.2mm; }
  table.matrix .lbl { display: none; }
  tr, li, blockquote { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  #evidence { break-before: page; page-break-before: always; }
  ol.evidence > li { border-color: #999; }
}
"#;

fn render(r: &GapReport, o: &mut String) -> std::fmt::Result {
    let cats: Vec<(&str, &str)> = r
        .category_order
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let title = r
                .category_titles
                .get(i)
                .map(String::as_str)
                .unwrap_or(c.as_str());
            (c.as_str(), title)
        })
        .collect();
    let themes = theme_groups(&r.statements);

    o.push_str("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // The browser itself refuses anything from the network; `file:` links are navigations,
    // which a CSP does not govern, so the documents still open.
    o.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n",
    );
    o.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    o.push_str("<meta name=\"generator\" content=\"evidex ");
    o.push_str(&esc(env!("CARGO_PKG_VERSION")));
    o.push_str("\">\n");
    writeln!(
        o,
        "<title>Evidence gap report, as of {}</title>",
        esc(&r.as_of)
    )?;
    o.push_str("<style>");
    o.push_str(STYLE);
    o.push_str("</style>\n</head>\n<body>\n");
    o.push_str("<a class=\"skip\" href=\"#matrix\">Skip to the gap matrix</a>\n");
    o.push_str("<main id=\"top\">\n");

    // Header: what this is, as of when, on what terms.
    o.push_str("<header>\n<h1>Evidence gap report</h1>\n<dl class=\"facts\">\n");
    writeln!(o, "<dt>As of</dt><dd>{}</dd>", esc(&r.as_of))?;
    writeln!(
        o,
        "<dt>Window</dt><dd>{} {} before the as-of date</dd>",
        r.window_months,
        plural(r.window_months as usize, "month", "months")
    )?;
    writeln!(
        o,
        "<dt>Minimum per category</dt><dd>{} current {}</dd>",
        r.min_per_category,
        plural(r.min_per_category, "document", "documents")
    )?;
    writeln!(o, "<dt>Framework</dt><dd>{}</dd>", esc(&r.framework))?;
    writeln!(
        o,
        "<dt>Documents</dt><dd>{} readable {} in the library</dd>",
        r.documents,
        plural(r.documents, "document", "documents")
    )?;
    o.push_str("</dl>\n");

    o.push_str("<ul class=\"legend\" aria-label=\"Key to statuses\">\n");
    let min = r.min_per_category.max(1);
    let legend: [(Status, String); 4] = [
        (Status::Missing, "no evidence at all.".to_string()),
        (
            Status::Stale,
            "evidence exists, but none of it is current (none dated within the window, and no policy within its review date).".to_string(),
        ),
        (
            Status::Thin,
            if min == 1 {
                "a statement with some current evidence, but at least one category with none that is current.".to_string()
            } else {
                format!("some current evidence, but fewer than {min} current documents (for a statement: at least one category falls short).")
            },
        ),
        (
            Status::Ok,
            format!(
                "at least {min} current {} (for a statement: in every category).",
                plural(min, "document", "documents")
            ),
        ),
    ];
    for (st, text) in &legend {
        writeln!(
            o,
            "<li class=\"{}\"><span class=\"sym\" aria-hidden=\"true\">{}</span> <span class=\"s\">{}</span>: {}</li>",
            status_class(*st),
            symbol(*st),
            st.as_str(),
            esc(text)
        )?;
    }
    o.push_str("</ul>\n");

    o.push_str("<nav class=\"toc\" aria-label=\"Contents\">\n<ul>\n");
    o.push_str("<li><a href=\"#matrix\">Gap matrix</a></li>\n");
    o.push_str("<li><a href=\"#evidence\">Evidence by statement</a></li>\n");
    writeln!(
        o,
        "<li><a href=\"#untagged\">Documents tagged to no statement</a> ({})</li>",
        r.untagged.len()
    )?;
    writeln!(
        o,
        "<li><a href=\"#review-overdue\">Policies and strategies past their review date</a> ({})</li>",
        r.review_overdue.len()
    )?;
    writeln!(
        o,
        "<li><a href=\"#failed\">Files that could not be read</a> ({})</li>",
        r.failed.len()
    )?;
    o.push_str("</ul>\n</nav>\n</header>\n");

    render_matrix(r, &cats, &themes, o)?;
    render_evidence(r, &cats, &themes, o)?;
    render_untagged(r, o)?;
    render_overdue(r, o)?;
    render_failed(r, o)?;

    o.push_str("</main>\n<footer class=\"page-foot\">\n");
    writeln!(
        o,
        "<p>Written by evidex {} from the local index. The links open documents on the council's own drives; this page loads nothing from the internet.</p>",
        esc(env!("CARGO_PKG_VERSION"))
    )?;
    o.push_str("</footer>\n</body>\n</html>\n");
    Ok(())
}

/// Statements grouped by theme, keeping the framework's order (a theme that reappears later
/// starts a new group rather than reordering rows).
fn theme_groups(rows: &[StatementRow]) -> Vec<(&str, Vec<&StatementRow>)> {
    let mut groups: Vec<(&str, Vec<&StatementRow>)> = Vec::new();
    for row in rows {
        let label = theme_label(row);
        match groups.last_mut() {
            Some((t, members)) if *t == label && members[0].theme == row.theme => members.push(row),
            _ => groups.push((label, vec![row])),
        }
    }
    groups
}

fn theme_label(row: &StatementRow) -> &str {
    if !row.theme_title.trim().is_empty() {
        &row.theme_title
    } else if !row.theme.trim().is_empty() {
        &row.theme
    } else {
        "Quality statements"
    }
}

fn render_matrix(
    r: &GapReport,
    cats: &[(&str, &str)],
    themes: &[(&str, Vec<&StatementRow>)],
    o: &mut String,
) -> std::fmt::Result {
    o.push_str("<section class=\"matrix-section\" aria-labelledby=\"matrix-h\">\n");
    o.push_str("<h2 id=\"matrix-h\">Gap matrix</h2>\n");
    o.push_str("<table class=\"matrix\" id=\"matrix\">\n");
    writeln!(
        o,
        "<caption>Current evidence for each quality statement and evidence category, as of {} (window {} {}, minimum {} per category). Each cell gives its status, the number of current documents and the newest date; select a cell to see its evidence.</caption>",
        esc(&r.as_of),
        r.window_months,
        plural(r.window_months as usize, "month", "months"),
        r.min_per_category
    )?;
    o.push_str("<thead>\n<tr><th scope=\"col\">Quality statement</th>");
    for (_, title) in cats {
        write!(o, "<th scope=\"col\">{}</th>", esc(title))?;
    }
    o.push_str("<th scope=\"col\">Statement status</th></tr>\n</thead>\n");
    let span = cats.len() + 2;
    if themes.is_empty() {
        writeln!(
            o,
            "<tbody><tr><td colspan=\"{span}\">The framework has no quality statements.</td></tr></tbody>"
        )?;
    }
    for (theme, rows) in themes {
        o.push_str("<tbody>\n");
        writeln!(
            o,
            "<tr><th scope=\"rowgroup\" colspan=\"{span}\" class=\"theme\">Theme: {}</th></tr>",
            esc(theme)
        )?;
        for row in rows {
            write!(
                o,
                "<tr><th scope=\"row\" id=\"{}\"><a href=\"#{}\"><span class=\"code\">{}</span> {}</a></th>",
                row_id(&row.code),
                statement_id(&row.code),
                esc(&row.code),
                esc(&row.title)
            )?;
            for (cat, _) in cats {
                let cell = cell_of(row, cat);
                write!(
                    o,
                    "<td class=\"{}\"><a class=\"cell\" href=\"#{}\">{}</a></td>",
                    status_class(cell.status),
                    evidence_id(&row.code, cat),
                    cell_text(&cell)
                )?;
            }
            writeln!(
                o,
                "<td class=\"{}\"><span class=\"sym\" aria-hidden=\"true\">{}</span> <span class=\"s\">{}</span></td></tr>",
                status_class(row.status),
                symbol(row.status),
                row.status.as_str()
            )?;
        }
        o.push_str("</tbody>\n");
    }
    o.push_str("</table>\n</section>\n");
    Ok(())
}

/// A matrix cell's text: status, current count, newest date, with separators a screen reader
/// reads but the eye does not need.
fn cell_text(c: &Cell) -> String {
    let (count, newest) = cell_parts(c);
    format!(
        "<span class=\"sym\" aria-hidden=\"true\">{}</span> <span class=\"s\">{}</span><span class=\"sr\">, </span><span class=\"n\">{}</span><span class=\"sr\">, </span><span class=\"d\">{}</span>",
        symbol(c.status),
        c.status.as_str(),
        count,
        newest
    )
}

/// A cell's status on one line, above its evidence list.
fn cell_line(c: &Cell) -> String {
    let (count, newest) = cell_parts(c);
    format!(
        "<span class=\"sym\" aria-hidden=\"true\">{}</span> <span class=\"s\">{}</span>: {}, {}",
        symbol(c.status),
        c.status.as_str(),
        count,
        newest
    )
}

/// A cell's count and newest date, as HTML.
fn cell_parts(c: &Cell) -> (String, String) {
    let count = if c.total > c.count {
        format!("{} current of {}", c.count, c.total)
    } else {
        format!("{} current", c.count)
    };
    let newest = match (&c.newest, c.total) {
        (_, 0) => "no evidence".to_string(),
        (Some(d), _) => format!(
            "<span class=\"lbl\">newest </span><span class=\"nw\">{}</span>",
            esc(d)
        ),
        (None, _) => "undated".to_string(),
    };
    (count, newest)
}

fn cell_of(row: &StatementRow, cat: &str) -> Cell {
    row.categories.get(cat).cloned().unwrap_or(Cell {
        count: 0,
        total: 0,
        newest: None,
        status: Status::Missing,
    })
}

fn render_evidence(
    r: &GapReport,
    cats: &[(&str, &str)],
    themes: &[(&str, Vec<&StatementRow>)],
    o: &mut String,
) -> std::fmt::Result {
    o.push_str("<section id=\"evidence\" aria-labelledby=\"evidence-h\">\n");
    o.push_str("<h2 id=\"evidence-h\">Evidence by statement</h2>\n");
    writeln!(
        o,
        "<p>For each quality statement and evidence category, the documents tagged as evidence, best first. Current means dated within the {} {} before {} (or, for a policy or strategy, not yet past its review date).</p>",
        r.window_months,
        plural(r.window_months as usize, "month", "months"),
        esc(&r.as_of)
    )?;
    let cat_title = |code: &str| -> String {
        cats.iter()
            .find(|(c, _)| *c == code)
            .map(|(_, t)| t.to_string())
            .unwrap_or_else(|| code.to_string())
    };
    for (theme, rows) in themes {
        o.push_str("<section class=\"theme\">\n");
        writeln!(o, "<h2>Theme: {}</h2>", esc(theme))?;
        for row in rows {
            writeln!(
                o,
                "<section class=\"statement\" id=\"{}\" aria-labelledby=\"{}-h\">",
                statement_id(&row.code),
                statement_id(&row.code)
            )?;
            writeln!(
                o,
                "<h3 id=\"{}-h\">{} {}</h3>",
                statement_id(&row.code),
                esc(&row.code),
                esc(&row.title)
            )?;
            writeln!(
                o,
                "<p class=\"cell-summary {}\"><span class=\"sym\" aria-hidden=\"true\">{}</span> Statement status: <span class=\"s\">{}</span></p>",
                status_class(row.status),
                symbol(row.status),
                row.status.as_str()
            )?;
            for (cat, title) in cats {
                let cell = cell_of(row, cat);
                let id = evidence_id(&row.code, cat);
                writeln!(
                    o,
                    "<section class=\"cell-evidence\" id=\"{id}\" aria-labelledby=\"{id}-h\">"
                )?;
                writeln!(
                    o,
                    "<h4 id=\"{id}-h\">{}: {}</h4>",
                    esc(&row.code),
                    esc(title)
                )?;
                writeln!(
                    o,
                    "<p class=\"cell-summary {}\">{}</p>",
                    status_class(cell.status),
                    cell_line(&cell)
                )?;
                let items: &[EvidenceItem] =
                    row.evidence.get(*cat).map(Vec::as_slice).unwrap_or(&[]);
                let more = row.evidence_more.get(*cat).copied().unwrap_or(0);
                if items.is_empty() && more == 0 {
                    writeln!(
                        o,
                        "<p class=\"none\">There is no evidence for {} in the category {}.</p>",
                        esc(&row.code),
                        esc(title)
                    )?;
                }
                if !items.is_empty() {
                    o.push_str("<ol class=\"evidence\">\n");
                    for item in items {
                        render_item(item, &cat_title(&item.category), o)?;
                    }
                    o.push_str("</ol>\n");
                }
                if more > 0 {
                    let cmd = format!("evidex evidence {} --category {}", row.code, cat);
                    if items.is_empty() {
                        writeln!(
                            o,
                            "<p class=\"more\">{more} {} not listed here (run <code>{}</code>)</p>",
                            plural(more, "document", "documents"),
                            esc(&cmd)
                        )?;
                    } else {
                        writeln!(
                            o,
                            "<p class=\"more\">and {more} more (run <code>{}</code>)</p>",
                            esc(&cmd)
                        )?;
                    }
                }
                o.push_str("<p class=\"back\"><a href=\"#matrix\">Back to the gap matrix</a></p>\n</section>\n");
            }
            o.push_str("</section>\n");
        }
        o.push_str("</section>\n");
    }
    o.push_str("</section>\n");
    Ok(())
}

fn render_item(item: &EvidenceItem, category_title: &str, o: &mut String) -> std::fmt::Result {
    o.push_str("<li>\n<p class=\"item-title\">");
    o.push_str(&file_link(&item.path, &item.title));
    o.push_str("</p>\n<dl class=\"facts\">");
    write!(
        o,
        "<dt>Date</dt><dd>{}</dd>",
        esc(item.date.as_deref().unwrap_or("undated"))
    )?;
    write!(
        o,
        "<dt>Type</dt><dd>{}</dd>",
        esc(&doc_type_label(&item.doc_type))
    )?;
    write!(o, "<dt>Category</dt><dd>{}</dd>", esc(category_title))?;
    if item.current {
        o.push_str("<dt>Current</dt><dd><span class=\"cur\">current</span></dd>");
    } else {
        o.push_str("<dt>Current</dt><dd><span class=\"notcur\">not current</span></dd>");
    }
    write!(o, "<dt>Score</dt><dd>{}</dd>", score(item.score))?;
    o.push_str("</dl>\n");
    if !item.reasons.is_empty() {
        o.push_str("<p class=\"where\">Why it is tagged:</p>\n<ul class=\"reasons\">\n");
        for reason in &item.reasons {
            render_reason(reason, o)?;
        }
        o.push_str("</ul>\n");
    }
    if let Some(text) = item.passage.as_deref().filter(|t| !t.trim().is_empty()) {
        o.push_str("<blockquote class=\"passage\">");
        write!(o, "<p>{}</p>", esc(text))?;
        if let Some(page) = item.page.as_deref().filter(|p| !p.trim().is_empty()) {
            write!(o, "<p class=\"where\">Best passage, {}</p>", esc(page))?;
        } else {
            o.push_str("<p class=\"where\">Best passage</p>");
        }
        o.push_str("</blockquote>\n");
    }
    writeln!(
        o,
        "<p class=\"path\">File: <code>{}</code></p>\n</li>",
        esc(&item.path)
    )?;
    Ok(())
}

fn render_reason(reason: &Reason, o: &mut String) -> std::fmt::Result {
    let count = if reason.count > 1 {
        format!(" ({} times)", reason.count)
    } else {
        String::new()
    };
    match reason.source.as_str() {
        "librarian" => writeln!(
            o,
            "<li class=\"librarian\"><span class=\"badge\">Librarian</span>decision: {}{}{}</li>",
            esc(&reason.phrase),
            if reason.place.is_empty() || reason.place == "note" {
                String::new()
            } else {
                format!(" (in {})", esc(&reason.place))
            },
            count
        ),
        "rule" | "" => writeln!(
            o,
            "<li>&ldquo;{}&rdquo; in the {}{}</li>",
            esc(&reason.phrase),
            esc(if reason.place.is_empty() {
                "text"
            } else {
                &reason.place
            }),
            count
        ),
        other => writeln!(
            o,
            "<li><span class=\"badge\">{}</span>&ldquo;{}&rdquo; in the {}{}</li>",
            esc(other),
            esc(&reason.phrase),
            esc(if reason.place.is_empty() {
                "text"
            } else {
                &reason.place
            }),
            count
        ),
    }
}

fn render_untagged(r: &GapReport, o: &mut String) -> std::fmt::Result {
    o.push_str("<section id=\"untagged\" aria-labelledby=\"untagged-h\">\n");
    o.push_str("<h2 id=\"untagged-h\">Documents tagged to no statement</h2>\n");
    if r.untagged.is_empty() {
        o.push_str("<p class=\"none\">Every readable document is tagged to at least one quality statement.</p>\n");
    } else {
        writeln!(
            o,
            "<p>The librarian's to-do list: {} {} the tagger could not place under any quality statement. Tag them by hand, or confirm they are not evidence.</p>",
            r.untagged.len(),
            plural(r.untagged.len(), "document", "documents")
        )?;
        o.push_str("<table>\n<caption>Documents tagged to no statement</caption>\n<thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Date</th><th scope=\"col\">Type</th><th scope=\"col\">File</th></tr></thead>\n<tbody>\n");
        for d in &r.untagged {
            writeln!(
                o,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                file_link(&d.path, &d.title),
                esc(d.date.as_deref().unwrap_or("undated")),
                esc(&doc_type_label(&d.doc_type)),
                esc(&d.path)
            )?;
        }
        o.push_str("</tbody>\n</table>\n");
    }
    o.push_str("</section>\n");
    Ok(())
}

fn render_overdue(r: &GapReport, o: &mut String) -> std::fmt::Result {
    o.push_str("<section id=\"review-overdue\" aria-labelledby=\"review-overdue-h\">\n");
    o.push_str("<h2 id=\"review-overdue-h\">Policies and strategies past their review date</h2>\n");
    if r.review_overdue.is_empty() {
        writeln!(
            o,
            "<p class=\"none\">No policy or strategy is past its review date on {}.</p>",
            esc(&r.as_of)
        )?;
    } else {
        writeln!(
            o,
            "<p>{} {} past {} review date on {}; they no longer count as current evidence.</p>",
            r.review_overdue.len(),
            plural(r.review_overdue.len(), "document is", "documents are"),
            plural(r.review_overdue.len(), "its", "their"),
            esc(&r.as_of)
        )?;
        o.push_str("<table>\n<caption>Policies and strategies past their review date, oldest review date first</caption>\n<thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Type</th><th scope=\"col\">Review date</th><th scope=\"col\">Statements</th><th scope=\"col\">File</th></tr></thead>\n<tbody>\n");
        for d in &r.review_overdue {
            writeln!(
                o,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                file_link(&d.path, &d.title),
                esc(&doc_type_label(&d.doc_type)),
                esc(&d.review_date),
                statement_links(r, &d.statements),
                esc(&d.path)
            )?;
        }
        o.push_str("</tbody>\n</table>\n");
    }
    o.push_str("</section>\n");
    Ok(())
}

fn render_failed(r: &GapReport, o: &mut String) -> std::fmt::Result {
    o.push_str("<section id=\"failed\" aria-labelledby=\"failed-h\">\n");
    o.push_str("<h2 id=\"failed-h\">Files that could not be read</h2>\n");
    if r.failed.is_empty() {
        o.push_str("<p class=\"none\">Every file in the library could be read.</p>\n");
    } else {
        writeln!(
            o,
            "<p>{} {} could not be read, so {} not counted above. The last but one column gives the statements a file's name suggests it may hold evidence for.</p>",
            r.failed.len(),
            plural(r.failed.len(), "file", "files"),
            plural(r.failed.len(), "it is", "they are")
        )?;
        o.push_str("<table>\n<caption>Files that could not be read</caption>\n<thead><tr><th scope=\"col\">Title</th><th scope=\"col\">Reason</th><th scope=\"col\">Message</th><th scope=\"col\">May hold evidence for</th><th scope=\"col\">File</th></tr></thead>\n<tbody>\n");
        for d in &r.failed {
            let may = if d.may_hold.is_empty() {
                "none suggested".to_string()
            } else {
                statement_links(r, &d.may_hold)
            };
            writeln!(
                o,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                file_link(&d.path, &d.title),
                esc(&d.reason),
                esc(&d.message),
                may,
                esc(&d.path)
            )?;
        }
        o.push_str("</tbody>\n</table>\n");
    }
    o.push_str("</section>\n");
    Ok(())
}

/// Statement codes, each linked to its evidence when the report has that statement.
fn statement_links(r: &GapReport, codes: &[String]) -> String {
    if codes.is_empty() {
        return "none".to_string();
    }
    codes
        .iter()
        .map(|c| {
            if r.statements.iter().any(|s| &s.code == c) {
                format!("<a href=\"#{}\">{}</a>", statement_id(c), esc(c))
            } else {
                esc(c)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A link that opens the document, or just its title when no `file:` URL can be made.
fn file_link(path: &str, title: &str) -> String {
    let shown = if title.trim().is_empty() { path } else { title };
    match file_url(path) {
        Some(url) => format!("<a href=\"{}\">{}</a>", esc(&url), esc(shown)),
        None => esc(shown),
    }
}

/// The `file:` URL for a stored display path, judged by its shape (so the result does not
/// depend on the platform the report is written on). `None` for a relative path.
pub(crate) fn file_url(path: &str) -> Option<String> {
    let mut p = path;
    // Win32 verbatim and device prefixes: \\?\C:\x, \\?\UNC\server\share\x, \\.\C:\x
    for prefix in [r"\\?\", r"\\.\", "//?/", "//./"] {
        if let Some(rest) = p.strip_prefix(prefix) {
            p = rest;
            if let Some(unc) = p.strip_prefix(r"UNC\").or_else(|| p.strip_prefix("UNC/")) {
                return Some(unc_url(unc));
            }
            break;
        }
    }
    let b = p.as_bytes();
    if b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b.len() == 2 || b[2] == b'\\' || b[2] == b'/')
    {
        // C:\x\y.docx -> file:///C:/x/y.docx
        let rest = &p[2..];
        let segs: Vec<String> = rest.split(['\\', '/']).map(pct).collect();
        return Some(format!("file:///{}:{}", &p[..1], segs.join("/")));
    }
    if let Some(unc) = p.strip_prefix(r"\\") {
        return Some(unc_url(unc));
    }
    if let Some(rest) = p.strip_prefix('/') {
        // Unix: a backslash is an ordinary character in a name here.
        let segs: Vec<String> = rest.split('/').map(pct).collect();
        return Some(format!("file:///{}", segs.join("/")));
    }
    None
}

/// `server\share\a.pdf` (after the leading `\\`) -> `file://server/share/a.pdf`.
fn unc_url(rest: &str) -> String {
    let mut parts = rest.split(['\\', '/']);
    let host = parts.next().unwrap_or("");
    let segs: Vec<String> = parts.map(pct).collect();
    format!("file://{}/{}", pct(host), segs.join("/"))
}

/// Percent-encode one path segment: everything but RFC 3986 unreserved characters.
fn pct(seg: &str) -> String {
    let mut s = String::with_capacity(seg.len());
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

/// Escape text for HTML content and double- or single-quoted attributes. Control characters
/// other than tab and newlines (which HTML does not allow) become U+FFFD.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// An id fragment for a code: ASCII letters, digits and `_` kept, every other byte as `.XX`,
/// so distinct codes always give distinct ids.
fn id_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            out.push(b as char);
        } else {
            let _ = write!(out, ".{b:02X}");
        }
    }
    out
}

fn evidence_id(code: &str, category: &str) -> String {
    format!("ev-{}-{}", id_part(code), id_part(category))
}

fn statement_id(code: &str) -> String {
    format!("st-{}", id_part(code))
}

fn row_id(code: &str) -> String {
    format!("row-{}", id_part(code))
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Missing => "st-missing",
        Status::Stale => "st-stale",
        Status::Thin => "st-thin",
        Status::Ok => "st-ok",
    }
}

/// A symbol per status, so the matrix reads without colour (DejaVu and system fonts have all four).
fn symbol(s: Status) -> &'static str {
    match s {
        Status::Missing => "\u{2717}", // ✗
        Status::Stale => "\u{25F7}",   // ◷
        Status::Thin => "\u{25D0}",    // ◐
        Status::Ok => "\u{2713}",      // ✓
    }
}

fn doc_type_label(code: &str) -> String {
    if code.is_empty() {
        "unknown".to_string()
    } else {
        code.replace('_', " ")
    }
}

fn score(v: f32) -> String {
    if v.is_finite() {
        format!("{v:.2}")
    } else {
        "n/a".to_string()
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::super::{DocRef, FailedDoc, OverdueDoc};
    use super::*;
    use std::collections::BTreeMap;

    const CATS: [(&str, &str); 4] = [
        ("people_experience", "People's experience"),
        ("staff_leaders", "Feedback from staff and leaders"),
        ("partners", "Feedback from partners"),
        ("processes", "Processes"),
    ];

    fn reason(source: &str, place: &str, phrase: &str, count: u32) -> Reason {
        Reason {
            source: source.into(),
            place: place.into(),
            phrase: phrase.into(),
            count,
        }
    }

    fn item(path: &str, title: &str, cat: &str, current: bool) -> EvidenceItem {
        EvidenceItem {
            path: path.into(),
            title: title.into(),
            date: Some("2025-02-14".into()),
            doc_type: "action_plan".into(),
            category: cat.into(),
            score: 0.8125,
            current,
            reasons: vec![
                reason("rule", "title", "carers", 2),
                reason("librarian", "note", "Board asked for this one", 0),
            ],
            page: Some("p. 3".into()),
            passage: Some("Carers told us the assessment took too long.".into()),
        }
    }

    fn row(
        code: &str,
        title: &str,
        theme: &str,
        theme_title: &str,
        statuses: [Status; 4],
    ) -> StatementRow {
        let mut categories = BTreeMap::new();
        let mut evidence = BTreeMap::new();
        let mut evidence_more = BTreeMap::new();
        for ((cat, _), st) in CATS.iter().zip(statuses) {
            let (count, total, newest) = match st {
                Status::Missing => (0, 0, None),
                Status::Stale => (0, 2, Some("2021-05-01".to_string())),
                Status::Thin => (1, 1, Some("2025-02-14".to_string())),
                Status::Ok => (3, 5, Some("2025-06-01".to_string())),
            };
            categories.insert(
                cat.to_string(),
                Cell {
                    count,
                    total,
                    newest,
                    status: st,
                },
            );
            let items = match st {
                Status::Missing => vec![],
                _ => vec![item(
                    "/srv/asc library/Surveys/Carers survey 2025.docx",
                    &format!("{code} {cat} evidence"),
                    cat,
                    st != Status::Stale,
                )],
            };
            evidence_more.insert(cat.to_string(), if st == Status::Ok { 4 } else { 0 });
            evidence.insert(cat.to_string(), items);
        }
        let status = *statuses.iter().min().unwrap();
        StatementRow {
            code: code.into(),
            title: title.into(),
            theme: theme.into(),
            theme_title: theme_title.into(),
            status,
            categories,
            evidence,
            evidence_more,
        }
    }

    fn sample() -> GapReport {
        use Status::*;
        let mut qs1 = row(
            "QS1",
            "Assessing needs",
            "working-with-people",
            "Working with people",
            [Ok, Thin, Stale, Missing],
        );
        qs1.evidence.get_mut("people_experience").unwrap()[0].title =
            "Carers <script>alert(1)</script> & friends".into();
        qs1.evidence.get_mut("people_experience").unwrap()[0].path =
            r"C:\Evidence\ASC\Carers plan.docx".into();
        let qs2 = row(
            "QS2",
            "Supporting people to live healthier lives",
            "working-with-people",
            "Working with people",
            [Ok, Ok, Ok, Ok],
        );
        let mut qs7 = row(
            "QS7",
            "Safeguarding",
            "ensuring-safety",
            "Ensuring safety",
            [Missing, Missing, Missing, Stale],
        );
        qs7.evidence.get_mut("processes").unwrap()[0].path =
            r"\\fileserver\asc share\Safeguarding\SAB report.pdf".into();
        GapReport {
            as_of: "2025-06-30".into(),
            window_months: 24,
            min_per_category: 2,
            framework: "cqc-la@1".into(),
            category_order: CATS.iter().map(|c| c.0.to_string()).collect(),
            category_titles: CATS.iter().map(|c| c.1.to_string()).collect(),
            statements: vec![qs1, qs2, qs7],
            untagged: vec![DocRef {
                path: "/srv/asc library/Facilities/Staff car parking.txt".into(),
                title: "Staff car parking".into(),
                date: None,
                doc_type: "other".into(),
            }],
            review_overdue: vec![OverdueDoc {
                path: "/srv/asc library/Policies/Charging policy 2019.docx".into(),
                title: "Charging policy".into(),
                doc_type: "policy".into(),
                review_date: "2022-04-01".into(),
                statements: vec!["QS2".into(), "QS9".into()],
            }],
            failed: vec![FailedDoc {
                path: "/srv/asc library/Safeguarding/Locked SAR.docx".into(),
                title: "Locked SAR".into(),
                reason: "encrypted".into(),
                message: "the file is password-protected".into(),
                may_hold: vec!["QS7".into()],
            }],
            documents: 42,
        }
    }

    fn html(r: &GapReport) -> String {
        let mut buf = Vec::new();
        write_html(r, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    /// Values of `attr="..."` in the text.
    fn attr_values(h: &str, attr: &str) -> Vec<String> {
        let pat = format!("{attr}=\"");
        let mut out = Vec::new();
        let mut rest = h;
        while let Some(i) = rest.find(&pat) {
            // only whole attribute names
            let before = rest[..i].chars().last();
            rest = &rest[i + pat.len()..];
            if before.is_some_and(|c| !c.is_whitespace()) {
                continue;
            }
            let end = rest.find('"').unwrap();
            out.push(rest[..end].to_string());
        }
        out
    }

    #[test]
    fn document_shell_and_accessibility() {
        let h = html(&sample());
        assert!(h.starts_with("<!DOCTYPE html>\n<html lang=\"en-GB\">"));
        assert!(h.contains("<meta charset=\"utf-8\">"));
        assert!(h.contains("<title>Evidence gap report, as of 2025-06-30</title>"));
        assert!(h.contains("<h1>Evidence gap report</h1>"));
        assert!(h.contains("<main id=\"top\">") && h.contains("</main>"));
        assert!(h.contains("<a class=\"skip\" href=\"#matrix\">"));
        assert!(h.contains("id=\"matrix\""));
        assert!(h.contains("@media print"));
        assert!(h.contains("<dt>Framework</dt><dd>cqc-la@1</dd>"));
        assert!(h.contains("<dt>Documents</dt><dd>42 readable documents"));
        assert!(!h.contains("<script"), "no script elements");
        // Headings never skip a level.
        let mut last = 0;
        for (i, _) in h.match_indices("<h") {
            let lvl = h.as_bytes()[i + 2];
            if lvl.is_ascii_digit() {
                let lvl = (lvl - b'0') as i32;
                assert!(lvl <= last + 1, "heading level jumps to h{lvl} at {i}");
                last = lvl;
            }
        }
    }

    #[test]
    fn matrix_table_markup() {
        let h = html(&sample());
        assert!(h.contains("<table class=\"matrix\" id=\"matrix\">\n<caption>"));
        assert!(h.contains("<thead>"));
        for (_, title) in CATS {
            assert!(
                h.contains(&format!("<th scope=\"col\">{}</th>", esc(title))),
                "{title}"
            );
        }
        assert!(h.contains("<th scope=\"col\">Statement status</th>"));
        for code in ["QS1", "QS2", "QS7"] {
            assert!(h.contains(&format!("<th scope=\"row\" id=\"row-{code}\"><a href=\"#st-{code}\"><span class=\"code\">{code}</span>")));
        }
        assert!(h.contains("Theme: Working with people"));
        assert!(h.contains("Theme: Ensuring safety"));
        // Two statements of one theme share one row group.
        assert_eq!(h.matches("scope=\"rowgroup\"").count(), 2);
        // 3 statements x 4 categories, each a linked cell.
        assert_eq!(h.matches("<a class=\"cell\" href=\"#ev-").count(), 12);
    }

    #[test]
    fn every_link_target_exists() {
        let h = html(&sample());
        let ids: std::collections::HashSet<String> = attr_values(&h, "id").into_iter().collect();
        let hrefs = attr_values(&h, "href");
        let internal: Vec<&String> = hrefs.iter().filter(|h| h.starts_with('#')).collect();
        assert!(internal.len() > 12);
        for href in internal {
            assert!(ids.contains(&href[1..]), "no id for {href}");
        }
        for code in ["QS1", "QS2", "QS7"] {
            for (cat, _) in CATS {
                let id = format!("ev-{code}-{cat}");
                assert!(h.contains(&format!("href=\"#{id}\"")), "{id} linked");
                assert!(h.contains(&format!("id=\"{id}\"")), "{id} present");
            }
        }
        // No duplicate ids.
        assert_eq!(ids.len(), attr_values(&h, "id").len());
    }

    #[test]
    fn statuses_as_text() {
        let h = html(&sample());
        for s in ["missing", "stale", "thin", "ok"] {
            assert!(h.contains(&format!("<span class=\"s\">{s}</span>")), "{s}");
            assert!(h.contains(&format!("class=\"st-{s}\"")), "{s}");
        }
        assert!(h.contains("3 current of 5"));
        assert!(
            h.contains("<span class=\"lbl\">newest </span><span class=\"nw\">2025-06-01</span>")
        );
        assert!(h.contains("0 current of 2"));
        assert!(h.contains("no evidence"));
        assert!(
            !h.contains("There is no evidence for QS1 in the category Feedback from partners.")
        );
        assert!(h.contains("There is no evidence for QS1 in the category Processes."));
        assert!(h.contains(
            "and 4 more (run <code>evidex evidence QS2 --category people_experience</code>)"
        ));
        // Legend explains in words.
        assert!(h.contains(
            "<span class=\"s\">stale</span>: evidence exists, but none of it is current"
        ));
    }

    #[test]
    fn evidence_items_in_full() {
        let h = html(&sample());
        let sec = &h[h.find("id=\"ev-QS2-partners\"").unwrap()..];
        let sec = &sec[..sec.find("</section>").unwrap()];
        assert!(sec.contains("QS2 partners evidence"));
        assert!(sec.contains("<span class=\"s\">ok</span>: 3 current of 5, <span class=\"lbl\">newest </span><span class=\"nw\">2025-06-01</span>"));
        assert!(sec.contains("<dt>Date</dt><dd>2025-02-14</dd>"));
        assert!(sec.contains("<dt>Type</dt><dd>action plan</dd>"));
        assert!(sec.contains("<dt>Category</dt><dd>Feedback from partners</dd>"));
        assert!(sec.contains("<span class=\"cur\">current</span>"));
        assert!(sec.contains("<dt>Score</dt><dd>0.81</dd>"));
        assert!(sec.contains("&ldquo;carers&rdquo; in the title (2 times)"));
        assert!(sec.contains("<li class=\"librarian\"><span class=\"badge\">Librarian</span>decision: Board asked for this one</li>"));
        assert!(sec.contains("Carers told us the assessment took too long."));
        assert!(sec.contains("Best passage, p. 3"));
        let stale = &h[h.find("id=\"ev-QS1-partners\"").unwrap()..];
        assert!(
            stale[..stale.find("</section>").unwrap()]
                .contains("<span class=\"notcur\">not current</span>")
        );
    }

    #[test]
    fn escaping() {
        let h = html(&sample());
        assert!(!h.contains("<script>alert(1)</script>"));
        assert!(h.contains("Carers &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends"));
        assert!(h.contains("People&#39;s experience"));
        let mut r = sample();
        r.framework = "a\"b'c<d>&e\u{1}".into();
        let h = html(&r);
        assert!(h.contains("a&quot;b&#39;c&lt;d&gt;&amp;e\u{FFFD}"));
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }

    #[test]
    fn no_network_urls() {
        let h = html(&sample());
        let lower = h.to_ascii_lowercase();
        for bad in [
            "http://",
            "https://",
            "src=\"//",
            "href=\"//",
            "@import",
            "url(",
            "<script",
            "<link",
            "<img",
            "<iframe",
        ] {
            assert!(!lower.contains(bad), "found {bad}");
        }
        for href in attr_values(&h, "href") {
            assert!(
                href.starts_with('#')
                    || href.starts_with("file:///")
                    || href.starts_with("file://"),
                "{href}"
            );
        }
        assert!(attr_values(&h, "src").is_empty());
    }

    #[test]
    fn file_links() {
        let h = html(&sample());
        // Unix path with spaces.
        assert!(
            h.contains("href=\"file:///srv/asc%20library/Surveys/Carers%20survey%202025.docx\"")
        );
        // Windows drive path.
        assert!(h.contains("href=\"file:///C:/Evidence/ASC/Carers%20plan.docx\""));
        // UNC path.
        assert!(h.contains("href=\"file://fileserver/asc%20share/Safeguarding/SAB%20report.pdf\""));
        // The raw path is shown too.
        assert!(h.contains("<code>C:\\Evidence\\ASC\\Carers plan.docx</code>"));

        assert_eq!(file_url("/a b/c.pdf").unwrap(), "file:///a%20b/c.pdf");
        assert_eq!(file_url(r"C:\x\y.docx").unwrap(), "file:///C:/x/y.docx");
        assert_eq!(
            file_url("c:/x/y z.docx").unwrap(),
            "file:///c:/x/y%20z.docx"
        );
        assert_eq!(
            file_url(r"\\server\share\a.pdf").unwrap(),
            "file://server/share/a.pdf"
        );
        assert_eq!(file_url(r"\\?\C:\x\y.docx").unwrap(), "file:///C:/x/y.docx");
        assert_eq!(
            file_url(r"\\?\UNC\server\share\a.pdf").unwrap(),
            "file://server/share/a.pdf"
        );
        assert_eq!(
            file_url("/lib/Carers feedback 💜#1 100%?.txt").unwrap(),
            "file:///lib/Carers%20feedback%20%F0%9F%92%9C%231%20100%25%3F.txt"
        );
        // On Unix a backslash is part of a name.
        assert_eq!(file_url(r"/tmp/a\b.txt").unwrap(), "file:///tmp/a%5Cb.txt");
        assert_eq!(file_url("Politique d'évaluation.txt"), None);
    }

    #[test]
    fn other_sections() {
        let h = html(&sample());
        assert!(h.contains("<caption>Documents tagged to no statement</caption>"));
        assert!(h.contains("Staff car parking"));
        assert!(h.contains("<td>2022-04-01</td>"));
        assert!(
            h.contains("<a href=\"#st-QS2\">QS2</a>, QS9"),
            "QS9 is not in this report, so not linked"
        );
        assert!(h.contains("<td>encrypted</td><td>the file is password-protected</td><td><a href=\"#st-QS7\">QS7</a></td>"));

        let mut r = sample();
        r.untagged.clear();
        r.review_overdue.clear();
        r.failed.clear();
        let h = html(&r);
        assert!(h.contains("Every readable document is tagged to at least one quality statement."));
        assert!(h.contains("No policy or strategy is past its review date on 2025-06-30."));
        assert!(h.contains("Every file in the library could be read."));
    }

    #[test]
    fn deterministic_and_unusual_codes() {
        let r = sample();
        assert_eq!(html(&r), html(&r));
        assert_eq!(
            evidence_id("QS1", "people_experience"),
            "ev-QS1-people_experience"
        );
        assert_ne!(evidence_id("A-B", "c"), evidence_id("A", "B-c"));
        let mut r = sample();
        r.statements[0].code = "Q\"S<1>".into();
        let h = html(&r);
        assert!(h.contains("href=\"#ev-Q.22S.3C1.3E-people_experience\""));
        assert!(h.contains("id=\"ev-Q.22S.3C1.3E-people_experience\""));
        assert!(h.contains("Q&quot;S&lt;1&gt;"));
    }

    #[test]
    fn list_without_items_but_more() {
        let mut r = sample();
        r.statements[1]
            .evidence
            .insert("staff_leaders".into(), vec![]);
        let h = html(&r);
        assert!(h.contains("4 documents not listed here (run <code>evidex evidence QS2 --category staff_leaders</code>)"));
    }
}
