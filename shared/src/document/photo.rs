//! Photo records in the building document: one entry per photo attached to an item, keyed by the
//! photo's hash, written once by the device that attached it. The bytes travel separately
//! (content-addressed upload); the document says what the photo is evidence of, when and where it
//! was taken, and by whom.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc};
use serde::{Deserialize, Serialize};

use super::field::FieldValue;
use super::{map_at, record_map, DocumentError, RecordRef};
use crate::choice;
use crate::event::ItemState;
use crate::id::{AccountId, DeviceId, ItemId, PhotoHash};
use crate::time::Timestamp;

choice!(
    /// What a photo shows.
    PhotoRole, "photo role" {
        Before = "before" / "整改前",
        After = "after" / "整改后",
        Enforcement = "enforcement" / "执法拆除",
        Document = "document" / "文书(告知书/承诺书)",
        Other = "other" / "其他",
    }
);

impl PhotoRole {
    /// What a photo named by a lifecycle step is evidence of, by the state the step leads to: the
    /// before photo of a recording, the after photo of a fix submitted for verification, the
    /// enforcement photo of a removal. Phone and server both call this.
    pub fn of_step(to: Option<ItemState>) -> PhotoRole {
        match to {
            Some(ItemState::Identified) => PhotoRole::Before,
            Some(ItemState::PendingVerify) => PhotoRole::After,
            Some(ItemState::EnforcedRemoved) => PhotoRole::Enforcement,
            _ => PhotoRole::Other,
        }
    }
}

/// Where a photo was taken (from its EXIF, moved here when the photo was ingested).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoPlace {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoRecord {
    pub hash: PhotoHash,
    pub role: PhotoRole,
    /// When the camera took it (EXIF DateTimeOriginal), if it said.
    pub taken_at: Option<Timestamp>,
    pub place: Option<PhotoPlace>,
    /// Stored JPEG size in bytes and pixel dimensions.
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    pub by: AccountId,
    pub device: Option<DeviceId>,
    /// When it was attached to the item.
    pub added_at: Timestamp,
}

/// Attaches a photo to an item. A second attachment of the same photo is refused.
pub fn attach_photo<D: Transactable>(
    doc: &mut D,
    item: ItemId,
    photo: &PhotoRecord,
) -> Result<(), DocumentError> {
    let obj = record_map(doc, RecordRef::Item(item))?;
    let photos = match map_at(doc, &obj, "photos") {
        Ok(m) => m,
        // Items recorded before photos had their own map get one on first use.
        Err(_) => doc.put_object(&obj, "photos", ObjType::Map)?,
    };
    if doc.get(&photos, photo.hash.as_str())?.is_some() {
        return Err(DocumentError::Refused(format!(
            "photo {} is already attached to item {item}",
            photo.hash
        )));
    }
    let m = doc.put_object(&photos, photo.hash.as_str(), ObjType::Map)?;
    doc.put(&m, "role", photo.role.code())?;
    if let Some(t) = photo.taken_at {
        doc.put(&m, "taken_at", t.0)?;
    }
    if let Some(p) = photo.place {
        doc.put(&m, "lat", p.lat)?;
        doc.put(&m, "lng", p.lng)?;
        if let Some(a) = p.accuracy_m {
            doc.put(&m, "accuracy_m", a)?;
        }
    }
    doc.put(&m, "bytes", photo.bytes as i64)?;
    doc.put(&m, "width", i64::from(photo.width))?;
    doc.put(&m, "height", i64::from(photo.height))?;
    doc.put(&m, "by", photo.by.to_string())?;
    if let Some(d) = photo.device {
        doc.put(&m, "device", d.to_string())?;
    }
    doc.put(&m, "added_at", photo.added_at.0)?;
    Ok(())
}

/// The photos of one item map (none when it has no `photos` map yet).
pub(super) fn read_photos<D: ReadDoc>(
    doc: &D,
    item: &ObjId,
) -> Result<Vec<PhotoRecord>, DocumentError> {
    let Ok(photos) = map_at(doc, item, "photos") else {
        return Ok(Vec::new());
    };
    doc.keys(&photos)
        .map(|key| read_one(doc, &key, &map_at(doc, &photos, &key)?))
        .collect()
}

fn read_one<D: ReadDoc>(doc: &D, key: &str, m: &ObjId) -> Result<PhotoRecord, DocumentError> {
    let bad = |k: &str| DocumentError::Schema(format!("photo {key}: {k} is missing or malformed"));
    let get = |k: &str| -> Result<Option<FieldValue>, DocumentError> {
        Ok(doc.get(m, k)?.and_then(|(v, _)| FieldValue::from_value(&v)))
    };
    let int = |k: &str| -> Result<i64, DocumentError> {
        get(k)?.and_then(|v| v.as_i64()).ok_or_else(|| bad(k))
    };
    let text = |k: &str| -> Result<Option<String>, DocumentError> {
        Ok(get(k)?.and_then(|v| v.as_str().map(str::to_owned)))
    };
    let real =
        |k: &str| -> Result<Option<f64>, DocumentError> { Ok(get(k)?.and_then(|v| v.as_f64())) };
    let place = match (real("lat")?, real("lng")?) {
        (Some(lat), Some(lng)) => Some(PhotoPlace {
            lat,
            lng,
            accuracy_m: real("accuracy_m")?,
        }),
        _ => None,
    };
    Ok(PhotoRecord {
        hash: PhotoHash::parse(key)?,
        role: PhotoRole::parse(&text("role")?.ok_or_else(|| bad("role"))?)?,
        taken_at: get("taken_at")?.and_then(|v| v.as_i64()).map(Timestamp),
        place,
        bytes: u64::try_from(int("bytes")?).map_err(|_| bad("bytes"))?,
        width: u32::try_from(int("width")?).map_err(|_| bad("width"))?,
        height: u32::try_from(int("height")?).map_err(|_| bad("height"))?,
        by: AccountId::parse(&text("by")?.ok_or_else(|| bad("by"))?)?,
        device: text("device")?.map(|d| DeviceId::parse(&d)).transpose()?,
        added_at: Timestamp(int("added_at")?),
    })
}
