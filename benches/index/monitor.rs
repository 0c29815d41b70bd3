//! Runs a command and measures it: wall time, CPU (its own and its children's), the peak
//! resident set of the largest single process (the kernel's `ru_maxrss` from `wait4`, which
//! covers the process and its reaped descendants), and the peak of the *sum* over the process
//! tree, sampled from /proc every 20 ms (a short-lived peak between samples can be missed).

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct Measured {
    pub wall_s: f64,
    pub status: i32,
    /// Peak RSS of the largest single process in the tree (wait4), KiB.
    pub max_rss_kib: u64,
    /// Peak of the summed RSS over the process tree (sampled), KiB.
    pub tree_rss_kib: u64,
    /// Peak of the summed anonymous RSS (heap and stacks, not mapped files such as the index
    /// segments) over the process tree (sampled), KiB.
    pub tree_anon_kib: u64,
    /// User + system CPU of the process and all its reaped descendants, seconds.
    pub cpu_s: f64,
    /// CPU of the top process alone (last /proc sample before it exited), seconds.
    pub main_cpu_s: f64,
    pub stdout: String,
    pub stderr: String,
    /// CPU used on the machine by anything else while this ran (system busy time less this
    /// process tree's), seconds: a check that nothing else disturbed the measurement.
    pub others_cpu_s: f64,
}

/// Busy CPU seconds of the whole machine since boot (/proc/stat, all but idle and iowait).
pub fn machine_busy_s() -> f64 {
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let l = s.lines().next()?.to_string();
            let v: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            let total: u64 = v.iter().take(8).sum();
            Some((total - v.get(3)? - v.get(4)?) as f64 / tick)
        })
        .unwrap_or(0.0)
}

/// Waits until the machine is quiet (under 10% of one core busy for 3 s running), so other
/// work on a shared machine does not land inside a measurement; gives up after `max`.
pub fn wait_quiet(max: Duration) -> f64 {
    let start = Instant::now();
    let mut quiet = 0;
    while start.elapsed() < max {
        let b0 = machine_busy_s();
        std::thread::sleep(Duration::from_secs(1));
        if machine_busy_s() - b0 < 0.10 {
            quiet += 1;
            if quiet >= 3 {
                break;
            }
        } else {
            quiet = 0;
        }
    }
    let waited = start.elapsed().as_secs_f64();
    if waited > 10.0 {
        eprintln!("    (waited {waited:.0} s for the machine to be quiet)");
    }
    waited
}

fn page_kib() -> u64 {
    (unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64) / 1024
}

fn children_of(pid: u32, out: &mut Vec<u32>) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            for c in s.split_whitespace() {
                if let Ok(c) = c.parse::<u32>() {
                    out.push(c);
                    children_of(c, out);
                }
            }
        }
    }
}

fn anon_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("RssAnon:"))?;
            l.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn rss_kib(pid: u32, page: u64) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|p| p * page)
        .unwrap_or(0)
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the name: state(0) ... utime(11) stime(12).
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

pub fn run(cmd: &mut Command) -> std::io::Result<Measured> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let busy0 = machine_busy_s();
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id();
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let page = page_kib();
            let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
            let mut peak = 0u64;
            let mut peak_anon = 0u64;
            let mut main_cpu = 0.0f64;
            let mut pids = Vec::new();
            while !done.load(Ordering::Relaxed) {
                pids.clear();
                pids.push(pid);
                children_of(pid, &mut pids);
                let sum: u64 = pids.iter().map(|p| rss_kib(*p, page)).sum();
                peak = peak.max(sum);
                let anon: u64 = pids.iter().map(|p| anon_kib(*p)).sum();
                peak_anon = peak_anon.max(anon);
                if let Some(t) = cpu_ticks(pid) {
                    main_cpu = t as f64 / tick;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (peak, peak_anon, main_cpu)
        })
    };
    let mut status: libc::c_int = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut ru) };
    let wall_s = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let (tree_peak, tree_anon, main_cpu) = sampler.join().unwrap();
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // The child is reaped; std's Child must not wait on it again (it is simply dropped).
    std::mem::forget(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu_s = tv(ru.ru_utime) + tv(ru.ru_stime);
    let others_cpu_s = (machine_busy_s() - busy0 - cpu_s).max(0.0);
    Ok(Measured {
        others_cpu_s,
        wall_s,
        status: code,
        max_rss_kib: ru.ru_maxrss as u64,
        tree_rss_kib: tree_peak.max(ru.ru_maxrss as u64),
        tree_anon_kib: tree_anon,
        cpu_s,
        main_cpu_s: main_cpu,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    })
}

/// Wall time only, for short commands run many times (search, gaps): no sampler thread.
pub fn time(cmd: &mut Command) -> std::io::Result<(f64, std::process::Output)> {
    cmd.stdin(Stdio::null());
    let start = Instant::now();
    let out = cmd.output()?;
    Ok((start.elapsed().as_secs_f64(), out))
}
