//! Several phones edit and sync in random orders, some offline for stretches: everyone converges
//! to the server's documents, and the incremental projections equal a rebuild from the stored
//! documents. Compaction changes no document.
#![allow(clippy::unwrap_used)]

use pengwang_e2e::field::*;
use pengwang_e2e::{TestDevice, TestServer};
use pengwang_server::{documents, projection};
use pengwang_shared::document::{self, FieldValue, RecordRef};
use pengwang_shared::role::Role;
use pengwang_shared::settings::CampaignSettings;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

async fn random_field_work(seed: u64) {
    let server = TestServer::start().await.unwrap();
    let mut phones = Vec::new();
    for (n, role) in [
        Role::CommunityInspector,
        Role::CommunityInspector,
        Role::PropertyStaff,
        Role::StreetChecker,
    ]
    .into_iter()
    .enumerate()
    {
        let scope = if role == Role::PropertyStaff {
            pengwang_shared::role::Scope::Estates {
                community: yuzhong("x").community,
                estates: vec!["嘉华大厦".into()],
            }
        } else {
            street_scope("500103001")
        };
        let a = server.account(&format!("人员{n}"), role, scope).unwrap();
        phones.push(TestDevice::enroll(&server, &a).await.unwrap());
    }
    let mut rng = StdRng::seed_from_u64(seed);
    building_with_awning(&phones[0], &yuzhong("嘉华大厦"), "1栋").unwrap();
    building_with_awning(&phones[1], &yuzhong("阳光花园"), "1栋").unwrap();
    building_with_awning(&phones[2], &yuzhong("嘉华大厦"), "2栋").unwrap();
    for round in 0..80 {
        let p = &phones[rng.gen_range(0..phones.len())];
        p.clock.advance(3600);
        match rng.gen_range(0..12) {
            0 | 1 if p.account.role != Role::StreetChecker => {
                let estate = if p.account.role == Role::PropertyStaff || rng.gen_bool(0.5) {
                    "嘉华大厦"
                } else {
                    "阳光花园"
                };
                building_with_awning(p, &yuzhong(estate), &format!("{}栋", round % 3 + 1)).unwrap();
            }
            2 => p.go_offline(),
            3 => p.go_online(),
            4..=6 => {
                let _ = p.sync().await; // fails while offline, by design
            }
            _ => {
                let Some(b) = p.buildings().unwrap().into_iter().nth(rng.gen_range(0..3)) else {
                    continue;
                };
                let doc = p.building(b).unwrap();
                let Some((&item, _)) = doc
                    .items
                    .iter()
                    .nth(rng.gen_range(0..doc.items.len().max(1)))
                else {
                    continue;
                };
                if rng.gen_bool(0.5) {
                    let _ = p.set_field(
                        b,
                        RecordRef::Item(item),
                        "area_m2",
                        FieldValue::Real(f64::from(rng.gen_range(1..5))),
                    );
                } else {
                    let _ = notify(p, b, item); // refused locally when out of scope or illegal
                }
            }
        }
    }
    for p in &phones {
        p.go_online();
    }
    for _ in 0..2 {
        for p in &phones {
            let r = p.sync().await.unwrap();
            assert!(r.refused.is_empty(), "{:?}", r.refused);
        }
    }
    let stored = server
        .state
        .db
        .with_writer(|c| documents::all_ids(c))
        .unwrap();
    assert!(stored.len() >= 3, "{} documents", stored.len());
    for id in &stored {
        let doc = server
            .state
            .db
            .with_writer(|c| documents::load(c, *id))
            .unwrap()
            .unwrap();
        for p in &phones {
            if p.buildings().unwrap().contains(id) {
                assert_eq!(
                    p.heads(*id).unwrap(),
                    doc.get_heads(),
                    "seed {seed}: a phone differs from the server on {id}"
                );
            }
        }
    }
    let incremental = server.rows(&TestServer::PROJECTIONS);
    let settings = CampaignSettings::for_year(2026);
    server
        .state
        .db
        .with_writer(|c| projection::rebuild_all(c, &settings, 0))
        .unwrap();
    assert_eq!(
        server.rows(&TestServer::PROJECTIONS),
        incremental,
        "seed {seed}"
    );
}

#[tokio::test]
async fn phones_syncing_in_random_orders_converge_and_projections_equal_a_rebuild() {
    for seed in [1, 2, 3] {
        random_field_work(seed).await;
    }
}

#[tokio::test]
async fn compaction_leaves_every_document_unchanged() {
    let server = TestServer::start().await.unwrap();
    let a = server
        .account(
            "张网格",
            Role::CommunityInspector,
            street_scope("500103001"),
        )
        .unwrap();
    let phone = TestDevice::enroll(&server, &a).await.unwrap();
    let (b, h, _) = building_with_awning(&phone, &yuzhong("嘉华大厦"), "3栋").unwrap();
    // 70 syncs of one edit each: more chunks than the compaction threshold (64).
    for n in 0..70 {
        phone
            .set_field(
                b,
                RecordRef::Household(h),
                "visit_attempts",
                FieldValue::Int(n),
            )
            .unwrap();
        phone.sync().await.unwrap();
    }
    let chunks: i64 = server
        .state
        .db
        .with_writer(|c| c.query_row("SELECT chunk_count FROM doc", [], |r| r.get(0)))
        .unwrap();
    assert!(
        chunks < 64,
        "the server compacted on its own ({chunks} chunks left)"
    );
    let before = server
        .state
        .db
        .with_writer(|c| documents::load(c, b))
        .unwrap()
        .unwrap();
    assert_eq!(before.get_heads(), phone.heads(b).unwrap());
    server
        .state
        .db
        .with_writer(|c| {
            let tx = c.transaction()?;
            documents::compact(&tx, b)?;
            tx.commit()?;
            Ok::<_, anyhow::Error>(())
        })
        .unwrap();
    let after = server
        .state
        .db
        .with_writer(|c| documents::load(c, b))
        .unwrap()
        .unwrap();
    assert_eq!(after.get_heads(), before.get_heads());
    assert_eq!(
        document::read(&after).unwrap(),
        document::read(&before).unwrap()
    );
    assert_eq!(
        document::read(&after).unwrap().households[&h].fields["visit_attempts"],
        FieldValue::Int(69)
    );
    // The phone, compacting its own store, keeps its heads too.
    let heads = phone.heads(b).unwrap();
    phone.compact(b).unwrap();
    assert_eq!(phone.heads(b).unwrap(), heads);
}
