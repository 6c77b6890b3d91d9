//! Sync figures (backbone issue): 1,000 building documents on a phone, 50 of them changed →
//! bytes up and down, round trips and server CPU time; the same with nothing changed; server
//! throughput in document-syncs per second with several phones syncing at once.
//!
//! Everything is the real path: pengwang-core devices with their own SQLite files, enrolled
//! over HTTP, syncing with `Device::sync` to a `TestServer` on 127.0.0.1 (no proxy in between).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pengwang_core::{Device, SyncReport};
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::id::{BuildingId, ItemId};
use pengwang_shared::region::UnitCode;
use pengwang_shared::role::{Location, Role, Scope};
use pengwang_shared::time::{FakeClock, Timestamp};
use tokio::runtime::Runtime;

use super::runtime::{self, measure, Cost};
use super::table::{bytes, count, time, Table};
use super::throughput;
use crate::field::{building_with_awning, street_scope, yuzhong};
use crate::TestServer;

pub struct Plan {
    /// Buildings on the phone of the one-street scenario (each: 1 household, 1 awning).
    pub buildings: usize,
    /// How many of them change before the second sync.
    pub changed: usize,
    /// Phones syncing at once in the throughput runs.
    pub concurrency: Vec<usize>,
    /// Buildings on each of those phones.
    pub buildings_per_phone: usize,
    /// Edit-and-sync rounds each phone makes in a throughput run.
    pub rounds: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            buildings: 1_000,
            changed: 50,
            concurrency: vec![1, 4, 8],
            buildings_per_phone: 50,
            rounds: 50,
        }
    }
}

pub(super) const ESTATES: [&str; 8] = [
    "阳光花园",
    "金科世界城",
    "龙湖春森彼岸",
    "融创白象街",
    "保利山语",
    "华宇锦绣花城",
    "中海国际社区",
    "万科金域华府",
];

pub fn run(plan: &Plan) -> anyhow::Result<()> {
    let server_rt = runtime::server_runtime()?;
    let phones_rt = runtime::phone_runtime()?;
    let server = server_rt.block_on(TestServer::start())?;
    let dir = tempfile::tempdir()?;
    println!(
        "Server: pengwang-server on {} (temporary SQLite, WAL, synchronous=FULL).",
        server.addr
    );
    println!("{}", one_street(&server, &phones_rt, dir.path(), plan)?);
    println!(
        "{}",
        throughput::run(&server, &phones_rt, dir.path(), plan)?
    );
    drop(server);
    drop(phones_rt);
    drop(server_rt);
    Ok(())
}

/// A phone on the server, enrolled over HTTP, with a clock at 2026-03-02 09:00.
pub(super) async fn phone(
    server: &TestServer,
    dir: &Path,
    name: &str,
    role: Role,
    scope: Scope,
) -> anyhow::Result<Device> {
    let account = server.account(name, role, scope)?;
    let clock = Arc::new(FakeClock::at(Timestamp::parse_local("2026-03-02 09:00")?));
    let device = Device::open(&dir.join(format!("{}.sqlite3", account.id)), clock)?;
    let code = server.enrollment_code(&account)?;
    device
        .enroll(&server.url(), &code, &format!("{name}的手机"))
        .await?;
    Ok(device)
}

/// What a run of `Device::sync` calls carried, summed over calls.
#[derive(Clone, Copy, Debug, Default)]
struct Traffic {
    calls: u32,
    rounds: u32,
    docs_sent: usize,
    docs_received: usize,
    bytes_up: u64,
    bytes_down: u64,
}

impl Traffic {
    fn add(&mut self, r: &SyncReport) -> anyhow::Result<()> {
        if let Some((doc, err)) = r.refused.first() {
            bail!("the server refused document {doc}: {err}");
        }
        self.calls += 1;
        self.rounds += r.rounds;
        self.docs_sent += r.docs_sent;
        self.docs_received += r.docs_received;
        self.bytes_up += r.bytes_up;
        self.bytes_down += r.bytes_down;
        Ok(())
    }
}

/// One `Device::sync` call.
async fn sync_once(d: &Device) -> anyhow::Result<Traffic> {
    let mut t = Traffic::default();
    t.add(&d.sync().await?)?;
    Ok(t)
}

/// `Device::sync` until the outbox is empty (one call caps its round trips, so a first upload of
/// many documents may take more than one).
pub(super) async fn sync_settled(d: &Device) -> anyhow::Result<Traffic> {
    let mut t = Traffic::default();
    while t.calls == 0 || d.pending()?.docs > 0 {
        if t.calls == 10 {
            bail!(
                "{} documents still queued after 10 syncs",
                d.pending()?.docs
            );
        }
        t.add(&d.sync().await?)?;
    }
    Ok(t)
}

fn step_row(table: &mut Table, label: &str, cost: Cost, t: Option<Traffic>) {
    let or_dash = |f: &dyn Fn(&Traffic) -> String| t.as_ref().map_or("—".into(), f);
    table.row(vec![
        label.into(),
        time(cost.wall),
        time(cost.server_cpu),
        time(cost.phones_cpu),
        or_dash(&|t| format!("{} in {} sync", t.rounds, t.calls)),
        or_dash(&|t| count(t.docs_sent as u64)),
        or_dash(&|t| count(t.docs_received as u64)),
        or_dash(&|t| bytes(t.bytes_up)),
        or_dash(&|t| bytes(t.bytes_down)),
    ]);
}

/// One street: inspector A records `plan.buildings` buildings, checker B (same street) receives
/// them; A changes `plan.changed` of them; then both sync with nothing changed.
fn one_street(server: &TestServer, rt: &Runtime, dir: &Path, plan: &Plan) -> anyhow::Result<Table> {
    let scope = street_scope("500103001");
    let a = rt.block_on(phone(
        server,
        dir,
        "张网格",
        Role::CommunityInspector,
        scope.clone(),
    ))?;
    let b = rt.block_on(phone(server, dir, "王核查", Role::StreetChecker, scope))?;
    let mut table = Table::new(&[
        "step",
        "wall",
        "server CPU",
        "phones CPU",
        "round trips",
        "docs up",
        "docs down",
        "bytes up",
        "bytes down",
    ]);
    let (made, cost) = rt.block_on(measure(async { record(&a, plan.buildings) }));
    let made = made?;
    let n = count(plan.buildings as u64);
    step_row(
        &mut table,
        &format!("A records {n} buildings (offline, 3 commits each)"),
        cost,
        None,
    );
    let (t, cost) = rt.block_on(measure(sync_settled(&a)));
    step_row(
        &mut table,
        &format!("A uploads {n} new documents"),
        cost,
        Some(t?),
    );
    let (t, cost) = rt.block_on(measure(sync_settled(&b)));
    step_row(
        &mut table,
        &format!("B (same street) receives {n} documents"),
        cost,
        Some(t?),
    );
    for (k, (bid, item)) in made.iter().take(plan.changed).enumerate() {
        let area = FieldValue::Real(2.0 + k as f64 / 10.0);
        a.set_field(*bid, RecordRef::Item(*item), "area_m2", area)?;
    }
    let c = plan.changed;
    let (t, cost) = rt.block_on(measure(sync_settled(&a)));
    step_row(
        &mut table,
        &format!("A: {c} of {n} changed (1 field each)"),
        cost,
        Some(t?),
    );
    let (t, cost) = rt.block_on(measure(sync_settled(&b)));
    step_row(
        &mut table,
        &format!("B receives the {c} changed"),
        cost,
        Some(t?),
    );
    for (who, d) in [("A", &a), ("B", &b)] {
        let (t, cost) = rt.block_on(measure(sync_once(d)));
        step_row(
            &mut table,
            &format!("{who}: nothing changed ({n} docs)"),
            cost,
            Some(t?),
        );
    }
    Ok(table)
}

/// Records `n` buildings with one household and one awning each, in one community.
fn record(d: &Device, n: usize) -> anyhow::Result<Vec<(BuildingId, ItemId)>> {
    (0..n)
        .map(|k| {
            let place = yuzhong(ESTATES[k % ESTATES.len()]);
            let number = format!("{}栋", k / ESTATES.len() + 1);
            let (b, _, i) = building_with_awning(d, &place, &number)?;
            Ok((b, i))
        })
        .collect()
}
