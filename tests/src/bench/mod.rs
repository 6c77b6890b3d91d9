//! The `bench` binary's measurements (STYLE: speed and size targets are benchmarks that print
//! figures, not timed assertions). Every figure comes from the real code path: real
//! pengwang-core devices syncing over HTTP to a real pengwang-server, and the real 附件2
//! endpoint over a server database holding a generated city.
//!
//! The server and the phones share one process, so the server runs on its own runtime with named
//! threads and its CPU time is read per thread from `/proc` ([`runtime`], [`process`]); the
//! report's peak memory is measured in a child process ([`report`]).

pub mod city;
pub mod process;
pub mod report;
pub mod runtime;
pub mod sync;
pub mod table;
pub mod throughput;

/// One line about the machine and the build the figures come from.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let build = if cfg!(debug_assertions) {
        "DEBUG build: figures are not representative, use --release"
    } else {
        "release build"
    };
    format!("{cores} cores ({cpu}), Linux {}, {build}", kernel.trim())
}
