//! The speed benchmark: evidex against Recoll and pdftotext on a generated council drive.
//!
//! ```sh
//! cargo bench --bench index                       # sizes 1000,10000 (the default)
//! cargo bench --bench index -- --sizes 1000,10000,100000 --seed 42
//! ```
//!
//! Options: `--sizes N,N,..` (default 1000,10000), `--seed S` (default 42), `--reps R`
//! (in-process search repetitions per query, default 30), `--cli-reps R` (whole-process
//! repetitions, default 5), `--no-recoll`, `--no-breakdown` (skip the per-format evidex runs
//! at the first size), `--keep` (keep corpora and indexes under target/bench-work),
//! `--corpus-only` (make the corpora under target/bench-work/nN/corpus and stop: the slow
//! LibreOffice export of the PDFs can be done ahead of a timed run, whose later runs reuse it).
//!
//! Output: a Markdown report on stdout (also `target/bench-results.md`) and the raw figures in
//! `target/bench-results.json`. BENCHMARKS.md says what is measured and how.

mod corpus;
mod monitor;

use corpus::Fmt;
use monitor::Measured;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The evidex binary cargo built with this benchmark. It is copied under target/bench-work at
/// start, so a rebuild during a long run cannot swap the program being measured.
const EVIDEX_BUILT: &str = env!("CARGO_BIN_EXE_evidex");
static EVIDEX_COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

fn evidex_bin() -> &'static Path {
    EVIDEX_COPY.get_or_init(|| {
        let dir = target_dir().join("bench-work");
        std::fs::create_dir_all(&dir).unwrap();
        let dst = dir.join("evidex");
        std::fs::copy(EVIDEX_BUILT, &dst).expect("copy the evidex binary");
        dst
    })
}
const AS_OF: &str = "2025-06-30";
/// Longest wait for a quiet machine before each timed phase.
const QUIET: std::time::Duration = std::time::Duration::from_secs(600);

struct Opts {
    sizes: Vec<usize>,
    seed: u64,
    reps: usize,
    cli_reps: usize,
    recoll: bool,
    breakdown: bool,
    keep: bool,
    corpus_only: bool,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        sizes: vec![1000, 10000],
        seed: 42,
        reps: 30,
        cli_reps: 5,
        recoll: true,
        breakdown: true,
        keep: false,
        corpus_only: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut k = 0;
    while k < args.len() {
        let a = args[k].as_str();
        let mut val = || {
            k += 1;
            args.get(k).cloned().unwrap_or_default()
        };
        match a {
            "--sizes" => {
                o.sizes = val()
                    .split(',')
                    .filter_map(|s| s.trim().replace('_', "").parse().ok())
                    .collect()
            }
            "--seed" => o.seed = val().parse().unwrap_or(42),
            "--reps" => o.reps = val().parse().unwrap_or(30),
            "--cli-reps" => o.cli_reps = val().parse().unwrap_or(5),
            "--no-recoll" => o.recoll = false,
            "--no-breakdown" => o.breakdown = false,
            "--keep" => o.keep = true,
            "--corpus-only" => o.corpus_only = true,
            // cargo bench passes --bench; libtest filters are not used here.
            _ => {}
        }
        k += 1;
    }
    o.sizes.sort();
    o.sizes.dedup();
    o
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn sh(cmd: &str) -> String {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            s.trim().to_string()
        })
        .unwrap_or_default()
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("PRETTY_NAME="))
                .map(|l| l[12..].trim_matches('"').to_string())
        })
        .unwrap_or_default();
    json!({
        "nproc": sh("nproc"),
        "cpu": cpu,
        "memory": sh("free -g | sed -n 2p"),
        "os": os,
        "kernel": sh("uname -r"),
        "evidex": sh(&format!("{} --version", evidex_bin().display())),
        "recoll": sh("recollq -v 2>&1 | head -1"),
        "pdftotext": sh("pdftotext -v 2>&1 | head -1"),
        "libreoffice": sh("soffice --version 2>/dev/null | head -1"),
    })
}

// ---------------------------------------------------------------------------------------------
// Corpus

/// How PDFs are made: exported by LibreOffice from a generated DOCX (cached, slow to make), or
/// written directly with lopdf (standard font, no embedding) when LibreOffice is absent.
#[derive(Clone)]
enum PdfMode {
    LibreOffice(PathBuf),
    Lopdf,
}

impl PdfMode {
    fn name(&self) -> &'static str {
        match self {
            PdfMode::LibreOffice(_) => "libreoffice",
            PdfMode::Lopdf => "lopdf",
        }
    }
}

fn changed(i: usize) -> bool {
    i % 100 == 37
}

fn pdf_cache_dir(seed: u64, mode: &PdfMode) -> PathBuf {
    target_dir()
        .join("bench-corpus")
        .join(format!("pdf-seed{seed}-{}", mode.name()))
}

/// Makes sure every (doc, variant) PDF is in the cache; returns how many were made now.
fn ensure_pdfs(seed: u64, mode: &PdfMode, want: &[(usize, u32)]) -> std::io::Result<usize> {
    use rayon::prelude::*;
    let dir = pdf_cache_dir(seed, mode);
    std::fs::create_dir_all(&dir)?;
    let missing: Vec<(usize, u32)> = want
        .iter()
        .copied()
        .filter(|(i, v)| !dir.join(format!("{i}-v{v}.pdf")).exists())
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let started = Instant::now();
    match mode {
        PdfMode::Lopdf => {
            missing.par_iter().try_for_each(|(i, v)| {
                let d = corpus::make(seed, *i, *v);
                corpus::write_pdf_lopdf(&d, &dir.join(format!("{i}-v{v}.pdf")))
            })?;
        }
        PdfMode::LibreOffice(soffice) => {
            eprintln!(
                "  exporting {} PDFs with LibreOffice (cached in {}; later runs reuse them)",
                missing.len(),
                dir.display()
            );
            let src = dir.join("src");
            std::fs::create_dir_all(&src)?;
            missing.par_iter().try_for_each(|(i, v)| {
                let d = corpus::make(seed, *i, *v);
                corpus::write_docx(&d, &src.join(format!("{i}-v{v}.docx")))
            })?;
            // Two lanes (the machine has two cores), each its own LibreOffice profile, in
            // chunks so a stuck conversion loses little.
            let lanes = 2usize;
            let chunks: Vec<Vec<(usize, u32)>> = missing.chunks(150).map(|c| c.to_vec()).collect();
            let total = missing.len();
            let next = std::sync::atomic::AtomicUsize::new(0);
            let done = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|s| {
                for lane in 0..lanes {
                    let (chunks, next, done, src, dir) = (&chunks, &next, &done, &src, &dir);
                    s.spawn(move || {
                        let profile = target_dir()
                            .join("bench-corpus")
                            .join(format!("lo-profile-{lane}"));
                        loop {
                            let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            let Some(chunk) = chunks.get(k) else { break };
                            let mut cmd = Command::new(soffice);
                            cmd.arg(format!(
                                "-env:UserInstallation=file://{}",
                                profile.display()
                            ))
                            .args([
                                "--headless",
                                "--norestore",
                                "--convert-to",
                                "pdf:writer_pdf_Export",
                                "--outdir",
                            ])
                            .arg(dir);
                            for (i, v) in chunk {
                                cmd.arg(src.join(format!("{i}-v{v}.docx")));
                            }
                            let _ = cmd
                                .stdout(std::process::Stdio::null())
                                .stderr(std::process::Stdio::null())
                                .status();
                            let n = done
                                .fetch_add(chunk.len(), std::sync::atomic::Ordering::SeqCst)
                                + chunk.len();
                            eprintln!(
                                "    {n}/{total} PDFs exported ({:.0} s)",
                                started.elapsed().as_secs_f64()
                            );
                        }
                    });
                }
            });
            // Anything LibreOffice did not produce is written with lopdf, and counted.
            let mut fallback = 0;
            for (i, v) in &missing {
                let p = dir.join(format!("{i}-v{v}.pdf"));
                if !p.exists() {
                    let d = corpus::make(seed, *i, *v);
                    corpus::write_pdf_lopdf(&d, &p)?;
                    fallback += 1;
                }
                let _ = std::fs::remove_file(src.join(format!("{i}-v{v}.docx")));
            }
            if fallback > 0 {
                eprintln!(
                    "  warning: {fallback} PDFs were not exported by LibreOffice and were written with lopdf instead"
                );
            }
        }
    }
    eprintln!(
        "  made {} PDFs in {:.1} s",
        missing.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(missing.len())
}

struct CorpusInfo {
    files: usize,
    bytes: u64,
    by_format: BTreeMap<Fmt, (usize, u64)>,
    pdfs: Vec<PathBuf>,
    gen_s: f64,
    pdf_made: usize,
}

fn write_doc(
    seed: u64,
    mode: &PdfMode,
    root: &Path,
    i: usize,
    v: u32,
) -> std::io::Result<(Fmt, PathBuf)> {
    let d = corpus::make(seed, i, v);
    let path = root.join(&d.rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if d.fmt == Fmt::Pdf {
        std::fs::copy(
            pdf_cache_dir(seed, mode).join(format!("{i}-v{v}.pdf")),
            &path,
        )?;
    } else {
        corpus::write(&d, &path)?;
    }
    Ok((d.fmt, path))
}

fn generate(seed: u64, n: usize, mode: &PdfMode, root: &Path) -> std::io::Result<CorpusInfo> {
    use rayon::prelude::*;
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root)?;
    let mut want = Vec::new();
    for i in 0..n {
        if corpus::format_of(seed, i) == Fmt::Pdf {
            want.push((i, 0));
            if changed(i) {
                want.push((i, 1));
            }
        }
    }
    let pdf_made = ensure_pdfs(seed, mode, &want)?;
    let made: Vec<(Fmt, PathBuf)> = (0..n)
        .into_par_iter()
        .map(|i| write_doc(seed, mode, root, i, 0))
        .collect::<std::io::Result<_>>()?;
    let mut info = CorpusInfo {
        files: n,
        bytes: 0,
        by_format: BTreeMap::new(),
        pdfs: Vec::new(),
        gen_s: 0.0,
        pdf_made,
    };
    for (f, p) in made {
        let len = std::fs::metadata(&p)?.len();
        info.bytes += len;
        let e = info.by_format.entry(f).or_default();
        e.0 += 1;
        e.1 += len;
        if f == Fmt::Pdf {
            info.pdfs.push(p);
        }
    }
    info.gen_s = started.elapsed().as_secs_f64();
    Ok(info)
}

/// Rewrites 1% of the files (i % 100 == 37) with new text and a new unique word.
fn change_one_percent(seed: u64, n: usize, mode: &PdfMode, root: &Path) -> std::io::Result<usize> {
    let mut k = 0;
    for i in (0..n).filter(|i| changed(*i)) {
        write_doc(seed, mode, root, i, 1)?;
        k += 1;
    }
    Ok(k)
}

fn variant(i: usize, after_change: bool) -> u32 {
    if after_change && changed(i) { 1 } else { 0 }
}

// ---------------------------------------------------------------------------------------------
// Running the tools

fn evidex_index(index: &Path, root: Option<&Path>, threads: Option<usize>) -> Measured {
    let mut cmd = Command::new(evidex_bin());
    cmd.arg("--index").arg(index).arg("index");
    if let Some(r) = root {
        cmd.arg(r);
    }
    if let Some(t) = threads {
        cmd.arg("--threads").arg(t.to_string());
    }
    cmd.arg("--json");
    let m = monitor::run(&mut cmd).expect("run evidex");
    if m.status != 0 {
        eprintln!("evidex index failed ({}): {}", m.status, m.stderr);
    }
    m
}

fn summary_of(m: &Measured) -> Value {
    m.stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or(Value::Null)
}

fn recoll_conf(conf: &Path, topdir: &Path) {
    let _ = std::fs::remove_dir_all(conf);
    std::fs::create_dir_all(conf).unwrap();
    std::fs::write(
        conf.join("recoll.conf"),
        // noaspell: Recoll's default also builds a spelling dictionary after indexing (evidex
        // has no such feature); it is switched off so Recoll is timed on indexing alone.
        format!(
            "topdirs = {}\nloglevel = 1\nnoaspell = 1\n",
            topdir.display()
        ),
    )
    .unwrap();
}

/// Recoll's helpers are Python scripts run through `env python3`: give them the system Python
/// first on PATH (a version-manager shim would add its own start-up cost to every file).
fn recoll_cmd(bin: &str, conf: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("-c").arg(conf);
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("PATH", format!("/usr/bin:/bin:{path}"));
    cmd.env("RECOLL_CONFDIR", conf);
    cmd
}

fn recollindex(conf: &Path, reset: bool) -> Measured {
    let mut cmd = recoll_cmd("recollindex", conf);
    if reset {
        cmd.arg("-z");
    }
    let m = monitor::run(&mut cmd).expect("run recollindex");
    if m.status != 0 {
        eprintln!("recollindex failed ({}): {}", m.status, m.stderr);
    }
    m
}

fn recoll_status(conf: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(conf.join("idxstatus.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// recollq's hit count, from its "N results" line.
fn recollq(conf: &Path, q: &str) -> (f64, Option<usize>) {
    let mut cmd = recoll_cmd("recollq", conf);
    cmd.args(["-A", "-n", "10", q]);
    let (t, out) = monitor::time(&mut cmd).expect("run recollq");
    let text = String::from_utf8_lossy(&out.stdout);
    let n = text
        .lines()
        .find(|l| l.contains(" results"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok());
    (t, n)
}

fn evidex_cli(index: &Path, args: &[&str]) -> (f64, std::process::Output) {
    let mut cmd = Command::new(evidex_bin());
    cmd.arg("--index").arg(index).args(args);
    monitor::time(&mut cmd).expect("run evidex")
}

fn du(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn pdftotext_floor(pdfs: &[PathBuf], lanes: usize) -> f64 {
    let started = Instant::now();
    let per = pdfs.len().div_ceil(lanes.max(1)).max(1);
    std::thread::scope(|s| {
        for chunk in pdfs.chunks(per) {
            s.spawn(move || {
                for p in chunk {
                    let _ = Command::new("pdftotext")
                        .args(["-q", "-enc", "UTF-8"])
                        .arg(p)
                        .arg("-")
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .status();
                }
            });
        }
    });
    started.elapsed().as_secs_f64()
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Nearest-rank percentile.
fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

// ---------------------------------------------------------------------------------------------
// The fixed query set

struct Q {
    label: &'static str,
    evidex: String,
    recoll: Option<String>,
    filters: evidex::query::Filters,
}

fn queries(n: usize) -> Vec<Q> {
    let both = |label: &'static str, q: &str| Q {
        label,
        evidex: q.to_string(),
        recoll: Some(q.to_string()),
        filters: Default::default(),
    };
    let mut v = vec![
        both("word", "carers"),
        both("word", "safeguarding"),
        both("word", "reablement"),
        both("rare word", "hoarding"),
        both("phrase", "\"carers assessment\""),
        both("phrase", "\"Making Safeguarding Personal\""),
        both("phrase", "\"integrated care board\""),
        both("AND", "direct payments"),
        both("AND", "hospital discharge delays"),
        both("AND", "waiting list assessment"),
        both("AND", "mental capacity best interests"),
        both("AND", "workforce supervision reflective"),
        both("AND", "advocacy complaints"),
        both("OR", "respite OR \"short breaks\""),
        both("OR", "transitions OR adulthood"),
        both("NOT", "care -children"),
        both("prefix", "safeguard*"),
        both("prefix", "commission*"),
        both("name", "Tariq"),
        both("unique word", &corpus::token(0, 0)),
        both("unique word", &corpus::token(n / 2, 0)),
        both("unique word (changed file)", &corpus::token(37, 1)),
    ];
    let filt = |label: &'static str, q: &str, f: evidex::query::Filters| Q {
        label,
        evidex: q.to_string(),
        recoll: None,
        filters: f,
    };
    v.push(filt(
        "filter: statement",
        "carers",
        evidex::query::Filters {
            statement: Some("QS1".into()),
            ..Default::default()
        },
    ));
    v.push(filt(
        "filter: category",
        "safeguarding",
        evidex::query::Filters {
            category: Some("partners".into()),
            ..Default::default()
        },
    ));
    v.push(filt(
        "filter only: statement + format",
        "",
        evidex::query::Filters {
            statement: Some("QS7".into()),
            format: Some("pdf".into()),
            ..Default::default()
        },
    ));
    v
}

// ---------------------------------------------------------------------------------------------
// One size

fn fmt_mem(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn run_size(o: &Opts, n: usize, first: bool, mode: &PdfMode, have_recoll: bool) -> Value {
    let work = target_dir().join("bench-work").join(format!("n{n}"));
    let root = work.join("corpus");
    let idx = work.join("evidex-index");
    let conf = work.join("recoll");
    eprintln!("== {n} documents ==");
    let info = generate(o.seed, n, mode, &root).expect("generate corpus");
    let mb = info.bytes as f64 / 1e6;
    eprintln!(
        "  corpus: {} files, {:.1} MB, generated in {:.1} s",
        info.files, mb, info.gen_s
    );
    let mut r = json!({
        "documents": n,
        "loadavg_at_start": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "corpus": {
            "bytes": info.bytes,
            "generate_s": info.gen_s,
            "pdfs_made_now": info.pdf_made,
            "by_format": info.by_format.iter().map(|(f, (c, b))| (f.ext().to_string(), json!({"files": c, "bytes": b}))).collect::<serde_json::Map<_,_>>(),
        }
    });

    // --- full index --------------------------------------------------------------------------
    let _ = std::fs::remove_dir_all(&idx);
    monitor::wait_quiet(QUIET);
    eprintln!("  evidex index (full)...");
    let full = evidex_index(&idx, Some(&root), None);
    let full_sum = summary_of(&full);
    eprintln!(
        "    {:.1} s, {:.0} docs/s, tree peak {}, cpu {:.1} s (main process {:.1} s)",
        full.wall_s,
        n as f64 / full.wall_s,
        fmt_mem(full.tree_rss_kib),
        full.cpu_s,
        full.main_cpu_s
    );
    r["evidex_full"] = json!({
        "wall_s": full.wall_s,
        "docs_per_s": n as f64 / full.wall_s,
        "mb_per_s": mb / full.wall_s,
        "max_rss_single_process_kib": full.max_rss_kib,
        "peak_rss_tree_kib": full.tree_rss_kib,
        "peak_anon_rss_tree_kib": full.tree_anon_kib,
        "cpu_s": full.cpu_s,
        "main_process_cpu_s": full.main_cpu_s,
        "workers_cpu_s": (full.cpu_s - full.main_cpu_s).max(0.0),
        "exit": full.status,
        "others_cpu_s": full.others_cpu_s,
        "added": full_sum["added"], "failed": full_sum["failed"], "documents": full_sum["documents"],
        "failures": full_sum["failures"].as_array().map(|a| a.iter().take(10).cloned().collect::<Vec<_>>()),
        "index_bytes": du(&idx),
    });

    let mut rec_full = None;
    if have_recoll {
        recoll_conf(&conf, &root);
        monitor::wait_quiet(QUIET);
        eprintln!("  recollindex -z (full)...");
        let m = recollindex(&conf, true);
        let st = recoll_status(&conf);
        eprintln!(
            "    {:.1} s, {:.0} docs/s, tree peak {}, cpu {:.1} s",
            m.wall_s,
            n as f64 / m.wall_s,
            fmt_mem(m.tree_rss_kib),
            m.cpu_s
        );
        r["recoll_full"] = json!({
            "wall_s": m.wall_s,
            "docs_per_s": n as f64 / m.wall_s,
            "mb_per_s": mb / m.wall_s,
            "max_rss_single_process_kib": m.max_rss_kib,
            "peak_rss_tree_kib": m.tree_rss_kib,
            "peak_anon_rss_tree_kib": m.tree_anon_kib,
            "cpu_s": m.cpu_s,
            "exit": m.status,
            "others_cpu_s": m.others_cpu_s,
            "idxstatus": st,
            "missing_helpers": std::fs::read_to_string(conf.join("missing")).unwrap_or_default(),
            "index_bytes": du(&conf.join("xapiandb")),
        });
        rec_full = Some(m);
    }

    // --- extraction floor ----------------------------------------------------------------------
    if which("pdftotext").is_some() && !info.pdfs.is_empty() {
        monitor::wait_quiet(QUIET);
        eprintln!("  pdftotext over {} PDFs...", info.pdfs.len());
        let seq = pdftotext_floor(&info.pdfs, 1);
        let par = pdftotext_floor(&info.pdfs, 2);
        r["pdftotext"] =
            json!({"pdfs": info.pdfs.len(), "sequential_s": seq, "two_processes_s": par});
    }
    // evidex on the PDFs alone (copies: hard links would change the originals' ctime, and so
    // what the re-index runs below see), to set against pdftotext.
    {
        let only = work.join("pdf-only");
        let _ = std::fs::remove_dir_all(&only);
        std::fs::create_dir_all(&only).unwrap();
        for (k, p) in info.pdfs.iter().enumerate() {
            let _ = std::fs::copy(p, only.join(format!("{k}.pdf")));
        }
        let pidx = work.join("evidex-index-pdf");
        let _ = std::fs::remove_dir_all(&pidx);
        monitor::wait_quiet(QUIET);
        let m = evidex_index(&pidx, Some(&only), None);
        eprintln!("  evidex index of the PDFs alone: {:.1} s", m.wall_s);
        r["evidex_pdf_only"] = json!({"pdfs": info.pdfs.len(), "wall_s": m.wall_s, "cpu_s": m.cpu_s, "main_process_cpu_s": m.main_cpu_s});
        let _ = std::fs::remove_dir_all(&only);
        let _ = std::fs::remove_dir_all(&pidx);
    }
    if first && o.breakdown {
        monitor::wait_quiet(QUIET);
        // Per format, each in its own index: where the time goes.
        let mut per = serde_json::Map::new();
        for f in Fmt::ALL {
            let dir = work.join(format!("only-{}", f.ext()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let mut k = 0;
            for e in walkdir::WalkDir::new(&root).into_iter().flatten() {
                if e.file_type().is_file()
                    && e.path().extension().and_then(|x| x.to_str()) == Some(f.ext())
                {
                    let _ = std::fs::copy(e.path(), dir.join(format!("{k}.{}", f.ext())));
                    k += 1;
                }
            }
            let fidx = work.join(format!("evidex-index-{}", f.ext()));
            let _ = std::fs::remove_dir_all(&fidx);
            let m = evidex_index(&fidx, Some(&dir), None);
            let (c, b) = info.by_format.get(&f).copied().unwrap_or_default();
            eprintln!(
                "    {}: {} files, {:.2} s, {:.0} files/s, cpu {:.2} s (main {:.2} s)",
                f.ext(),
                c,
                m.wall_s,
                c as f64 / m.wall_s,
                m.cpu_s,
                m.main_cpu_s
            );
            per.insert(
                f.ext().into(),
                json!({"files": c, "bytes": b, "wall_s": m.wall_s, "cpu_s": m.cpu_s, "main_process_cpu_s": m.main_cpu_s}),
            );
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::remove_dir_all(&fidx);
        }
        r["evidex_by_format"] = Value::Object(per);
    }

    // --- re-index, nothing changed -------------------------------------------------------------
    monitor::wait_quiet(QUIET);
    let mut t = Vec::new();
    let mut last = Value::Null;
    for _ in 0..3 {
        let m = evidex_index(&idx, None, None);
        last = summary_of(&m);
        t.push(m.wall_s);
    }
    let unchanged_s = median(&mut t.clone());
    eprintln!(
        "  evidex re-index, nothing changed: {:.3} s (runs {:?}; unchanged {})",
        unchanged_s, t, last["unchanged"]
    );
    r["evidex_unchanged"] = json!({"wall_s": unchanged_s, "runs_s": t, "unchanged": last["unchanged"], "internal_elapsed_ms": last["elapsed_ms"]});
    if have_recoll {
        monitor::wait_quiet(QUIET);
        let mut t = Vec::new();
        for _ in 0..3 {
            t.push(recollindex(&conf, false).wall_s);
        }
        let s = median(&mut t.clone());
        eprintln!("  recollindex, nothing changed: {s:.3} s");
        r["recoll_unchanged"] = json!({"wall_s": s, "runs_s": t});
    }

    // --- re-index after 1% changed -------------------------------------------------------------
    // Let the clock move on so a changed file's mtime differs even on coarse-timestamp disks.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let k = change_one_percent(o.seed, n, mode, &root).expect("change files");
    monitor::wait_quiet(QUIET);
    let m = evidex_index(&idx, None, None);
    let s = summary_of(&m);
    eprintln!(
        "  evidex re-index after {k} files changed: {:.2} s (updated {})",
        m.wall_s, s["updated"]
    );
    r["evidex_changed"] = json!({"changed_files": k, "wall_s": m.wall_s, "updated": s["updated"], "added": s["added"], "removed": s["removed"], "peak_rss_tree_kib": m.tree_rss_kib});
    if have_recoll {
        monitor::wait_quiet(QUIET);
        let m = recollindex(&conf, false);
        eprintln!("  recollindex after {k} files changed: {:.2} s", m.wall_s);
        r["recoll_changed"] = json!({"changed_files": k, "wall_s": m.wall_s});
    }

    // --- correctness checks: every format indexed by both, the change seen by both ---------------
    let lib = evidex::index::Library::open(&idx).expect("open index");
    let mut checks = Vec::new();
    let mut probes: Vec<(String, String, usize)> = Vec::new();
    for f in Fmt::ALL {
        if let Some(i) = (0..n).find(|i| corpus::format_of(o.seed, *i) == f) {
            probes.push((
                format!("{} file", f.ext()),
                corpus::token(i, variant(i, true)),
                1,
            ));
        }
    }
    probes.push(("changed file, new text".into(), corpus::token(37, 1), 1));
    probes.push(("changed file, old text".into(), corpus::token(37, 0), 0));
    let mut all_ok = true;
    for (what, tok, want) in &probes {
        let ev = evidex::query::search(&lib, tok, &Default::default(), 10)
            .map(|h| h.len())
            .unwrap_or(usize::MAX);
        let rc = if have_recoll {
            recollq(&conf, tok).1
        } else {
            None
        };
        let ok = ev == *want && (!have_recoll || rc == Some(*want));
        all_ok &= ok;
        checks.push(
            json!({"probe": what, "token": tok, "expected": want, "evidex": ev, "recoll": rc}),
        );
    }
    eprintln!(
        "  probes (each format's unique word, the changed file): {}",
        if all_ok {
            "all as expected"
        } else {
            "MISMATCH, see JSON"
        }
    );
    r["probes"] = json!({"all_as_expected": all_ok, "results": checks});

    // --- search in-process -----------------------------------------------------------------------
    let qs = queries(n);
    for q in &qs {
        let _ = evidex::query::search(&lib, &q.evidex, &q.filters, 10);
    }
    monitor::wait_quiet(QUIET);
    let mut all = Vec::new();
    let mut per_query = Vec::new();
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); qs.len()];
    let mut hits = vec![0usize; qs.len()];
    for _ in 0..o.reps {
        for (k, q) in qs.iter().enumerate() {
            let t0 = Instant::now();
            let h = evidex::query::search(&lib, &q.evidex, &q.filters, 10);
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            hits[k] = h.map(|h| h.len()).unwrap_or(0);
            per[k].push(ms);
            all.push(ms);
        }
    }
    for (k, q) in qs.iter().enumerate() {
        per_query.push(json!({"label": q.label, "query": q.evidex, "hits": hits[k], "p50_ms": pct(&mut per[k], 50.0), "max_ms": pct(&mut per[k], 100.0)}));
    }
    let p50 = pct(&mut all, 50.0);
    let p99 = pct(&mut all, 99.0);
    eprintln!(
        "  search in-process: p50 {p50:.2} ms, p99 {p99:.2} ms ({} samples)",
        all.len()
    );
    r["search_in_process"] = json!({"p50_ms": p50, "p99_ms": p99, "max_ms": pct(&mut all, 100.0), "samples": all.len(), "queries": per_query});

    // --- where a search's time goes: the tantivy query alone, loading the stored documents of
    // the 10 hits, and cutting their snippets (the same terms, through tantivy's own parser on
    // title and body, so it approximates evidex's query rather than reproducing it).
    {
        let mut parser = tantivy::query::QueryParser::for_index(
            &lib.index,
            vec![lib.fields.title, lib.fields.body],
        );
        parser.set_conjunction_by_default();
        let searcher = lib.searcher();
        let (mut tq, mut tl, mut ts) = (Vec::new(), Vec::new(), Vec::new());
        let mut body_bytes = Vec::new();
        for q in qs
            .iter()
            .filter(|q| q.recoll.is_some() && !q.evidex.contains('*'))
        {
            let Ok(query) = parser.parse_query(&q.evidex) else {
                continue;
            };
            for _ in 0..5 {
                let t0 = Instant::now();
                let top = searcher
                    .search(
                        &query,
                        &tantivy::collector::TopDocs::with_limit(10).order_by_score(),
                    )
                    .unwrap_or_default();
                tq.push(t0.elapsed().as_secs_f64() * 1e3);
                let t0 = Instant::now();
                let docs: Vec<_> = top
                    .iter()
                    .filter_map(|(_, a)| lib.doc_at(&searcher, *a).ok())
                    .collect();
                tl.push(t0.elapsed().as_secs_f64() * 1e3);
                let t0 = Instant::now();
                for d in &docs {
                    let _ = evidex::query::best_snippet(d, &q.evidex);
                }
                ts.push(t0.elapsed().as_secs_f64() * 1e3);
                body_bytes.extend(docs.iter().map(|d| d.body.len() as f64));
            }
        }
        let b = json!({
            "query_ms_p50": pct(&mut tq.clone(), 50.0), "query_ms_p99": pct(&mut tq, 99.0),
            "load_10_docs_ms_p50": pct(&mut tl.clone(), 50.0), "load_10_docs_ms_p99": pct(&mut tl, 99.0),
            "snippets_10_docs_ms_p50": pct(&mut ts.clone(), 50.0), "snippets_10_docs_ms_p99": pct(&mut ts, 99.0),
            "hit_body_bytes_median": median(&mut body_bytes),
        });
        eprintln!("  search breakdown: {b}");
        r["search_breakdown"] = b;
    }

    // --- search, whole process ---------------------------------------------------------------
    monitor::wait_quiet(QUIET);
    let mut ev_t = Vec::new();
    let mut rc_t = Vec::new();
    let mut pairs = Vec::new();
    for q in qs.iter().filter(|q| q.recoll.is_some()) {
        let mut e = Vec::new();
        let mut c = Vec::new();
        let mut e_hits = 0;
        let mut c_hits = None;
        for _ in 0..o.cli_reps {
            let (t, out) = evidex_cli(&idx, &["search", "--json", "-n", "10", &q.evidex]);
            e_hits = String::from_utf8_lossy(&out.stdout).lines().count();
            e.push(t * 1e3);
            if have_recoll {
                let (t, h) = recollq(&conf, q.recoll.as_deref().unwrap());
                c_hits = h;
                c.push(t * 1e3);
            }
        }
        pairs.push(json!({"query": q.evidex, "evidex_ms": median(&mut e.clone()), "evidex_hits_shown": e_hits, "recollq_ms": if have_recoll { json!(median(&mut c.clone())) } else { Value::Null }, "recoll_results": c_hits}));
        ev_t.extend(e);
        rc_t.extend(c);
    }
    let (ep50, ep99) = (pct(&mut ev_t, 50.0), pct(&mut ev_t, 99.0));
    eprintln!("  evidex search (whole process): p50 {ep50:.1} ms, p99 {ep99:.1} ms");
    r["search_cli"] = json!({"evidex_p50_ms": ep50, "evidex_p99_ms": ep99, "queries": pairs});
    if have_recoll {
        let (rp50, rp99) = (pct(&mut rc_t, 50.0), pct(&mut rc_t, 99.0));
        eprintln!("  recollq -A -n 10 (whole process): p50 {rp50:.1} ms, p99 {rp99:.1} ms");
        r["search_cli"]["recollq_p50_ms"] = json!(rp50);
        r["search_cli"]["recollq_p99_ms"] = json!(rp99);
    }

    // --- evidence and gaps -----------------------------------------------------------------------
    let fw = evidex::framework::Framework::builtin();
    let as_of: jiff::civil::Date = AS_OF.parse().unwrap();
    let mut ev_lib = Vec::new();
    let mut ev_counts = Vec::new();
    for st in &fw.statements {
        for rep in 0..3 {
            let t0 = Instant::now();
            let h =
                evidex::report::evidence(&lib, &fw, &st.code, None, 20, as_of).expect("evidence");
            ev_lib.push(t0.elapsed().as_secs_f64() * 1e3);
            if rep == 0 {
                ev_counts.push(h.len());
            }
        }
    }
    let gap_opts = |list| evidex::report::GapOptions {
        as_of,
        window_months: fw.window_months,
        min_per_category: 1,
        list_per_cell: list,
    };
    let mut g0 = Vec::new();
    let mut g25 = Vec::new();
    let mut gap_docs = 0;
    for _ in 0..5 {
        let t0 = Instant::now();
        let g = evidex::report::gaps(&lib, &fw, &gap_opts(0)).expect("gaps");
        g0.push(t0.elapsed().as_secs_f64() * 1e3);
        gap_docs = g.documents;
        let t0 = Instant::now();
        let _ = evidex::report::gaps(&lib, &fw, &gap_opts(25)).expect("gaps");
        g25.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    // Reading every document's summary (the fast column, JSON-decoded) is the part of gaps and
    // evidence that grows with the library: timed alone.
    let mut sum_t = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let n = lib.summaries(&lib.searcher()).map(|v| v.len()).unwrap_or(0);
        sum_t.push(t0.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(n);
    }
    let mut ev_cli = Vec::new();
    let mut gj_cli = Vec::new();
    let mut gh_cli = Vec::new();
    let html = work.join("gaps.html");
    for _ in 0..3 {
        ev_cli.push(evidex_cli(&idx, &["evidence", "QS1", "--json", "--as-of", AS_OF]).0 * 1e3);
        gj_cli.push(evidex_cli(&idx, &["gaps", "--json", "--as-of", AS_OF]).0 * 1e3);
        gh_cli.push(
            evidex_cli(
                &idx,
                &["gaps", "--as-of", AS_OF, "--html", html.to_str().unwrap()],
            )
            .0 * 1e3,
        );
    }
    r["evidence"] = json!({"library_median_ms": median(&mut ev_lib.clone()), "library_max_ms": pct(&mut ev_lib, 100.0), "hits_per_statement": ev_counts, "cli_median_ms": median(&mut ev_cli)});
    r["gaps"] = json!({"library_median_ms": median(&mut g0), "library_with_lists_median_ms": median(&mut g25), "cli_json_median_ms": median(&mut gj_cli), "cli_html_median_ms": median(&mut gh_cli), "documents": gap_docs, "read_summaries_median_ms": median(&mut sum_t)});
    eprintln!(
        "  evidence {:.1} ms (library), gaps {:.1} ms (library), gaps --json {:.0} ms, gaps --html {:.0} ms (whole process)",
        r["evidence"]["library_median_ms"]
            .as_f64()
            .unwrap_or(f64::NAN),
        r["gaps"]["library_median_ms"].as_f64().unwrap_or(f64::NAN),
        r["gaps"]["cli_json_median_ms"].as_f64().unwrap_or(f64::NAN),
        r["gaps"]["cli_html_median_ms"].as_f64().unwrap_or(f64::NAN),
    );
    r["evidex_full"]["index_bytes_after_changes"] = json!(du(&idx));
    r["loadavg_at_end"] = json!(
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    drop(lib);
    if let Some(m) = rec_full {
        r["ratios"] = json!({
            "full_index_recoll_over_evidex": m.wall_s / full.wall_s,
        });
    }
    if !o.keep {
        let _ = std::fs::remove_dir_all(&work);
    }
    r
}

// ---------------------------------------------------------------------------------------------
// The report

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn cell(v: Option<f64>, digits: usize, unit: &str) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}{unit}"),
        _ => "–".into(),
    }
}

/// Least-squares line through (n, y); returns (a, b) for y = a + b n.
fn fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    if points.len() < 2 {
        return None;
    }
    let k = points.len() as f64;
    let sx: f64 = points.iter().map(|p| p.0).sum();
    let sy: f64 = points.iter().map(|p| p.1).sum();
    let sxx: f64 = points.iter().map(|p| p.0 * p.0).sum();
    let sxy: f64 = points.iter().map(|p| p.0 * p.1).sum();
    let d = k * sxx - sx * sx;
    if d.abs() < 1e-9 {
        return None;
    }
    let b = (k * sxy - sx * sy) / d;
    let a = (sy - b * sx) / k;
    Some((a, b))
}

struct Metric {
    name: &'static str,
    get: fn(&Value) -> Option<f64>,
    digits: usize,
    unit: &'static str,
}

fn metrics() -> Vec<Metric> {
    fn m(
        name: &'static str,
        get: fn(&Value) -> Option<f64>,
        digits: usize,
        unit: &'static str,
    ) -> Metric {
        Metric {
            name,
            get,
            digits,
            unit,
        }
    }
    let mib = |v: &Value| v.as_f64().map(|k| k / 1024.0);
    let _ = mib;
    vec![
        m(
            "corpus size",
            |r| f(&r["corpus"]["bytes"]).map(|b| b / 1e6),
            0,
            " MB",
        ),
        m(
            "evidex full index",
            |r| f(&r["evidex_full"]["wall_s"]),
            1,
            " s",
        ),
        m(
            "  documents/s",
            |r| f(&r["evidex_full"]["docs_per_s"]),
            0,
            "",
        ),
        m("  MB/s", |r| f(&r["evidex_full"]["mb_per_s"]), 1, ""),
        m(
            "  CPU, main process",
            |r| f(&r["evidex_full"]["main_process_cpu_s"]),
            1,
            " s",
        ),
        m(
            "  CPU, extraction workers",
            |r| f(&r["evidex_full"]["workers_cpu_s"]),
            1,
            " s",
        ),
        m(
            "  peak RSS, sum over process tree",
            |r| f(&r["evidex_full"]["peak_rss_tree_kib"]).map(|k| k / 1024.0),
            0,
            " MiB",
        ),
        m(
            "  peak anonymous RSS (heap), sum over tree",
            |r| f(&r["evidex_full"]["peak_anon_rss_tree_kib"]).map(|k| k / 1024.0),
            0,
            " MiB",
        ),
        m(
            "  peak RSS, largest process",
            |r| f(&r["evidex_full"]["max_rss_single_process_kib"]).map(|k| k / 1024.0),
            0,
            " MiB",
        ),
        m(
            "  index on disk",
            |r| f(&r["evidex_full"]["index_bytes"]).map(|b| b / 1e6),
            0,
            " MB",
        ),
        m(
            "recollindex -z",
            |r| f(&r["recoll_full"]["wall_s"]),
            1,
            " s",
        ),
        m(
            "  documents/s",
            |r| f(&r["recoll_full"]["docs_per_s"]),
            0,
            "",
        ),
        m("  MB/s", |r| f(&r["recoll_full"]["mb_per_s"]), 1, ""),
        m(
            "  CPU (all processes)",
            |r| f(&r["recoll_full"]["cpu_s"]),
            1,
            " s",
        ),
        m(
            "  peak RSS, sum over process tree",
            |r| f(&r["recoll_full"]["peak_rss_tree_kib"]).map(|k| k / 1024.0),
            0,
            " MiB",
        ),
        m(
            "  peak anonymous RSS (heap), sum over tree",
            |r| f(&r["recoll_full"]["peak_anon_rss_tree_kib"]).map(|k| k / 1024.0),
            0,
            " MiB",
        ),
        m(
            "  index on disk",
            |r| f(&r["recoll_full"]["index_bytes"]).map(|b| b / 1e6),
            0,
            " MB",
        ),
        m(
            "**full index: recoll time / evidex time**",
            |r| f(&r["ratios"]["full_index_recoll_over_evidex"]),
            2,
            "×",
        ),
        m(
            "pdftotext over the PDFs, 1 process",
            |r| f(&r["pdftotext"]["sequential_s"]),
            1,
            " s",
        ),
        m(
            "pdftotext over the PDFs, 2 processes",
            |r| f(&r["pdftotext"]["two_processes_s"]),
            1,
            " s",
        ),
        m(
            "evidex index of the PDFs alone",
            |r| f(&r["evidex_pdf_only"]["wall_s"]),
            1,
            " s",
        ),
        m(
            "**PDFs: evidex time / pdftotext (2 processes)**",
            |r| Some(f(&r["evidex_pdf_only"]["wall_s"])? / f(&r["pdftotext"]["two_processes_s"])?),
            2,
            "×",
        ),
        m(
            "evidex re-index, nothing changed",
            |r| f(&r["evidex_unchanged"]["wall_s"]).map(|s| s * 1e3),
            0,
            " ms",
        ),
        m(
            "recollindex, nothing changed",
            |r| f(&r["recoll_unchanged"]["wall_s"]).map(|s| s * 1e3),
            0,
            " ms",
        ),
        m(
            "**unchanged: recoll / evidex**",
            |r| Some(f(&r["recoll_unchanged"]["wall_s"])? / f(&r["evidex_unchanged"]["wall_s"])?),
            2,
            "×",
        ),
        m(
            "evidex re-index, 1% changed",
            |r| f(&r["evidex_changed"]["wall_s"]),
            2,
            " s",
        ),
        m(
            "recollindex, 1% changed",
            |r| f(&r["recoll_changed"]["wall_s"]),
            2,
            " s",
        ),
        m(
            "**1% changed: recoll / evidex**",
            |r| Some(f(&r["recoll_changed"]["wall_s"])? / f(&r["evidex_changed"]["wall_s"])?),
            2,
            "×",
        ),
        m(
            "search in-process p50",
            |r| f(&r["search_in_process"]["p50_ms"]),
            2,
            " ms",
        ),
        m(
            "search in-process p99",
            |r| f(&r["search_in_process"]["p99_ms"]),
            2,
            " ms",
        ),
        m(
            "  of which: tantivy query (p50)",
            |r| f(&r["search_breakdown"]["query_ms_p50"]),
            2,
            " ms",
        ),
        m(
            "  of which: load 10 stored docs (p50)",
            |r| f(&r["search_breakdown"]["load_10_docs_ms_p50"]),
            2,
            " ms",
        ),
        m(
            "  of which: 10 snippets (p50)",
            |r| f(&r["search_breakdown"]["snippets_10_docs_ms_p50"]),
            2,
            " ms",
        ),
        m(
            "`evidex search` whole process p50",
            |r| f(&r["search_cli"]["evidex_p50_ms"]),
            1,
            " ms",
        ),
        m(
            "`evidex search` whole process p99",
            |r| f(&r["search_cli"]["evidex_p99_ms"]),
            1,
            " ms",
        ),
        m(
            "`recollq -A -n 10` p50",
            |r| f(&r["search_cli"]["recollq_p50_ms"]),
            1,
            " ms",
        ),
        m(
            "`recollq -A -n 10` p99",
            |r| f(&r["search_cli"]["recollq_p99_ms"]),
            1,
            " ms",
        ),
        m(
            "**search p50: recollq / evidex**",
            |r| {
                Some(f(&r["search_cli"]["recollq_p50_ms"])? / f(&r["search_cli"]["evidex_p50_ms"])?)
            },
            2,
            "×",
        ),
        m(
            "**search p99: recollq / evidex**",
            |r| {
                Some(f(&r["search_cli"]["recollq_p99_ms"])? / f(&r["search_cli"]["evidex_p99_ms"])?)
            },
            2,
            "×",
        ),
        m(
            "evidence (library, per statement)",
            |r| f(&r["evidence"]["library_median_ms"]),
            1,
            " ms",
        ),
        m(
            "`evidex evidence QS1` whole process",
            |r| f(&r["evidence"]["cli_median_ms"]),
            0,
            " ms",
        ),
        m(
            "gaps (library)",
            |r| f(&r["gaps"]["library_median_ms"]),
            1,
            " ms",
        ),
        m(
            "  of which: reading all summaries",
            |r| f(&r["gaps"]["read_summaries_median_ms"]),
            1,
            " ms",
        ),
        m(
            "gaps with evidence lists (library)",
            |r| f(&r["gaps"]["library_with_lists_median_ms"]),
            1,
            " ms",
        ),
        m(
            "`evidex gaps --json` whole process",
            |r| f(&r["gaps"]["cli_json_median_ms"]),
            0,
            " ms",
        ),
        m(
            "`evidex gaps --html` whole process",
            |r| f(&r["gaps"]["cli_html_median_ms"]),
            0,
            " ms",
        ),
    ]
}

fn report(results: &[Value], machine: &Value, mode: &PdfMode) -> (String, Value) {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Machine: {} cores, {}; {}; {}. PDFs made by: {}.\n",
        machine["nproc"].as_str().unwrap_or("?"),
        machine["cpu"].as_str().unwrap_or("?"),
        machine["os"].as_str().unwrap_or("?"),
        machine["memory"].as_str().unwrap_or("?"),
        mode.name()
    );
    // A 100k column of its own only when 100k was not measured (it then holds the extrapolation).
    let has_100k = results
        .iter()
        .any(|r| r["documents"].as_u64() == Some(100_000));
    let _ = write!(s, "| measure |");
    for r in results {
        let _ = write!(s, " {} docs |", r["documents"]);
    }
    if !has_100k {
        let _ = write!(s, " 100k docs |");
    }
    let _ = write!(s, "\n|---|");
    for _ in results {
        let _ = write!(s, "---:|");
    }
    let _ = writeln!(s, "{}", if has_100k { "" } else { "---:|" });
    let mut extrap = serde_json::Map::new();
    let mut section = String::new();
    for m in metrics() {
        if !m.name.starts_with(' ') {
            section = m.name.trim_matches('*').to_string();
        }
        let key = if m.name.starts_with(' ') {
            format!("{section} /{}", m.name.trim())
        } else {
            section.clone()
        };
        let vals: Vec<Option<f64>> = results.iter().map(|r| (m.get)(r)).collect();
        if vals.iter().all(|v| v.is_none()) {
            continue;
        }
        let _ = write!(s, "| {} |", m.name);
        for v in &vals {
            let _ = write!(s, " {} |", cell(*v, m.digits, m.unit));
        }
        if has_100k {
            let _ = writeln!(s);
            continue;
        }
        let is_ratio =
            m.name.contains('/') || m.name.contains("documents/s") || m.name.contains("MB/s");
        let at_100k = if is_ratio {
            "–".to_string()
        } else {
            let pts: Vec<(f64, f64)> = results
                .iter()
                .zip(&vals)
                .filter_map(|(r, v)| Some((r["documents"].as_f64()?, (*v)?)))
                .collect();
            match fit(&pts) {
                Some((a, b)) => {
                    // Nothing here gets cheaper with more documents: a falling line (noise
                    // between two sizes) is held at the largest measured value instead.
                    let last = pts.last().map(|p| p.1).unwrap_or(f64::NAN);
                    let y = (a + b * 100_000.0).max(last);
                    extrap.insert(key, json!(y));
                    format!("≈ {}", cell(Some(y), m.digits, m.unit))
                }
                None => "–".into(),
            }
        };
        let _ = writeln!(s, " {at_100k} |");
    }
    if !has_100k {
        let _ = writeln!(
            s,
            "\n100k column: extrapolated, not measured: a straight line (least squares) through the measured sizes, never below the value at the largest measured size."
        );
    }
    (s, Value::Object(extrap))
}

fn targets(results: &[Value], extrap: &Value) -> (String, Value) {
    let at = |n: u64| results.iter().find(|r| r["documents"].as_u64() == Some(n));
    let largest = results.last();
    let mut s = String::from("\n| target | figure | met? |\n|---|---|---|\n");
    let mut out = Vec::new();
    let mut line = |name: &str, fig: String, met: Option<bool>| {
        let m = match met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not measured",
        };
        let _ = writeln!(s, "| {name} | {fig} | {m} |");
        out.push(json!({"target": name, "figure": fig, "met": met}));
    };
    for r in results {
        let ratio = f(&r["ratios"]["full_index_recoll_over_evidex"]);
        line(
            &format!(
                "full index ≥ 3× as fast as recollindex ({} docs)",
                r["documents"]
            ),
            cell(ratio, 2, "×"),
            ratio.map(|x| x >= 3.0),
        );
    }
    let un = at(10_000).and_then(|r| f(&r["evidex_unchanged"]["wall_s"]));
    line(
        "re-index of 10k unchanged documents < 1 s",
        cell(un, 3, " s"),
        un.map(|x| x < 1.0),
    );
    let get100 = |path: &[&str], extrap_key: &str, scale: f64| -> (Option<f64>, &'static str) {
        if let Some(r) = at(100_000) {
            let mut v = r;
            for p in path {
                v = &v[*p];
            }
            (f(v).map(|x| x * scale), "measured")
        } else {
            (f(&extrap[extrap_key]), "extrapolated")
        }
    };
    let (p99, how) = get100(
        &["search_in_process", "p99_ms"],
        "search in-process p99",
        1.0,
    );
    line(
        &format!("search p99 < 20 ms at 100k ({how})"),
        cell(p99, 2, " ms"),
        p99.map(|x| x < 20.0),
    );
    let (mem, how) = get100(
        &["evidex_full", "peak_rss_tree_kib"],
        "evidex full index /peak RSS, sum over process tree",
        1.0 / 1024.0,
    );
    line(
        &format!("peak memory < 1 GiB at 100k, whole process tree ({how})"),
        cell(mem, 0, " MiB"),
        mem.map(|x| x < 1024.0),
    );
    let (g, how) = get100(
        &["gaps", "cli_json_median_ms"],
        "`evidex gaps --json` whole process",
        1.0,
    );
    line(
        &format!("gap report < 1 s at 100k, `evidex gaps --json` whole process ({how})"),
        cell(g, 0, " ms"),
        g.map(|x| x < 1000.0),
    );
    if let Some(r) = largest {
        let e = f(&r["search_cli"]["evidex_p50_ms"]);
        let c = f(&r["search_cli"]["recollq_p50_ms"]);
        let e99 = f(&r["search_cli"]["evidex_p99_ms"]);
        let c99 = f(&r["search_cli"]["recollq_p99_ms"]);
        line(
            &format!(
                "whole-process search faster than recollq ({} docs, p50 / p99)",
                r["documents"]
            ),
            format!(
                "{} vs {} / {} vs {}",
                cell(e, 1, " ms"),
                cell(c, 1, " ms"),
                cell(e99, 1, " ms"),
                cell(c99, 1, " ms")
            ),
            match (e, c, e99, c99) {
                (Some(e), Some(c), Some(e99), Some(c99)) => Some(e < c && e99 < c99),
                _ => None,
            },
        );
    }
    (s, Value::Array(out))
}

fn main() {
    let o = parse_opts();
    let started = Instant::now();
    eprintln!("evidex benchmark: sizes {:?}, seed {}", o.sizes, o.seed);
    eprintln!(
        "  evidex binary: {} (copied from {EVIDEX_BUILT})",
        evidex_bin().display()
    );
    let mode = match which("soffice").or_else(|| which("libreoffice")) {
        Some(p) => PdfMode::LibreOffice(p),
        None => {
            eprintln!(
                "  LibreOffice not found: PDFs are written with lopdf (standard font, no embedded font)"
            );
            PdfMode::Lopdf
        }
    };
    let have_recoll = o.recoll && which("recollindex").is_some() && which("recollq").is_some();
    if o.recoll && !have_recoll {
        eprintln!(
            "  Recoll not available (install Debian's recollcmd: apt-get install recollcmd); its columns are skipped"
        );
    }
    if which("pdftotext").is_none() {
        eprintln!(
            "  pdftotext not available (Debian's poppler-utils); the extraction floor is skipped"
        );
    }
    if o.corpus_only {
        for &n in &o.sizes {
            let root = target_dir()
                .join("bench-work")
                .join(format!("n{n}"))
                .join("corpus");
            let info = generate(o.seed, n, &mode, &root).expect("generate corpus");
            eprintln!(
                "  {n} documents ({:.1} MB) in {} ({:.0} s)",
                info.bytes as f64 / 1e6,
                root.display(),
                info.gen_s
            );
        }
        return;
    }
    let machine = machine();
    let results_path = target_dir().join("bench-results.json");
    let mut results = Vec::new();
    for (k, &n) in o.sizes.iter().enumerate() {
        let r = run_size(&o, n, k == 0, &mode, have_recoll);
        results.push(r);
        let (_, extrap) = report(&results, &machine, &mode);
        let doc = json!({"machine": machine, "seed": o.seed, "pdf_mode": mode.name(), "results": results, "extrapolated_100k": extrap});
        std::fs::write(&results_path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
    let (table, extrap) = report(&results, &machine, &mode);
    let (tgt, tgt_json) = targets(&results, &extrap);
    let md = format!("{table}{tgt}");
    println!("{md}");
    let doc = json!({"machine": machine, "seed": o.seed, "pdf_mode": mode.name(), "results": results, "extrapolated_100k": extrap, "targets": tgt_json, "total_s": started.elapsed().as_secs_f64()});
    std::fs::write(&results_path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    std::fs::write(target_dir().join("bench-results.md"), &md).unwrap();
    eprintln!(
        "wrote {} and bench-results.md ({:.0} s in all)",
        results_path.display(),
        started.elapsed().as_secs_f64()
    );
}
