//! Revealing a household owner's full phone number (DESIGN §8): everywhere else it is masked
//! (138****1234). Seeing it in full is an explicit form post, and every reveal writes an audit
//! row naming who, when and which household — never the number itself.
//!
//! Who may reveal: the "street" roles of DESIGN §4 — street checker, unit lead, city — for a
//! household whose building lies in their scope; they are the ones who call a refusing owner.
//! Not fire-rescue (read-only, no dealings with owners), not property staff or inspectors (they
//! recorded the number on their phone and have no need of the console for it), not enforcement
//! (cases reach them through the street, with the transfer).

use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
use pengwang_shared::role::{Location, Role};
use pengwang_shared::time::Timestamp;
use rusqlite::{Connection, OptionalExtension};

use crate::audit::{self, Action, NewAudit};
use crate::console::{layout, Console, CsrfForm, NoFields, PageError};
use crate::db::DbError;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console/households/{id}/phone",
            post(reveal_page).get(back_to_ledger),
        )
        .route("/console/reveal/{id}", get(confirm_page))
}

/// Whether `role` may ever reveal a full owner phone (scope is checked per household).
pub fn may_reveal(role: Role) -> bool {
    role.is_street()
}

/// What a reveal found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revealed {
    pub household: String,
    pub building: String,
    /// 单元, 房号 of the household, to say whose number it is.
    pub place: String,
    /// `None`: the household has no phone recorded (nothing was revealed, nothing audited).
    pub phone: Option<String>,
}

struct HouseholdRow {
    building: String,
    place: String,
    loc: Location,
    phone: Option<String>,
}

fn household_row(conn: &Connection, id: &str) -> Result<Option<HouseholdRow>, AppError> {
    let row = conn
        .query_row(
            "SELECT h.building_id, h.stair_unit, h.room, h.fields_json, b.unit_code, b.street_code,
                    b.community_code, b.estate
             FROM p_household h JOIN p_building b ON b.id = h.building_id WHERE h.id = ?1",
            [id],
            |r| {
                let strings: [String; 8] = [
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ];
                Ok(strings)
            },
        )
        .optional()?;
    let Some([building, stair, room, fields, unit, street, community, estate]) = row else {
        return Ok(None);
    };
    let corrupt = |what: &'static str| move |e| DbError::corrupt(what, e);
    let loc = Location {
        unit: UnitCode::parse(&unit).map_err(corrupt("building unit"))?,
        street: StreetCode::parse(&street).map_err(corrupt("building street"))?,
        community: CommunityCode::parse(&community).map_err(corrupt("building community"))?,
        estate,
    };
    let phone = serde_json::from_str::<serde_json::Value>(&fields)
        .ok()
        .and_then(|v| v.get("owner_phone")?.as_str().map(str::to_owned))
        .filter(|p| !p.trim().is_empty());
    Ok(Some(HouseholdRow {
        building,
        place: format!("{}单元 {}", stair, room),
        loc,
        phone,
    }))
}

/// Household `id` if `account` may reveal its phone: a street role, the household in scope.
fn allowed_household(
    conn: &Connection,
    account: &AccountInfo,
    id: &str,
) -> Result<HouseholdRow, AppError> {
    if !may_reveal(account.role) {
        return Err(AppError::forbidden(
            "reveal_not_allowed",
            format!(
                "{}不能查看完整手机号码：只有街道核查员、区县牵头部门和市级专班可以",
                account.role.label()
            ),
        ));
    }
    let Some(h) = household_row(conn, id)? else {
        return Err(AppError::not_found(
            "household_not_found",
            format!("没有这一户：{id}"),
        ));
    };
    if !account.scope.covers(&h.loc) {
        return Err(AppError::forbidden(
            "out_of_scope",
            format!("这一户不在您的管辖范围（{}）内", account.scope.describe()),
        ));
    }
    Ok(h)
}

/// Reveals the owner phone of household `id` to `account`, writing one audit row in the same
/// transaction. Refused (403, nothing written) for a role that may not reveal or a household
/// outside the account's scope; 404 for an unknown household.
pub fn reveal_owner_phone(
    conn: &mut Connection,
    account: &AccountInfo,
    id: &str,
    now: Timestamp,
) -> Result<Revealed, AppError> {
    let tx = conn.transaction()?;
    let h = allowed_household(&tx, account, id)?;
    if h.phone.is_some() {
        let target = format!("household/{id}");
        let detail = format!("building/{}", h.building);
        let row = NewAudit {
            at: now,
            actor: Some(account.id),
            action: Action::PhoneReveal,
            target: &target,
            detail: &detail,
        };
        audit::record_in_unit(&tx, &row, h.loc.unit.as_str())?;
    }
    tx.commit()?;
    tracing::info!(account = %account.id, household = id, "owner phone revealed");
    Ok(Revealed {
        household: id.to_owned(),
        building: h.building,
        place: h.place,
        phone: h.phone,
    })
}

/// `POST /console/households/{id}/phone`: the number on a page of its own.
async fn reveal_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(console, NoFields {}): CsrfForm<NoFields>,
) -> Result<Markup, PageError> {
    let now = state.now();
    let account = console.account.clone();
    let r = state
        .db
        .write(move |c| reveal_owner_phone(c, &account, &id, now))
        .await?;
    let body = html! {
        p { "户：" (r.place) }
        @match &r.phone {
            Some(phone) => {
                p.revealed-phone { "业主手机号码：" strong { (phone) } }
                p.muted { "本次查看已记入审计日志（查看人、时间、户），请勿转发或截图外传。" }
            }
            None => p.muted { "该户没有登记业主手机号码。" }
        }
        p { a.btn href=(format!("/console/ledger/buildings/{}", r.building)) { "返回楼栋台账" } }
    };
    Ok(layout::page(&console, "查看完整手机号码", body))
}

/// `GET /console/reveal/{id}` (the ledger's link): asks before revealing; reveals nothing and
/// writes nothing itself.
async fn confirm_page(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let (account, id2) = (console.account.clone(), id.clone());
    let h = state
        .db
        .read(move |c| allowed_household(c, &account, &id2))
        .await?;
    let body = html! {
        p { "户：" (h.place) }
        p { "完整手机号码属于个人信息。查看操作会记入审计日志（查看人、时间、户），请仅在工作需要时查看。" }
        (button(&console, &id))
        " " a.btn href=(format!("/console/ledger/buildings/{}", h.building)) { "返回" }
    };
    Ok(layout::page(&console, "查看完整手机号码", body))
}

/// A reload of the reveal page (GET) reveals nothing: back to the ledger.
async fn back_to_ledger(_console: Console) -> Redirect {
    Redirect::to("/console/ledger")
}

/// The button the ledger shows next to a masked owner phone (nothing for roles that may not).
pub fn button(console: &Console, household: &str) -> Markup {
    if !may_reveal(console.account.role) {
        return html! {};
    }
    html! {
        form.inline method="post" action=(format!("/console/households/{household}/phone")) {
            (layout::csrf_field(console))
            button.btn type="submit" title="查看完整号码（将记入审计日志）" { "查看完整号码" }
        }
    }
}
