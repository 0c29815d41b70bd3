//! The HTML gap report, checked in a real browser (see tests/BROWSER.md).
//!
//! Drives the real binary: `evidex --index <tmp>/idx index fixtures/library`, then
//! `evidex --index <tmp>/idx gaps --as-of 2025-06-30 --html <tmp>/report.html`, and opens the
//! report in headless Chromium:
//!
//! * `--dump-dom`: the matrix is a table with one `th scope="row"` per statement QS1..QS9, every
//!   in-page link has its target, the evidence links are `file:` URLs to files that exist, and
//!   nothing (script, stylesheet, image, frame) could load from elsewhere;
//! * `--log-net-log`: the page made no `http://` or `https://` request. Chromium makes a few
//!   requests of its own (component updates, account checks) even with every background
//!   feature switched off; those are told apart from the page's by the request's initiator and
//!   network isolation key, and a canary page with a remote image and stylesheet proves the
//!   check sees a page's requests (so a change in the net log format cannot make it pass
//!   vacuously). `--host-resolver-rules` fails every DNS lookup, so nothing leaves the machine;
//! * `--screenshot`: a 1280x2000 PNG is written and is not blank.
//!
//! Without Chromium the test prints a notice and passes, unless `EVIDEX_REQUIRE_BROWSER=1`.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Longest one Chromium run may take before it is killed.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Traffic annotation hashes of the renderer's loads: `blink_resource_loader` (subresources)
/// and `navigation_url_loader` (frames and navigations). Hashes of the names, so stable.
const PAGE_ANNOTATIONS: [i64; 2] = [101_845_102, 63_171_670];

#[test]
fn html_report_in_headless_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::Builder::new()
        .prefix("evidex-browser")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let idx = dir.join("idx");
    let report = dir.join("report.html");

    Command::cargo_bin("evidex")
        .unwrap()
        .current_dir(&root)
        .arg("--index")
        .arg(&idx)
        .args(["index", "fixtures/library"])
        .timeout(Duration::from_secs(300))
        .assert()
        .success();
    Command::cargo_bin("evidex")
        .unwrap()
        .current_dir(&root)
        .arg("--index")
        .arg(&idx)
        .args(["gaps", "--as-of", "2025-06-30", "--html"])
        .arg(&report)
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    let html = std::fs::read_to_string(&report).expect("the HTML report was written");
    assert!(html.contains("<html lang=\"en-GB\""), "not the HTML report");

    let Some(chromium) = find_chromium() else {
        let msg = "Chromium not found (looked for $EVIDEX_CHROMIUM, /usr/bin/chromium, chromium-browser, \
                   google-chrome); install it with `apt-get install -y chromium` to check the HTML \
                   report in a browser";
        if std::env::var("EVIDEX_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("EVIDEX_REQUIRE_BROWSER=1: {msg}");
        }
        eprintln!("notice: skipping the browser check: {msg}");
        return;
    };
    eprintln!("browser check with {}", chromium.display());

    // 1. The canary: a page that does fetch from the network must show in the net log.
    let canary = dir.join("canary.html");
    std::fs::write(
        &canary,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>canary</title>\
         <link rel=\"stylesheet\" href=\"https://canary.invalid/style.css\"></head>\
         <body><p>canary</p><img alt=\"\" src=\"http://canary.invalid/pixel.png\"></body></html>",
    )
    .unwrap();
    let canary_log = dir.join("netlog-canary.json");
    run_chromium(
        &chromium,
        dir,
        "canary",
        &[
            OsString::from("--dump-dom"),
            flag("--log-net-log=", &canary_log),
            OsString::from(file_url(&canary)),
        ],
    );
    let seen = analyse_netlog(&canary_log);
    for url in [
        "https://canary.invalid/style.css",
        "http://canary.invalid/pixel.png",
    ] {
        assert!(
            seen.page.iter().any(|u| u == url),
            "the net log check did not see the canary page's request for {url}; Chromium's net log \
             format may have changed, so the check below would prove nothing.\npage requests: {:?}\n\
             browser requests: {:?}",
            seen.page,
            seen.browser
        );
    }

    // 2. The report: DOM dump and net log.
    let netlog = dir.join("netlog.json");
    let dom_path = run_chromium(
        &chromium,
        dir,
        "report",
        &[
            OsString::from("--dump-dom"),
            flag("--log-net-log=", &netlog),
            OsString::from(file_url(&report)),
        ],
    );
    let dom = std::fs::read_to_string(&dom_path).unwrap();
    check_dom(&dom);

    let net = analyse_netlog(&netlog);
    assert!(
        net.page.is_empty(),
        "the report made network requests: {:?}",
        net.page
    );
    if !net.browser.is_empty() {
        let hosts: BTreeSet<&str> = net.browser.iter().map(|u| host_of(u)).collect();
        eprintln!(
            "note: the net log also holds {} request(s) Chromium made for itself, not for the page \
             (no initiator, not keyed to file://): {hosts:?}",
            net.browser.len()
        );
    }

    // 3. The screenshot.
    let png = dir.join("report.png");
    let shot_log = dir.join("netlog-screenshot.json");
    run_chromium(
        &chromium,
        dir,
        "screenshot",
        &[
            flag("--screenshot=", &png),
            OsString::from("--window-size=1280,2000"),
            OsString::from("--hide-scrollbars"),
            flag("--log-net-log=", &shot_log),
            OsString::from(file_url(&report)),
        ],
    );
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is not a PNG"
    );
    let (w, h) = (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    );
    assert!(w >= 1000 && h >= 1000, "screenshot is {w}x{h}");
    // A blank 1280x2000 page compresses to a few kilobytes; the coloured matrix does not.
    assert!(
        bytes.len() > 40_000,
        "the screenshot is only {} bytes: the page looks blank",
        bytes.len()
    );
    let shot_net = analyse_netlog(&shot_log);
    assert!(
        shot_net.page.is_empty(),
        "network requests while rendering: {:?}",
        shot_net.page
    );
}

/// The checks on Chromium's serialised DOM of the report.
fn check_dom(dom: &str) {
    assert!(
        dom.contains("<h1>Evidence gap report</h1>"),
        "no heading in the DOM:\n{}",
        head(dom)
    );

    // The matrix table and its row headers.
    let start = dom
        .match_indices("<table")
        .map(|(i, _)| i)
        .find(|&i| {
            dom[i..]
                .split('>')
                .next()
                .is_some_and(|tag| tag.contains("id=\"matrix\""))
        })
        .expect("a <table id=\"matrix\"> in the DOM");
    let end = start
        + dom[start..]
            .find("</table>")
            .expect("the matrix table is closed");
    let matrix = &dom[start..end];
    assert!(matrix.contains("<caption>"), "the matrix has no caption");
    assert!(
        matrix.contains("<th scope=\"col\""),
        "the matrix has no column headers"
    );
    let mut codes = Vec::new();
    for (i, _) in matrix.match_indices("<th scope=\"row\"") {
        let cell = &matrix[i..];
        let cell = &cell[..cell.find("</th>").unwrap_or(cell.len())];
        let text = strip_tags(cell);
        let code = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find(|w| {
                w.len() > 2 && w.starts_with("QS") && w[2..].chars().all(|c| c.is_ascii_digit())
            })
            .unwrap_or_else(|| panic!("no statement code in row header {text:?}"));
        codes.push(code.to_string());
    }
    let want: Vec<String> = (1..=9).map(|n| format!("QS{n}")).collect();
    assert_eq!(codes, want, "the matrix rows");

    // Every in-page link has its target; the matrix links to evidence lists.
    let all = tags(dom);
    let ids: HashSet<String> = all.iter().filter_map(|t| t.attr("id")).collect();
    let matrix_links: Vec<String> = tags(matrix)
        .iter()
        .filter_map(|t| t.attr("href"))
        .filter(|h| h.starts_with("#ev-"))
        .collect();
    assert!(
        matrix_links.len() >= 9,
        "the matrix cells do not link to their evidence: {matrix_links:?}"
    );
    for href in &matrix_links {
        assert!(
            ids.contains(&href[1..]),
            "matrix link {href} has no id= target in the DOM"
        );
    }
    let hrefs: Vec<String> = all.iter().filter_map(|t| t.attr("href")).collect();
    for href in hrefs.iter().filter(|h| h.starts_with('#')) {
        assert!(
            ids.contains(&href[1..]),
            "link {href} has no target in the DOM"
        );
    }

    // Only in-page and file: links, each file link to a file that exists.
    let file_links: Vec<&String> = hrefs.iter().filter(|h| h.starts_with("file://")).collect();
    assert!(
        !file_links.is_empty(),
        "no evidence link href=\"file://...\" in the DOM"
    );
    for href in &hrefs {
        assert!(
            href.starts_with('#') || href.starts_with("file:"),
            "a link that is neither in-page nor file: {href}"
        );
    }
    if cfg!(unix) {
        for href in &file_links {
            let path = percent_decode(href.strip_prefix("file://").unwrap());
            assert!(
                Path::new(&path).exists(),
                "the link {href} does not open a file ({path} does not exist)"
            );
        }
    }

    // Nothing that could load from elsewhere: no loading elements, no src attributes, and no
    // url() or @import in the style sheet or style attributes. (Text of the documents is not
    // looked at: a passage may quote a web address without the page fetching it.)
    for t in &all {
        assert!(
            ![
                "script", "link", "img", "iframe", "frame", "object", "embed", "video", "audio",
                "source", "picture", "base", "form"
            ]
            .contains(&t.name.as_str()),
            "the DOM holds a <{}> element",
            t.name
        );
        for (name, value) in &t.attrs {
            assert!(
                !["src", "srcset", "poster", "data", "action", "background"]
                    .contains(&name.as_str()),
                "<{} {name}=\"{value}\">",
                t.name
            );
            if name == "style" {
                assert!(
                    !value.to_ascii_lowercase().contains("url("),
                    "style attribute with url(): {value}"
                );
            }
        }
    }
    for css in style_sheets(dom) {
        let css = css.to_ascii_lowercase();
        for bad in ["url(", "@import", "http:", "https:"] {
            assert!(!css.contains(bad), "the style sheet contains {bad:?}");
        }
    }
}

/// One start tag of the serialised DOM.
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

/// The start tags of serialised HTML, with their attributes (values unescaped). Text never
/// holds a raw `<` in a serialisation, so every `<` outside `<style>` starts a tag.
fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with('/') || rest.starts_with('!') {
            rest = &rest[rest.find('>').map(|j| j + 1).unwrap_or(rest.len())..];
            continue;
        }
        // The tag runs to the first `>` outside a quoted value.
        let mut quote = None;
        let mut end = rest.len();
        for (j, c) in rest.char_indices() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => {
                    end = j;
                    break;
                }
                _ => {}
            }
        }
        let body = &rest[..end];
        rest = &rest[(end + 1).min(rest.len())..];
        let name_end = body
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(body.len());
        let name = body[..name_end].to_ascii_lowercase();
        let mut attrs = Vec::new();
        let mut a = &body[name_end..];
        loop {
            a = a.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if a.is_empty() {
                break;
            }
            let n_end = a
                .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
                .unwrap_or(a.len());
            let attr = a[..n_end].to_ascii_lowercase();
            a = &a[n_end..];
            let mut value = String::new();
            if let Some(v) = a.trim_start().strip_prefix('=') {
                let v = v.trim_start();
                if let Some(q) = v.chars().next().filter(|c| *c == '"' || *c == '\'') {
                    let close = v[1..].find(q).map(|k| k + 1).unwrap_or(v.len());
                    value = unescape(&v[1..close]);
                    a = &v[(close + 1).min(v.len())..];
                } else {
                    let e = v.find(char::is_whitespace).unwrap_or(v.len());
                    value = unescape(&v[..e]);
                    a = &v[e..];
                }
            }
            attrs.push((attr, value));
        }
        if name == "style" {
            rest = &rest[rest.find("</style").unwrap_or(rest.len())..];
        }
        out.push(Tag { name, attrs });
    }
    out
}

/// The contents of the `<style>` elements.
fn style_sheets(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<style") {
        rest = &rest[i..];
        let open = rest.find('>').map(|j| j + 1).unwrap_or(rest.len());
        let close = rest.find("</style").unwrap_or(rest.len());
        out.push(&rest[open..close.max(open)]);
        rest = &rest[close.max(open)..];
    }
    out
}

/// What a net log shows: http(s) requests made for the page, and those Chromium made for itself.
#[derive(Debug, Default)]
struct NetRequests {
    page: Vec<String>,
    browser: Vec<String>,
}

/// Read a net log (parsing it as JSON, or event by event when Chromium was cut off before
/// closing it) and sort its http(s) requests into the page's and the browser's own.
///
/// A request belongs to the page when it has an initiator origin (the page's, `null` or
/// `file://`), a network isolation key naming `file://`, or a renderer traffic annotation.
/// Any other event that names an http(s) URL together with `file://` (a preconnect or DNS
/// prefetch keyed to the page) counts as the page's too. The constant tables at the top of
/// the log are never looked at.
fn analyse_netlog(path: &Path) -> NetRequests {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no net log at {}: {e}", path.display()));
    let events = netlog_events(&text);
    assert!(
        !events.is_empty(),
        "the net log {} holds no events",
        path.display()
    );

    #[derive(Default)]
    struct Source {
        urls: Vec<String>,
        initiator: Option<String>,
        isolation: Option<String>,
        annotation: Option<i64>,
    }
    let mut sources: BTreeMap<i64, Source> = BTreeMap::new();
    let mut out = NetRequests::default();
    for ev in &events {
        let Some(params) = ev.get("params").and_then(Value::as_object) else {
            continue;
        };
        let id = ev
            .pointer("/source/id")
            .and_then(Value::as_i64)
            .unwrap_or(-1);
        let src = sources.entry(id).or_default();
        if let Some(url) = params.get("url").and_then(Value::as_str)
            && is_web(url)
        {
            src.urls.push(url.to_string());
        }
        if let Some(i) = params.get("initiator").and_then(Value::as_str) {
            src.initiator = Some(i.to_string());
        }
        if let Some(k) = params.get("network_isolation_key").and_then(Value::as_str) {
            src.isolation = Some(k.to_string());
        }
        if let Some(a) = params.get("traffic_annotation").and_then(Value::as_i64) {
            src.annotation = Some(a);
        }
        if params.get("url").is_none() {
            let flat = Value::Object(params.clone()).to_string();
            if flat.contains("file://") && (flat.contains("http://") || flat.contains("https://")) {
                out.page.push(format!("(page-keyed connection) {flat}"));
            }
        }
    }
    // Requests first; then the events that carry a URL but say nothing of who asked (stream
    // job controllers): they follow the request for the same URL, or count as the page's when
    // no request explains them.
    let mut unexplained = Vec::new();
    for src in sources.values() {
        if src.urls.is_empty() {
            continue;
        }
        if src.initiator.is_none() && src.isolation.is_none() && src.annotation.is_none() {
            unexplained.extend(src.urls.iter().cloned());
            continue;
        }
        let from_page = src
            .initiator
            .as_deref()
            .is_some_and(|i| i != "not an origin")
            || src
                .isolation
                .as_deref()
                .is_some_and(|k| k.contains("file://"))
            || src
                .annotation
                .is_some_and(|a| PAGE_ANNOTATIONS.contains(&a));
        if from_page {
            out.page.extend(src.urls.iter().cloned());
        } else {
            out.browser.extend(src.urls.iter().cloned());
        }
    }
    for url in unexplained {
        if !out.page.contains(&url) && !out.browser.contains(&url) {
            out.page.push(format!("(no request explains) {url}"));
        }
    }
    out.page.dedup();
    out.browser.sort();
    out.browser.dedup();
    out
}

/// The events of a net log; when the file is not complete JSON, each line that is one event.
fn netlog_events(text: &str) -> Vec<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text)
        && let Some(events) = v.get("events").and_then(Value::as_array)
    {
        return events.clone();
    }
    text.lines()
        .filter_map(|line| {
            let l = line
                .trim()
                .trim_end_matches(',')
                .trim_end_matches(']')
                .trim_end_matches(',');
            serde_json::from_str::<Value>(l).ok()
        })
        .filter(|v| v.get("source").is_some() && v.get("type").is_some())
        .collect()
}

fn is_web(url: &str) -> bool {
    let l = url.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|x| x.1).unwrap_or(url);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// Run Chromium headless on the given arguments, with its output in files under `dir`; kill it
/// (and its helpers) if it takes longer than `TIMEOUT`. Returns the file holding its stdout.
fn run_chromium(chromium: &Path, dir: &Path, name: &str, extra: &[OsString]) -> PathBuf {
    let stdout_path = dir.join(format!("chromium-{name}.out"));
    let stderr_path = dir.join(format!("chromium-{name}.err"));
    let profile = dir.join(format!("profile-{name}"));
    let mut cmd = std::process::Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--disable-features=NetworkTimeServiceQuerying",
        // Every host name fails to resolve: nothing the browser tries can leave the machine,
        // while the attempt is still written to the net log.
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ])
    .arg(flag("--user-data-dir=", &profile))
    .args(extra)
    .stdin(Stdio::null())
    .stdout(Stdio::from(std::fs::File::create(&stdout_path).unwrap()))
    .stderr(Stdio::from(std::fs::File::create(&stderr_path).unwrap()));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {}: {e}", chromium.display()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            #[cfg(unix)]
            // SAFETY: signals the process group this test created for Chromium, nothing else.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Chromium ({name}) took longer than {TIMEOUT:?} and was killed; its stderr:\n{}",
                tail(&stderr_path)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "Chromium ({name}) failed with {status}; its stderr:\n{}",
        tail(&stderr_path)
    );
    stdout_path
}

/// Chromium: `$EVIDEX_CHROMIUM` if set, else the usual install locations and names on PATH.
fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EVIDEX_CHROMIUM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        let found = if p.components().count() > 1 {
            Some(p.clone()).filter(|p| p.is_file())
        } else {
            on_path(&p)
        };
        return Some(
            found.unwrap_or_else(|| panic!("EVIDEX_CHROMIUM={} is not a program", p.display())),
        );
    }
    let fixed = [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
        "/usr/bin/google-chrome-stable",
    ];
    fixed
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| {
            [
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ]
            .iter()
            .find_map(|n| on_path(Path::new(n)))
        })
}

fn on_path(name: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn flag(name: &str, path: &Path) -> OsString {
    let mut s = OsString::from(name);
    s.push(path.as_os_str());
    s
}

/// `file://` URL of a local absolute path (percent-encoding what a URL cannot hold).
fn file_url(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from(if s.starts_with('/') {
        "file://"
    } else {
        "file:///"
    });
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

fn head(s: &str) -> &str {
    &s[..s
        .char_indices()
        .nth(2000)
        .map(|(i, _)| i)
        .unwrap_or(s.len())]
}

fn tail(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
