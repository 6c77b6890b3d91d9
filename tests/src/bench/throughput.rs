//! Sync throughput: phones in different streets (so none receives another's documents), each
//! with its own buildings, all at once edit one document and sync it, a fixed number of times.
//! Reports document-syncs per second, the latency of `Device::sync`, and the CPU time per
//! document-sync of the server and of the phones (which share the machine's cores).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pengwang_core::Device;
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::id::{BuildingId, ItemId};
use pengwang_shared::region::UnitCode;
use pengwang_shared::role::{Location, Role, Scope};
use tokio::runtime::Runtime;

use super::runtime::{measure, Cost};
use super::sync::{phone, sync_settled, Plan};
use super::table::{count, time, Table};
use crate::field::building_with_awning;
use crate::field::ESTATES;
use crate::TestServer;

/// A phone with its buildings (each with one awning).
type Phone = (Device, Vec<(BuildingId, ItemId)>);

/// `plan.concurrency` runs, the first `n` phones each; the phones and their buildings are made
/// once, before the first run.
pub fn run(server: &TestServer, rt: &Runtime, dir: &Path, plan: &Plan) -> anyhow::Result<Table> {
    let most = plan.concurrency.iter().copied().max().unwrap_or(0);
    let phones = phones(server, rt, dir, most, plan.buildings_per_phone)?;
    let mut table = Table::new(&[
        "phones at once",
        "doc-syncs",
        "wall",
        "doc-syncs/s",
        "latency p50",
        "p95",
        "max",
        "server CPU per doc-sync",
        "phones CPU per doc-sync",
        "server cores busy",
    ]);
    for (run, &n) in plan.concurrency.iter().enumerate() {
        let first = run * plan.rounds;
        let all = edit_and_sync_all(&phones[..n], plan.rounds, first);
        let (latencies, cost) = rt.block_on(measure(all));
        table.row(row(n, latencies?, cost));
    }
    Ok(table)
}

/// `n` inspectors' phones, one per street of 渝中区, each with `buildings` synced buildings.
fn phones(
    server: &TestServer,
    rt: &Runtime,
    dir: &Path,
    n: usize,
    buildings: usize,
) -> anyhow::Result<Vec<Phone>> {
    let catalog = &server.state.catalog;
    let unit = UnitCode::parse("500103")?;
    let streets: Vec<_> = catalog.streets_of(&unit).take(n).collect();
    if streets.len() < n {
        bail!(
            "渝中区 has {} streets, {n} phones need one each",
            streets.len()
        );
    }
    let mut phones = Vec::new();
    for (k, street) in streets.into_iter().enumerate() {
        let community = catalog
            .communities_of(&street.code)
            .next()
            .with_context(|| format!("street {} has no community", street.code))?;
        let scope = Scope::Street {
            street: street.code.clone(),
        };
        let name = format!("网格员{k}");
        let d = rt.block_on(phone(server, dir, &name, Role::CommunityInspector, scope))?;
        let place = Location {
            unit: street.unit.clone(),
            street: street.code.clone(),
            community: community.code.clone(),
            estate: ESTATES[k % ESTATES.len()].into(),
        };
        let items = (0..buildings)
            .map(|j| {
                building_with_awning(&d, &place, &format!("{}栋", j + 1)).map(|(b, _, i)| (b, i))
            })
            .collect::<Result<Vec<_>, _>>()?;
        rt.block_on(sync_settled(&d))?;
        phones.push((d, items));
    }
    Ok(phones)
}

/// One table row: `n` phones, the duration of each of their syncs, and what the run cost.
fn row(n: usize, mut latencies: Vec<Duration>, cost: Cost) -> Vec<String> {
    latencies.sort();
    let syncs = latencies.len().max(1) as u32;
    let pct = |p: usize| {
        let i = (latencies.len() * p / 100).min(latencies.len().saturating_sub(1));
        latencies.get(i).copied().unwrap_or_default()
    };
    let per_second = |x: f64| x / cost.wall.as_secs_f64();
    vec![
        n.to_string(),
        count(latencies.len() as u64),
        time(cost.wall),
        format!("{:.0}", per_second(f64::from(syncs))),
        time(pct(50)),
        time(pct(95)),
        time(pct(100)),
        time(cost.server_cpu / syncs),
        time(cost.phones_cpu / syncs),
        format!("{:.2}", per_second(cost.server_cpu.as_secs_f64())),
    ]
}

/// Every phone at once: `rounds` times, change one field of one of its documents, then sync.
/// Returns the duration of every sync call (each carries exactly one changed document). Edit
/// `k` writes a value derived from `first + k`, so no edit repeats an earlier run's value (an
/// edit that changes nothing makes no change to sync).
async fn edit_and_sync_all(
    phones: &[Phone],
    rounds: usize,
    first: usize,
) -> anyhow::Result<Vec<Duration>> {
    let tasks: Vec<_> = phones
        .iter()
        .map(|(d, items)| tokio::spawn(edit_and_sync(d.clone(), items.clone(), rounds, first)))
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

async fn edit_and_sync(
    d: Device,
    items: Vec<(BuildingId, ItemId)>,
    rounds: usize,
    first: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(rounds);
    for r in 0..rounds {
        let (b, i) = items[r % items.len()];
        let editor = d.clone();
        let area = FieldValue::Real(3.0 + (first + r) as f64 / 10.0);
        tokio::task::spawn_blocking(move || {
            editor.set_field(b, RecordRef::Item(i), "area_m2", area)
        })
        .await??;
        let start = Instant::now();
        let report = d.sync().await?;
        latencies.push(start.elapsed());
        if report.docs_sent != 1 || !report.refused.is_empty() {
            bail!(
                "a one-edit sync sent {} documents, refused {:?}",
                report.docs_sent,
                report.refused
            );
        }
    }
    Ok(latencies)
}
