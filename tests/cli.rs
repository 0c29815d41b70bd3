//! Integration tests: the real `evidex` binary over the real files in `fixtures/`, plus hostile
//! files generated here (zip bombs, symlink loops, deep folders, odd names).

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A scratch folder with its own index, and helpers to run evidex against it.
struct TestEnv {
    tmp: tempfile::TempDir,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl TestEnv {
    fn new() -> TestEnv {
        TestEnv {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn index_dir(&self) -> PathBuf {
        self.tmp.path().join("index")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Copies a fixture folder into the scratch folder, so a test can change it.
    fn copy(&self, fixture: &str, to: &str) -> PathBuf {
        let dest = self.path(to);
        copy_dir(&fixtures().join(fixture), &dest);
        dest
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("evidex").unwrap();
        c.arg("--index")
            .arg(self.index_dir())
            .env_remove("EVIDEX_INDEX")
            .env("NO_COLOR", "1");
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "evidex {args:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(self.ok(args).trim()).unwrap()
    }

    fn lines(&self, args: &[&str]) -> Vec<Value> {
        self.ok(args)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn index(&self, roots: &[&Path]) -> Value {
        let mut args: Vec<String> = vec!["index".into(), "--json".into()];
        args.extend(roots.iter().map(|r| r.display().to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.json(&refs)
    }

    fn export(&self) -> Vec<Value> {
        self.lines(&["export", "--json"])
    }

    fn search_paths(&self, query: &str) -> Vec<String> {
        self.lines(&["search", query, "--json", "--limit", "50"])
            .iter()
            .map(|h| h["path"].as_str().unwrap().to_string())
            .collect()
    }
}

fn n(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn by_name<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in export"))
}

#[test]
fn sample_library_indexes_with_junk_skipped_and_failures_listed() {
    let env = TestEnv::new();
    let lib = fixtures().join("library");
    let summary = env.index(&[&lib]);
    assert_eq!(n(&summary, "failed"), 1, "{summary}");
    assert_eq!(n(&summary, "added"), 19, "{summary}");
    assert_eq!(n(&summary, "removed"), 0);
    assert!(summary["offline_roots"].as_array().unwrap().is_empty());
    let failures = summary["failures"].as_array().unwrap();
    assert!(
        failures[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("Carers focus group notes (protected).pdf")
    );
    assert_eq!(failures[0]["reason"], "encrypted");

    let export = env.export();
    assert_eq!(export.len(), 20);
    for line in &export {
        let path = line["path"].as_str().unwrap();
        assert!(Path::new(path).is_absolute(), "{path}");
        for junk in ["~$", "Thumbs.db", "desktop.ini"] {
            assert!(!path.contains(junk), "{path} should not be indexed");
        }
        for key in [
            "title",
            "format",
            "doc_type",
            "date",
            "status",
            "error",
            "statements",
            "categories",
        ] {
            assert!(line.get(key).is_some(), "{key} missing in {line}");
        }
        if line["status"] == "ok" {
            assert!(line["error"].is_null());
        }
        for tag in line["statements"].as_array().unwrap() {
            assert!(
                !tag["reasons"].as_array().unwrap().is_empty(),
                "a statement without reasons: {line}"
            );
        }
        // Highest score first.
        let scores: Vec<f64> = line["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["score"].as_f64().unwrap())
            .collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    }
    let encrypted = by_name(&export, "Carers focus group notes (protected).pdf");
    assert_eq!(encrypted["status"], "failed");
    assert!(encrypted["error"].as_str().unwrap().contains("password"));

    // Status lists the failure with its reason, and the root.
    let status = env.json(&["status", "--json"]);
    assert_eq!(n(&status, "failed"), 1);
    assert_eq!(status["roots"].as_array().unwrap().len(), 1);
    assert!(status["roots"][0]["last_indexed"].is_string());
    assert_eq!(status["failures"][0]["reason"], "encrypted");

    // A second run with nothing changed re-extracts nothing and says so.
    let again = env.index(&[]);
    assert_eq!(n(&again, "unchanged"), 20, "{again}");
    assert_eq!(
        n(&again, "added") + n(&again, "updated") + n(&again, "failed"),
        0
    );
    let human = env.cmd().arg("index").output().unwrap();
    assert!(String::from_utf8_lossy(&human.stderr).contains("nothing re-extracted"));
}

#[test]
fn every_library_document_is_found_by_a_phrase_from_its_text() {
    let env = TestEnv::new();
    env.index(&[&fixtures().join("library")]);
    let cases = [
        (
            "\"Making Safeguarding Personal conversations\"",
            "Adult Safeguarding Policy.docx",
        ),
        (
            "\"concerns raised through the text box\"",
            "Adult Safeguarding Policy.docx",
        ),
        (
            "\"Section 42 enquiry duty footnote\"",
            "Adult Safeguarding Policy.docx",
        ),
        (
            "\"Statutory guidance chapter 14 endnote\"",
            "Adult Safeguarding Policy.docx",
        ),
        (
            "\"Anyshire Safeguarding Appendix Header\"",
            "Adult Safeguarding Policy.docx",
        ),
        (
            "\"please confirm the MSP outcome measures\"",
            "Adult Safeguarding Policy.docx",
        ),
        (
            "\"personal assistant employment support\"",
            "Direct Payments Policy.pdf",
        ),
        (
            "\"reflective supervision circles\"",
            "Social Work Health Check 2024.pptx",
        ),
    ];
    for (q, file) in cases {
        let hits = env.search_paths(q);
        assert_eq!(hits.len(), 1, "{q}: {hits:?}");
        assert!(hits[0].ends_with(file), "{q}: {hits:?}");
    }
    // A phrase is its words in order and side by side, not the words anywhere.
    for q in [
        "\"circles supervision reflective\"",
        "\"reflective circles\"",
        "\"assistant personal employment support\"",
    ] {
        assert_eq!(env.search_paths(q), Vec::<String>::new(), "{q}");
    }
    // Pages and slides are cited.
    let hit = &env.lines(&[
        "search",
        "\"personal assistant employment support\"",
        "--json",
    ])[0];
    assert_eq!(hit["page"], "p. 2");
    assert!(
        hit["snippet"]
            .as_str()
            .unwrap()
            .contains("personal assistant employment support")
    );
    let slide = &env.lines(&["search", "\"reflective supervision circles\"", "--json"])[0];
    assert_eq!(slide["page"], "slide 3");
    // Every readable document is found by words from its own title.
    for doc in env.export() {
        if doc["status"] != "ok" {
            continue;
        }
        let title = doc["title"].as_str().unwrap();
        let words: Vec<&str> = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 3)
            .take(3)
            .collect();
        let hits = env.search_paths(&words.join(" "));
        assert!(
            hits.contains(&doc["path"].as_str().unwrap().to_string()),
            "{title}: {hits:?}"
        );
    }
}

#[test]
fn every_format_is_read_with_its_parts() {
    let env = TestEnv::new();
    let summary = env.index(&[&fixtures().join("formats")]);
    assert_eq!(n(&summary, "failed"), 0, "{summary}");
    for ext in [
        "pdf", "docx", "pptx", "xlsx", "ods", "odt", "odp", "html", "txt", "md", "csv", "rtf",
    ] {
        let hits = env.search_paths(&format!("\"quick evidex marker for {ext}\""));
        assert_eq!(hits.len(), 1, "{ext}: {hits:?}");
        assert!(
            hits[0].ends_with(&format!("sample.{ext}")),
            "{ext}: {hits:?}"
        );
    }
    for (phrase, file) in [
        ("\"Format sample header two\"", "sample.docx"),
        ("\"section two body marker\"", "sample.docx"),
        ("\"table cell marker\"", "sample.docx"),
        ("\"pptx speaker notes marker\"", "sample.pptx"),
        ("\"xlsx second sheet marker\"", "sample.xlsx"),
        ("\"ods second sheet marker\"", "sample.ods"),
        ("\"odt header marker\"", "sample.odt"),
        ("\"odp speaker notes marker\"", "sample.odp"),
        ("\"rtf table cell marker\"", "sample.rtf"),
        ("café", "sample.csv"),
        ("café", "sample.txt"),
    ] {
        let hits = env.search_paths(phrase);
        assert!(
            hits.iter().any(|h| h.ends_with(file)),
            "{phrase} in {file}: {hits:?}"
        );
    }
    assert!(
        env.search_paths("\"html script block must not be indexed\"")
            .is_empty()
    );
    let page_two = &env.lines(&["search", "\"page two marker\"", "--json"])[0];
    assert_eq!(page_two["page"], "p. 2");
    // Titles come from document properties.
    let export = env.export();
    assert_eq!(
        by_name(&export, "sample.docx")["title"],
        "Format sample docx"
    );
    assert_eq!(by_name(&export, "sample.pdf")["title"], "Format sample pdf");
}

#[cfg(unix)]
fn non_utf8_name() -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b"caf\xe9 notes.txt"))
}

/// A zip whose one part inflates to `size` bytes of zeros, built from repeated deflate blocks
/// so it costs milliseconds to make.
fn write_zip_bomb(path: &Path, part: &str, size: u64) {
    use flate2::{Compress, Compression, FlushCompress};
    let chunk = 1u64 << 20;
    let zeros = vec![0u8; chunk as usize];
    let mut c = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(4096);
    c.compress_vec(&zeros, &mut block, FlushCompress::Sync)
        .unwrap();
    let mut data = Vec::new();
    for _ in 0..size / chunk {
        data.extend_from_slice(&block);
    }
    data.extend_from_slice(&[0x03, 0x00]); // an empty final block
    let mut crc = crc32fast::Hasher::new();
    for _ in 0..size / chunk {
        crc.update(&zeros);
    }
    let crc = crc.finalize();
    let mut f = std::fs::File::create(path).unwrap();
    let name = part.as_bytes();
    let mut local = Vec::new();
    local.extend_from_slice(&0x04034b50u32.to_le_bytes());
    local.extend_from_slice(&20u16.to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.extend_from_slice(&8u16.to_le_bytes());
    local.extend_from_slice(&[0, 0, 0x21, 0]);
    local.extend_from_slice(&crc.to_le_bytes());
    local.extend_from_slice(&(data.len() as u32).to_le_bytes());
    local.extend_from_slice(&(size as u32).to_le_bytes());
    local.extend_from_slice(&(name.len() as u16).to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.extend_from_slice(name);
    f.write_all(&local).unwrap();
    f.write_all(&data).unwrap();
    let cd_offset = (local.len() + data.len()) as u32;
    let mut cd = Vec::new();
    cd.extend_from_slice(&0x02014b50u32.to_le_bytes());
    cd.extend_from_slice(&20u16.to_le_bytes());
    cd.extend_from_slice(&20u16.to_le_bytes());
    cd.extend_from_slice(&0u16.to_le_bytes());
    cd.extend_from_slice(&8u16.to_le_bytes());
    cd.extend_from_slice(&[0, 0, 0x21, 0]);
    cd.extend_from_slice(&crc.to_le_bytes());
    cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
    cd.extend_from_slice(&(size as u32).to_le_bytes());
    cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
    cd.extend_from_slice(&[0u8; 12]);
    cd.extend_from_slice(&0u32.to_le_bytes());
    cd.extend_from_slice(name);
    f.write_all(&cd).unwrap();
    let mut end = Vec::new();
    end.extend_from_slice(&0x06054b50u32.to_le_bytes());
    end.extend_from_slice(&[0u8; 4]);
    end.extend_from_slice(&1u16.to_le_bytes());
    end.extend_from_slice(&1u16.to_le_bytes());
    end.extend_from_slice(&(cd.len() as u32).to_le_bytes());
    end.extend_from_slice(&cd_offset.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    f.write_all(&end).unwrap();
}

#[test]
fn broken_and_hostile_files_are_listed_with_reasons_and_the_run_goes_on() {
    let env = TestEnv::new();
    let root = env.copy("broken", "broken");
    write_zip_bomb(&root.join("zip-bomb.docx"), "word/document.xml", 1 << 30);
    let deep = (0..40).fold(root.join("deep"), |p, i| p.join(format!("level{i:02}")));
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(
        deep.join("deep marker note.txt"),
        "forty folders down, the deep folder marker still reads",
    )
    .unwrap();
    let long_name = format!("{}.txt", "a".repeat(246));
    std::fs::write(root.join(&long_name), "the long file name marker reads").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&root, root.join("deep").join("loop")).unwrap();
        std::fs::write(
            root.join(non_utf8_name()),
            "the latin one name marker reads",
        )
        .unwrap();
    }
    let out = env
        .cmd()
        .args(["index", "--json"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");

    let export = env.export();
    let reason = |name: &str| -> String {
        let line = by_name(&export, name);
        assert_eq!(line["status"], "failed", "{name} should fail: {line}");
        assert!(!line["error"].as_str().unwrap().is_empty());
        line["reason"].as_str().unwrap().to_string()
    };
    assert_eq!(reason("encrypted-user-password.pdf"), "encrypted");
    assert_eq!(reason("password-protected.docx"), "encrypted");
    assert_eq!(reason("scanned.pdf"), "no_text");
    assert_eq!(reason("zip-bomb.docx"), "too_large");
    assert_eq!(reason("empty.docx"), "damaged");
    assert_eq!(reason("not-a-zip.docx"), "damaged");
    assert_eq!(reason("random-bytes.pdf"), "damaged");
    assert_eq!(reason("truncated.pdf"), "damaged");
    assert_eq!(reason("binary-junk.txt"), "unsupported");
    assert_eq!(reason("deep-nesting.docx"), "damaged");
    assert_eq!(reason("billion-laughs.docx"), "no_text");
    for ok in ["encrypted-owner-only.pdf", "pdf-named-as.docx"] {
        assert_eq!(by_name(&export, ok)["status"], "ok", "{ok}");
    }
    assert_eq!(by_name(&export, "pdf-named-as.docx")["format"], "pdf");
    for marker in [
        "\"owner only encrypted marker\"",
        "\"misnamed pdf marker\"",
        "\"deep folder marker\"",
        "\"long file name marker\"",
    ] {
        assert_eq!(env.search_paths(marker).len(), 1, "{marker}");
    }
    #[cfg(unix)]
    assert_eq!(env.search_paths("\"latin one name marker\"").len(), 1);
    for f in ["Politique d'évaluation.txt", "Carers feedback 💜🙂.txt"] {
        assert_eq!(by_name(&export, f)["status"], "ok");
    }
    // The failures in the summary name every failed file with a reason.
    let failures = summary["failures"].as_array().unwrap();
    assert_eq!(failures.len() as u64, n(&summary, "failed"));
    assert!(
        failures
            .iter()
            .all(|f| !f["message"].as_str().unwrap().is_empty())
    );

    // The index stays usable, and unchanged failures are not retried.
    let again = env.index(&[]);
    assert_eq!(n(&again, "failed"), 0, "{again}");
    assert_eq!(n(&again, "added") + n(&again, "updated"), 0);
    let retried = env.json(&["index", "--json", "--retry-failed"]);
    assert_eq!(n(&retried, "failed"), n(&summary, "failed"));
}

#[test]
fn search_language_filters_and_errors() {
    let env = TestEnv::new();
    env.index(&[&fixtures().join("library")]);
    let and = env.search_paths("safeguarding AND \"Section 42\"");
    assert!(
        and.iter()
            .any(|p| p.ends_with("Adult Safeguarding Policy.docx"))
    );
    let not = env.search_paths("safeguarding NOT policy");
    assert!(
        !not.iter()
            .any(|p| p.ends_with("Adult Safeguarding Policy.docx")),
        "{not:?}"
    );
    let or = env.search_paths("reablement OR \"market position\"");
    assert!(
        or.iter()
            .any(|p| p.ends_with("Market Position Statement 2024.docx"))
    );
    assert!(
        or.iter()
            .any(|p| p.ends_with("Reablement story - Mrs B.html"))
    );
    let title = env.search_paths("title:minutes");
    assert_eq!(title.len(), 1, "{title:?}");
    let prefix = env.search_paths("safeguard*");
    assert!(prefix.len() >= 2, "{prefix:?}");
    assert!(
        env.search_paths("safeguar").is_empty(),
        "without the wildcard a fragment matches nothing"
    );
    let filtered =
        env.search_paths_with(&["care", "--statement", "QS7", "--json", "--limit", "50"]);
    let export = env.export();
    for p in &filtered {
        let line = export.iter().find(|l| l["path"] == p.as_str()).unwrap();
        assert!(
            line["statements"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["code"] == "QS7")
        );
    }
    let since =
        env.search_paths_with(&["care", "--since", "2025-01-01", "--json", "--limit", "50"]);
    for p in &since {
        let line = export.iter().find(|l| l["path"] == p.as_str()).unwrap();
        assert!(line["date"].as_str().unwrap() >= "2025-01-01", "{line}");
    }
    assert!(!since.is_empty());

    let bad = env.cmd().args(["search", "\"unclosed"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        msg.contains("cannot read the query") && msg.contains("quotes"),
        "{msg}"
    );
    let unknown = env
        .cmd()
        .args(["search", "care", "--statement", "QS10"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("QS1, QS2"));
    let none = env.cmd().args(["search", "zzzyxq"]).output().unwrap();
    assert_eq!(none.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&none.stdout).contains("No documents match"));
}

impl TestEnv {
    fn search_paths_with(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["search"];
        all.extend_from_slice(args);
        self.lines(&all)
            .iter()
            .map(|h| h["path"].as_str().unwrap().to_string())
            .collect()
    }
}

#[test]
fn gap_report_says_what_the_library_lacks_in_every_format() {
    let env = TestEnv::new();
    env.index(&[&fixtures().join("library")]);
    let r = env.json(&["gaps", "--as-of", "2025-06-30", "--json"]);
    assert_eq!(r["as_of"], "2025-06-30");
    assert_eq!(r["window_months"], 12);
    let st = |code: &str| -> Value {
        r["statements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == code)
            .unwrap()
            .clone()
    };
    let codes: Vec<&str> = r["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "QS1", "QS2", "QS3", "QS4", "QS5", "QS6", "QS7", "QS8", "QS9"
        ]
    );
    assert_eq!(st("QS3")["status"], "missing");
    assert_eq!(st("QS6")["status"], "stale");
    assert_eq!(
        st("QS5")["categories"]["people_experience"]["status"],
        "missing"
    );
    assert_eq!(st("QS5")["status"], "thin");
    for cat in [
        "people_experience",
        "staff_leaders",
        "partners",
        "processes",
    ] {
        let cell = &st("QS1")["categories"][cat];
        assert!(
            cell.get("count").is_some()
                && cell.get("newest").is_some()
                && cell.get("status").is_some()
        );
    }
    let untagged: Vec<&str> = r["untagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(
        untagged
            .iter()
            .any(|p| p.ends_with("Staff car parking arrangements.txt")),
        "{untagged:?}"
    );
    let overdue: Vec<&str> = r["review_overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(
        overdue
            .iter()
            .any(|p| p.ends_with("Adult Safeguarding Policy.docx")),
        "{overdue:?}"
    );
    let failed: Vec<&str> = r["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].ends_with("Carers focus group notes (protected).pdf"));

    // The same facts in CSV, Markdown and the terminal table.
    let csv = env.ok(&["gaps", "--as-of", "2025-06-30", "--csv"]);
    assert!(
        csv.lines()
            .any(|l| l.contains(",QS3,") && l.contains(",missing,") && l.ends_with(",missing"))
    );
    assert!(
        csv.lines()
            .any(|l| l.contains(",QS6,") && l.contains(",stale,"))
    );
    assert_eq!(csv.lines().count(), 1 + 9 * 4);
    let md = env.ok(&["gaps", "--as-of", "2025-06-30", "--markdown"]);
    assert!(
        md.contains("| QS3 Equity in experiences and outcomes | **missing** |"),
        "{md}"
    );
    assert!(md.contains("Staff car parking arrangements.txt"));
    assert!(md.contains("Adult Safeguarding Policy.docx"));
    let table = env.ok(&["gaps", "--as-of", "2025-06-30"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("QS3") && l.contains("missing"))
    );
    assert!(!table.contains("\x1b["), "no colour when not on a terminal");

    // Later, the same library is staler; earlier, newer documents do not exist yet.
    let later = env.json(&["gaps", "--as-of", "2027-01-01", "--json"]);
    let later_ok = later["statements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "stale")
        .count();
    assert!(later_ok >= 7, "{later}");
}

#[test]
fn evidence_show_and_librarian_overrides_that_survive() {
    let env = TestEnv::new();
    let lib = env.copy("library", "share");
    env.index(&[&lib]);
    let ev = env.lines(&["evidence", "QS7", "--json"]);
    assert!(!ev.is_empty());
    assert!(
        ev[0]["path"].as_str().unwrap().contains("Safeguard"),
        "{ev:?}"
    );
    for e in &ev {
        assert!(!e["reasons"].as_array().unwrap().is_empty());
        assert!(e.get("score").is_some() && e.get("category").is_some() && e.get("date").is_some());
    }
    let scores: Vec<f64> = ev.iter().map(|e| e["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]));
    let partners = env.lines(&["evidence", "QS7", "--category", "partners", "--json"]);
    assert!(partners.iter().all(|e| {
        e["category"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "partners")
    }));

    let parking = lib.join("Facilities/Staff car parking arrangements.txt");
    let shown = env.json(&["show", parking.to_str().unwrap(), "--json"]);
    assert!(shown["statements"].as_array().unwrap().is_empty());
    assert_eq!(shown["status"], "ok");

    // A librarian's tag, with a note, shown as such.
    env.ok(&[
        "tag",
        parking.to_str().unwrap(),
        "--add",
        "QS8",
        "--category",
        "staff_leaders",
        "--note",
        "estates risk",
    ]);
    let shown = env.json(&["show", parking.to_str().unwrap(), "--json"]);
    let qs8 = &shown["statements"][0];
    assert_eq!(qs8["code"], "QS8");
    assert_eq!(qs8["reasons"][0]["source"], "librarian");
    assert!(
        qs8["reasons"][0]["phrase"]
            .as_str()
            .unwrap()
            .contains("estates risk")
    );
    assert_eq!(shown["categories"][0]["code"], "staff_leaders");
    let list = env.lines(&["tag", "--list", "--json"]);
    assert_eq!(list.len(), 1);
    // Removing a rule's tag.
    let policy = lib.join("Policies/Adult Safeguarding Policy.docx");
    env.ok(&["tag", policy.to_str().unwrap(), "--remove", "QS7"]);
    let shown = env.json(&["show", policy.to_str().unwrap(), "--json"]);
    assert!(
        !shown["statements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["code"] == "QS7")
    );

    // It survives re-indexing, an edit and a move.
    env.index(&[]);
    let moved_dir = lib.join("Estates");
    std::fs::create_dir_all(&moved_dir).unwrap();
    let moved = moved_dir.join("Car parking.txt");
    std::fs::rename(&parking, &moved).unwrap();
    let s = env.index(&[]);
    assert_eq!(n(&s, "moved"), 1, "{s}");
    assert_eq!(
        n(&s, "added") + n(&s, "updated"),
        0,
        "a move re-extracts nothing: {s}"
    );
    let shown = env.json(&["show", moved.to_str().unwrap(), "--json"]);
    assert_eq!(shown["statements"][0]["code"], "QS8", "{shown}");
    assert_eq!(shown["statements"][0]["reasons"][0]["source"], "librarian");
    let list = env.lines(&["tag", "--list", "--json"]);
    assert!(
        list.iter()
            .any(|o| o["path"].as_str().unwrap().ends_with("Car parking.txt"))
    );

    let unknown = env
        .cmd()
        .args(["tag", moved.to_str().unwrap(), "--add", "QS99"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown statement"));
}

#[test]
fn a_week_of_changes_counts_right_and_loses_nothing() {
    let env = TestEnv::new();
    let a = env.copy("library", "shareA");
    let b = env.copy("formats", "shareB");
    let first = env.index(&[&a, &b]);
    let total = n(&first, "added") + n(&first, "failed");
    assert_eq!(total, 32, "{first}");

    // Nothing changed.
    let same = env.index(&[]);
    assert_eq!(n(&same, "unchanged"), total);

    // Edit two, add two, delete one, copy one in with an old date.
    std::fs::write(
        b.join("sample.txt"),
        "A rewritten note about carers assessments and reviews.",
    )
    .unwrap();
    std::fs::write(
        b.join("sample.md"),
        "# Rewritten\nA rewritten markdown note about safeguarding adults.",
    )
    .unwrap();
    std::fs::write(
        a.join("New note one.txt"),
        "A new note on hospital discharge pathways and transitions.",
    )
    .unwrap();
    let old = a.join("Old copy.txt");
    std::fs::write(
        &old,
        "An old protocol copied in from another share: transition to adult services.",
    )
    .unwrap();
    let f = std::fs::File::options().write(true).open(&old).unwrap();
    f.set_modified(
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_200_000_000),
    )
    .unwrap();
    std::fs::remove_file(b.join("sample.csv")).unwrap();
    let week = env.index(&[]);
    assert_eq!(n(&week, "updated"), 2, "{week}");
    assert_eq!(n(&week, "added"), 2, "{week}");
    assert_eq!(n(&week, "removed"), 1, "{week}");
    assert_eq!(n(&week, "unchanged"), total - 3);
    assert_eq!(env.search_paths("\"old protocol copied in\"").len(), 1);

    // A share goes offline: its documents are kept.
    let away = env.path("shareB-away");
    std::fs::rename(&b, &away).unwrap();
    let offline = env.index(&[]);
    assert_eq!(
        offline["offline_roots"].as_array().unwrap().len(),
        1,
        "{offline}"
    );
    assert_eq!(n(&offline, "removed"), 0);
    assert!(n(&offline, "kept_offline") >= 10);
    assert_eq!(env.search_paths("\"quick evidex marker for pdf\"").len(), 1);
    let status = env.json(&["status", "--json"]);
    assert!(
        status["roots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["offline_since"].is_string())
    );

    // It comes back empty (a mount point without its share): still offline, nothing removed.
    std::fs::create_dir_all(&b).unwrap();
    let empty = env.index(&[]);
    assert_eq!(
        empty["offline_roots"].as_array().unwrap().len(),
        1,
        "{empty}"
    );
    assert_eq!(n(&empty, "removed"), 0);

    // And then whole again.
    std::fs::remove_dir(&b).unwrap();
    std::fs::rename(&away, &b).unwrap();
    let back = env.index(&[]);
    assert!(
        back["offline_roots"].as_array().unwrap().is_empty(),
        "{back}"
    );
    assert_eq!(n(&back, "removed") + n(&back, "added"), 0, "{back}");

    // Half a share disappears: refused until confirmed.
    let mut files: Vec<PathBuf> = walk(&b);
    files.sort();
    let half = files.len() / 2;
    for f in &files[..half] {
        std::fs::remove_file(f).unwrap();
    }
    let refused = env.index(&[]);
    assert_eq!(n(&refused, "removed"), 0, "{refused}");
    let msg = refused["removals_refused"][0]["message"].as_str().unwrap();
    assert!(msg.contains("--allow-removals"), "{msg}");
    let confirmed = env.json(&["index", "--json", "--allow-removals"]);
    assert_eq!(n(&confirmed, "removed") as usize, half, "{confirmed}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn duplicates_are_one_piece_of_evidence_with_all_locations() {
    let env = TestEnv::new();
    let root = env.copy("formats", "share");
    std::fs::create_dir_all(root.join("copy")).unwrap();
    std::fs::copy(root.join("sample.pdf"), root.join("copy/sample again.pdf")).unwrap();
    let s = env.index(&[&root]);
    assert_eq!(n(&s, "duplicates"), 1, "{s}");
    let dups = env.lines(&["duplicates", "--json"]);
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0]["copies"], 2);
    let hits = env.lines(&["search", "\"quick evidex marker for pdf\"", "--json"]);
    assert_eq!(hits.len(), 1, "one piece of evidence");
    assert_eq!(hits[0]["paths"].as_array().unwrap().len(), 2);
    // Export lists each location.
    let export = env.export();
    assert!(
        export
            .iter()
            .any(|l| l["path"].as_str().unwrap().ends_with("sample again.pdf"))
    );
}

#[test]
fn a_second_writer_is_refused_while_readers_keep_working() {
    let env = TestEnv::new();
    env.index(&[&fixtures().join("formats")]);
    // Hold the writer lock the way an index run does.
    let lock_path = env.index_dir().join("writer.lock");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock_path)
        .unwrap();
    file.try_lock().unwrap();
    let out = env.cmd().args(["index"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("being updated by process"), "{msg}");
    assert_eq!(
        env.search_paths("\"quick evidex marker for docx\"").len(),
        1
    );
    env.ok(&["gaps", "--json"]);
    drop(file);
    env.ok(&["index"]);
}

#[cfg(unix)]
#[test]
fn a_killed_run_leaves_a_usable_index_and_the_next_run_finishes() {
    let env = TestEnv::new();
    let root = env.path("many");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..400 {
        std::fs::write(
            root.join(format!("note {i:03}.txt")),
            format!("Note {i}: carers assessment waiting list review number {i} with unique token tok{i}x."),
        )
        .unwrap();
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("evidex"))
        .arg("--index")
        .arg(env.index_dir())
        .args(["index", "--batch", "20", "--threads", "1"])
        .arg(&root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the first commits, then kill -9.
    let manifest = env.index_dir().join("manifest.redb");
    for _ in 0..200 {
        std::thread::sleep(std::time::Duration::from_millis(25));
        if std::fs::metadata(&manifest)
            .map(|m| m.len() > 50_000)
            .unwrap_or(false)
        {
            break;
        }
    }
    unsafe { libc_kill(child.id() as i32) };
    let _ = child.wait();
    // The index opens; searches work.
    env.ok(&["status"]);
    let s = env.index(&[]);
    assert_eq!(n(&s, "failed"), 0, "{s}");
    let export = env.export();
    assert_eq!(export.len(), 400, "every note indexed after the second run");
    assert_eq!(env.search_paths("tok399x").len(), 1);
}

#[cfg(unix)]
unsafe fn libc_kill(pid: i32) {
    unsafe extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    unsafe { kill(pid, 9) };
}

#[test]
fn index_from_the_environment_and_clear_errors_without_one() {
    let env = TestEnv::new();
    let mut c = Command::cargo_bin("evidex").unwrap();
    c.env("EVIDEX_INDEX", env.index_dir())
        .args(["index", "--json"])
        .arg(fixtures().join("formats"))
        .assert()
        .success();
    assert!(env.index_dir().join("state.json").exists());
    let missing = env.path("nowhere");
    let out = Command::cargo_bin("evidex")
        .unwrap()
        .arg("--index")
        .arg(&missing)
        .args(["search", "care"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("evidex index"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let no_roots = Command::cargo_bin("evidex")
        .unwrap()
        .arg("--index")
        .arg(env.path("fresh"))
        .arg("index")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&no_roots.stderr).contains("no folders"));
}

#[test]
fn another_framework_retags_without_reextracting_and_bad_ones_are_located() {
    let env = TestEnv::new();
    env.index(&[&fixtures().join("library")]);
    let builtin =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/cqc-la.toml"))
            .unwrap();
    let edited = builtin.replace("version = \"2025.1\"", "version = \"council-edit-1\"");
    let fw = env.path("council.toml");
    std::fs::write(&fw, edited).unwrap();
    let s = env.json(&["--framework", fw.to_str().unwrap(), "index", "--json"]);
    assert_eq!(n(&s, "retagged"), 20, "{s}");
    assert_eq!(n(&s, "added") + n(&s, "updated"), 0);
    let export = env.export();
    assert!(
        export
            .iter()
            .all(|l| l["framework"].as_str().unwrap().contains("council-edit-1"))
    );
    // Remembered for later commands.
    let again = env.index(&[]);
    assert_eq!(n(&again, "retagged"), 0);

    let broken = builtin.replacen(
        "theme = \"ensuring-safety\"",
        "theme = \"ensuring-safty\"",
        1,
    );
    let bad = env.path("bad.toml");
    std::fs::write(&bad, &broken).unwrap();
    let line = broken[..broken.find("ensuring-safty").unwrap()]
        .matches('\n')
        .count()
        + 1;
    let out = env
        .cmd()
        .args(["--framework", bad.to_str().unwrap(), "gaps"])
        .output()
        .unwrap();
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains(&format!("bad.toml:{line}:")), "{msg}");
    assert!(
        msg.contains("statements[5].theme") && msg.contains("unknown theme"),
        "{msg}"
    );
}

#[test]
fn evaluation_prints_per_statement_scores() {
    let env = TestEnv::new();
    let out = env.ok(&[
        "eval",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("eval/dev")
            .to_str()
            .unwrap(),
        "--json",
    ]);
    let m: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(m["statements"].as_array().unwrap().len(), 9);
    assert!(m["documents"].as_u64().unwrap() >= 50);
    assert!(m["macro_f1"].as_f64().unwrap() > 0.0);
    assert!(m["category_accuracy"].as_f64().unwrap() > 0.0);
}

#[test]
fn watch_reindexes_on_change_by_polling() {
    let env = TestEnv::new();
    let root = env.path("watched");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("first.txt"),
        "First note about reablement and equipment.",
    )
    .unwrap();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("evidex"))
        .arg("--index")
        .arg(env.index_dir())
        .args([
            "watch",
            "--poll",
            "--interval",
            "1",
            "--max-runs",
            "3",
            "--json",
        ])
        .arg(&root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));
    std::fs::write(
        root.join("second.txt"),
        "Second note about direct payments, the watched marker.",
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let runs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 3);
    let added: u64 = runs.iter().map(|r| n(r, "added")).sum();
    assert_eq!(added, 2, "{runs:?}");
    assert_eq!(env.search_paths("\"watched marker\"").len(), 1);
}

#[test]
fn an_index_of_a_newer_format_version_says_what_to_do() {
    let env = TestEnv::new();
    env.index(&[&fixtures().join("formats")]);
    let state_path = env.index_dir().join("state.json");
    let state = std::fs::read_to_string(&state_path).unwrap();
    std::fs::write(
        &state_path,
        state.replace("\"format_version\": 2", "\"format_version\": 99"),
    )
    .unwrap();
    for args in [&["search", "care"][..], &["index"]] {
        let out = env.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(
            msg.contains("newer version of evidex") && msg.contains("move the folder aside"),
            "{msg}"
        );
    }
}
