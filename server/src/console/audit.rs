//! 审计日志: who did what and when, newest first, filtered by action, actor and date, 50 rows a
//! page. The city sees every row; a unit lead the rows of its unit — rows whose actor works in
//! the unit, rows about an account (or its device) of the unit, and rows marked with the unit
//! (`audit.unit_code`: contacts, documents, revealed phones). Rows never hold names of owners
//! or phone numbers; actors are shown by their account name.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use maud::{html, Markup};
use pengwang_shared::region::{RegionCatalog, UnitCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::{parse_date, Timestamp};
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection};
use serde::Deserialize;

use super::{encode_query, layout, Console, PageError};
use crate::accounts;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/audit", get(page))
}

/// Rows per page.
pub const PAGE_ROWS: u32 = 50;

/// Which rows a user may see.
#[derive(Clone, Debug)]
pub enum Visible {
    All,
    /// A unit: its marked rows, and rows by or about these accounts.
    Unit {
        unit: UnitCode,
        accounts: Vec<String>,
    },
}

/// The filters as typed (all optional).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: Option<u32>,
}

/// One row as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub at: Timestamp,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub action: String,
    pub target: String,
    /// The account's name when the target is an account.
    pub target_name: Option<String>,
    pub detail: String,
}

/// The unit an account works in, from its scope (`None` for city-wide accounts).
pub fn account_unit(catalog: &RegionCatalog, scope: &Scope) -> Option<UnitCode> {
    match scope {
        Scope::City => None,
        Scope::Unit { unit } => Some(unit.clone()),
        Scope::Street { street } => catalog.streets.get(street).map(|s| s.unit.clone()),
        Scope::Community { community } | Scope::Estates { community, .. } => catalog
            .streets
            .get(&community.street())
            .map(|s| s.unit.clone()),
    }
}

/// What `console`'s user may see, or 403 for roles without the audit view.
pub fn visible_to(
    conn: &Connection,
    catalog: &RegionCatalog,
    console: &Console,
) -> Result<Visible, AppError> {
    match (&console.account.role, &console.account.scope) {
        (Role::City, _) => Ok(Visible::All),
        (Role::UnitLead, Scope::Unit { unit }) => {
            let accounts = accounts::list_accounts(conn)?
                .into_iter()
                .filter(|a| account_unit(catalog, &a.info.scope).as_ref() == Some(unit))
                .map(|a| a.info.id.to_string())
                .collect();
            Ok(Visible::Unit {
                unit: unit.clone(),
                accounts,
            })
        }
        _ => Err(AppError::forbidden(
            "audit_not_allowed",
            "审计日志只对区县牵头部门和市级专班开放",
        )),
    }
}

fn date(field: &'static str, s: &str) -> Result<Option<NaiveDate>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    parse_date(field, s).map(Some).map_err(|_| {
        AppError::bad_request(
            "invalid_date",
            format!("日期应写作 YYYY-MM-DD（如 2026-06-25），收到“{s}”"),
        )
    })
}

/// The `WHERE` clause and its parameters for `visible` and the filters.
fn conditions(visible: &Visible, q: &AuditQuery) -> Result<(String, Vec<Sql>), AppError> {
    let mut cond = vec!["1 = 1".to_owned()];
    let mut params: Vec<Sql> = Vec::new();
    if let Visible::Unit { unit, accounts } = visible {
        let json = serde_json::to_string(accounts).map_err(AppError::internal)?;
        cond.push(
            "(a.unit_code = ? OR a.account_id IN (SELECT value FROM json_each(?))
              OR a.target IN (SELECT value FROM json_each(?))
              OR a.target IN (SELECT d.id FROM device d WHERE d.account_id IN (SELECT value FROM json_each(?))))"
                .to_owned(),
        );
        params.extend([
            Sql::Text(unit.to_string()),
            Sql::Text(json.clone()),
            Sql::Text(json.clone()),
            Sql::Text(json),
        ]);
    }
    if !q.action.trim().is_empty() {
        cond.push("a.action = ?".into());
        params.push(Sql::Text(q.action.trim().to_owned()));
    }
    if !q.actor.trim().is_empty() {
        cond.push(
            "a.account_id IN (SELECT id FROM account WHERE id = ? OR instr(name, ?) > 0)".into(),
        );
        params.extend([
            Sql::Text(q.actor.trim().to_owned()),
            Sql::Text(q.actor.trim().to_owned()),
        ]);
    }
    let (from, to) = (date("from", &q.from)?, date("to", &q.to)?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(AppError::bad_request(
                "invalid_date",
                format!("起始日期 {f} 晚于截止日期 {t}"),
            ));
        }
    }
    if let Some(f) = from {
        cond.push("a.at >= ?".into());
        params.push(Sql::Integer(Timestamp::start_of(f).0));
    }
    if let Some(t) = to.and_then(|t| t.succ_opt()) {
        cond.push("a.at < ?".into());
        params.push(Sql::Integer(Timestamp::start_of(t).0));
    }
    Ok((cond.join(" AND "), params))
}

/// One page of rows (newest first) and the number of matching rows.
pub fn list(
    conn: &Connection,
    visible: &Visible,
    q: &AuditQuery,
) -> Result<(Vec<Listed>, u64), AppError> {
    let (cond, params) = conditions(visible, q)?;
    let total: u64 = conn.query_row(
        &format!("SELECT count(*) FROM audit a WHERE {cond}"),
        params_from_iter(params.iter()),
        |r| r.get(0),
    )?;
    let offset = (q.page.unwrap_or(1).max(1) - 1) as i64 * PAGE_ROWS as i64;
    let sql = format!(
        "SELECT a.at, a.account_id, acc.name, a.action, a.target, a.detail, tgt.name FROM audit a
         LEFT JOIN account acc ON acc.id = a.account_id LEFT JOIN account tgt ON tgt.id = a.target
         WHERE {cond}
         ORDER BY a.id DESC LIMIT {PAGE_ROWS} OFFSET {offset}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
        Ok(Listed {
            at: Timestamp(r.get(0)?),
            actor_id: r.get(1)?,
            actor_name: r.get(2)?,
            action: r.get(3)?,
            target: r.get(4)?,
            detail: r.get(5)?,
            target_name: r.get(6)?,
        })
    })?;
    Ok((rows.collect::<Result<_, _>>()?, total))
}

/// The action codes present, for the filter.
fn actions(conn: &Connection) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT DISTINCT action FROM audit ORDER BY action")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// An action in words; unknown codes as they are.
pub fn action_label(code: &str) -> &str {
    crate::audit::Action::label_of(code)
}

/// `GET /console/audit?action=&actor=&from=&to=&page=`.
async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<AuditQuery>,
) -> Result<Markup, PageError> {
    let catalog = state.catalog.clone();
    let c2 = console.clone();
    let q2 = q.clone();
    let (rows, total, actions) = state
        .db
        .read(move |c| {
            let visible = visible_to(c, &catalog, &c2)?;
            let (rows, total) = list(c, &visible, &q2)?;
            Ok::<_, AppError>((rows, total, actions(c)?))
        })
        .await?;
    let body = body(&q, &rows, total, &actions);
    Ok(layout::page(&console, "审计日志", body))
}

fn body(q: &AuditQuery, rows: &[Listed], total: u64, actions: &[String]) -> Markup {
    let page = q.page.unwrap_or(1).max(1);
    let pages = total.div_ceil(PAGE_ROWS as u64).max(1);
    let link = |p: u64| {
        format!(
            "/console/audit?action={}&actor={}&from={}&to={}&page={p}",
            encode_query(&q.action),
            encode_query(&q.actor),
            encode_query(&q.from),
            encode_query(&q.to)
        )
    };
    html! {
        form.filters method="get" action="/console/audit" {
            label { "操作"
                select name="action" {
                    option value="" { "全部" }
                    @for a in actions { option value=(a) selected[*a == q.action] { (action_label(a)) } }
                }
            }
            label { "操作人（账号名或编号）" input name="actor" value=(q.actor); }
            label { "起始日期" input type="date" name="from" value=(q.from); }
            label { "截止日期" input type="date" name="to" value=(q.to); }
            button.btn type="submit" { "筛选" }
        }
        p.muted { "共 " (total) " 条，第 " (page) " / " (pages) " 页。" }
        table.grid {
            thead { tr { th { "时间" } th { "操作人" } th { "操作" } th { "对象" } th { "说明" } } }
            tbody {
                @if rows.is_empty() { tr { td colspan="5" .muted { "没有符合条件的记录" } } }
                @for r in rows {
                    tr {
                        td { (layout::local_time(Some(r.at))) }
                        td { @match (&r.actor_name, &r.actor_id) {
                            (Some(n), _) => (n),
                            (None, Some(id)) => (id),
                            (None, None) => span.muted { "服务器命令行" },
                        } }
                        td { (action_label(&r.action)) }
                        td {
                            @if let Some(n) = &r.target_name { "账号 " (n) " " }
                            code { (r.target) }
                        }
                        td { (r.detail) }
                    }
                }
            }
        }
        div.pager {
            @if page > 1 { a.btn href=(link(page as u64 - 1)) { "上一页" } }
            @if (page as u64) < pages { a.btn href=(link(page as u64 + 1)) { "下一页" } }
        }
    }
}
