//! Extraction in reusable worker processes, with a time limit and a memory limit.
//!
//! Parsers of untrusted files fail in ways no `catch_unwind` can catch: stack overflows and
//! allocation failures abort the process, and infinite loops never return. So extraction runs
//! in a child process (the `evidex` binary re-executed with the hidden `__extract-worker`
//! command) that serves many files over JSON lines on stdin/stdout; spawning is paid once per
//! worker, not per file. When a file kills or stalls its worker, the parent records why
//! (crashed, out of memory, timed out), starts a fresh worker, and the run goes on.

use super::{Extracted, Failure, Limits, Reason};
use crate::paths;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The hidden command that turns the binary into a worker.
pub const WORKER_COMMAND: &str = "__extract-worker";

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The `evidex` binary to run as a worker.
    pub exe: PathBuf,
    pub limits: Limits,
    /// Time allowed for any file...
    pub timeout: Duration,
    /// ...plus this much per MB of input...
    pub timeout_per_mb: Duration,
    /// ...up to this.
    pub max_timeout: Duration,
    /// Address-space limit for the worker process (Unix); 0 for none.
    pub memory_limit: u64,
    /// A worker is replaced after this many files, so leaks and fragmentation stay bounded.
    pub recycle_after: u32,
}

impl WorkerConfig {
    pub fn new(exe: PathBuf) -> WorkerConfig {
        WorkerConfig {
            exe,
            limits: Limits::default(),
            timeout: Duration::from_secs(30),
            timeout_per_mb: Duration::from_secs(10),
            max_timeout: Duration::from_secs(300),
            memory_limit: 2 << 30,
            recycle_after: 1_000,
        }
    }

    fn timeout_for(&self, size: u64) -> Duration {
        let mb = (size >> 20) as u32;
        (self.timeout + self.timeout_per_mb * mb).min(self.max_timeout.max(self.timeout))
    }
}

#[derive(Serialize, Deserialize)]
struct Request {
    path: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Response {
    Ok(Box<Extracted>),
    Err(Failure),
}

/// Runs the worker loop on this process's stdin/stdout. Called by `main` for the hidden
/// command; returns when stdin closes.
pub fn serve(limits: Limits) -> std::io::Result<()> {
    // Panics are answered as failures below; their default message would only be noise.
    std::panic::set_hook(Box::new(|_| {}));
    // One extraction thread for the worker's life, with a large stack: deeply nested documents
    // are common enough that the default 8 MB would turn valid files into crashes. (A thread
    // per file cost a thread start and a fresh allocator heap per document: about 1,000
    // thread starts and their page faults for 1,000 files.)
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || serve_on_this_thread(&limits))?
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the worker loop panicked")))
}

fn serve_on_this_thread(limits: &Limits) -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let response = match serde_json::from_str::<Request>(&line) {
            Ok(req) => run_one(paths::from_key(&req.path), limits),
            Err(e) => Response::Err(Failure::damaged(format!("bad request: {e}"))),
        };
        serde_json::to_writer(&mut stdout, &response)?;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
    }
    Ok(())
}

fn run_one(path: PathBuf, limits: &Limits) -> Response {
    // A parser's panic is this file's failure, not the worker's: the parsers keep no state
    // between files, so the loop goes on with the next one.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        super::extract_file(&path, limits)
    }));
    match result {
        Ok(Ok(out)) => Response::Ok(Box::new(out)),
        Ok(Err(f)) => Response::Err(f),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown error".into());
            Response::Err(Failure::damaged(format!(
                "damaged or unusual file: the parser failed ({})",
                first_line(&msg)
            )))
        }
    }
}

fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or(s);
    &line[..line
        .len()
        .min(160)
        .min(line.char_indices().nth(160).map_or(line.len(), |(i, _)| i))]
}

/// One worker process, owned by one extraction thread.
pub struct Worker {
    cfg: WorkerConfig,
    proc: Option<Running>,
}

struct Running {
    /// Windows: the job object that caps the worker's memory (closing it ends the worker).
    #[cfg(windows)]
    _job: Option<job::Job>,
    child: Child,
    stdin: ChildStdin,
    lines: crossbeam_channel::Receiver<String>,
    stderr_tail: Arc<Mutex<String>>,
    served: u32,
}

impl Worker {
    pub fn new(cfg: WorkerConfig) -> Worker {
        Worker { cfg, proc: None }
    }

    fn spawn(&self) -> std::io::Result<Running> {
        let mut cmd = Command::new(&self.cfg.exe);
        cmd.arg(WORKER_COMMAND)
            .arg(serde_json::to_string(&self.cfg.limits).unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        limit_memory(&mut cmd, self.cfg.memory_limit);
        let mut child = cmd.spawn()?;
        #[cfg(windows)]
        let job = job::Job::limit(&child, self.cfg.memory_limit);
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let tail = Arc::new(Mutex::new(String::new()));
        let tail2 = tail.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = String::new();
            while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
                if let Ok(mut t) = tail2.lock() {
                    t.push_str(&line);
                    if t.len() > 4096 {
                        let cut = t.len() - 2048;
                        let cut = (cut..t.len()).find(|i| t.is_char_boundary(*i)).unwrap_or(0);
                        t.replace_range(..cut, "");
                    }
                }
                line.clear();
            }
        });
        Ok(Running {
            #[cfg(windows)]
            _job: job,
            child,
            stdin,
            lines: rx,
            stderr_tail: tail,
            served: 0,
        })
    }

    /// Extracts one file in the worker, restarting the worker if it dies or stalls.
    pub fn extract(&mut self, path: &Path, size: u64) -> Result<Extracted, Failure> {
        if self.proc.is_none() {
            self.proc = Some(self.spawn().map_err(|e| {
                Failure::new(
                    Reason::Crashed,
                    format!(
                        "could not start an extraction worker ({}): {e}",
                        self.cfg.exe.display()
                    ),
                )
            })?);
        }
        let timeout = self.cfg.timeout_for(size);
        let recycle_after = self.cfg.recycle_after;
        let proc = self.proc.as_mut().expect("worker running");
        let request = serde_json::to_string(&Request {
            path: paths::to_key(path),
        })
        .expect("request serialises");
        let sent = writeln!(proc.stdin, "{request}").and_then(|_| proc.stdin.flush());
        let answer = match sent {
            Ok(()) => proc.lines.recv_timeout(timeout),
            Err(_) => Err(crossbeam_channel::RecvTimeoutError::Disconnected),
        };
        match answer {
            Ok(line) => {
                proc.served += 1;
                if proc.served >= recycle_after {
                    self.stop();
                }
                match serde_json::from_str::<Response>(&line) {
                    Ok(Response::Ok(out)) => Ok(*out),
                    Ok(Response::Err(f)) => Err(f),
                    Err(e) => {
                        self.stop();
                        Err(Failure::new(
                            Reason::Crashed,
                            format!("extractor answered garbage: {e}"),
                        ))
                    }
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                self.stop();
                Err(Failure::new(
                    Reason::Timeout,
                    format!(
                        "timed out: extraction took longer than {} s",
                        timeout.as_secs()
                    ),
                ))
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(self.died()),
        }
    }

    /// The worker exited mid-file: say how, from its exit status and last words.
    fn died(&mut self) -> Failure {
        let Some(mut proc) = self.proc.take() else {
            return Failure::new(Reason::Crashed, "extractor crashed");
        };
        let status = proc.child.wait().ok();
        // Give the stderr reader a moment to drain what the process printed as it died.
        std::thread::sleep(Duration::from_millis(20));
        let tail = proc
            .stderr_tail
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default();
        classify_death(status, &tail)
    }

    pub fn stop(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            let _ = proc.child.kill();
            let _ = proc.child.wait();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn classify_death(status: Option<std::process::ExitStatus>, stderr: &str) -> Failure {
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("memory allocation")
        || lower.contains("out of memory")
        || lower.contains("capacity overflow")
    {
        return Failure::new(
            Reason::OutOfMemory,
            "ran out of memory: the file needs more than the worker's memory limit",
        );
    }
    if lower.contains("stack overflow") {
        return Failure::new(
            Reason::Crashed,
            "extractor crashed: stack overflow (the file is nested too deeply or loops back on itself)",
        );
    }
    let how = status
        .map(describe_status)
        .unwrap_or_else(|| "exited".into());
    Failure::new(Reason::Crashed, format!("extractor crashed ({how})"))
}

#[cfg(unix)]
fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(libc::SIGKILL) => "killed, likely by the memory limit".into(),
        Some(libc::SIGSEGV) => "segmentation fault".into(),
        Some(libc::SIGABRT) => "aborted".into(),
        Some(sig) => format!("signal {sig}"),
        None => format!("exit code {}", status.code().unwrap_or(-1)),
    }
}

#[cfg(not(unix))]
fn describe_status(status: std::process::ExitStatus) -> String {
    format!("exit code {}", status.code().unwrap_or(-1))
}

/// Caps the worker's address space, so a parser that allocates without bound fails in the
/// worker instead of taking the machine. No core dumps either: a crash is an outcome here.
#[cfg(unix)]
fn limit_memory(cmd: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
    unsafe {
        cmd.pre_exec(move || {
            let core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &core);
            if bytes > 0 {
                let lim = libc::rlimit {
                    rlim_cur: bytes as libc::rlim_t,
                    rlim_max: bytes as libc::rlim_t,
                };
                libc::setrlimit(libc::RLIMIT_AS, &lim);
            }
            Ok(())
        });
    }
}

/// On Windows the limit is a job object, applied once the process exists (see [`job`]).
#[cfg(not(unix))]
fn limit_memory(_cmd: &mut Command, _bytes: u64) {}

/// Windows job objects: a per-process memory limit for the worker, and the worker ends when
/// evidex does (the job is closed with it).
#[cfg(windows)]
mod job {
    use std::os::windows::io::AsRawHandle;
    use std::process::Child;
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
        JOB_OBJECT_LIMIT_PROCESS_MEMORY, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
        JobObjectExtendedLimitInformation, SetInformationJobObject,
    };

    pub struct Job(HANDLE);

    // SAFETY: a job handle may be used and closed from any thread.
    unsafe impl Send for Job {}

    impl Job {
        pub fn limit(child: &Child, bytes: u64) -> Option<Job> {
            // SAFETY: plain Win32 calls on handles we own; the struct is zeroed as the API
            // expects before the fields we set.
            unsafe {
                let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
                if job.is_null() {
                    return None;
                }
                let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
                info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
                if bytes > 0 {
                    info.BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_PROCESS_MEMORY;
                    info.ProcessMemoryLimit = bytes as usize;
                }
                let ok = SetInformationJobObject(
                    job,
                    JobObjectExtendedLimitInformation,
                    &info as *const _ as *const core::ffi::c_void,
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                );
                if ok == 0 || AssignProcessToJobObject(job, child.as_raw_handle() as HANDLE) == 0 {
                    CloseHandle(job);
                    return None;
                }
                Some(Job(job))
            }
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: the handle came from CreateJobObjectW and is closed once.
            unsafe {
                CloseHandle(self.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deaths_are_named() {
        assert_eq!(
            classify_death(None, "memory allocation of 549755813888 bytes failed\n").reason,
            Reason::OutOfMemory
        );
        let f = classify_death(
            None,
            "thread 'x' has overflowed its stack\nfatal runtime error: stack overflow",
        );
        assert_eq!(f.reason, Reason::Crashed);
        assert!(f.message.contains("stack overflow"));
    }

    /// A stand-in worker: a shell script that misbehaves the way parsers do.
    #[cfg(unix)]
    fn fake_worker(dir: &std::path::Path, body: &str) -> WorkerConfig {
        use std::os::unix::fs::PermissionsExt;
        let script = dir.join("worker.sh");
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut cfg = WorkerConfig::new(script);
        cfg.timeout = Duration::from_millis(500);
        cfg.timeout_per_mb = Duration::ZERO;
        cfg
    }

    #[cfg(unix)]
    #[test]
    fn a_hanging_worker_times_out_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Worker::new(fake_worker(dir.path(), "read line; sleep 30"));
        let started = std::time::Instant::now();
        let err = w.extract(Path::new("/nonexistent"), 0).unwrap_err();
        assert_eq!(err.reason, Reason::Timeout);
        assert!(started.elapsed() < Duration::from_secs(5));
        // The next file gets a fresh worker, and times out on its own.
        assert_eq!(
            w.extract(Path::new("/nonexistent"), 0).unwrap_err().reason,
            Reason::Timeout
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_worker_that_dies_is_named_by_how_it_died() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Worker::new(fake_worker(
            dir.path(),
            "read line; echo 'memory allocation of 549755813888 bytes failed' >&2; kill -ABRT $$",
        ));
        assert_eq!(
            w.extract(Path::new("/x"), 0).unwrap_err().reason,
            Reason::OutOfMemory
        );
        let mut w = Worker::new(fake_worker(dir.path(), "read line; kill -SEGV $$"));
        let err = w.extract(Path::new("/x"), 0).unwrap_err();
        assert_eq!(err.reason, Reason::Crashed);
        assert!(err.message.contains("segmentation"), "{err}");
        let mut w = Worker::new(fake_worker(dir.path(), "read line; echo not json"));
        assert_eq!(
            w.extract(Path::new("/x"), 0).unwrap_err().reason,
            Reason::Crashed
        );
    }

    #[test]
    fn a_missing_worker_program_is_a_failure_not_a_panic() {
        let mut w = Worker::new(WorkerConfig::new(PathBuf::from("/nonexistent/evidex")));
        let err = w.extract(Path::new("/x"), 0).unwrap_err();
        assert_eq!(err.reason, Reason::Crashed);
        assert!(err.message.contains("could not start"));
    }

    #[test]
    fn timeouts_grow_with_size_up_to_a_cap() {
        let cfg = WorkerConfig::new(PathBuf::from("evidex"));
        assert_eq!(cfg.timeout_for(0), Duration::from_secs(30));
        assert_eq!(cfg.timeout_for(3 << 20), Duration::from_secs(60));
        assert_eq!(cfg.timeout_for(1 << 40), Duration::from_secs(300));
    }
}
