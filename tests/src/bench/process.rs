//! What the kernel says this process used: CPU time per named thread, and resident memory
//! (current and peak), read from `/proc`. Linux only, no `libc`.

use std::fs;
use std::time::Duration;

/// `USER_HZ`: the unit of the tick counts in `/proc/*/stat`. It is 100 on every architecture
/// Linux runs on (the kernel converts to it for userspace), so no `sysconf` call is needed.
const TICKS_PER_SECOND: u64 = 100;

/// CPU time used so far by this process's live threads whose name (the kernel's 15-byte `comm`)
/// is one of `names`. Read from `schedstat` (nanoseconds) where the kernel keeps it, else from `stat`
/// ticks (10 ms resolution). Threads that have exited are no longer counted, so callers keep
/// the threads they measure alive for the whole measurement.
pub fn thread_cpu(names: &[&str]) -> Duration {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|t| {
            fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|comm| names.contains(&comm.trim_end()))
        })
        .map(|t| {
            let dir = t.path();
            schedstat(&dir.join("schedstat")).unwrap_or_else(|| stat_cpu(&dir.join("stat")))
        })
        .sum()
}

fn schedstat(path: &std::path::Path) -> Option<Duration> {
    let text = fs::read_to_string(path).ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    // Kernels without scheduler statistics report zero for every task.
    (ns > 0).then(|| Duration::from_nanos(ns))
}

/// utime + stime from a `stat` file. The command name (field 2) may contain spaces and
/// parentheses, so fields are counted after its closing parenthesis.
fn stat_cpu(path: &std::path::Path) -> Duration {
    let Ok(text) = fs::read_to_string(path) else {
        return Duration::ZERO;
    };
    let Some((_, rest)) = text.rsplit_once(')') else {
        return Duration::ZERO;
    };
    // After ")": state is field 3, so utime (field 14) and stime (field 15) are at 11 and 12.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((tick(11) + tick(12)) * 1000 / TICKS_PER_SECOND)
}

/// Resident set size of this process: now, and its peak (`VmHWM`) since start or since the
/// last [`reset_peak`], in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub rss: u64,
    pub peak: u64,
}

pub fn memory() -> Memory {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    Memory {
        rss: kib("VmRSS:"),
        peak: kib("VmHWM:"),
    }
}

/// Resets the peak RSS to the current RSS (`echo 5 > /proc/self/clear_refs`, Linux ≥ 4.0), so
/// the next [`memory`] reports the peak of what ran in between. False when the kernel refuses.
pub fn reset_peak() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}
