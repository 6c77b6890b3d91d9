//! What the simulated phones do to one building and one item: survey, then move each item along
//! a realistic path through the campaign's months.

use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::event::{EventDetail, EventKind};
use pengwang_shared::id::{BuildingId, ItemId};
use pengwang_shared::item::Category;
use pengwang_shared::role::Location;
use pengwang_shared::time::Timestamp;
use rand::rngs::StdRng;
use rand::Rng;

use super::{Phone, Summary};
use crate::field::ESTATES;
use crate::field::{notify, record, step, submit_removed_with, synthetic_jpeg, text};

pub(super) fn survey_building(
    p: &Phone,
    loc: &Location,
    k: usize,
    rng: &mut StdRng,
    sum: &mut Summary,
) -> anyhow::Result<(BuildingId, Vec<ItemId>)> {
    // Every sixth building is a multi-storey block: recorded, but kept out of the high-rise table.
    let floors: i64 = if k % 6 == 5 {
        rng.gen_range(5..9)
    } else {
        rng.gen_range(12..34)
    };
    let number = format!("{}栋", k / ESTATES.len() + 1);
    let bid = p.device.create_building(
        loc.clone(),
        &[
            ("number", text(&number)),
            ("use", text("residential")),
            ("floors", FieldValue::Int(floors)),
            ("units", FieldValue::Int(2)),
            ("address", text(&format!("{}{}", loc.estate, number))),
        ],
    )?;
    sum.buildings += 1;
    let mut items = Vec::new();
    let households = rng.gen_range(8..22);
    for n in 0..households {
        let floor = rng.gen_range(2..floors);
        let room = format!("{}-{floor}{:02}", n % 2 + 1, n / 2 + 1);
        let hid = p.device.add_household(
            bid,
            &[
                ("unit", text(&format!("{}", n % 2 + 1))),
                ("floor", FieldValue::Int(floor)),
                ("room", text(&room)),
                ("survey_result", text("hazard")),
                ("owner_name", text(&owner_name(rng))),
                ("owner_phone", text(&owner_phone(rng))),
            ],
        )?;
        sum.households += 1;
        let both = rng.gen_bool(0.2);
        let first = if rng.gen_bool(0.55) {
            Category::Awning
        } else {
            Category::Net
        };
        let cats: &[Category] = if both {
            &[Category::Awning, Category::Net]
        } else {
            std::slice::from_ref(&first)
        };
        for c in cats {
            let fields = match c {
                Category::Awning => vec![
                    ("material", text("sandwich_foam")),
                    ("fire_grade", text("B2")),
                    ("position", text("window")),
                ],
                Category::Net => vec![
                    ("protrusion_cm", FieldValue::Real(35.0)),
                    ("position", text("window")),
                ],
            };
            items.push(p.device.add_item(
                bid,
                *c,
                Some(hid),
                &fields,
                vec![snap(&p.device, rng)?],
                "",
            )?);
            sum.items += 1;
        }
    }
    // The doors where nothing was found, and those nobody answered (待复访), are recorded too;
    // most buildings are fully surveyed, some are still being worked through.
    for n in 0..rng.gen_range(2..10) {
        let floor = rng.gen_range(2..floors);
        let result = if rng.gen_bool(0.8) {
            "no_hazard"
        } else {
            "not_reached"
        };
        p.device.add_household(
            bid,
            &[
                ("unit", text(&format!("{}", n % 2 + 1))),
                ("floor", FieldValue::Int(floor)),
                (
                    "room",
                    text(&format!("{}-{floor}{:02}", n % 2 + 1, n / 2 + 12)),
                ),
                ("survey_result", text(result)),
            ],
        )?;
        sum.households += 1;
    }
    let status = if rng.gen_bool(0.8) {
        "done"
    } else {
        "in_progress"
    };
    p.device
        .set_field(bid, RecordRef::Building, "survey_status", text(status))?;
    Ok((bid, items))
}

/// Moves one item along a realistic path, dated across the campaign's months.
pub(super) async fn progress(
    a: &Phone,
    b: &Phone,
    checker: &Phone,
    officer: &Phone,
    bid: BuildingId,
    item: ItemId,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let roll: f64 = rng.gen();
    let day = |m: u32, d: u32| {
        Timestamp::parse_local(&format!("2026-{m:02}-{d:02} 10:00")).expect("date")
    };
    let month = rng.gen_range(4..12);
    let d = rng.gen_range(1..28);
    let ins = if rng.gen_bool(0.5) { a } else { b };
    ins.clock.set(day(month.min(10), d));
    let _ = ins.device.sync().await;
    if roll < 0.06 {
        checker.clock.set(day(month, d));
        checker.device.sync().await?;
        step(&checker.device, bid, item, EventKind::Void, "重复登记")?;
        checker.device.sync().await?;
        return Ok(());
    }
    if roll < 0.15 {
        return Ok(()); // still only identified
    }
    notify(&ins.device, bid, item)?;
    if roll < 0.30 {
        ins.device.sync().await?;
        return Ok(());
    }
    if roll < 0.40 {
        notify(&ins.device, bid, item)?;
        ins.device.sync().await?;
        checker.device.sync().await?;
        checker.clock.set(day(month.min(9), d));
        step(
            &checker.device,
            bid,
            item,
            EventKind::Refuse,
            "业主拒不整改",
        )?;
        if rng.gen_bool(0.3) {
            checker.device.sync().await?;
            return Ok(()); // refused, not yet handed to enforcement
        }
        step(
            &checker.device,
            bid,
            item,
            EventKind::Transfer,
            "两次劝导无果，移交执法",
        )?;
        checker.device.sync().await?;
        if rng.gen_bool(0.7) {
            officer.device.sync().await?;
            officer.clock.set(day(month.min(10) + 1, d));
            let detail = EventDetail {
                document_no: Some(format!("执〔2026〕{}号", rng.gen_range(100..999))),
                ..Default::default()
            };
            let photo = snap(&officer.device, rng)?;
            record(
                &officer.device,
                (bid, item),
                EventKind::Enforce,
                "",
                vec![photo],
                detail,
            )?;
            officer.device.sync().await?;
            if rng.gen_bool(0.3) {
                return Ok(()); // removed, awaiting the street's check
            }
            checker.device.sync().await?;
            checker.clock.set(day(month.min(10) + 1, d.min(27) + 1));
            step(&checker.device, bid, item, EventKind::Close, "")?;
            checker.device.sync().await?;
        }
        return Ok(());
    }
    if roll < 0.48 {
        let detail = EventDetail {
            deadline: Some("2026-06-30".into()),
            ..Default::default()
        };
        record(
            &ins.device,
            (bid, item),
            EventKind::StartSelfRectify,
            "",
            vec![],
            detail,
        )?;
        ins.device.sync().await?;
        return Ok(());
    }
    ins.clock.set(day(month.min(11), d));
    let after = snap(&ins.device, rng)?;
    submit_removed_with(&ins.device, bid, item, vec![after])?;
    ins.device.sync().await?;
    if roll < 0.60 {
        return Ok(()); // awaiting verification
    }
    checker.device.sync().await?;
    if rng.gen_bool(0.1) {
        // Checkers work late before the report day: 23:30 on the 25th still counts that month.
        let late = format!("2026-{:02}-25 23:30", month.min(11));
        checker
            .clock
            .set(Timestamp::parse_local(&late).expect("date"));
    } else {
        checker.clock.set(day(month.min(11), d.min(27) + 1));
    }
    step(&checker.device, bid, item, EventKind::Close, "")?;
    if roll > 0.96 {
        checker.clock.set(day(11, 20));
        step(
            &checker.device,
            bid,
            item,
            EventKind::Reopen,
            "雨棚重新搭建",
        )?;
    }
    checker.device.sync().await?;
    Ok(())
}

/// The phone takes a photo: a synthetic JPEG, ingested and stored like a camera's.
pub(super) fn snap(
    device: &pengwang_core::Device,
    rng: &mut StdRng,
) -> anyhow::Result<pengwang_shared::id::PhotoHash> {
    Ok(device.ingest_photo(&synthetic_jpeg(rng.gen()))?)
}

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "欧阳", "谭",
];
const GIVEN: [&str; 10] = [
    "建华", "秀英", "明", "丽", "志强", "桂芳", "小红", "德明", "晓燕", "国庆",
];

/// A made-up owner name (personal data in the demo is fictional).
pub(super) fn owner_name(rng: &mut StdRng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.gen_range(0..SURNAMES.len())],
        GIVEN[rng.gen_range(0..GIVEN.len())]
    )
}

/// A made-up mobile number.
pub(super) fn owner_phone(rng: &mut StdRng) -> String {
    let prefix = ["138", "139", "150", "152", "177", "186", "189"][rng.gen_range(0..7)];
    format!("{prefix}{:08}", rng.gen_range(0..100_000_000u32))
}
