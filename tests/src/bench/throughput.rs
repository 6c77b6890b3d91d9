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

use super::runtime::measure;
use super::sync::{phone, sync_settled, Plan, ESTATES};
use super::table::{count, time, Table};
use crate::field::building_with_awning;
use crate::TestServer;

/// `plan.concurrency` runs, the first `n` phones each; the phones and their buildings are made
/// once, before the first run.
pub fn run(server: &TestServer, rt: &Runtime, dir: &Path, plan: &Plan) -> anyhow::Result<Table> {
    let most = plan.concurrency.iter().copied().max().unwrap_or(0);
    let unit = UnitCode::parse("500103")?;
    let streets: Vec<_> = server.state.catalog.streets_of(&unit).take(most).collect();
    if streets.len() < most {
        bail!(
            "渝中区 has {} streets, {most} phones need one each",
            streets.len()
        );
    }
    let mut phones = Vec::new();
    for (k, street) in streets.iter().enumerate() {
        let community = server
            .state
            .catalog
            .communities_of(&street.code)
            .next()
            .with_context(|| format!("street {} has no community", street.code))?;
        let scope = Scope::Street {
            street: street.code.clone(),
        };
        let d = rt.block_on(phone(
            server,
            dir,
            &format!("网格员{k}"),
            Role::CommunityInspector,
            scope,
        ))?;
        let place = Location {
            unit: street.unit.clone(),
            street: street.code.clone(),
            community: community.code.clone(),
            estate: ESTATES[k % ESTATES.len()].into(),
        };
        let items = (0..plan.buildings_per_phone)
            .map(|j| {
                building_with_awning(&d, &place, &format!("{}栋", j + 1)).map(|(b, _, i)| (b, i))
            })
            .collect::<Result<Vec<_>, _>>()?;
        rt.block_on(sync_settled(&d))?;
        phones.push((d, items));
    }
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
        let (latencies, cost) = rt.block_on(measure(edit_and_sync_all(
            &phones[..n],
            plan.rounds,
            run * plan.rounds,
        )));
        let mut latencies = latencies?;
        latencies.sort();
        let syncs = latencies.len() as u32;
        let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
        table.row(vec![
            n.to_string(),
            count(u64::from(syncs)),
            time(cost.wall),
            format!("{:.0}", f64::from(syncs) / cost.wall.as_secs_f64()),
            time(pct(50)),
            time(pct(95)),
            time(pct(100)),
            time(cost.server_cpu / syncs.max(1)),
            time(cost.phones_cpu / syncs.max(1)),
            format!(
                "{:.2}",
                cost.server_cpu.as_secs_f64() / cost.wall.as_secs_f64()
            ),
        ]);
    }
    Ok(table)
}

/// Every phone at once: `rounds` times, change one field of one of its documents, then sync.
/// Returns the duration of every sync call (each carries exactly one changed document). Edit
/// `k` writes a value derived from `first + k`, so no edit repeats an earlier run's value (an
/// edit that changes nothing makes no change to sync).
async fn edit_and_sync_all(
    phones: &[(Device, Vec<(BuildingId, ItemId)>)],
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
