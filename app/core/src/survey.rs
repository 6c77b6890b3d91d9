//! What the phone's screens show, read from the building documents on the device: my buildings
//! with survey progress and overdue marks, a building's households (and the revisit list of those
//! not reached), a household's items with their state, photos and the lifecycle steps this
//! account may take. Plain serialisable views: the app shell passes them to the UI unchanged.

use pengwang_shared::building::BuildingUse;
use pengwang_shared::document::{
    BuildingDoc, FieldValue, Fields, ItemRecord, PhotoRole, RecordRef,
};
use pengwang_shared::event::{Event, EventDetail, EventKind, ItemState};
use pengwang_shared::household::{mask_name, mask_phone, NoticeMethod, SurveyResult};
use pengwang_shared::id::{AccountId, BuildingId, EventId, HouseholdId, ItemId, PhotoHash};
use pengwang_shared::item::{
    awning_is_hazard, net_is_hazard, Category, EscapeOpening, FireGrade, RemediationMethod,
};
use pengwang_shared::lifecycle::{admit, fold, head_events};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::settings::CampaignSettings;
use serde::Serialize;

use crate::device::Device;
use crate::error::CoreError;

/// One line of "my buildings".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BuildingSummary {
    pub id: BuildingId,
    pub estate: String,
    pub number: String,
    pub address: String,
    /// 住宅/公共/商住/宿舍公寓.
    pub use_label: Option<&'static str>,
    pub floors: Option<i64>,
    pub height_m: Option<f64>,
    /// 高层 / 多层.
    pub height_class: &'static str,
    /// 需核实高度.
    pub needs_height_check: bool,
    /// Live households, and those with a survey result.
    pub households: usize,
    pub surveyed: usize,
    /// Households not reached (无法入户待复访).
    pub revisits: usize,
    /// Live items (not VOID, not deleted), those CLOSED and those overdue.
    pub items: usize,
    pub closed: usize,
    pub overdue: usize,
}

/// One household of a building; owner data masked (DESIGN §8).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HouseholdView {
    pub id: HouseholdId,
    pub unit: String,
    pub floor: Option<i64>,
    pub room: String,
    pub occupancy: Option<String>,
    /// Code (`no_hazard`, `hazard`, `not_reached`) and label.
    pub survey_result: Option<String>,
    pub survey_label: Option<&'static str>,
    pub owner_name: Option<String>,
    pub owner_phone: Option<String>,
    pub visit_attempts: Option<i64>,
    /// Live items of the household.
    pub items: usize,
    /// Deleted, yet still holding live items (deleted on one phone while another recorded an
    /// item there): kept visible with [`HELD_LABEL`] until the street decides. A deleted
    /// household without live items is not listed at all.
    pub deleted: bool,
    /// [`HELD_LABEL`] for such a household.
    pub deleted_label: Option<&'static str>,
}

/// What a deleted household that still holds live items says on the phone.
pub const HELD_LABEL: &str = "已删除，但仍有隐患 — 待街道裁定";

/// A household to visit again, with its building.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Revisit {
    pub building: BuildingId,
    pub estate: String,
    pub number: String,
    pub household: HouseholdView,
}

/// A photo attached to an item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhotoView {
    pub hash: PhotoHash,
    pub role: PhotoRole,
    pub role_label: &'static str,
}

/// A lifecycle step this account may take now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepView {
    pub kind: EventKind,
    pub label: &'static str,
}

/// One entry of an item's history: what was done, by whom, when (Asia/Shanghai).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub kind: EventKind,
    /// 登记, 告知劝导, 整改完成待核查, 复核销号 …
    pub label: &'static str,
    /// 本人 for this account, otherwise the author's role (社区网格员 …).
    pub by: String,
    pub at: pengwang_shared::time::Timestamp,
    /// `YYYY-MM-DD HH:MM`, Asia/Shanghai, whatever the phone's time zone.
    pub at_local: String,
    pub note: String,
    /// Marked invalid by the fold (kept, not counted), with its reason.
    pub invalid: Option<String>,
}

/// One hazard item with everything its screen shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemView {
    pub id: ItemId,
    pub building: BuildingId,
    pub household: Option<HouseholdId>,
    /// 单元/房号 of the household ("1单元 101"), 公共部位 for common parts.
    pub place: String,
    /// The item's household was deleted while the item is live: a conflict for the street.
    pub household_deleted: bool,
    pub category: Category,
    pub category_label: &'static str,
    pub fields: Fields,
    pub deleted: bool,
    pub state: Option<ItemState>,
    pub state_label: Option<&'static str>,
    pub persuasion_count: u32,
    pub forked: bool,
    pub overdue: bool,
    /// Whether the item as recorded is a hazard (DESIGN §3).
    pub hazard: bool,
    /// Why the recorded escape opening does not comply; `None` when it does or none is recorded.
    pub opening_shortfall: Option<String>,
    pub photos: Vec<PhotoView>,
    pub steps: Vec<StepView>,
    /// Field, tombstone and lifecycle conflicts on this item in the device's copy, and its
    /// household's deletion while it is live.
    pub conflicts: usize,
    /// Every event, oldest first.
    pub history: Vec<HistoryEntry>,
}

impl Device {
    /// The buildings of this account's scope on the device, by estate and number.
    pub fn my_buildings(&self) -> Result<Vec<BuildingSummary>, CoreError> {
        let account = self.enrolled()?.account;
        let settings = self.settings();
        let today = self.now().local_date();
        let mut out = Vec::new();
        for id in self.buildings()? {
            let b = self.building(id)?;
            if account.scope.covers(&b.location) {
                out.push(summary(&b, &settings, today));
            }
        }
        out.sort_by(|a, b| (&a.estate, &a.number).cmp(&(&b.estate, &b.number)));
        Ok(out)
    }

    /// A building's live households, by unit, floor and room.
    pub fn households(&self, b: BuildingId) -> Result<Vec<HouseholdView>, CoreError> {
        Ok(household_views(&self.building(b)?))
    }

    /// Households not reached (无法入户待复访) in every building of my scope.
    pub fn revisits(&self) -> Result<Vec<Revisit>, CoreError> {
        let mut out = Vec::new();
        for summary in self.my_buildings()? {
            let b = self.building(summary.id)?;
            for h in household_views(&b) {
                if h.survey_result.as_deref() == Some(SurveyResult::NotReached.code()) {
                    out.push(Revisit {
                        building: b.id,
                        estate: summary.estate.clone(),
                        number: summary.number.clone(),
                        household: h,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The items of a household (`None`: the building's common parts), oldest first.
    pub fn items(
        &self,
        b: BuildingId,
        household: Option<HouseholdId>,
    ) -> Result<Vec<ItemView>, CoreError> {
        let building = self.building(b)?;
        let ids: Vec<ItemId> = building
            .items
            .iter()
            .filter(|(_, i)| i.household == household && !i.deleted)
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter().map(|i| self.item_view(b, i)).collect()
    }

    /// One item with its state, photos, conflicts and the steps this account may take.
    pub fn item_view(&self, b: BuildingId, item: ItemId) -> Result<ItemView, CoreError> {
        let building = self.building(b)?;
        let record = crate::editing::item_of(&building, item)?;
        let account = self.enrolled()?.account;
        let settings = self.settings();
        let folded = fold(&record.events, &settings, record.deleted);
        let household_deleted = orphaned(&building, record);
        let conflicts = self
            .conflicts(b)?
            .iter()
            .filter(|c| c.record() == RecordRef::Item(item))
            .count()
            + usize::from(folded.is_forked())
            + usize::from(household_deleted);
        let (hazard, opening_shortfall) = hazard_of(record, &settings);
        let today = self.now().local_date();
        let mut events: Vec<&Event> = record.events.iter().collect();
        events.sort_by_key(|e| (e.at, e.id));
        let history = events
            .into_iter()
            .map(|e| HistoryEntry {
                kind: e.kind,
                label: e.kind.label(),
                by: if e.by == account.id {
                    "本人".to_owned()
                } else {
                    e.role.label().to_owned()
                },
                at: e.at,
                at_local: local_time(e.at),
                note: e.note.clone(),
                invalid: folded
                    .invalid
                    .iter()
                    .find(|i| i.event == e.id)
                    .map(|i| i.reason.clone()),
            })
            .collect();
        Ok(ItemView {
            id: item,
            building: b,
            household: record.household,
            place: place_of(&building, record.household),
            household_deleted,
            category: record.category,
            category_label: record.category.label(),
            fields: record.fields.clone(),
            deleted: record.deleted,
            state: folded.state,
            state_label: folded.state.map(ItemState::label),
            persuasion_count: folded.persuasion_count,
            forked: folded.is_forked(),
            overdue: folded.state.is_some_and(|s| settings.is_overdue(s, today)),
            hazard,
            opening_shortfall,
            photos: record
                .photos
                .iter()
                .map(|p| PhotoView {
                    hash: p.hash.clone(),
                    role: p.role,
                    role_label: p.role.label(),
                })
                .collect(),
            steps: offered_steps(record, &account, &settings),
            conflicts,
            history,
        })
    }

    /// Items of my scope waiting for the street's verification (已整改待核查, 已定点拆除) that
    /// this account may close: a street checker's verification list.
    pub fn verification_list(&self) -> Result<Vec<ItemView>, CoreError> {
        let mut out = Vec::new();
        for summary in self.my_buildings()? {
            let building = self.building(summary.id)?;
            for (id, record) in &building.items {
                if record.deleted {
                    continue;
                }
                let view = self.item_view(building.id, *id)?;
                if view.steps.iter().any(|s| s.kind == EventKind::Close) {
                    out.push(view);
                }
            }
        }
        Ok(out)
    }

    /// Field, tombstone and lifecycle conflicts on the items this account recorded, in every
    /// building on the device, and live items left in a deleted household when this account
    /// recorded the item or the household: what the conflict badge counts.
    pub fn conflicts_on_my_items(&self) -> Result<usize, CoreError> {
        let me = self.enrolled()?.account.id.to_string();
        let settings = self.settings();
        let mut n = 0;
        for b in self.buildings()? {
            let building = self.building(b)?;
            let mine = |i: &ItemId| {
                building.items.get(i).is_some_and(|r| {
                    r.fields.get("created_by").and_then(FieldValue::as_str) == Some(me.as_str())
                })
            };
            for c in self.conflicts(b)? {
                if matches!(c.record(), RecordRef::Item(i) if mine(&i)) {
                    n += 1;
                }
            }
            for (i, record) in &building.items {
                if mine(i) && fold(&record.events, &settings, record.deleted).is_forked() {
                    n += 1;
                }
                let my_household = record.household.is_some_and(|h| {
                    building.households.get(&h).is_some_and(|r| {
                        r.fields.get("created_by").and_then(FieldValue::as_str) == Some(me.as_str())
                    })
                });
                if orphaned(&building, record) && (mine(i) || my_household) {
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

fn summary(
    b: &BuildingDoc,
    settings: &CampaignSettings,
    today: chrono::NaiveDate,
) -> BuildingSummary {
    let class = b.height_class();
    let households = household_views(b);
    let mut items = 0;
    let mut closed = 0;
    let mut overdue = 0;
    for record in b.items.values().filter(|i| !i.deleted) {
        let state = fold(&record.events, settings, false).state;
        if state == Some(ItemState::Void) {
            continue;
        }
        items += 1;
        closed += usize::from(state == Some(ItemState::Closed));
        overdue += usize::from(state.is_some_and(|s| settings.is_overdue(s, today)));
    }
    let text = |k: &str| b.text(k).unwrap_or_default().to_owned();
    BuildingSummary {
        id: b.id,
        estate: b.location.estate.clone(),
        number: text("number"),
        address: text("address"),
        use_label: b
            .text("use")
            .and_then(|u| BuildingUse::parse(u).ok())
            .map(BuildingUse::label),
        floors: b.fields.get("floors").and_then(FieldValue::as_i64),
        height_m: b.fields.get("height_m").and_then(FieldValue::as_f64),
        height_class: class.label(),
        needs_height_check: class.needs_check,
        surveyed: households
            .iter()
            .filter(|h| h.survey_result.is_some())
            .count(),
        revisits: households
            .iter()
            .filter(|h| h.survey_result.as_deref() == Some(SurveyResult::NotReached.code()))
            .count(),
        households: households.len(),
        items,
        closed,
        overdue,
    }
}

fn household_views(b: &BuildingDoc) -> Vec<HouseholdView> {
    let mut out: Vec<HouseholdView> = b
        .households
        .iter()
        .filter(|(id, _)| listed(b, **id))
        .map(|(id, h)| {
            let text = |k: &str| h.fields.get(k).and_then(FieldValue::as_str);
            let result = text("survey_result").and_then(|s| SurveyResult::parse(s).ok());
            HouseholdView {
                id: *id,
                unit: text("unit").unwrap_or_default().to_owned(),
                floor: h.fields.get("floor").and_then(FieldValue::as_i64),
                room: text("room").unwrap_or_default().to_owned(),
                occupancy: text("occupancy").map(str::to_owned),
                survey_result: result.map(|r| r.code().to_owned()),
                survey_label: result.map(SurveyResult::label),
                owner_name: text("owner_name").map(mask_name),
                owner_phone: text("owner_phone").map(mask_phone),
                visit_attempts: h.fields.get("visit_attempts").and_then(FieldValue::as_i64),
                items: live_items(b, *id),
                deleted: h.deleted,
                deleted_label: h.deleted.then_some(HELD_LABEL),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (natural(&a.unit), a.floor, natural(&a.room)).cmp(&(
            natural(&b.unit),
            b.floor,
            natural(&b.room),
        ))
    });
    out
}

/// Live (not deleted) items of household `h`.
fn live_items(b: &BuildingDoc, h: HouseholdId) -> usize {
    b.items
        .values()
        .filter(|i| i.household == Some(h) && !i.deleted)
        .count()
}

/// Whether household `h` is shown and counted: it is not deleted, or it was deleted while
/// another phone recorded an item there and that item is still live (the street decides). The
/// household grid treats such a household as present too, so it is never recreated.
pub(crate) fn listed(b: &BuildingDoc, h: HouseholdId) -> bool {
    b.households
        .get(&h)
        .is_some_and(|r| !r.deleted || live_items(b, h) > 0)
}

/// A live item whose household is deleted.
fn orphaned(b: &BuildingDoc, item: &ItemRecord) -> bool {
    !item.deleted
        && item
            .household
            .and_then(|h| b.households.get(&h))
            .is_some_and(|h| h.deleted)
}

/// "1单元 101" for a household, 公共部位 for common parts.
fn place_of(b: &BuildingDoc, household: Option<HouseholdId>) -> String {
    let Some(h) = household else {
        return "公共部位".to_owned();
    };
    let Some(record) = b.households.get(&h) else {
        return String::new();
    };
    let text = |k: &str| record.fields.get(k).and_then(FieldValue::as_str);
    format!(
        "{}单元 {}",
        text("unit").unwrap_or("—"),
        text("room").unwrap_or("—")
    )
}

/// `YYYY-MM-DD HH:MM` in Asia/Shanghai, whatever the phone's time zone.
pub(crate) fn local_time(t: pengwang_shared::time::Timestamp) -> String {
    t.local().format("%Y-%m-%d %H:%M").to_string()
}

/// Sorts "2" before "10" (unit and room numbers are text).
fn natural(s: &str) -> (u64, String) {
    (s.parse().unwrap_or(u64::MAX), s.to_owned())
}

/// Whether the item as recorded is a hazard, and why its escape opening falls short.
fn hazard_of(record: &ItemRecord, settings: &CampaignSettings) -> (bool, Option<String>) {
    let real = |k: &str| record.fields.get(k).and_then(FieldValue::as_f64);
    match record.category {
        Category::Awning => {
            let grade = record
                .fields
                .get("fire_grade")
                .and_then(FieldValue::as_str)
                .and_then(|g| FireGrade::parse(g).ok())
                .unwrap_or(FireGrade::Unknown);
            (awning_is_hazard(grade), None)
        }
        Category::Net => {
            let opening = match (
                real("opening_width_m"),
                real("opening_height_m"),
                real("opening_sill_m"),
            ) {
                (Some(width_m), Some(height_m), Some(sill_m)) => Some(EscapeOpening {
                    width_m,
                    height_m,
                    sill_m,
                    openable_inside: record
                        .fields
                        .get("opening_inside")
                        .and_then(FieldValue::as_bool)
                        .unwrap_or(false),
                }),
                _ => None,
            };
            let protrudes = real("protrusion_cm").is_none_or(|cm| cm > 0.0);
            let shortfall = opening.and_then(|o| o.shortfall(&settings.escape));
            (
                net_is_hazard(protrudes, opening.as_ref(), &settings.escape),
                shortfall,
            )
        }
    }
}

/// The steps this account may take on the item now: each kind is tried against the fold with
/// its requirements filled in, so the answer comes from the one rule table (DESIGN §4) and a
/// step the rules would refuse (wrong role, wrong state, too few persuasions, verifying one's
/// own fix) is never offered. Resolving a fork is the console's.
fn offered_steps(
    record: &ItemRecord,
    account: &AccountInfo,
    settings: &CampaignSettings,
) -> Vec<StepView> {
    if record.deleted || !account.role.can_write() {
        return Vec::new();
    }
    let prev = head_events(&record.events);
    let at = record
        .events
        .iter()
        .map(|e| e.at)
        .max()
        .unwrap_or(pengwang_shared::time::Timestamp(0));
    EventKind::ALL
        .iter()
        .copied()
        .filter(|k| !matches!(k, EventKind::Create | EventKind::Resolve))
        .filter(|&kind| {
            let probe = probe_event(kind, account.id, account.role, prev.clone(), at);
            admit(&record.events, &probe, settings, record.deleted).is_ok()
        })
        .map(|kind| StepView {
            kind,
            label: kind.label(),
        })
        .collect()
}

/// An event of `kind` with every requirement a step may have filled in.
fn probe_event(
    kind: EventKind,
    by: AccountId,
    role: pengwang_shared::role::Role,
    prev: Vec<EventId>,
    at: pengwang_shared::time::Timestamp,
) -> Event {
    Event {
        id: EventId::new(),
        kind,
        to: None,
        at,
        by,
        role,
        device: None,
        note: "probe".into(),
        photos: vec![PhotoHash::parse(&"0".repeat(64)).expect("a valid hash")],
        prev,
        detail: EventDetail {
            notice_method: Some(NoticeMethod::InPerson),
            deadline: Some("2099-12-31".into()),
            method: Some(RemediationMethod::Removed),
            document_no: Some("probe".into()),
            ..EventDetail::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use pengwang_shared::document::FieldValue;
    use pengwang_shared::event::EventKind;

    use super::*;
    use crate::editing::tests::enrolled;

    fn fixture(name: &str) -> Vec<u8> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/photos/"
        );
        std::fs::read(format!("{dir}{name}")).unwrap()
    }

    #[test]
    fn a_surveyed_building_shows_its_progress_revisits_and_the_inspectors_steps() {
        let dir = tempfile::tempdir().unwrap();
        let device = enrolled(&dir);
        let place = device.places().unwrap();
        assert!(place.iter().any(|p| p.community == "500103001003"));
        let location = device.location_of("500103001003", " 嘉华大厦 ").unwrap();
        assert_eq!(
            (
                location.unit.as_str(),
                location.street.as_str(),
                location.estate.as_str()
            ),
            ("500103", "500103001", "嘉华大厦")
        );
        let fields = [
            ("number", FieldValue::Text("3栋".into())),
            ("use", FieldValue::Text("residential".into())),
            ("floors", FieldValue::Int(10)),
        ];
        let b = device.create_building(location, &fields).unwrap();
        assert_eq!(device.add_household_grid(b, 2, 3, 2).unwrap(), 12);
        // A second grid over the first adds only what is new.
        assert_eq!(device.add_household_grid(b, 2, 4, 2).unwrap(), 4);
        let households = device.households(b).unwrap();
        assert_eq!(households.len(), 16);
        assert_eq!(
            (
                households[0].unit.as_str(),
                households[0].floor,
                households[0].room.as_str()
            ),
            ("1", Some(1), "101")
        );
        let far = households[15].id;
        device
            .set_field(
                b,
                RecordRef::Household(far),
                "survey_result",
                FieldValue::Text("not_reached".into()),
            )
            .unwrap();
        let photo = device
            .ingest_photo(&fixture("orientation/portrait_1.jpg"))
            .unwrap();
        let grade = [("fire_grade", FieldValue::Text("B2".into()))];
        let item = device
            .add_item(
                b,
                Category::Awning,
                Some(households[0].id),
                &grade,
                vec![photo.clone()],
                "",
            )
            .unwrap();

        let summary = &device.my_buildings().unwrap()[0];
        assert_eq!(
            (
                summary.height_class,
                summary.needs_height_check,
                summary.households
            ),
            ("高层", true, 16)
        );
        assert_eq!((summary.surveyed, summary.revisits), (1, 1));
        assert_eq!((summary.items, summary.closed, summary.overdue), (1, 0, 0));
        let revisits = device.revisits().unwrap();
        assert_eq!(
            (revisits.len(), revisits[0].household.room.as_str()),
            (1, "402")
        );
        let view = device.item_view(b, item).unwrap();
        let steps: Vec<EventKind> = view.steps.iter().map(|s| s.kind).collect();
        assert_eq!(steps, vec![EventKind::Notify, EventKind::Submit]);
        assert_eq!(
            (view.state, view.hazard),
            (Some(ItemState::Identified), true)
        );
        assert_eq!(view.photos[0].hash, photo);
        assert_eq!(view.photos[0].role, PhotoRole::Before);
        assert_eq!(
            (view.place.as_str(), view.household_deleted),
            ("1单元 101", false)
        );
        // Chongqing's date and time, not UTC's (the clock: 2026-05-28 20:26:40 UTC).
        let history: Vec<_> = view
            .history
            .iter()
            .map(|e| {
                (
                    e.label,
                    e.by.as_str(),
                    e.at_local.as_str(),
                    e.invalid.clone(),
                )
            })
            .collect();
        assert_eq!(history, vec![("登记", "本人", "2026-05-29 04:26", None)]);
        assert_eq!(device.items(b, Some(households[0].id)).unwrap().len(), 1);
        assert_eq!(device.verification_list().unwrap().len(), 0);
        assert_eq!(device.conflicts_on_my_items().unwrap(), 0);

        let status = device.status().unwrap();
        assert_eq!((status.pending.docs, status.pending.photos), (1, 1));
        assert_eq!(status.revoked, None);
        let wiped = device.wipe().unwrap();
        assert_eq!(
            (wiped.buildings, wiped.unsynced.docs, wiped.unsynced.photos),
            (1, 1, 1)
        );
        assert_eq!(device.account(), None);
        assert!(device.buildings().unwrap().is_empty());
        assert_eq!(device.status().unwrap().pending.docs, 0);
    }

    #[test]
    fn a_net_shows_why_its_escape_opening_falls_short() {
        let dir = tempfile::tempdir().unwrap();
        let device = enrolled(&dir);
        let location = device.location_of("500103001003", "嘉华大厦").unwrap();
        let b = device.create_building(location, &[]).unwrap();
        let photo = device
            .ingest_photo(&fixture("orientation/portrait_2.jpg"))
            .unwrap();
        let fields = [
            ("protrusion_cm", FieldValue::Real(40.0)),
            ("opening_width_m", FieldValue::Real(0.6)),
            ("opening_height_m", FieldValue::Real(1.0)),
            ("opening_sill_m", FieldValue::Real(1.0)),
            ("opening_inside", FieldValue::Bool(true)),
        ];
        let item = device
            .add_item(b, Category::Net, None, &fields, vec![photo], "")
            .unwrap();
        let view = device.item_view(b, item).unwrap();
        assert!(view.hazard);
        assert_eq!(
            view.opening_shortfall.as_deref(),
            Some("宽 0.60 m < 0.80 m")
        );
        assert_eq!(device.items(b, None).unwrap().len(), 1);
    }
}
