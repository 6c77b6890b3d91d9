//! `/console/queue` 核验队列: items awaiting verification (PENDING_VERIFY) in the user's scope,
//! longest waiting first, each with its before and after photos side by side and the verify /
//! return forms (only those the fold would accept from this user).

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::event::ItemState;
use pengwang_shared::id::ItemId;
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::time::Timestamp;
use rusqlite::{params_from_iter, Connection};

use super::item_actions::action_forms;
use super::layout::{local_time, page};
use super::{Console, PageError};
use crate::actions::{self, ItemChoices};
use crate::error::AppError;
use crate::scope;
use crate::state::AppState;

/// At most this many items per page view: a queue is worked through, not read.
const PAGE_SIZE: u32 = 50;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/queue", get(queue))
}

/// One waiting item with what the reviewer compares.
struct Waiting {
    id: String,
    category: String,
    since: Option<i64>,
    place: String,
    before: Vec<(String, bool)>,
    after: Vec<(String, bool)>,
    choices: Option<ItemChoices>,
}

async fn queue(State(state): State<AppState>, console: Console) -> Result<Markup, PageError> {
    let account = console.account.clone();
    let now = state.now();
    let (total, items) = state.db.read(move |c| waiting(c, &account, now)).await?;
    let body = html! {
        p.muted {
            "共 " (total) " 个点位已整改待核查"
            @if total > u64::from(PAGE_SIZE) { "，先显示等待最久的 " (PAGE_SIZE) " 个" }
            "。核验通过即销号；整改不到位请退回并写明原因。提交整改的人不能核验自己的提交。"
        }
        @if items.is_empty() { p { "暂无待核查的点位。" } }
        @for w in &items { (card(&console, w)) }
    };
    Ok(page(&console, "核验队列", body))
}

fn card(console: &Console, w: &Waiting) -> Markup {
    let category = Category::parse(&w.category).map_or(w.category.as_str(), |c| c.label());
    html! {
        section.card.queue-item {
            h2 {
                a href=(format!("/console/ledger/items/{}", w.id)) { (w.place) " · " (category) }
                " " span.badge.warn { (ItemState::PendingVerify.label()) }
            }
            p.muted { "提交时间：" (local_time(w.since.map(Timestamp))) }
            div.side-by-side {
                div { h3 { "整改前" } (thumbs(&w.before)) }
                div { h3 { "整改后" } (thumbs(&w.after)) }
            }
            @match &w.choices {
                Some(c) => (action_forms(console, c)),
                None => p.muted { "该点位无法读取，请在台账中查看。" },
            }
        }
    }
}

fn thumbs(photos: &[(String, bool)]) -> Markup {
    html! {
        div.photos {
            @if photos.is_empty() { span.muted { "无照片" } }
            @for (hash, stored) in photos {
                @if *stored {
                    a href=(format!("/console/photos/{hash}")) target="_blank" {
                        img src=(format!("/console/photos/{hash}/thumbnail")) alt="照片" loading="lazy";
                    }
                } @else {
                    span.badge.warn { "照片未上传" }
                }
            }
        }
    }
}

/// The number waiting in scope and the first page of them, oldest first.
fn waiting(
    conn: &Connection,
    account: &AccountInfo,
    now: Timestamp,
) -> Result<(u64, Vec<Waiting>), AppError> {
    let (cond, params) = scope::filter(&account.scope, "b", "estate_norm");
    let total: u64 = conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM p_item t JOIN p_building b ON b.id = t.building_id
             WHERE {cond} AND t.deleted = 0 AND t.state = 'pending_verify'"
        ),
        params_from_iter(params.clone()),
        |r| r.get(0),
    )?;
    let sql = format!(
        "SELECT t.id, t.category, t.state_since, b.estate, b.number, h.stair_unit, h.room
         FROM p_item t JOIN p_building b ON b.id = t.building_id
         LEFT JOIN p_household h ON h.id = COALESCE(t.doc_household_id, t.household_id)
         WHERE {cond} AND t.deleted = 0 AND t.state = 'pending_verify'
         ORDER BY t.state_since, t.id LIMIT {PAGE_SIZE}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |r| {
        let unit: Option<String> = r.get(5)?;
        let room: Option<String> = r.get(6)?;
        let place = match (unit, room) {
            (Some(u), Some(room)) => format!(
                "{}{} {}单元 {}",
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                u,
                room
            ),
            _ => format!(
                "{}{} 公共部位",
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?
            ),
        };
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            place,
        ))
    })?;
    let rows: Vec<(String, String, Option<i64>, String)> = rows.collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (id, category, since, place) in rows {
        let (before, after) = (photos(conn, &id, "before")?, photos(conn, &id, "after")?);
        let choices = ItemId::parse(&id)
            .ok()
            .and_then(|i| actions::choices(conn, account, i, now).ok());
        out.push(Waiting {
            id,
            category,
            since,
            place,
            before,
            after,
            choices,
        });
    }
    Ok((total, out))
}

/// The item's photos of one role: (hash, whether the server has it).
fn photos(conn: &Connection, item: &str, role: &str) -> Result<Vec<(String, bool)>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT r.hash, EXISTS (SELECT 1 FROM photo p WHERE p.hash = r.hash)
         FROM p_photo_ref r WHERE r.item_id = ?1 AND r.role = ?2 ORDER BY r.hash",
    )?;
    let rows = stmt.query_map([item, role], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
