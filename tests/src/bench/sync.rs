//! Sync figures (backbone issue): 1,000 building documents on a phone, 50 of them changed →
//! bytes up and down, round trips and server CPU time; the same with nothing changed; server
//! throughput in document-syncs per second with several phones syncing at once.
//!
//! Everything is the real path: pengwang-core devices with their own SQLite files, enrolled
//! over HTTP, syncing with `Device::sync` to a `TestServer` on 127.0.0.1 (no proxy in between).

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use pengwang_core::{Device, SyncReport};
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::id::{BuildingId, ItemId};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::{FakeClock, Timestamp};
use tokio::runtime::Runtime;

use super::runtime::{self, measure, Cost};
use super::table::{bytes, count, time, Table};
use super::throughput;
use crate::field::{building_with_awning, street_scope, yuzhong, ESTATES};
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

pub fn run(plan: &Plan) -> anyhow::Result<()> {
    let server_rt = runtime::server_runtime()?;
    let phones_rt = runtime::phone_runtime()?;
    let server = server_rt.block_on(TestServer::start())?;
    let dir = tempfile::tempdir()?;
    println!(
        "Server: pengwang-server on {} (temporary SQLite, WAL, synchronous=FULL). Phones talk to it \
         directly over HTTP. A: a community inspector's phone; B: the street checker's phone in the \
         same street, which receives what A sends.\n",
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
pub(super) struct Traffic {
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

/// The table of [`one_street`], one row per step.
struct Steps(Table);

impl Steps {
    fn new() -> Steps {
        Steps(Table::new(&[
            "step",
            "wall",
            "server CPU",
            "phones CPU",
            "round trips",
            "docs up",
            "docs down",
            "bytes up",
            "bytes down",
        ]))
    }

    /// A row for a step that synced.
    fn sync(
        &mut self,
        label: &str,
        (t, cost): (anyhow::Result<Traffic>, Cost),
    ) -> anyhow::Result<()> {
        let t = t?;
        let syncs = if t.calls == 1 { "sync" } else { "syncs" };
        self.row(
            label,
            cost,
            [
                format!("{} in {} {syncs}", t.rounds, t.calls),
                count(t.docs_sent as u64),
                count(t.docs_received as u64),
                bytes(t.bytes_up),
                bytes(t.bytes_down),
            ],
        );
        Ok(())
    }

    fn row(&mut self, label: &str, cost: Cost, traffic: [String; 5]) {
        let mut cells = vec![
            label.to_owned(),
            time(cost.wall),
            time(cost.server_cpu),
            time(cost.phones_cpu),
        ];
        cells.extend(traffic);
        self.0.row(cells);
    }
}

/// One street: inspector A records `plan.buildings` buildings, checker B (same street) receives
/// them; A changes `plan.changed` of them; then both sync with nothing changed.
fn one_street(server: &TestServer, rt: &Runtime, dir: &Path, plan: &Plan) -> anyhow::Result<Table> {
    let scope = street_scope("500103001");
    let inspector = phone(
        server,
        dir,
        "张网格",
        Role::CommunityInspector,
        scope.clone(),
    );
    let a = rt.block_on(inspector)?;
    let b = rt.block_on(phone(server, dir, "王核查", Role::StreetChecker, scope))?;
    let (n, c) = (count(plan.buildings as u64), plan.changed);
    let mut steps = Steps::new();
    let (made, cost) = rt.block_on(measure(async { record(&a, plan.buildings) }));
    let made = made?;
    let label = format!("A records {n} buildings (offline, 3 commits each)");
    steps.row(
        &label,
        cost,
        ["—".into(), "—".into(), "—".into(), "—".into(), "—".into()],
    );
    let settle = |d| rt.block_on(measure(sync_settled(d)));
    steps.sync(&format!("A uploads {n} new documents"), settle(&a))?;
    steps.sync(
        &format!("B (same street) receives {n} documents"),
        settle(&b),
    )?;
    for (k, (bid, item)) in made.iter().take(c).enumerate() {
        let area = FieldValue::Real(2.0 + k as f64 / 10.0);
        a.set_field(*bid, RecordRef::Item(*item), "area_m2", area)?;
    }
    steps.sync(&format!("A: {c} of {n} changed (1 field each)"), settle(&a))?;
    steps.sync(&format!("B receives the {c} changed"), settle(&b))?;
    for (who, d) in [("A", &a), ("B", &b)] {
        let label = format!("{who}: nothing changed ({n} docs)");
        steps.sync(&label, rt.block_on(measure(sync_once(d))))?;
    }
    Ok(steps.0)
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
