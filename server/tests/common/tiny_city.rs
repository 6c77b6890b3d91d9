//! The tiny city the read-API and console tests share, seeded straight into the projections
//! (no documents):
//! - 渝中区 500103, 七星岗街道 500103001 / 华一坡社区 500103001003:
//!   - b1 金汤小区 1栋 (high-rise): h1 (1单元 101, 张三 13812341234) with i1 awning CLOSED 06-10,
//!     i2 net NOTIFIED, i7 awning VOID; h2 (1单元 102) with i3 awning CLOSED 05-01.
//!   - b3 金汤小区 3栋 (multi-storey): i6 awning IDENTIFIED on common parts.
//!   - b5 金汤小区 "1 栋" (high-rise, a duplicate of b1): h5 (1单元 101).
//! - 渝中区, 解放碑街道 500103003 / 民生路社区 500103003013: b2 (high-rise), h3 with
//!   i4 awning PENDING_VERIFY.
//! - 大渡口区 500104, 新山村街道 500104001 / 平安社区 500104001001: b4 (high-rise), h4 with
//!   i5 net CLOSED 06-20.
//! - One open conflict in b1: h1's owner_phone written concurrently by the street checker's
//!   phone and an unknown actor.
#![allow(dead_code, clippy::unwrap_used)]

use pengwang_shared::time::Timestamp;
use rusqlite::params;
use serde_json::{json, Value};

use super::TestApp;

/// A fixed UUID named by a short tag (`b1` → `…000000006231`).
pub fn id(tag: &str) -> String {
    let hex: String = tag.bytes().map(|b| format!("{b:02x}")).collect();
    format!("00000000-0000-0000-0000-{hex:0>12}")
}

pub fn t(local: &str) -> i64 {
    Timestamp::parse_local(local).unwrap().0
}

impl TestApp {
    /// Seeds the tiny city described at the top of this file. `phone_actor` wrote one side of
    /// the conflict.
    pub fn seed(&self, phone_actor: &str) {
        self.state
            .db
            .with_writer(|c| -> rusqlite::Result<()> {
                let building = |tag: &str, street: &str, community: &str, estate: &str, number: &str, norm: &str, high: bool| {
                    let unit = &street[..6];
                    c.execute(
                        "INSERT INTO p_building (id, unit_code, district_code, street_code, community_code, estate, estate_norm,
                                                 number, number_norm, address, high_rise, needs_height_check, fields_json)
                         VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, 0, '{}')",
                        params![id(tag), unit, street, community, estate, number, norm, format!("{estate}{number}"), high],
                    )
                };
                building("b1", "500103001", "500103001003", "金汤小区", "1栋", "1栋", true)?;
                building("b3", "500103001", "500103001003", "金汤小区", "3栋", "3栋", false)?;
                building("b5", "500103001", "500103001003", "金汤小区", "1 栋", "1栋", true)?;
                building("b2", "500103003", "500103003013", "民生路小区", "2栋", "2栋", true)?;
                building("b4", "500104001", "500104001001", "平安小区", "4栋", "4栋", true)?;
                let household = |tag: &str, b: &str, street: &str, room: &str, fields: Value| {
                    c.execute(
                        "INSERT INTO p_household (id, building_id, unit_code, street_code, stair_unit, floor, room, room_norm, deleted, fields_json)
                         VALUES (?1, ?2, ?3, ?4, '1', 1, ?5, ?5, 0, ?6)",
                        params![id(tag), id(b), &street[..6], street, room, fields.to_string()],
                    )
                };
                let owner = json!({ "owner_name": "张三", "owner_phone": "13812341234", "room": "101" });
                household("h1", "b1", "500103001", "101", owner.clone())?;
                household("h2", "b1", "500103001", "102", json!({}))?;
                household("h5", "b5", "500103001", "101", json!({ "owner_name": "王五" }))?;
                household("h3", "b2", "500103003", "201", json!({}))?;
                household("h4", "b4", "500104001", "401", json!({}))?;
                let found = t("2026-04-01 09:00");
                let item = |tag: &str, b: &str, h: Option<&str>, community: &str, cat: &str, state: &str, done: Option<&str>, high: bool| {
                    c.execute(
                        "INSERT INTO p_item (id, building_id, household_id, unit_code, street_code, community_code, category, state,
                                             completed_at, found_at, high_rise, persuasion_count, forked, invalid_events, deleted, fields_json)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, 0, 0, 0, '{\"position\":\"window\"}')",
                        params![id(tag), id(b), h.map(id), &community[..6], &community[..9], community, cat, state, done.map(t), found, high],
                    )
                };
                item("i1", "b1", Some("h1"), "500103001003", "awning", "closed", Some("2026-06-10 10:00"), true)?;
                item("i2", "b1", Some("h1"), "500103001003", "net", "notified", None, true)?;
                item("i7", "b1", Some("h1"), "500103001003", "awning", "void", None, true)?;
                item("i3", "b1", Some("h2"), "500103001003", "awning", "closed", Some("2026-05-01 10:00"), true)?;
                item("i6", "b3", None, "500103001003", "awning", "identified", None, false)?;
                item("i4", "b2", Some("h3"), "500103003013", "awning", "pending_verify", None, true)?;
                item("i5", "b4", Some("h4"), "500104001001", "net", "closed", Some("2026-06-20 10:00"), true)?;
                for (ev, kind, to, at) in [("e1", "create", "identified", "2026-04-01 09:00"), ("e2", "close", "closed", "2026-06-10 10:00")] {
                    c.execute(
                        "INSERT INTO p_event (id, item_id, building_id, kind, to_state, at, by_account, role, note, photos, prev)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'street_checker', '', '', '')",
                        params![id(ev), id("i1"), id("b1"), kind, to, t(at), id("a1")],
                    )?;
                }
                c.execute(
                    "INSERT INTO doc (doc_id, unit_code, street_code, community_code, estate_norm, heads, feed_seq, created_at, updated_at)
                     VALUES (?1, '500103', '500103001', '500103001003', '金汤小区', x'', 1, 0, 0)",
                    [id("b1")],
                )?;
                let write = |actor: &str, value: &str| json!({ "key": "owner_phone", "value": value, "actor": actor, "time": 1, "message": null });
                let detail = json!({
                    "kind": "field", "record": { "household": id("h1") }, "key": "owner_phone",
                    "writes": [write(phone_actor, "13812341234"), write("ffee", "13900001111")],
                });
                c.execute(
                    "INSERT INTO p_conflict (doc_id, key, kind, record, detail_json, first_seen) VALUES (?1, ?2, 'field', ?3, ?4, ?5)",
                    params![id("b1"), format!("households/{}/owner_phone", id("h1")), format!("households/{}", id("h1")), detail.to_string(), t("2026-06-01 08:00")],
                )?;
                Ok(())
            })
            .unwrap();
    }
}
