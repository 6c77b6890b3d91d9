//! The commands the UI invokes. Each one only calls [`Device`] and maps [`pengwang_core::CoreError`]
//! to [`UiError`]; the rules live in `pengwang-core` and `pengwang-shared`.
//!
//! Photos arrive as the raw request body (`invoke('ingest_photo', bytes)`), never as base64 JSON.

use pengwang_core::{
    BuildingSummary, Device, EventRequest, HouseholdView, ItemView, Place, Revisit, Status, Wiped,
};
use pengwang_shared::building::{classify_height, BuildingUse, HeightClass};
use pengwang_shared::document::{FieldValue, PhotoRole, RecordRef};
use pengwang_shared::id::{BuildingId, EventId, HouseholdId, ItemId, PhotoHash};
use pengwang_shared::item::EscapeOpening;
use pengwang_shared::protocol::AccountInfo;
use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use crate::error::{invalid, UiError};
use crate::forms::{Choices, NewBuilding, NewItem, StepInput, SyncSummary};

type Answer<T> = Result<T, UiError>;

#[tauri::command]
pub fn status(device: State<'_, Device>) -> Answer<Status> {
    Ok(device.status()?)
}

#[tauri::command]
pub async fn server_reachable(device: State<'_, Device>) -> Answer<bool> {
    Ok(device.server_reachable().await)
}

#[tauri::command]
pub async fn enroll(
    device: State<'_, Device>,
    server_url: String,
    code: String,
    device_name: String,
) -> Answer<AccountInfo> {
    Ok(device
        .enroll(server_url.trim(), code.trim(), device_name.trim())
        .await?)
}

#[tauri::command]
pub async fn sync(device: State<'_, Device>) -> Answer<SyncSummary> {
    Ok(device.sync().await?.into())
}

/// Deletes everything on this phone; the UI warns with the unsynced counts first.
#[tauri::command]
pub fn wipe(device: State<'_, Device>) -> Answer<Wiped> {
    Ok(device.wipe()?)
}

#[tauri::command]
pub fn choices(device: State<'_, Device>) -> Choices {
    Choices::new(device.settings().escape)
}

#[tauri::command]
pub fn places(device: State<'_, Device>) -> Answer<Vec<Place>> {
    Ok(device.places()?)
}

/// 高层 / 多层 and 需核实高度, shown while the add-building form is filled in.
#[tauri::command]
pub fn height_class(
    building_use: BuildingUse,
    height_m: Option<f64>,
    floors: Option<u32>,
) -> HeightClass {
    classify_height(building_use, height_m, floors)
}

/// Why an escape opening of this size falls short of the campaign's rule; `None`: it complies.
#[tauri::command]
pub fn opening_shortfall(
    device: State<'_, Device>,
    width: f64,
    height: f64,
    sill: f64,
    inside: bool,
) -> Option<String> {
    let opening = EscapeOpening {
        width_m: width,
        height_m: height,
        sill_m: sill,
        openable_inside: inside,
    };
    opening.shortfall(&device.settings().escape)
}

#[tauri::command]
pub fn my_buildings(device: State<'_, Device>) -> Answer<Vec<BuildingSummary>> {
    Ok(device.my_buildings()?)
}

#[tauri::command]
pub fn create_building(device: State<'_, Device>, building: NewBuilding) -> Answer<BuildingId> {
    let location = device.location_of(&building.community, &building.estate)?;
    Ok(device.create_building(location, &building.fields())?)
}

#[tauri::command]
pub fn households(device: State<'_, Device>, building: BuildingId) -> Answer<Vec<HouseholdView>> {
    Ok(device.households(building)?)
}

#[tauri::command]
pub fn add_household_grid(
    device: State<'_, Device>,
    building: BuildingId,
    units: u32,
    floors: u32,
    rooms: u32,
) -> Answer<usize> {
    Ok(device.add_household_grid(building, units, floors, rooms)?)
}

#[tauri::command]
pub fn add_household(
    device: State<'_, Device>,
    building: BuildingId,
    unit: String,
    floor: i64,
    room: String,
) -> Answer<HouseholdId> {
    let fields = [
        ("unit", FieldValue::Text(unit)),
        ("floor", FieldValue::Int(floor)),
        ("room", FieldValue::Text(room)),
    ];
    Ok(device.add_household(building, &fields)?)
}

/// Writes one field of the building, a household or an item (`record`: `{"record": "item",
/// "id": …}`); `null` clears it.
#[tauri::command]
pub fn set_field(
    device: State<'_, Device>,
    building: BuildingId,
    record: RecordRef,
    key: String,
    value: FieldValue,
) -> Answer<()> {
    Ok(device.set_field(building, record, &key, value)?)
}

#[tauri::command]
pub fn delete_record(
    device: State<'_, Device>,
    building: BuildingId,
    record: RecordRef,
) -> Answer<()> {
    Ok(device.delete(building, record)?)
}

#[tauri::command]
pub fn revisits(device: State<'_, Device>) -> Answer<Vec<Revisit>> {
    Ok(device.revisits()?)
}

#[tauri::command]
pub fn items(
    device: State<'_, Device>,
    building: BuildingId,
    household: Option<HouseholdId>,
) -> Answer<Vec<ItemView>> {
    Ok(device.items(building, household)?)
}

#[tauri::command]
pub fn item(device: State<'_, Device>, building: BuildingId, item: ItemId) -> Answer<ItemView> {
    Ok(device.item_view(building, item)?)
}

/// Ingests and stores a photo (the raw request body), unattached: the add-item and step forms
/// then name its hash. Ingest takes 0.1–0.5 s, so it runs off the IPC thread.
#[tauri::command]
pub async fn ingest_photo(device: State<'_, Device>, request: Request<'_>) -> Answer<PhotoHash> {
    let bytes = raw_body(&request)?;
    let device = device.inner().clone();
    let task = tauri::async_runtime::spawn_blocking(move || device.ingest_photo(&bytes));
    task.await.map_err(invalid)?.map_err(UiError::from)
}

#[tauri::command]
pub fn add_item(device: State<'_, Device>, building: BuildingId, item: NewItem) -> Answer<ItemId> {
    let fields: Vec<(&str, FieldValue)> = item
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    Ok(device.add_item(
        building,
        item.category,
        item.household,
        &fields,
        item.photos,
        &item.note,
    )?)
}

/// Attaches one more photo (the raw body) to an item; building, item and role come in the
/// `pengwang-building`, `pengwang-item` and `pengwang-role` headers.
#[tauri::command]
pub async fn add_photo(device: State<'_, Device>, request: Request<'_>) -> Answer<PhotoHash> {
    let (b, item, role) = photo_target(&request)?;
    let bytes = raw_body(&request)?;
    let device = device.inner().clone();
    let task =
        tauri::async_runtime::spawn_blocking(move || device.add_photo(b, item, role, &bytes));
    task.await.map_err(invalid)?.map_err(UiError::from)
}

#[tauri::command]
pub fn record_step(
    device: State<'_, Device>,
    building: BuildingId,
    item: ItemId,
    step: StepInput,
) -> Answer<EventId> {
    let request = EventRequest {
        kind: step.kind,
        to: None,
        note: step.note,
        photos: step.photos,
        detail: step.detail,
    };
    Ok(device.record_event(building, item, request)?)
}

/// A street checker's list: items awaiting verification that this account may close.
#[tauri::command]
pub fn verification_list(device: State<'_, Device>) -> Answer<Vec<ItemView>> {
    Ok(device.verification_list()?)
}

fn raw_body(request: &Request<'_>) -> Answer<Vec<u8>> {
    match request.body() {
        InvokeBody::Raw(bytes) if !bytes.is_empty() => Ok(bytes.clone()),
        _ => Err(invalid(
            "expected the photo's bytes as the raw request body",
        )),
    }
}

fn photo_target(request: &Request<'_>) -> Answer<(BuildingId, ItemId, PhotoRole)> {
    let header = |name: &str| {
        let value = request.headers().get(name).and_then(|v| v.to_str().ok());
        value.ok_or_else(|| invalid(format!("missing header {name}")))
    };
    let b = BuildingId::parse(header("pengwang-building")?).map_err(invalid)?;
    let item = ItemId::parse(header("pengwang-item")?).map_err(invalid)?;
    let role = PhotoRole::parse(header("pengwang-role")?).map_err(invalid)?;
    Ok((b, item, role))
}
