//! Where evidex's indexing time goes, stage by stage, in one thread and in-process:
//! extraction (what a worker process does), the worker's JSON reply (encode + decode),
//! tagging, and the tantivy write (building the document, adding it, committing), per format.
//! pdftotext on the same PDFs is timed too (one process per file, as the floor).
//!
//! ```sh
//! cargo bench --bench stages                 # the first 1000 documents of the seed-42 corpus
//! cargo bench --bench stages -- --docs 300
//! ```
//!
//! It reuses the generator of the `index` benchmark and its cached LibreOffice PDFs (run that
//! first; missing PDFs are written with lopdf instead and the output says so).

#[allow(dead_code)]
#[path = "../index/corpus.rs"]
mod corpus;

use corpus::Fmt;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

#[derive(Default)]
struct Acc {
    files: usize,
    bytes: u64,
    text_bytes: u64,
    extract: f64,
    json: f64,
    tag: f64,
    write: f64,
    pdftotext: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--docs")
        .and_then(|k| args.get(k + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let seed = 42u64;
    let work = target_dir().join("bench-work").join("stages");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let cache = target_dir()
        .join("bench-corpus")
        .join(format!("pdf-seed{seed}-libreoffice"));
    let mut lopdf_made = 0;
    let mut files: Vec<(Fmt, PathBuf)> = Vec::new();
    for i in 0..n {
        let d = corpus::make(seed, i, 0);
        let p = work.join(format!("{i}.{}", d.fmt.ext()));
        let cached = cache.join(format!("{i}-v0.pdf"));
        if d.fmt == Fmt::Pdf && cached.exists() {
            std::fs::copy(&cached, &p).unwrap();
        } else {
            if d.fmt == Fmt::Pdf {
                lopdf_made += 1;
            }
            corpus::write(&d, &p).unwrap();
        }
        files.push((d.fmt, p));
    }
    if lopdf_made > 0 {
        eprintln!(
            "note: {lopdf_made} PDFs were not in the LibreOffice cache and were written with lopdf"
        );
    }

    let fw = evidex::framework::Framework::builtin();
    let tagger = evidex::tag::Tagger::new(&fw);
    let limits = evidex::extract::Limits::default();
    let (schema, fields) = evidex::index::schema::build();
    let index = tantivy::Index::create_in_ram(schema);
    evidex::index::schema::register(&index);
    let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(1, 96 << 20).unwrap();

    let mut acc: BTreeMap<Fmt, Acc> = BTreeMap::new();
    for (fmt, path) in &files {
        let a = acc.entry(*fmt).or_default();
        a.files += 1;
        a.bytes += std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let t0 = Instant::now();
        let ex = match evidex::extract::extract_file(path, &limits) {
            Ok(ex) => ex,
            Err(e) => {
                eprintln!("{}: {:?}", path.display(), e.message);
                continue;
            }
        };
        a.extract += t0.elapsed().as_secs_f64();
        a.text_bytes += ex.text.len() as u64;
        let t0 = Instant::now();
        let line = serde_json::to_string(&ex).unwrap();
        let ex: evidex::extract::Extracted = serde_json::from_str(&line).unwrap();
        a.json += t0.elapsed().as_secs_f64();
        let shown = path.display().to_string();
        let t0 = Instant::now();
        let tags = tagger.tag(&evidex::tag::TagInput {
            extracted: &ex,
            path: &shown,
            root: None,
        });
        a.tag += t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        let doc = evidex::index::docs::StoredDoc {
            doc_id: format!("b3:{}", blake3::hash(shown.as_bytes()).to_hex()),
            paths: vec![shown.clone()],
            title: ex.title.clone().unwrap_or_default(),
            body: ex.text.clone(),
            author: ex.author.clone(),
            ok: true,
            reason: None,
            error: None,
            tags,
            meta: evidex::index::docs::StoredMeta {
                format: ex.format,
                subject: ex.subject.clone(),
                keywords: ex.keywords.clone(),
                created: ex.created.clone(),
                modified: ex.modified.clone(),
                units: ex.units.clone(),
                headings: ex.headings.clone(),
                truncated: ex.truncated,
                warnings: ex.warnings.clone(),
                extractor: ex.format.extractor_version(),
                roots: vec![],
            },
            size: 0,
            hash: None,
        };
        writer.add_document(doc.to_tantivy(&fields)).unwrap();
        a.write += t0.elapsed().as_secs_f64();
        if *fmt == Fmt::Pdf {
            let t0 = Instant::now();
            let _ = std::process::Command::new("pdftotext")
                .args(["-q", "-enc", "UTF-8"])
                .arg(path)
                .arg("-")
                .stdout(std::process::Stdio::null())
                .status();
            a.pdftotext += t0.elapsed().as_secs_f64();
        }
    }
    let t0 = Instant::now();
    writer.commit().unwrap();
    let commit = t0.elapsed().as_secs_f64();

    println!("Per-stage cost in one thread, in-process, {n} documents (ms per file):\n");
    println!(
        "| format | files | KB/file | text KB/file | extract | worker JSON | tag | tantivy add | pdftotext |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut tot = Acc::default();
    for (f, a) in &acc {
        let k = a.files.max(1) as f64;
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            f.ext(),
            a.files,
            a.bytes as f64 / k / 1024.0,
            a.text_bytes as f64 / k / 1024.0,
            a.extract / k * 1e3,
            a.json / k * 1e3,
            a.tag / k * 1e3,
            a.write / k * 1e3,
            if *f == Fmt::Pdf {
                format!("{:.2}", a.pdftotext / k * 1e3)
            } else {
                "–".into()
            }
        );
        tot.files += a.files;
        tot.extract += a.extract;
        tot.json += a.json;
        tot.tag += a.tag;
        tot.write += a.write;
    }
    println!(
        "\nTotals (s): extract {:.2}, worker JSON {:.2}, tag {:.2}, tantivy add {:.2}, commit {:.2}.",
        tot.extract, tot.json, tot.tag, tot.write, commit
    );
    println!(
        "In `evidex index` extraction runs in the worker processes (in parallel); the JSON decode, tagging and the tantivy add run on the one writer thread of the main process."
    );
    let _ = std::fs::remove_dir_all(&work);
}
