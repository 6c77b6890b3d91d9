//! Photo ingest side by side with `vipsthumbnail` (libvips-tools):
//!
//! ```text
//! cargo run --release -p pengwang-core --example photo_bench
//! ```
//!
//! Each photo in ../shared/fixtures/photos/phone, plus a synthetic 108 MP JPEG, is turned into a
//! 2048 px JPEG (quality 82, no metadata) by both tools, each conversion in its own child process:
//! ours is this program re-run as `photo_bench --ingest IN OUT` (a full [`ingest_file`]: also the
//! thumbnail, EXIF record and hash), theirs `vipsthumbnail IN -s 2048 -o OUT[Q=82,strip]`. Wall
//! time is measured around the child (process start included, for both); peak memory is the
//! child's maximum resident set as GNU time reports it (`ru_maxrss` from `wait4`), the same
//! measurement for both tools. Median of 5 runs.
//!
//! Goals (issue 3): no slower than vipsthumbnail; at most 150 MB peak on the phone photos.

#[path = "../tests/photo_support/synthetic.rs"]
mod synthetic;

use std::error::Error;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pengwang_core::photo::{ingest_file, PhotoLimits};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const RUNS: usize = 5;
const GNU_TIME: &str = "/usr/bin/time";
const PHONE_GOAL_MB: f64 = 150.0;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, input, output] = args.as_slice() {
        if mode == "--ingest" {
            let photo = ingest_file(Path::new(input), &PhotoLimits::default())?;
            std::fs::write(output, &photo.jpeg)?;
            return Ok(());
        }
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/photos/phone");
    let mut photos: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    photos.retain(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")));
    photos.sort();

    let tmp = tempfile::tempdir()?;
    let big = tmp.path().join("synthetic_108mp.jpg");
    let started = Instant::now();
    synthetic::write_synthetic_jpeg(&big, 12_000, 9_000)?;
    println!(
        "generated synthetic 12000×9000 (108 MP) JPEG, {:.1} MB, in {:.1} s",
        std::fs::metadata(&big)?.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    photos.push(big);

    let tools = Tools::find();
    println!("{}", tools.describe());
    println!();
    println!(
        "{:<22} {:>11} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "photo", "out", "vips ms", "ours ms", "ratio", "vips MB", "ours MB", "vips KB", "ours KB"
    );
    let mut phone = Totals::default();
    for photo in &photos {
        let row = compare(&tools, photo, tmp.path())?;
        println!("{}", row.line(photo));
        if !photo.starts_with(tmp.path()) {
            phone.add(&row);
        }
    }
    println!();
    phone.verdict();
    Ok(())
}

/// The external programs the measurements use, if installed.
struct Tools {
    vips: bool,
    gnu_time: bool,
}

impl Tools {
    fn find() -> Self {
        let runs = |cmd: &str, arg: &str| {
            Command::new(cmd)
                .arg(arg)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        Self {
            vips: runs("vipsthumbnail", "--version"),
            gnu_time: runs(GNU_TIME, "--version"),
        }
    }

    fn describe(&self) -> String {
        let vips = if self.vips {
            Command::new("vipsthumbnail")
                .arg("--version")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default()
        } else {
            "vipsthumbnail NOT FOUND (apt-get install libvips-tools): our figures only".into()
        };
        let time = if self.gnu_time {
            "peak memory: GNU time %M (child ru_maxrss)"
        } else {
            "GNU time NOT FOUND (apt-get install time): no peak memory figures"
        };
        format!("{vips}; {time}; {} CPU(s); median of {RUNS} runs", cpus())
    }
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One tool's figures for one photo.
#[derive(Clone, Copy)]
struct Figures {
    time: Duration,
    peak_kib: Option<u64>,
    out_bytes: u64,
    out_size: (u16, u16),
}

struct Row {
    vips: Option<Figures>,
    ours: Figures,
}

fn compare(tools: &Tools, photo: &Path, tmp: &Path) -> Result<Row> {
    let exe = std::env::current_exe()?;
    let ours_out = tmp.join("ours.jpg");
    let ours = measure(
        tools,
        &ours_out,
        &[
            exe.as_os_str(),
            "--ingest".as_ref(),
            photo.as_os_str(),
            ours_out.as_os_str(),
        ],
    )?;
    let vips = if tools.vips {
        let vips_out = tmp.join("vips.jpg");
        let target = format!("{}[Q=82,strip]", vips_out.display());
        let cmd = [
            "vipsthumbnail".as_ref(),
            photo.as_os_str(),
            "-s".as_ref(),
            "2048".as_ref(),
        ];
        let cmd = [&cmd[..], &["-o".as_ref(), target.as_ref()]].concat();
        Some(measure(tools, &vips_out, &cmd)?)
    } else {
        None
    };
    Ok(Row { vips, ours })
}

/// Runs `argv` `RUNS` times, each in a fresh child; median time, largest peak.
fn measure(tools: &Tools, out: &Path, argv: &[&OsStr]) -> Result<Figures> {
    let mut times = Vec::new();
    let mut peak = None;
    for _ in 0..RUNS {
        let mut cmd = if tools.gnu_time {
            let mut c = Command::new(GNU_TIME);
            c.args(["-f", "PHOTO_BENCH_MAXRSS %M"]).args(argv);
            c
        } else {
            let mut c = Command::new(argv[0]);
            c.args(&argv[1..]);
            c
        };
        let started = Instant::now();
        let output = cmd.output()?;
        times.push(started.elapsed());
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(format!("{cmd:?} failed: {stderr}").into());
        }
        let rss = stderr
            .lines()
            .find_map(|l| l.strip_prefix("PHOTO_BENCH_MAXRSS "))
            .and_then(|kib| kib.trim().parse::<u64>().ok());
        peak = peak.max(rss);
    }
    times.sort();
    let bytes = std::fs::read(out)?;
    let mut decoder = jpeg_decoder::Decoder::new(bytes.as_slice());
    decoder.read_info()?;
    let info = decoder.info().ok_or("output has no frame header")?;
    Ok(Figures {
        time: times[RUNS / 2],
        peak_kib: peak,
        out_bytes: bytes.len() as u64,
        out_size: (info.width, info.height),
    })
}

fn mb(kib: Option<u64>) -> String {
    kib.map_or("—".into(), |k| format!("{:.1}", k as f64 * 1024.0 / 1e6))
}

impl Row {
    fn line(&self, photo: &Path) -> String {
        let name = photo.file_name().unwrap_or_default().to_string_lossy();
        let ms = |f: &Figures| format!("{:.0}", f.time.as_secs_f64() * 1e3);
        let v = self.vips.as_ref();
        let ratio = v.map_or("—".into(), |v| {
            format!("{:.2}", self.ours.time.as_secs_f64() / v.time.as_secs_f64())
        });
        let (w, h) = self.ours.out_size;
        format!(
            "{:<22} {:>11} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}",
            name,
            format!("{w}×{h}"),
            v.map_or("—".into(), ms),
            ms(&self.ours),
            ratio,
            mb(v.and_then(|v| v.peak_kib)),
            mb(self.ours.peak_kib),
            v.map_or("—".into(), |v| (v.out_bytes / 1000).to_string()),
            self.ours.out_bytes / 1000,
        )
    }
}

/// The phone fixtures' totals, for the goals.
#[derive(Default)]
struct Totals {
    vips: Duration,
    ours: Duration,
    has_vips: bool,
    ours_peak_kib: Option<u64>,
}

impl Totals {
    fn add(&mut self, row: &Row) {
        self.ours += row.ours.time;
        if let Some(v) = &row.vips {
            self.vips += v.time;
            self.has_vips = true;
        }
        self.ours_peak_kib = self.ours_peak_kib.max(row.ours.peak_kib);
    }

    fn verdict(&self) {
        if self.has_vips {
            let ratio = self.ours.as_secs_f64() / self.vips.as_secs_f64();
            println!(
                "phone photos, total time ours / vipsthumbnail = {ratio:.2} (goal ≤ 1.00: {})",
                if ratio <= 1.0 { "met" } else { "MISSED" }
            );
        }
        if let Some(kib) = self.ours_peak_kib {
            let peak = kib as f64 * 1024.0 / 1e6;
            println!(
                "phone photos, our peak memory {peak:.1} MB (goal ≤ {PHONE_GOAL_MB} MB: {})",
                if peak <= PHONE_GOAL_MB {
                    "met"
                } else {
                    "MISSED"
                }
            );
        }
    }
}
