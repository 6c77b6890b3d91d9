//! Field-work shorthand for tests and the demo: places in real Chongqing regions, a photo hash,
//! the shared photo fixtures, and one-line lifecycle steps.

use std::path::PathBuf;

use pengwang_core::{CoreError, Device, EventRequest};
use pengwang_shared::document::FieldValue;
use pengwang_shared::event::{EventDetail, EventKind};
use pengwang_shared::household::NoticeMethod;
use pengwang_shared::id::{BuildingId, EventId, HouseholdId, ItemId, PhotoHash};
use pengwang_shared::item::{Category, RemediationMethod};
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
use pengwang_shared::role::{Location, Scope};

/// 渝中区 七星岗街道 华一坡社区 (500103 / 500103001 / 500103001003).
pub fn yuzhong(estate: &str) -> Location {
    place("500103", "500103001", "500103001003", estate)
}

/// Estate (小区) names the simulated phones survey.
pub const ESTATES: [&str; 8] = [
    "阳光花园",
    "金科世界城",
    "龙湖春森彼岸",
    "融创白象街",
    "保利山语",
    "华宇锦绣花城",
    "中海国际社区",
    "万科金域华府",
];

pub fn place(unit: &str, street: &str, community: &str, estate: &str) -> Location {
    Location {
        unit: UnitCode::parse(unit).expect("unit code"),
        street: StreetCode::parse(street).expect("street code"),
        community: CommunityCode::parse(community).expect("community code"),
        estate: estate.into(),
    }
}

pub fn street_scope(street: &str) -> Scope {
    Scope::Street {
        street: StreetCode::parse(street).expect("street code"),
    }
}

pub fn unit_scope(unit: &str) -> Scope {
    Scope::Unit {
        unit: UnitCode::parse(unit).expect("unit code"),
    }
}

/// A stand-in photo hash (the photo pipeline is its own issue): SHA-256-shaped, distinct per `n`.
pub fn photo(n: u32) -> PhotoHash {
    PhotoHash::parse(&format!("{n:08x}").repeat(8)).expect("64 hex digits")
}

/// The shared photo fixtures: `../shared/fixtures/photos` beside the repository.
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/photos"
    ))
}

/// A fixture photo's bytes, e.g. `fixture_photo("gps/DSCN0010.jpg")`.
pub fn fixture_photo(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("photo fixture {}: {e}", path.display()))
}

pub fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

/// A high-rise residential building with one household and one awning, created on `d`.
pub fn building_with_awning(
    d: &Device,
    loc: &Location,
    number: &str,
) -> Result<(BuildingId, HouseholdId, ItemId), CoreError> {
    let b = d.create_building(
        loc.clone(),
        &[
            ("number", text(number)),
            ("use", text("residential")),
            ("floors", FieldValue::Int(18)),
            ("address", text("解放碑民族路")),
        ],
    )?;
    let h = d.add_household(
        b,
        &[
            ("unit", text("1")),
            ("floor", FieldValue::Int(12)),
            ("room", text("1201")),
        ],
    )?;
    let i = d.add_item(
        b,
        Category::Awning,
        Some(h),
        &[
            ("fire_grade", text("B2")),
            ("material", text("sandwich_foam")),
        ],
        vec![photo(1)],
        "",
    )?;
    Ok((b, h, i))
}

/// A small synthetic camera photo (480×360 JPEG) whose content, and so whose hash, depends on
/// `seed`: what the demo's phones photograph, since real fixtures do not ship with the product.
pub fn synthetic_jpeg(seed: u32) -> Vec<u8> {
    let (w, h) = (480u16, 360u16);
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    let s = seed % 10_007;
    let (r0, g0, b0) = ((s * 37) % 200, (s * 91) % 200, (s * 53) % 200);
    for y in 0..u32::from(h) {
        for x in 0..u32::from(w) {
            // A façade-like pattern: bands of wall, darker windows, the seed's own tint, and along
            // the bottom the seed's 32 bits as black and white blocks, so every seed is its own photo.
            let bit = y >= 330 && (seed >> (x / 15)) & 1 == 1;
            let window = bit || ((x / 40) % 3 == 1 && (y / 45) % 2 == 1 && y < 330);
            let shade = if window { 60 } else { 180 + (x + y + s) % 40 };
            rgb.extend(
                [(shade + r0) / 2, (shade + g0) / 2, (shade + b0) / 2].map(|c| c.min(255) as u8),
            );
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encoding a small in-memory image cannot fail");
    out
}

/// Records one lifecycle step on the phone, as its screen would.
pub fn record(
    d: &Device,
    (b, i): (BuildingId, ItemId),
    kind: EventKind,
    note: &str,
    photos: Vec<PhotoHash>,
    detail: EventDetail,
) -> Result<EventId, CoreError> {
    d.record_event(
        b,
        i,
        EventRequest {
            kind,
            to: None,
            note: note.into(),
            photos,
            detail,
        },
    )
}

/// A written notice served (→ NOTIFIED, one persuasion attempt).
pub fn notify(d: &Device, b: BuildingId, i: ItemId) -> Result<EventId, CoreError> {
    let detail = EventDetail {
        notice_method: Some(NoticeMethod::Written),
        ..Default::default()
    };
    record(d, (b, i), EventKind::Notify, "", vec![], detail)
}

/// Reports the removal of an item with these (ingested) after photos (→ PENDING_VERIFY).
pub fn submit_removed_with(
    d: &Device,
    b: BuildingId,
    i: ItemId,
    photos: Vec<PhotoHash>,
) -> Result<EventId, CoreError> {
    let detail = EventDetail {
        method: Some(RemediationMethod::Removed),
        ..Default::default()
    };
    record(d, (b, i), EventKind::Submit, "", photos, detail)
}

/// Like [`submit_removed_with`], with a stand-in photo hash.
pub fn submit_removed(
    d: &Device,
    b: BuildingId,
    i: ItemId,
    photo_n: u32,
) -> Result<EventId, CoreError> {
    submit_removed_with(d, b, i, vec![photo(photo_n)])
}

/// A step that needs only a note (close, refuse, transfer, void, reopen, return, propose).
pub fn step(
    d: &Device,
    b: BuildingId,
    i: ItemId,
    kind: EventKind,
    note: &str,
) -> Result<EventId, CoreError> {
    record(d, (b, i), kind, note, vec![], EventDetail::default())
}
