//! Deadlines and overdue items (DESIGN §4): per reporting unit and per street, the items overdue
//! in each phase, refusers awaiting transfer to enforcement and transfers awaiting 定点拆除.
//!
//! An item is overdue when it is not CLOSED (or VOID) after its phase's deadline — the rule is
//! `CampaignSettings::is_overdue` in pengwang-shared; this module only counts the stored fold
//! results (`p_item.state`) against it, on the local (Asia/Shanghai) date of the server clock.
//! `GET /v1/deadlines` serves the same figures as JSON; the console page renders them.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use pengwang_shared::event::ItemState;
use pengwang_shared::region::{RegionCatalog, StreetCode};
use pengwang_shared::role::Scope;
use pengwang_shared::settings::{CampaignSettings, Phase};
use pengwang_shared::time::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection};
use serde::Serialize;

use crate::auth::AuthDevice;
use crate::db::DbError;
use crate::error::AppError;
use crate::ledger::{sees_street, sees_unit};
use crate::state::AppState;
use crate::{campaign, scope};

/// At most this many overdue items are listed (oldest state first); the counts are complete.
pub const MAX_LISTED: u32 = 500;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/deadlines", get(deadlines_json))
}

/// The figures of one unit or street.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeadlineCounts {
    /// Items neither CLOSED nor VOID.
    pub open: u64,
    /// Overdue in the self-remediation phase (past `self_remediation_deadline`).
    pub overdue_self_remediation: u64,
    /// Overdue in the enforcement phase (past `enforcement_deadline`).
    pub overdue_enforcement: u64,
    /// REFUSED: the street has yet to hand them to enforcement.
    pub refused_awaiting_transfer: u64,
    /// TRANSFERRED: the enforcement team has yet to remove them.
    pub transferred_awaiting_enforcement: u64,
}

impl DeadlineCounts {
    fn add(&mut self, state: ItemState, n: u64, settings: &CampaignSettings, today: NaiveDate) {
        let Some(phase) = Phase::of(state) else {
            return;
        };
        self.open += n;
        if settings.is_overdue(state, today) {
            match phase {
                Phase::SelfRemediation => self.overdue_self_remediation += n,
                Phase::Enforcement => self.overdue_enforcement += n,
            }
        }
        match state {
            ItemState::Refused => self.refused_awaiting_transfer += n,
            ItemState::Transferred => self.transferred_awaiting_enforcement += n,
            _ => {}
        }
    }

    pub fn overdue(&self) -> u64 {
        self.overdue_self_remediation + self.overdue_enforcement
    }
}

/// One row: a unit or a street with its figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeadlineRow {
    pub code: String,
    pub name: String,
    #[serde(flatten)]
    pub counts: DeadlineCounts,
}

/// One overdue item as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OverdueItem {
    pub id: String,
    pub building_id: String,
    pub street_code: String,
    pub estate: String,
    pub number: String,
    pub category: String,
    pub state: ItemState,
    pub phase: Phase,
    pub deadline: NaiveDate,
    /// Whole days since the deadline, as of `today`.
    pub days_overdue: i64,
}

/// Everything the page and the JSON endpoint show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Deadlines {
    pub today: NaiveDate,
    pub settings: CampaignSettings,
    pub total: DeadlineCounts,
    pub units: Vec<DeadlineRow>,
    /// Streets the caller sees that have any open item.
    pub streets: Vec<DeadlineRow>,
    pub overdue: Vec<OverdueItem>,
}

/// The deadline figures of everything `scope` covers, as of `now`.
pub fn compute(
    conn: &Connection,
    catalog: &RegionCatalog,
    scope: &Scope,
    now: Timestamp,
) -> Result<Deadlines, DbError> {
    let settings = campaign::load(conn, now)?;
    let today = now.local_date();
    let mut units: BTreeMap<String, DeadlineCounts> = BTreeMap::new();
    let mut streets: BTreeMap<String, DeadlineCounts> = BTreeMap::new();
    let mut total = DeadlineCounts::default();
    for (unit, street, state, n) in state_counts(conn, scope)? {
        units
            .entry(unit)
            .or_default()
            .add(state, n, &settings, today);
        streets
            .entry(street)
            .or_default()
            .add(state, n, &settings, today);
        total.add(state, n, &settings, today);
    }
    let unit_rows = catalog
        .units
        .iter()
        .filter(|u| sees_unit(catalog, scope, &u.code))
        .map(|u| DeadlineRow {
            code: u.code.to_string(),
            name: u.name.clone(),
            counts: units.remove(u.code.as_str()).unwrap_or_default(),
        })
        .collect();
    let street_rows = streets
        .into_iter()
        .filter_map(|(code, counts)| {
            let sc = StreetCode::parse(&code).ok()?;
            let name = catalog.streets.get(&sc).map(|s| s.name.clone())?;
            sees_street(catalog, scope, &sc).then_some(DeadlineRow { code, name, counts })
        })
        .collect();
    let overdue = overdue_items(conn, scope, &settings, today)?;
    Ok(Deadlines {
        today,
        settings,
        total,
        units: unit_rows,
        streets: street_rows,
        overdue,
    })
}

/// Live items per (unit, street, state) in scope. Items of a merged-away building still count,
/// under its survivor: merging links records, it removes no item.
fn state_counts(
    conn: &Connection,
    scope: &Scope,
) -> Result<Vec<(String, String, ItemState, u64)>, DbError> {
    let (cond, params) = scope::filter(scope, "b", "estate_norm");
    let sql = format!(
        "SELECT b.unit_code, b.street_code, t.state, COUNT(*) FROM p_item t JOIN p_building b ON b.id = {item_building}
         WHERE t.deleted = 0 AND t.state IS NOT NULL AND {cond} GROUP BY 1, 2, 3",
        item_building = crate::merge::ITEM_BUILDING,
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let state: String = r.get(2)?;
        let state = ItemState::parse(&state).map_err(|e| DbError::corrupt("p_item state", e))?;
        out.push((r.get(0)?, r.get(1)?, state, r.get(3)?));
    }
    Ok(out)
}

/// The overdue items in scope, longest overdue first, then by id.
fn overdue_items(
    conn: &Connection,
    scope: &Scope,
    settings: &CampaignSettings,
    today: NaiveDate,
) -> Result<Vec<OverdueItem>, DbError> {
    let overdue: Vec<ItemState> = ItemState::ALL
        .iter()
        .copied()
        .filter(|s| settings.is_overdue(*s, today))
        .collect();
    if overdue.is_empty() {
        return Ok(vec![]);
    }
    let (cond, mut params) = scope::filter(scope, "b", "estate_norm");
    let marks = vec!["?"; overdue.len()].join(", ");
    params.extend(overdue.iter().map(|s| Sql::Text(s.code().to_owned())));
    let sql = format!(
        "SELECT t.id, b.id, b.street_code, b.estate, b.number, t.category, t.state
         FROM p_item t JOIN p_building b ON b.id = {item_building}
         WHERE {cond} AND t.deleted = 0 AND t.state IN ({marks})",
        item_building = crate::merge::ITEM_BUILDING,
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let state: String = r.get(6)?;
        let state = ItemState::parse(&state).map_err(|e| DbError::corrupt("p_item state", e))?;
        let (Some(phase), Some(deadline)) = (Phase::of(state), settings.phase_deadline(state))
        else {
            continue;
        };
        let deadline = deadline.min(settings.completion_deadline);
        out.push(OverdueItem {
            id: r.get(0)?,
            building_id: r.get(1)?,
            street_code: r.get(2)?,
            estate: r.get(3)?,
            number: r.get(4)?,
            category: r.get(5)?,
            state,
            phase,
            deadline,
            days_overdue: (today - deadline).num_days(),
        });
    }
    out.sort_by(|a, b| {
        (b.days_overdue, &a.street_code, &a.id).cmp(&(a.days_overdue, &b.street_code, &b.id))
    });
    out.truncate(MAX_LISTED as usize);
    Ok(out)
}

/// `GET /v1/deadlines`: the figures above as JSON, for the caller's scope.
async fn deadlines_json(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<Deadlines>, AppError> {
    let now = state.now();
    let catalog = state.catalog.clone();
    let scope = device.account.scope;
    let d = state
        .db
        .read(move |c| compute(c, &catalog, &scope, now))
        .await?;
    Ok(Json(d))
}

/// Why new campaign settings are refused, in words for the city user.
fn check_settings(s: &CampaignSettings) -> Result<(), String> {
    use chrono::Datelike;
    let in_year = |d: NaiveDate| d.year() == s.year;
    if ![
        s.self_remediation_deadline,
        s.enforcement_deadline,
        s.completion_deadline,
    ]
    .into_iter()
    .all(in_year)
    {
        return Err(format!("各阶段期限须在活动年度 {} 年内", s.year));
    }
    if !(s.self_remediation_deadline <= s.enforcement_deadline
        && s.enforcement_deadline <= s.completion_deadline)
    {
        return Err("期限须按顺序：自行整改 ≤ 定点拆除 ≤ 全部完成".into());
    }
    if !(1..=28).contains(&s.report_day) {
        return Err(format!("报送日须在 1 到 28 日之间，收到 {}", s.report_day));
    }
    if !(1..=20).contains(&s.persuasion_attempts) {
        return Err(format!(
            "认定拒改前的劝导次数须在 1 到 20 次之间，收到 {}",
            s.persuasion_attempts
        ));
    }
    let e = &s.escape;
    let ok = |v: f64| v.is_finite() && v > 0.0 && v <= 5.0;
    if !(ok(e.min_width_m) && ok(e.min_height_m) && ok(e.max_sill_m)) {
        return Err("逃生口尺寸须为 0 到 5 米之间的正数".into());
    }
    Ok(())
}

/// Replaces the campaign settings: the city only, checked, audited with what changed. Phones get
/// them with their next sync; projections keep the fold results they have until re-projected
/// (a new persuasion count applies to the next step taken).
pub fn change_settings(
    conn: &mut Connection,
    account: &pengwang_shared::protocol::AccountInfo,
    new: &CampaignSettings,
    now: Timestamp,
) -> Result<(), AppError> {
    if account.role != pengwang_shared::role::Role::City {
        return Err(AppError::forbidden(
            "city_only",
            "只有市级专班可以修改活动设置",
        ));
    }
    check_settings(new).map_err(|why| AppError::bad_request("invalid_settings", why))?;
    let tx = conn.transaction()?;
    let old = campaign::load(&tx, now)?;
    campaign::store(&tx, new)?;
    let detail = serde_json::json!({ "before": old, "after": new }).to_string();
    crate::audit::record(
        &tx,
        &crate::audit::NewAudit {
            at: now,
            actor: Some(account.id),
            action: crate::audit::Action::CampaignChange,
            target: "campaign_settings",
            detail: &detail,
        },
    )?;
    tx.commit()?;
    tracing::info!(account = %account.id, "campaign settings changed");
    Ok(())
}
