//! 附件2 figure (backbone issue): the report computed by the server from its database over a
//! generated city of 1,000,000 items in ~40 units; time and peak memory.
//!
//! The parent seeds a server database ([`city::seed`]), then runs the measurement in a child
//! process (this binary again, `report-child --db PATH`), because seeding a million rows is what
//! would otherwise set the process's peak memory. The child opens the database as the server
//! does, serves it on 127.0.0.1:0, enrolls a city account's console and requests
//! `GET /v1/reports/attachment2?month=2026-11` (JSON, then CSV) over HTTP, resetting the peak RSS
//! before each request. It prints one JSON line per request for the parent to tabulate.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::{devices, AppState, Config};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::{FakeClock, Timestamp};
use serde::{Deserialize, Serialize};

use super::city::{self, City};
use super::process::{self, Memory};
use super::runtime::{self, measure, Serving};
use super::table::{bytes, count, time, Table};

pub struct Plan {
    pub items: u64,
    /// Requests per format (the first one opens a fresh read connection).
    pub repeats: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            items: 1_000_000,
            repeats: 3,
        }
    }
}

/// The report the bench asks for: the period 2026-10-26 – 2026-11-25.
const MONTH: &str = "2026-11";
/// The server's clock in the child: the day after that period's cut-off.
const NOW: &str = "2026-11-26 09:00";

/// One request, as the child measured it.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    format: String,
    run: usize,
    status: u16,
    body_bytes: u64,
    wall: Duration,
    server_cpu: Duration,
    /// RSS just before the request.
    rss_before: u64,
    /// Peak RSS of the process during the request (`VmHWM` after a reset).
    peak: u64,
    /// Whether the kernel let the peak be reset before the request (else it is the process's
    /// peak since start).
    peak_reset: bool,
    /// The city total line of the JSON answer (可燃雨棚 / 突出外墙防护网).
    total: Option<serde_json::Value>,
}

pub fn run(plan: &Plan) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("city.sqlite3");
    println!("{}", seed(&db, plan.items)?);
    let mut requests = Vec::new();
    for format in ["json", "csv"] {
        requests.extend(measure_in_child(&db, format, plan.repeats)?);
    }
    println!("{}", requests_table(&requests)?);
    println!(
        "Each format runs in a fresh process; memory is shown for its first request only \
         (later ones reuse what the allocator kept)."
    );
    if let Some(total) = requests.iter().find_map(|r| r.total.as_ref()) {
        println!("City total of the answer (合计): {total}");
    }
    Ok(())
}

/// Creates the server database at `db` (migrated, regions seeded) and the city in it.
fn seed(db: &Path, items: u64) -> anyhow::Result<Table> {
    let catalog = {
        let clock = Arc::new(FakeClock::at(Timestamp::parse_local(NOW)?));
        let state = AppState::open(config(db), clock)?;
        Arc::clone(&state.catalog)
    };
    let start = Instant::now();
    let city = city::seed(db, &catalog, items, 2026)?;
    let seeding = start.elapsed();
    let size = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
        .map(|m| m.len())
        .sum();
    Ok(city_table(&city, seeding, size))
}

/// Runs `report-child` on `db` for `format` and reads back its requests.
fn measure_in_child(db: &Path, format: &str, repeats: usize) -> anyhow::Result<Vec<Request>> {
    let output = Command::new(std::env::current_exe()?)
        .args(["report-child", "--db"])
        .arg(db)
        .args(["--format", format, "--repeats", &repeats.to_string()])
        .output()
        .context("cannot start the report child process")?;
    if !output.status.success() {
        bail!(
            "the report child failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let requests = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    Ok(requests)
}

fn config(db: &Path) -> Config {
    Config {
        database: db.to_path_buf(),
        ..Config::default()
    }
}

fn city_table(city: &City, seeding: Duration, size: u64) -> Table {
    let mut t = Table::new(&[
        "generated city",
        "units",
        "buildings",
        "households",
        "items",
        "seeding (not measured path)",
        "database size (these tables)",
    ]);
    t.row(vec![
        "p_building / p_household / p_item".into(),
        city.units.to_string(),
        count(city.buildings),
        count(city.households),
        count(city.items),
        time(seeding),
        bytes(size),
    ]);
    t
}

fn requests_table(requests: &[Request]) -> anyhow::Result<Table> {
    let mut t = Table::new(&[
        "GET /v1/reports/attachment2?month=2026-11",
        "run",
        "status",
        "body",
        "wall",
        "server CPU",
        "RSS before",
        "peak RSS during",
        "peak − before",
    ]);
    for r in requests {
        if r.status != 200 {
            bail!(
                "the report answered {} ({} run {})",
                r.status,
                r.format,
                r.run
            );
        }
        let (before, peak, extra) = match (r.run, r.peak_reset) {
            (1, true) => (
                bytes(r.rss_before),
                bytes(r.peak),
                bytes(r.peak.saturating_sub(r.rss_before)),
            ),
            (1, false) => (
                bytes(r.rss_before),
                format!("{} (since start)", bytes(r.peak)),
                "—".into(),
            ),
            _ => ("—".into(), "—".into(), "—".into()),
        };
        t.row(vec![
            r.format.clone(),
            r.run.to_string(),
            r.status.to_string(),
            bytes(r.body_bytes),
            time(r.wall),
            time(r.server_cpu),
            before,
            peak,
            extra,
        ]);
    }
    Ok(t)
}

/// The child: serve the seeded database and request the report in `format`, `repeats` times.
/// Only the first request's memory is the report's: later ones reuse what the allocator kept.
pub fn child(db: &Path, format: &str, repeats: usize) -> anyhow::Result<()> {
    let server_rt = runtime::server_runtime()?;
    let clock = Arc::new(FakeClock::at(Timestamp::parse_local(NOW)?));
    let state = AppState::open(config(db), clock)?;
    let token = city_token(&state)?;
    let serving = Serving::start(&server_rt, state)?;
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let get = reqwest::Client::new()
        .get(format!(
            "{}/v1/reports/attachment2?month={MONTH}&format={format}",
            serving.url()
        ))
        .header("pengwang-protocol", "1")
        .bearer_auth(&token);
    for run in 1..=repeats {
        let request = get
            .try_clone()
            .context("the report request is not clonable")?;
        let line = client_rt.block_on(measure_request(request, format, run))?;
        println!("{}", serde_json::to_string(&line)?);
    }
    drop(serving);
    Ok(())
}

/// Sends one report request, measuring its time, the server's CPU time and the peak RSS.
async fn measure_request(
    request: reqwest::RequestBuilder,
    format: &str,
    run: usize,
) -> anyhow::Result<Request> {
    let peak_reset = process::reset_peak();
    let Memory {
        rss: rss_before, ..
    } = process::memory();
    let (answer, cost) = measure(async {
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok::<_, reqwest::Error>((status, response.bytes().await?))
    })
    .await;
    let peak = process::memory().peak;
    let (status, body) = answer?;
    let total = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .map(|v| v["total"].clone());
    Ok(Request {
        format: format.into(),
        run,
        status,
        body_bytes: body.len() as u64,
        wall: cost.wall,
        server_cpu: cost.server_cpu,
        rss_before,
        peak,
        peak_reset,
        total,
    })
}

/// A console token of a city account (全市), made the way an enrolled device gets one.
fn city_token(state: &AppState) -> anyhow::Result<String> {
    let now = state.now();
    let account = NewAccount {
        name: "市专班".into(),
        role: Role::City,
        scope: Scope::City,
        password: None,
    };
    let enrolled = state.db.with_writer(|c| {
        let account = accounts::create_account(c, account, now)?;
        let code = devices::issue_code(c, account.id, 7, now)?;
        devices::enroll(c, &code, "bench console", now)
    })?;
    Ok(enrolled.token)
}
