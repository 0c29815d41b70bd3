//! Each command: turn what the user typed into library calls and render the result. Data goes
//! to stdout (JSON Lines for lists with --json), progress and warnings to stderr.

use crate::cli::{self, Cli, ColorChoice, Command};
use anyhow::{Context, Result, anyhow, bail};
use evidex::error::Error;
use evidex::extract::worker::{Worker, WorkerConfig};
use evidex::framework::Framework;
use evidex::index::update::{self, Options, Progress, Silent};
use evidex::index::{self, Library};
use evidex::report::{self, human::Style};
use evidex::tag::{TagInput, Tagger};
use evidex::{eval, paths, query};
use jiff::civil::Date;
use serde_json::json;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a command ended, for the exit code.
pub enum Outcome {
    Ok,
    /// The command ran but found nothing to report where something was expected.
    NotFound,
}

struct Ctx {
    dir: PathBuf,
    framework_arg: Option<PathBuf>,
    style: Style,
}

impl Ctx {
    /// The framework: --framework, else the one remembered by the index, else built in.
    fn framework(&self) -> Result<Framework> {
        if let Some(p) = &self.framework_arg {
            return Ok(Framework::load(p)?);
        }
        if let Ok(Some(state)) = index::state::State::load(&self.dir)
            && let Some(p) = state.framework_path
        {
            return Framework::load(Path::new(&p))
                .map_err(|e| anyhow!("{e}\n(the index was tagged with this framework file; pass --framework to use another)"));
        }
        Ok(Framework::builtin())
    }

    fn open(&self) -> Result<Library> {
        Ok(Library::open(&self.dir)?)
    }
}

fn stdout() -> BufWriter<std::io::StdoutLock<'static>> {
    BufWriter::new(std::io::stdout().lock())
}

fn json_line(w: &mut impl Write, v: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer(&mut *w, v)?;
    w.write_all(b"\n")?;
    Ok(())
}

fn parse_date(s: &str, flag: &str) -> Result<Date> {
    s.parse::<Date>()
        .map_err(|_| anyhow!("{flag} {s}: give a date as YYYY-MM-DD, for example 2025-03-31"))
}

fn today() -> Date {
    jiff::Zoned::now().date()
}

fn worker_config(timeout: u64, memory_mb: u64, file_mb: u64) -> Result<WorkerConfig> {
    let exe = std::env::current_exe()
        .context("cannot find the evidex program to start extraction workers")?;
    let mut cfg = WorkerConfig::new(exe);
    cfg.timeout = Duration::from_secs(timeout.max(1));
    cfg.memory_limit = memory_mb << 20;
    cfg.limits.max_file_bytes = file_mb << 20;
    Ok(cfg)
}

fn threads(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    })
    .max(1)
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let ctx = Ctx {
        dir: cli.index.clone().unwrap_or_else(index::default_dir),
        framework_arg: cli.framework.clone(),
        style: Style { color },
    };
    match cli.command {
        Command::ExtractWorker { limits } => {
            let limits = limits
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default();
            evidex::extract::worker::serve(limits)?;
            Ok(Outcome::Ok)
        }
        Command::Index(a) => cmd_index(&ctx, a),
        Command::Search(a) => cmd_search(&ctx, a),
        Command::Evidence(a) => cmd_evidence(&ctx, a),
        Command::Gaps(a) => cmd_gaps(&ctx, a),
        Command::Show(a) => cmd_show(&ctx, a),
        Command::Status(a) => cmd_status(&ctx, a.json),
        Command::Export(a) => cmd_export(&ctx, a),
        Command::Tag(a) => cmd_tag(&ctx, a),
        Command::Duplicates(a) => cmd_duplicates(&ctx, a.json),
        Command::Watch(a) => cmd_watch(&ctx, a),
        Command::Extract(a) => cmd_extract(&ctx, a),
        Command::Eval(a) => cmd_eval(&ctx, a),
        Command::Retag => {
            let fw = ctx.framework()?;
            let n = update::retag(&ctx.dir, &fw, None)?;
            eprintln!("re-tagged {n} documents with {}", fw.tag_version());
            Ok(Outcome::Ok)
        }
    }
}

fn index_options(a: &cli::IndexArgs, ctx: &Ctx) -> Result<Options> {
    Ok(Options {
        roots: a.roots.clone(),
        threads: threads(a.threads),
        allow_removals: a.allow_removals,
        retry_failed: a.retry_failed,
        removal_share: (a.removal_limit / 100.0).clamp(0.0, 1.0),
        worker: worker_config(a.timeout, a.max_memory_mb, a.max_file_mb)?,
        excludes: a.exclude.clone(),
        framework_path: ctx
            .framework_arg
            .as_ref()
            .map(|p| paths::to_key(&paths::canonical(p))),
        batch_docs: a.batch,
        batch_time: Duration::from_secs(30),
    })
}

fn cmd_index(ctx: &Ctx, a: cli::IndexArgs) -> Result<Outcome> {
    for r in &a.roots {
        if !r.exists() {
            // Remembered anyway: a share can be offline. Say so, so a typo is noticed.
            eprintln!(
                "evidex: warning: {} does not exist or is offline; it is remembered and will be indexed when it is reachable",
                r.display()
            );
        }
    }
    let fw = ctx.framework()?;
    let opts = index_options(&a, ctx)?;
    let show_progress = !a.json && std::io::stderr().is_terminal();
    let bar;
    let progress: &dyn Progress = if show_progress {
        bar = evidex::progress::Bar::new();
        &bar
    } else {
        &Silent
    };
    let summary = update::run(&ctx.dir, &fw, opts, progress)?;
    let mut out = stdout();
    if a.json {
        json_line(&mut out, &summary)?;
    } else {
        let err = std::io::stderr();
        let mut e = err.lock();
        let st = Style {
            color: ctx.style.color && std::io::stderr().is_terminal(),
        };
        report::human::write_index_summary(&summary, &mut e, st)?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

fn filters(f: &cli::Filters, include_failed: bool, fw: &Framework) -> Result<query::Filters> {
    if let Some(s) = &f.statement
        && fw.statement(s).is_none()
    {
        bail!(
            "--statement {s}: unknown statement; the statements are {}",
            fw.statements
                .iter()
                .map(|s| s.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(t) = &f.theme
        && !fw.themes.iter().any(|x| &x.id == t)
    {
        bail!(
            "--theme {t}: unknown theme; the themes are {}",
            fw.themes
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(c) = &f.category
        && fw.category(c).is_none()
    {
        bail!(
            "--category {c}: unknown category; the categories are {}",
            fw.enabled_categories()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(t) = &f.doc_type
        && fw.doc_type(t).is_none()
    {
        bail!(
            "--type {t}: unknown document type; the types are {}",
            fw.doc_types
                .iter()
                .map(|t| t.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(query::Filters {
        statement: f.statement.clone(),
        theme: f.theme.clone(),
        category: f.category.clone(),
        doc_type: f.doc_type.clone(),
        format: f.format.clone(),
        since: f
            .since
            .as_deref()
            .map(|s| parse_date(s, "--since"))
            .transpose()?,
        until: f
            .until
            .as_deref()
            .map(|s| parse_date(s, "--until"))
            .transpose()?,
        include_failed,
    })
}

fn cmd_search(ctx: &Ctx, a: cli::SearchArgs) -> Result<Outcome> {
    let fw = ctx.framework()?;
    let lib = ctx.open()?;
    let f = filters(&a.filters, a.failed, &fw)?;
    let hits = query::search(&lib, &a.query, &f, a.limit)?;
    let mut out = stdout();
    if a.json {
        for h in &hits {
            json_line(&mut out, h)?;
        }
    } else {
        report::human::write_search(&hits, &mut out, ctx.style)?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

fn cmd_evidence(ctx: &Ctx, a: cli::EvidenceArgs) -> Result<Outcome> {
    let fw = ctx.framework()?;
    let lib = ctx.open()?;
    let as_of = match &a.as_of {
        Some(s) => parse_date(s, "--as-of")?,
        None => today(),
    };
    let hits = report::evidence(
        &lib,
        &fw,
        &a.statement,
        a.category.as_deref(),
        a.limit,
        as_of,
    )?;
    let mut out = stdout();
    if a.json {
        for h in &hits {
            json_line(&mut out, h)?;
        }
    } else {
        report::human::write_evidence(
            &fw,
            &a.statement,
            a.category.as_deref(),
            &hits,
            &mut out,
            ctx.style,
        )?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

fn cmd_gaps(ctx: &Ctx, a: cli::GapsArgs) -> Result<Outcome> {
    let fw = ctx.framework()?;
    let lib = ctx.open()?;
    let as_of = match &a.as_of {
        Some(s) => parse_date(s, "--as-of")?,
        None => today(),
    };
    let opts = report::GapOptions {
        as_of,
        window_months: a.window_months.unwrap_or(fw.window_months),
        min_per_category: a.min_per_category,
        list_per_cell: if a.html.is_some() { 25 } else { 0 },
    };
    let r = report::gaps(&lib, &fw, &opts)?;
    if let Some(path) = &a.html {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut w = BufWriter::new(file);
        report::html::write_html(&r, &mut w)?;
        w.flush()?;
        eprintln!("wrote {}", path.display());
        return Ok(Outcome::Ok);
    }
    let mut out = stdout();
    if a.json {
        json_line(&mut out, &r)?;
    } else if a.csv {
        report::formats::write_csv(&r, &mut out)?;
    } else if a.markdown {
        report::formats::write_markdown(&r, &mut out)?;
    } else {
        report::human::write_gaps(&r, &mut out, ctx.style)?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

fn doc_json(d: &evidex::index::docs::StoredDoc, path: &str, with_text: bool) -> serde_json::Value {
    let mut v = json!({
        "path": path,
        "paths": d.paths.iter().map(|p| paths::display(&paths::from_key(p))).collect::<Vec<_>>(),
        "doc_id": d.doc_id,
        "title": d.title,
        "format": d.meta.format.as_str(),
        "doc_type": d.tags.doc_type,
        "date": d.tags.date,
        "date_source": d.tags.date_source,
        "review_date": d.tags.review_date,
        "status": if d.ok { "ok" } else { "failed" },
        "reason": d.reason,
        "error": d.error,
        "statements": d.tags.statements,
        "themes": d.tags.themes,
        "categories": d.tags.categories,
        "author": d.author,
        "size": d.size,
        "truncated": d.meta.truncated,
        "framework": d.tags.framework,
    });
    if with_text {
        v["text"] = json!(d.body);
    }
    v
}

fn cmd_show(ctx: &Ctx, a: cli::ShowArgs) -> Result<Outcome> {
    let lib = ctx.open()?;
    let doc = lib.doc_by_path(&a.path)?.ok_or_else(|| Error::NotIndexed {
        path: a.path.display().to_string(),
    })?;
    let mut out = stdout();
    if a.json {
        let shown = paths::display(&paths::from_key(doc.primary_path()));
        let mut v = doc_json(&doc, &shown, false);
        v["near_misses"] = json!(doc.tags.near_misses);
        v["doc_type_reasons"] = json!(doc.tags.doc_type_reasons);
        v["relevance"] = json!(doc.tags.relevance);
        v["units"] = json!(doc.meta.units.iter().map(|u| &u.label).collect::<Vec<_>>());
        v["headings"] = json!(
            doc.meta
                .headings
                .iter()
                .map(|h| &h.text)
                .collect::<Vec<_>>()
        );
        v["warnings"] = json!(doc.meta.warnings);
        v["words"] = json!(evidex::extract::count_words(&doc.body));
        json_line(&mut out, &v)?;
    } else {
        report::human::write_show(&doc, &mut out, ctx.style)?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

fn cmd_status(ctx: &Ctx, json_out: bool) -> Result<Outcome> {
    let lib = ctx.open()?;
    let s = report::status(&lib)?;
    let mut out = stdout();
    if json_out {
        json_line(&mut out, &s)?;
    } else {
        report::human::write_status(&s, &mut out, ctx.style)?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

fn cmd_export(ctx: &Ctx, a: cli::ExportArgs) -> Result<Outcome> {
    let lib = ctx.open()?;
    let mut out = stdout();
    let mut lines: Vec<(String, serde_json::Value)> = Vec::new();
    lib.for_each_doc(|d| {
        for p in &d.paths {
            let shown = paths::display(&paths::from_key(p));
            lines.push((shown.clone(), doc_json(&d, &shown, a.with_text)));
        }
        Ok(())
    })?;
    // Sorted by path, so exports diff cleanly.
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, v) in lines {
        json_line(&mut out, &v)?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

fn cmd_tag(ctx: &Ctx, a: cli::TagArgs) -> Result<Outcome> {
    let fw = ctx.framework()?;
    let mut out = stdout();
    if a.list {
        let all = index::overrides::Overrides::load(&ctx.dir)?;
        if a.json {
            for o in &all.overrides {
                json_line(&mut out, o)?;
            }
        } else if all.overrides.is_empty() {
            writeln!(out, "No overrides.")?;
        } else {
            for o in &all.overrides {
                let mut parts = Vec::new();
                if !o.add.is_empty() {
                    parts.push(format!("+{}", o.add.join(" +")));
                }
                if !o.remove.is_empty() {
                    parts.push(format!("-{}", o.remove.join(" -")));
                }
                if let Some(c) = &o.category {
                    parts.push(format!("category {c}"));
                }
                writeln!(
                    out,
                    "{}  {}{}  {}",
                    ctx.style.cyan(&paths::display(&paths::from_key(&o.path))),
                    parts.join(", "),
                    o.note
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default(),
                    ctx.style.dim(&o.updated)
                )?;
            }
        }
        out.flush()?;
        return Ok(Outcome::Ok);
    }
    let path = a.path.expect("clap requires a path");
    for code in a.add.iter().chain(&a.remove) {
        if fw.statement(code).is_none() {
            bail!(
                "{code}: unknown statement; the statements are {}",
                fw.statements
                    .iter()
                    .map(|s| s.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if let Some(c) = &a.category
        && fw.category(c).is_none_or(|c| !c.enabled)
    {
        bail!(
            "--category {c}: unknown category; the categories are {}",
            fw.enabled_categories()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if a.add.is_empty() && a.remove.is_empty() && a.category.is_none() && a.note.is_none() {
        bail!(
            "say what to change: --add QS3, --remove QS1, --category partners and/or --note TEXT (or --list)"
        );
    }
    let add: Vec<String> = a
        .add
        .iter()
        .map(|c| fw.statement(c).map(|s| s.code.clone()).unwrap_or_default())
        .collect();
    let remove: Vec<String> = a
        .remove
        .iter()
        .map(|c| fw.statement(c).map(|s| s.code.clone()).unwrap_or_default())
        .collect();
    // Take the writer lock before touching overrides, so an index run cannot interleave.
    let lock = index::lock::WriterLock::acquire(&ctx.dir)?;
    let lib = ctx.open()?;
    let doc = lib.doc_by_path(&path)?.ok_or_else(|| Error::NotIndexed {
        path: path.display().to_string(),
    })?;
    let key = doc
        .paths
        .iter()
        .find(|p| paths::identity(p) == paths::identity(&paths::to_key(&paths::canonical(&path))))
        .cloned()
        .unwrap_or_else(|| doc.primary_path().to_string());
    let mut all = index::overrides::Overrides::load(&ctx.dir)?;
    let o = all.upsert(
        &key,
        Some(&doc.doc_id),
        &add,
        &remove,
        a.category.as_deref(),
        a.note.as_deref(),
    );
    all.save(&ctx.dir)?;
    drop(lib);
    drop(lock);
    update::retag(&ctx.dir, &fw, Some(std::slice::from_ref(&doc.doc_id)))?;
    if a.json {
        json_line(&mut out, &o)?;
    } else {
        writeln!(
            out,
            "override saved for {}; it survives re-indexing and framework changes",
            paths::display(&paths::from_key(&key))
        )?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

fn cmd_duplicates(ctx: &Ctx, json_out: bool) -> Result<Outcome> {
    let lib = ctx.open()?;
    let mut out = stdout();
    let mut groups: Vec<(String, Vec<String>, String)> = Vec::new();
    lib.for_each_doc(|d| {
        if d.paths.len() > 1 {
            groups.push((
                d.title.clone(),
                d.paths
                    .iter()
                    .map(|p| paths::display(&paths::from_key(p)))
                    .collect(),
                d.doc_id.clone(),
            ));
        }
        Ok(())
    })?;
    groups.sort_by(|a, b| a.1.cmp(&b.1));
    if json_out {
        for (title, paths, id) in &groups {
            json_line(
                &mut out,
                &json!({"doc_id": id, "title": title, "paths": paths, "copies": paths.len()}),
            )?;
        }
    } else if groups.is_empty() {
        writeln!(out, "No duplicates: every document is at one path.")?;
    } else {
        for (title, paths, _) in &groups {
            writeln!(out, "{} ({} copies)", ctx.style.bold(title), paths.len())?;
            for p in paths {
                writeln!(out, "  {}", ctx.style.cyan(p))?;
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

fn cmd_watch(ctx: &Ctx, a: cli::WatchArgs) -> Result<Outcome> {
    let fw = ctx.framework()?;
    let args = cli::IndexArgs {
        roots: a.roots.clone(),
        json: a.json,
        threads: a.threads,
        allow_removals: a.allow_removals,
        retry_failed: false,
        exclude: Vec::new(),
        timeout: 30,
        max_memory_mb: 2048,
        max_file_mb: 512,
        removal_limit: 20.0,
        batch: 500,
    };
    let make = || index_options(&args, ctx);
    evidex::watch::watch(
        &ctx.dir,
        &fw,
        make,
        evidex::watch::WatchOptions {
            debounce: Duration::from_secs(a.debounce),
            interval: Duration::from_secs(a.interval.max(1)),
            poll_only: a.poll,
            max_runs: a.max_runs,
        },
        |summary| {
            let mut out = stdout();
            if a.json {
                json_line(&mut out, summary)?;
            } else {
                let err = std::io::stderr();
                report::human::write_index_summary(
                    summary,
                    &mut err.lock(),
                    Style { color: false },
                )?;
            }
            out.flush()?;
            Ok(())
        },
    )?;
    Ok(Outcome::Ok)
}

fn cmd_extract(ctx: &Ctx, a: cli::ExtractArgs) -> Result<Outcome> {
    if a.files.is_empty() {
        bail!("give one or more files: evidex extract report.pdf");
    }
    let fw = ctx.framework()?;
    let tagger = Tagger::new(&fw);
    let mut worker = Worker::new(worker_config(30, 2048, 512)?);
    let mut out = stdout();
    let mut failed = false;
    for f in &a.files {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        let shown = paths::display(f);
        match worker.extract(f, size) {
            Ok(ex) => {
                let tags = a.tags.then(|| {
                    tagger.tag(&TagInput {
                        extracted: &ex,
                        path: &shown,
                        root: None,
                    })
                });
                if a.json {
                    let mut v = json!({"path": shown, "status": "ok", "extracted": ex});
                    if let Some(t) = tags {
                        v["tags"] = json!(t);
                    }
                    json_line(&mut out, &v)?;
                } else {
                    writeln!(out, "{}", ctx.style.bold(&shown))?;
                    writeln!(
                        out,
                        "  format {}, {} words, title {:?}",
                        ex.format,
                        ex.word_count(),
                        ex.title.as_deref().unwrap_or("")
                    )?;
                    writeln!(
                        out,
                        "  parts: {}",
                        ex.units
                            .iter()
                            .map(|u| u.label.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )?;
                    if let Some(c) = &ex.created {
                        writeln!(out, "  created {c}")?;
                    }
                    if let Some(m) = &ex.modified {
                        writeln!(out, "  modified {m}")?;
                    }
                    for warn in &ex.warnings {
                        writeln!(out, "  warning: {warn}")?;
                    }
                    if let Some(t) = tags {
                        let codes: Vec<String> = t
                            .statements
                            .iter()
                            .map(|s| format!("{} {:.2}", s.code, s.score))
                            .collect();
                        writeln!(
                            out,
                            "  statements: {}",
                            if codes.is_empty() {
                                "none".into()
                            } else {
                                codes.join(", ")
                            }
                        )?;
                        writeln!(
                            out,
                            "  category: {}",
                            t.categories
                                .iter()
                                .map(|c| c.code.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )?;
                        writeln!(
                            out,
                            "  type: {}, date: {}",
                            t.doc_type,
                            t.date.as_deref().unwrap_or("unknown")
                        )?;
                    }
                    if a.text {
                        writeln!(out, "{}", ex.text)?;
                    }
                }
            }
            Err(fail) => {
                failed = true;
                if a.json {
                    json_line(
                        &mut out,
                        &json!({"path": shown, "status": "failed", "reason": fail.reason.code(), "error": fail.message}),
                    )?;
                } else {
                    writeln!(
                        out,
                        "{}: {} ({})",
                        ctx.style.red(&shown),
                        fail.message,
                        fail.reason.advice()
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(if failed {
        Outcome::NotFound
    } else {
        Outcome::Ok
    })
}

fn cmd_eval(ctx: &Ctx, a: cli::EvalArgs) -> Result<Outcome> {
    let fw = ctx.framework()?;
    let labels_path = a.labels.clone().unwrap_or_else(|| a.dir.join("labels.csv"));
    let labels = eval::read_labels(&labels_path).map_err(|e| anyhow!(e))?;
    let docs = if a.dir.join("docs").is_dir() {
        a.dir.join("docs")
    } else {
        a.dir.clone()
    };
    let tagger = Tagger::new(&fw);
    let n = threads(None);
    let chunks: Vec<Vec<&eval::Label>> = {
        let mut c: Vec<Vec<&eval::Label>> = vec![Vec::new(); n];
        for (i, l) in labels.iter().enumerate() {
            c[i % n].push(l);
        }
        c
    };
    let cfg = worker_config(60, 2048, 512)?;
    let mut preds: Vec<(eval::Prediction, Option<evidex::tag::Tags>)> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let cfg = cfg.clone();
                let tagger = &tagger;
                let docs = &docs;
                s.spawn(move || {
                    let mut worker = Worker::new(cfg);
                    let mut out = Vec::new();
                    for l in chunk {
                        let path = docs.join(&l.file);
                        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                        let shown = paths::display(&path);
                        match worker.extract(&path, size) {
                            Ok(ex) => {
                                let t = tagger.tag(&TagInput {
                                    extracted: &ex,
                                    path: &shown,
                                    root: Some(&paths::display(docs)),
                                });
                                out.push((
                                    eval::Prediction {
                                        file: l.file.clone(),
                                        statements: t
                                            .statements
                                            .iter()
                                            .map(|s| s.code.clone())
                                            .collect(),
                                        category: t.categories.first().map(|c| c.code.clone()),
                                        doc_type: t.doc_type.clone(),
                                        failed: false,
                                    },
                                    Some(t),
                                ));
                            }
                            Err(_) => out.push((
                                eval::Prediction {
                                    file: l.file.clone(),
                                    statements: vec![],
                                    category: None,
                                    doc_type: String::new(),
                                    failed: true,
                                },
                                None,
                            )),
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    preds.sort_by(|a, b| a.0.file.cmp(&b.0.file));
    let codes: Vec<String> = fw.statements.iter().map(|s| s.code.clone()).collect();
    let just: Vec<eval::Prediction> = preds.iter().map(|p| p.0.clone()).collect();
    let m = eval::score(&codes, &labels, &just);
    let mut out = stdout();
    if a.json {
        json_line(&mut out, &m)?;
        out.flush()?;
        return Ok(Outcome::Ok);
    }
    if a.verbose {
        for (p, tags) in &preds {
            let l = labels.iter().find(|l| l.file == p.file).expect("label");
            let mut gold = l.statements.clone();
            gold.sort();
            let mut got = p.statements.clone();
            got.sort();
            let mark = if gold == got { " " } else { "*" };
            let scores = tags
                .as_ref()
                .map(|t| {
                    t.statements
                        .iter()
                        .chain(&t.near_misses)
                        .map(|s| format!("{}:{:.2}", s.code, s.score))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_else(|| "FAILED".into());
            let cat_mark = if p.category.as_deref() == Some(l.category.as_str()) {
                " "
            } else {
                "!"
            };
            writeln!(
                out,
                "{mark}{cat_mark} {:<60} gold [{}] got [{}] cat {}/{} type {}/{}  ({scores})",
                p.file,
                gold.join(" "),
                got.join(" "),
                l.category,
                p.category.as_deref().unwrap_or("-"),
                l.doc_type,
                p.doc_type
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{:<6}{:>9}{:>10}{:>8}{:>9}{:>11}",
        "", "support", "predicted", "P", "R", "F1"
    )?;
    for s in &m.statements {
        writeln!(
            out,
            "{:<6}{:>9}{:>10}{:>8.2}{:>9.2}{:>11.2}",
            s.code, s.support, s.predicted, s.precision, s.recall, s.f1
        )?;
    }
    writeln!(
        out,
        "macro-F1 {:.3}  micro-F1 {:.3}",
        m.macro_f1, m.micro_f1
    )?;
    writeln!(
        out,
        "category accuracy {:.3}  document type accuracy {:.3}",
        m.category_accuracy, m.doc_type_accuracy
    )?;
    writeln!(
        out,
        "negatives with no statement {}/{}  exact statement sets {:.3}  documents {} (failed {})",
        m.negatives_correct, m.negatives, m.exact_match, m.documents, m.failed
    )?;
    out.flush()?;
    Ok(Outcome::Ok)
}
