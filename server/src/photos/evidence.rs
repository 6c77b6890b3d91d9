//! Photo evidence in the ledger (DESIGN §8): per item, every photo its events reference and
//! whether it has arrived. An item whose valid lifecycle events reference a photo the server
//! does not have is not evidenced — "photo missing (device …)" — whatever the fold says of its
//! state: the fold checks that a closing step *names* a photo; only the server knows whether the
//! photo came.

use rusqlite::Connection;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::db::DbError;
use crate::ledger::local_text;

/// One photo reference of an item, as the ledger shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhotoEntry {
    pub hash: String,
    /// before / after / enforcement / other, from the referencing event.
    pub role: String,
    pub event_id: String,
    /// The event's time (Asia/Shanghai).
    pub at: Option<String>,
    pub device_id: Option<String>,
    /// `stored` or `missing`.
    pub state: &'static str,
    pub thumbnail: bool,
    /// "photo missing (device …)" for a missing photo.
    pub note: Option<String>,
    /// Whether the referencing event counts in the item's lifecycle (invalid steps are listed
    /// but do not decide `evidenced`).
    pub valid_event: bool,
    /// When the camera took it (Asia/Shanghai), where, and who attached it — from the photo's
    /// record in the document; absent when the document has no record for it.
    pub taken_at: Option<String>,
    pub place: Option<serde_json::Value>,
    pub by: Option<String>,
}

/// One item's photos and whether they evidence it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ItemEvidence {
    pub photos: Vec<PhotoEntry>,
    /// Every photo referenced by a valid lifecycle event of the item has arrived.
    pub evidenced: bool,
}

impl ItemEvidence {
    /// An item without photo references: nothing is missing.
    pub fn none() -> Self {
        ItemEvidence {
            photos: Vec::new(),
            evidenced: true,
        }
    }
}

/// The photos of every item of one building, by item id.
pub fn of_building(
    conn: &Connection,
    building: &str,
) -> Result<BTreeMap<String, ItemEvidence>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.item_id, r.hash, r.role, r.event_id, r.at, r.device_id, p.hash IS NOT NULL,
                p.thumb_bytes IS NOT NULL, e.id IS NOT NULL AND e.invalid_reason IS NULL,
                r.taken_at, r.lat, r.lng, r.accuracy_m, a.name
         FROM p_photo_ref r
         LEFT JOIN photo p ON p.hash = r.hash
         LEFT JOIN p_event e ON e.id = r.event_id
         LEFT JOIN account a ON a.id = r.by_account
         WHERE r.building_id = ?1 ORDER BY r.item_id, r.at, r.event_id, r.hash",
    )?;
    let mut rows = stmt.query([building])?;
    let mut out: BTreeMap<String, ItemEvidence> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let stored: bool = r.get(6)?;
        let device_id: Option<String> = r.get(5)?;
        let entry = PhotoEntry {
            hash: r.get(1)?,
            role: r.get(2)?,
            event_id: r.get(3)?,
            at: local_text(Some(r.get(4)?)),
            note: (!stored).then(|| missing_note(device_id.as_deref())),
            device_id,
            state: if stored { "stored" } else { "missing" },
            thumbnail: r.get(7)?,
            valid_event: r.get(8)?,
            taken_at: local_text(r.get(9)?),
            place: place(r.get(10)?, r.get(11)?, r.get(12)?),
            by: r.get(13)?,
        };
        let item = out.entry(r.get(0)?).or_insert_with(ItemEvidence::none);
        item.evidenced &= stored || !entry.valid_event;
        item.photos.push(entry);
    }
    Ok(out)
}

fn place(lat: Option<f64>, lng: Option<f64>, accuracy_m: Option<f64>) -> Option<serde_json::Value> {
    Some(serde_json::json!({ "lat": lat?, "lng": lng?, "accuracy_m": accuracy_m }))
}

fn missing_note(device: Option<&str>) -> String {
    match device {
        Some(d) => format!("photo missing (device {d})"),
        None => "photo missing (recorded without a device)".into(),
    }
}

/// SQL condition (on `p_item` alias `t`): a valid event of the item references a photo that has
/// not arrived — the negation of [`ItemEvidence::evidenced`]. For the ledger's
/// `closed_without_evidence` tally.
pub const LACKS_EVIDENCE: &str =
    "EXISTS (SELECT 1 FROM p_photo_ref r LEFT JOIN p_event e ON e.id = r.event_id
    WHERE r.item_id = t.id AND e.invalid_reason IS NULL
      AND NOT EXISTS (SELECT 1 FROM photo p WHERE p.hash = r.hash))";
