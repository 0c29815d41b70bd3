fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(evidex::extract::worker::WORKER_COMMAND) {
        let limits = args
            .get(2)
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let _ = evidex::extract::worker::serve(limits);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut w =
        evidex::extract::worker::Worker::new(evidex::extract::worker::WorkerConfig::new(exe));
    for p in &args[1..] {
        let path = std::path::Path::new(p);
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        match w.extract(path, size) {
            Ok(e) => {
                if std::env::var("FULL").is_ok() {
                    println!("{}", e.text);
                }
                println!(
                    "OK {p}: title={:?} words={} units={:?} headings={} created={:?} warn={:?}",
                    e.title,
                    e.word_count(),
                    e.units.iter().map(|u| u.label.clone()).collect::<Vec<_>>(),
                    e.headings.len(),
                    e.created,
                    e.warnings
                )
            }
            Err(f) => println!("FAIL {p}: {:?} {}", f.reason, f.message),
        }
    }
}
