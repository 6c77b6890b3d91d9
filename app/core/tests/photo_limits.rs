//! Photo ingest within its bounds (DESIGN §8, issue 3): a synthetic 108 MP photo is decoded at
//! reduced scale within 200 MB; bombs and oversized files are refused quickly before any pixel
//! buffer exists.
//!
//! Peak memory and refusal time are measured in a child process (this test binary re-run on the
//! ignored `photo_child` test), so the figures are the ingest's own, not the test harness's.
#![allow(clippy::unwrap_used)]

mod photo_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use pengwang_core::photo::{ingest, ingest_file, PhotoLimits};
use photo_support::*;

/// Run only as a child of the tests below, with `PENGWANG_PHOTO_CHILD` naming the photo: ingests
/// it, writes the stored JPEG beside it (`.out.jpg`) and prints the outcome, how long the ingest
/// took and the process's peak resident memory (VmHWM).
#[test]
#[ignore = "run by the tests below in a child process"]
fn photo_child() {
    let Some(path) = std::env::var_os("PENGWANG_PHOTO_CHILD") else {
        return;
    };
    let path = PathBuf::from(path);
    let started = Instant::now();
    let result = ingest_file(&path, &PhotoLimits::default());
    let elapsed = started.elapsed();
    let outcome = match result {
        Ok(photo) => {
            std::fs::write(path.with_extension("out.jpg"), &photo.jpeg).unwrap();
            let m = &photo.meta;
            format!("ok {}x{} scale 1/{}", m.width, m.height, photo.decode_scale)
        }
        Err(e) => format!("{}: {e}", e.code()),
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap();
    println!("PHOTO_CHILD|{outcome}|{}|{hwm_kib}", elapsed.as_micros());
}

struct ChildReport {
    outcome: String,
    elapsed_ms: f64,
    peak_mb: f64,
}

/// Ingests `photo` in a fresh process (this test binary running `photo_child` alone).
fn ingest_in_child(photo: &Path) -> ChildReport {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["photo_child", "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env("PENGWANG_PHOTO_CHILD", photo)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("PHOTO_CHILD|").map(|(_, report)| report))
        .unwrap_or_else(|| panic!("no report from the child: {stdout}"));
    let [outcome, micros, kib] = line.splitn(3, '|').collect::<Vec<_>>()[..] else {
        panic!("bad report: {line}");
    };
    let report = ChildReport {
        outcome: outcome.to_owned(),
        elapsed_ms: micros.parse::<f64>().unwrap() / 1e3,
        peak_mb: kib.parse::<f64>().unwrap() * 1024.0 / 1e6,
    };
    println!(
        "{}: {} in {:.1} ms, peak {:.1} MB",
        photo.file_name().unwrap().to_string_lossy(),
        report.outcome,
        report.elapsed_ms,
        report.peak_mb
    );
    report
}

#[cfg(target_os = "linux")]
#[test]
fn a_108_megapixel_photo_is_ingested_at_quarter_scale_within_200_mb() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("108mp.jpg");
    let (w, h) = (12_000, 9_000);
    synthetic::write_synthetic_jpeg(&path, w as u16, h as u16).unwrap();
    println!(
        "108 MP file: {} bytes",
        std::fs::metadata(&path).unwrap().len()
    );

    let report = ingest_in_child(&path);
    // 1/8 would give 1500 px, under 2048: decoded at 1/4 (3000×2250), then fitted.
    assert_eq!(report.outcome, "ok 2048x1536 scale 1/4");
    assert!(report.peak_mb <= 200.0, "peak {:.1} MB", report.peak_mb);

    // The pixels are the picture: each output pixel against the pattern at the same place in
    // the original frame (smooth part plus the noise's mean, which the 5.9× shrink averages).
    let out = decode(&std::fs::read(path.with_extension("out.jpg")).unwrap());
    let (ow, oh) = (out.width, out.height);
    let mut sum = 0.0;
    for y in 0..oh {
        for x in 0..ow {
            let (sx, sy) = ((2 * x + 1) * w / (2 * ow), (2 * y + 1) * h / (2 * oh));
            let expect = synthetic::smooth(sx, sy, w, h);
            let got = &out.data[((y * ow + x) * 3) as usize..][..3];
            for ((got, expect), noise) in got.iter().zip(expect).zip(synthetic::NOISE_MEAN) {
                let want = (f64::from(expect) + noise).min(255.0);
                sum += (f64::from(*got) - want).abs();
            }
        }
    }
    let mad = sum / f64::from(ow * oh * 3);
    // Measured 1.3 (JPEG noise and the noise left after averaging); the picture turned 180° or
    // mirrored would differ by ~60 in red alone.
    println!("108 MP output vs the pattern: mean abs diff {mad:.3}");
    assert!(mad < 4.0, "{mad}");
}

/// A real 16×16 JPEG whose frame header is rewritten to declare `width`×`height`: valid tables
/// and scan, a lying size — the classic decompression bomb.
fn bomb(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = jpeg_with_exif(16, 16, b"MM\0*\0\0\0\x08\0\0");
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

/// Peak resident memory of a child that refuses a photo: the test binary itself plus parsing a
/// header, measured 4.8–5.6 MB. The 41 MB file alone would take it far past this if it were read.
const REFUSAL_PEAK_MB: f64 = 16.0;

#[cfg(target_os = "linux")]
#[test]
fn bombs_and_a_41_mb_file_are_refused_quickly_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let over_limit = write("30000x30000.jpg", &bomb(30_000, 30_000));
    let len = std::fs::metadata(&over_limit).unwrap().len();
    let too_dense = write("15000x15000.jpg", &bomb(15_000, 15_000));
    // A valid small JPEG followed by zeros up to 41,000,000 bytes.
    let big = write("41mb.jpg", &bomb(16, 16));
    std::fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(41_000_000)
        .unwrap();

    let cases = [
        (
            over_limit,
            "photo_bomb: refused 30000×30000 image: 900 megapixels is over the 250 MP limit"
                .to_owned(),
        ),
        (
            too_dense,
            format!(
                "photo_bomb: refused 15000×15000 image: a {len}-byte file cannot hold 225000000 \
                 pixels (decompression bomb)"
            ),
        ),
        (
            big,
            "photo_too_large: photo file is 41000000 bytes, over the 40000000-byte limit"
                .to_owned(),
        ),
    ];
    for (path, expected) in cases {
        let report = ingest_in_child(&path);
        assert_eq!(report.outcome, expected);
        assert!(report.elapsed_ms < 1000.0, "{} ms", report.elapsed_ms);
        assert!(
            report.peak_mb <= REFUSAL_PEAK_MB,
            "peak {:.1} MB",
            report.peak_mb
        );
    }
}

#[test]
fn a_large_progressive_photo_is_refused_before_decoding() {
    // Progressive JPEGs keep every coefficient at full size: 8000×6000 4:2:0 is 1,125,000
    // blocks × 128 bytes = 144 MB, plus 18 MB of planes and 36 MB of output at 1/2 scale =
    // 198,000,000 bytes = 188 MiB, over the 128 MiB budget.
    let mut small = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut small, 80);
    encoder.set_progressive(true);
    encoder
        .encode(&[128; 16 * 16 * 3], 16, 16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let sof = small.windows(2).position(|w| w == [0xFF, 0xC2]).unwrap();
    small[sof + 5..sof + 7].copy_from_slice(&6000u16.to_be_bytes());
    small[sof + 7..sof + 9].copy_from_slice(&8000u16.to_be_bytes());
    small.resize(100_000, 0); // dense enough to pass the bytes-per-pixel check
    assert_eq!(
        ingest(&small, &PhotoLimits::default())
            .unwrap_err()
            .to_string(),
        "refused 8000×6000 image: decoding would need about 188 MiB, over the 128 MiB budget"
    );
}
