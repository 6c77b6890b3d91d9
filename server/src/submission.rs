//! 附件2 month by month (DESIGN §6): a unit's lead reviews, freezes and submits the unit's table;
//! a frozen table is a snapshot that never changes; the city sees who has submitted and may
//! unfreeze a table for resubmission, with a reason. Every step is audited in its transaction.
//!
//! The snapshot keeps the row and, per category, the households completed at the cut-off: the
//! next month is counted against them (`pengwang_shared::report::Counting`), so an event dated
//! inside the frozen month counts in the first open one and 本月反弹 can be told.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use pengwang_shared::id::HouseholdId;
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::UnitCode;
use pengwang_shared::report::{Completions, Counting, ReportRow};
use pengwang_shared::role::Role;
use pengwang_shared::settings::{CampaignSettings, ReportPeriod};
use pengwang_shared::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::audit::{self, Action, NewAudit};
use crate::db::DbError;
use crate::error::AppError;
use crate::report;

/// A report month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// `YYYY-MM`, with a message saying what was wrong.
    pub fn parse(s: &str) -> Result<Month, AppError> {
        let (year, month) = report::parse_month(Some(s))?;
        Ok(Month { year, month })
    }

    /// The `month` query parameter, required.
    pub fn parse_query(s: Option<&str>) -> Result<Month, AppError> {
        let (year, month) = report::parse_month(s)?;
        Ok(Month { year, month })
    }

    pub fn previous(self) -> Month {
        match self.month {
            1 => Month {
                year: self.year - 1,
                month: 12,
            },
            m => Month {
                year: self.year,
                month: m - 1,
            },
        }
    }

    /// The reporting period under `settings`, or a 400 naming the month.
    pub fn period(self, settings: &CampaignSettings) -> Result<ReportPeriod, AppError> {
        settings
            .period(self.year, self.month)
            .ok_or_else(|| AppError::bad_request("invalid_month", format!("{self} 没有统计期间")))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Open,
    Frozen,
    Submitted,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Frozen => "frozen",
            Status::Submitted => "submitted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "未冻结",
            Status::Frozen => "已冻结未提交",
            Status::Submitted => "已提交",
        }
    }

    fn parse(s: &str) -> Result<Status, DbError> {
        match s {
            "open" => Ok(Status::Open),
            "frozen" => Ok(Status::Frozen),
            "submitted" => Ok(Status::Submitted),
            other => Err(DbError::corrupt("report_submission status", other)),
        }
    }

    /// Frozen or submitted: the snapshot is the table.
    pub fn is_frozen(self) -> bool {
        self != Status::Open
    }
}

/// One unit's month as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    pub unit: UnitCode,
    pub month: Month,
    pub status: Status,
    pub period_start: Timestamp,
    pub period_end: Timestamp,
    /// The frozen row; `None` while open.
    pub row: Option<ReportRow>,
    pub frozen_at: Option<Timestamp>,
    pub frozen_by: Option<String>,
    pub submitted_at: Option<Timestamp>,
    pub submitted_by: Option<String>,
    pub unfrozen_at: Option<Timestamp>,
    pub unfrozen_by: Option<String>,
    pub unfreeze_reason: Option<String>,
}

impl Submission {
    /// The period the stored row covers: the month's period under the settings of when it was
    /// frozen (kept with the snapshot; later changes to the settings do not move it).
    pub fn period(&self) -> ReportPeriod {
        ReportPeriod {
            year: self.month.year,
            month: self.month.month,
            start: self.period_start,
            end: self.period_end,
        }
    }
}

const COLUMNS: &str = "unit_code, month, status, period_start, period_end, row_json, frozen_at, \
     frozen_by, submitted_at, submitted_by, unfrozen_at, unfrozen_by, unfreeze_reason";

fn from_row(r: &Row<'_>) -> Result<Submission, DbError> {
    let unit: String = r.get(0)?;
    let month: String = r.get(1)?;
    let row: Option<String> = r.get(5)?;
    let ts = |i: usize| r.get::<_, Option<i64>>(i).map(|t| t.map(Timestamp));
    Ok(Submission {
        unit: UnitCode::parse(&unit).map_err(|e| DbError::corrupt("report_submission unit", e))?,
        month: Month::parse(&month).map_err(|e| DbError::corrupt("report_submission month", e))?,
        status: Status::parse(&r.get::<_, String>(2)?)?,
        period_start: Timestamp(r.get(3)?),
        period_end: Timestamp(r.get(4)?),
        row: row
            .map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(|e| DbError::corrupt("report_submission row", e))?,
        frozen_at: ts(6)?,
        frozen_by: r.get(7)?,
        submitted_at: ts(8)?,
        submitted_by: r.get(9)?,
        unfrozen_at: ts(10)?,
        unfrozen_by: r.get(11)?,
        unfreeze_reason: r.get(12)?,
    })
}

/// The stored state of `unit`'s `month`, if anything was ever done to it.
pub fn get(
    conn: &Connection,
    unit: &UnitCode,
    month: Month,
) -> Result<Option<Submission>, DbError> {
    let sql =
        format!("SELECT {COLUMNS} FROM report_submission WHERE unit_code = ?1 AND month = ?2");
    let row = conn
        .query_row(&sql, params![unit.as_str(), month.to_string()], |r| {
            Ok(from_row(r))
        })
        .optional()?;
    row.transpose()
}

/// Every unit's stored state of `month`.
pub fn of_month(
    conn: &Connection,
    month: Month,
) -> Result<BTreeMap<UnitCode, Submission>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM report_submission WHERE month = ?1");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([month.to_string()])?;
    let mut out = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let s = from_row(r)?;
        out.insert(s.unit.clone(), s);
    }
    Ok(out)
}

/// The completions frozen with `unit`'s month before `period`, when that month is frozen and
/// ends where `period` starts (a change of period mode in between leaves no base).
fn base(
    conn: &Connection,
    unit: &UnitCode,
    month: Month,
    period: &ReportPeriod,
) -> Result<Option<Completions>, DbError> {
    let prev = month.previous();
    let Some(s) = get(conn, unit, prev)? else {
        return Ok(None);
    };
    if !s.status.is_frozen() || s.period_end != period.start {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "SELECT category, household_id, completed_at FROM report_frozen_household
         WHERE unit_code = ?1 AND month = ?2",
    )?;
    let mut rows = stmt.query(params![unit.as_str(), prev.to_string()])?;
    let mut base = Completions::default();
    while let Some(r) = rows.next()? {
        let category = Category::parse(&r.get::<_, String>(0)?)
            .map_err(|e| DbError::corrupt("report_frozen_household category", e))?;
        let household = HouseholdId::parse(&r.get::<_, String>(1)?)
            .map_err(|e| DbError::corrupt("report_frozen_household household", e))?;
        base.of_mut(category)
            .insert(household, Timestamp(r.get(2)?));
    }
    Ok(Some(base))
}

/// The counting of `month` for `units`: each unit whose previous month is frozen is counted
/// against that snapshot.
pub fn counting(
    conn: &Connection,
    units: &[UnitCode],
    month: Month,
    period: &ReportPeriod,
    collect: bool,
) -> Result<Counting, DbError> {
    let mut bases = HashMap::new();
    for u in units {
        if let Some(b) = base(conn, u, month, period)? {
            bases.insert(u.clone(), b);
        }
    }
    Ok(Counting { bases, collect })
}

fn refuse(message: String) -> AppError {
    AppError::forbidden("not_allowed", message)
}

/// Freezing and submitting belong to the unit's lead (区县牵头部门) in their own unit.
fn check_lead(who: &AccountInfo, unit: &UnitCode, what: &str) -> Result<(), AppError> {
    if who.role == Role::UnitLead && who.scope.covers_unit(unit) {
        return Ok(());
    }
    Err(refuse(format!(
        "只有 {unit} 的牵头部门账号可以{what}附件2（你是{}，范围 {}）",
        who.role.label(),
        who.scope.describe()
    )))
}

/// A later month of `unit` that is frozen: freezing or unfreezing this one would change the
/// base that later table was counted against.
fn later_frozen(
    conn: &Connection,
    unit: &UnitCode,
    month: Month,
) -> Result<Option<String>, DbError> {
    Ok(conn
        .query_row(
            "SELECT month FROM report_submission WHERE unit_code = ?1 AND month > ?2
             AND status != 'open' ORDER BY month LIMIT 1",
            params![unit.as_str(), month.to_string()],
            |r| r.get(0),
        )
        .optional()?)
}

/// Freezes `unit`'s `month`: computes the row against the previous frozen month, stores it with
/// the households completed at the cut-off, and audits — one transaction.
pub fn freeze(
    conn: &mut Connection,
    who: &AccountInfo,
    unit: &UnitCode,
    month: Month,
    settings: &CampaignSettings,
    now: Timestamp,
) -> Result<Submission, AppError> {
    check_lead(who, unit, "冻结")?;
    let period = month.period(settings)?;
    if period.start > now {
        return Err(AppError::bad_request(
            "month_not_started",
            format!(
                "{month} 的统计期间从 {} 开始，尚未开始，不能冻结",
                period.start
            ),
        ));
    }
    let tx = conn.transaction()?;
    if let Some(s) = get(&tx, unit, month)?.filter(|s| s.status.is_frozen()) {
        return Err(AppError::conflict(
            "already_frozen",
            format!("{unit} 的 {month} 附件2 {}", s.status.label()),
        ));
    }
    if let Some(later) = later_frozen(&tx, unit, month)? {
        return Err(AppError::conflict(
            "later_month_frozen",
            format!("{unit} 的 {later} 已冻结；请先由市级专班解冻 {later}，再冻结 {month}"),
        ));
    }
    let counting = counting(&tx, std::slice::from_ref(unit), month, &period, true)?;
    let counted = report::compute_counted(&tx, std::slice::from_ref(unit), period, counting)?;
    let row = counted
        .report
        .rows
        .first()
        .map(|(_, r)| r.clone())
        .unwrap_or_default();
    let done = counted
        .completions
        .into_iter()
        .next()
        .map(|(_, c)| c)
        .unwrap_or_default();
    store_frozen(&tx, unit, month, &period, &row, &done, who, now)?;
    let detail = format!(
        "雨棚 {}/{} 户，防护网 {}/{} 户",
        row.awning.completed_total,
        row.awning.households,
        row.net.completed_total,
        row.net.households
    );
    audited(&tx, who, Action::ReportFreeze, unit, month, &detail, now)?;
    tx.commit()?;
    tracing::info!(unit = %unit, %month, account = %who.id, "附件2 frozen");
    get(conn, unit, month)?.ok_or_else(|| AppError::internal("frozen row vanished"))
}

#[allow(clippy::too_many_arguments)]
fn store_frozen(
    tx: &Connection,
    unit: &UnitCode,
    month: Month,
    period: &ReportPeriod,
    row: &ReportRow,
    done: &Completions,
    who: &AccountInfo,
    now: Timestamp,
) -> Result<(), DbError> {
    let json = serde_json::to_string(row).map_err(|e| DbError::corrupt("report row", e))?;
    tx.execute(
        "INSERT INTO report_submission (unit_code, month, status, period_start, period_end, row_json, frozen_at, frozen_by)
         VALUES (?1, ?2, 'frozen', ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (unit_code, month) DO UPDATE SET status = 'frozen', period_start = ?3,
             period_end = ?4, row_json = ?5, frozen_at = ?6, frozen_by = ?7,
             submitted_at = NULL, submitted_by = NULL",
        params![unit.as_str(), month.to_string(), period.start.0, period.end.0, json, now.0, who.id.to_string()],
    )?;
    let mut insert = tx.prepare(
        "INSERT INTO report_frozen_household (unit_code, month, category, household_id, completed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for category in [Category::Awning, Category::Net] {
        for (h, at) in done.of(category) {
            insert.execute(params![
                unit.as_str(),
                month.to_string(),
                category.code(),
                h.to_string(),
                at.0
            ])?;
        }
    }
    Ok(())
}

/// Submits a frozen table (提交): the city now counts it as submitted.
pub fn submit(
    conn: &mut Connection,
    who: &AccountInfo,
    unit: &UnitCode,
    month: Month,
    now: Timestamp,
) -> Result<Submission, AppError> {
    check_lead(who, unit, "提交")?;
    let tx = conn.transaction()?;
    let status = get(&tx, unit, month)?.map(|s| s.status);
    match status {
        Some(Status::Frozen) => {}
        Some(Status::Submitted) => {
            return Err(AppError::conflict(
                "already_submitted",
                format!("{unit} 的 {month} 附件2 已提交"),
            ))
        }
        _ => {
            return Err(AppError::conflict(
                "not_frozen",
                format!("{unit} 的 {month} 附件2 尚未冻结：请先核对并冻结，再提交"),
            ))
        }
    }
    tx.execute(
        "UPDATE report_submission SET status = 'submitted', submitted_at = ?3, submitted_by = ?4
         WHERE unit_code = ?1 AND month = ?2",
        params![unit.as_str(), month.to_string(), now.0, who.id.to_string()],
    )?;
    audited(&tx, who, Action::ReportSubmit, unit, month, "", now)?;
    tx.commit()?;
    tracing::info!(unit = %unit, %month, account = %who.id, "附件2 submitted");
    get(conn, unit, month)?.ok_or_else(|| AppError::internal("submitted row vanished"))
}

/// Unfreezes a frozen or submitted table for resubmission (city only, with a reason): the
/// snapshot is dropped and the month is counted live again until it is frozen anew.
pub fn unfreeze(
    conn: &mut Connection,
    who: &AccountInfo,
    unit: &UnitCode,
    month: Month,
    reason: &str,
    now: Timestamp,
) -> Result<Submission, AppError> {
    if who.role != Role::City {
        return Err(refuse(format!(
            "只有市级专班可以解冻附件2（你是{}）",
            who.role.label()
        )));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::bad_request(
            "invalid_reason",
            "解冻需要填写原因（1–500 字）",
        ));
    }
    let tx = conn.transaction()?;
    if !get(&tx, unit, month)?.is_some_and(|s| s.status.is_frozen()) {
        return Err(AppError::conflict(
            "not_frozen",
            format!("{unit} 的 {month} 附件2 未冻结，无需解冻"),
        ));
    }
    if let Some(later) = later_frozen(&tx, unit, month)? {
        return Err(AppError::conflict(
            "later_month_frozen",
            format!("{unit} 的 {later} 也已冻结，它是以 {month} 为基数统计的：请先解冻 {later}"),
        ));
    }
    tx.execute(
        "UPDATE report_submission SET status = 'open', row_json = NULL, unfrozen_at = ?3,
             unfrozen_by = ?4, unfreeze_reason = ?5
         WHERE unit_code = ?1 AND month = ?2",
        params![
            unit.as_str(),
            month.to_string(),
            now.0,
            who.id.to_string(),
            reason
        ],
    )?;
    tx.execute(
        "DELETE FROM report_frozen_household WHERE unit_code = ?1 AND month = ?2",
        params![unit.as_str(), month.to_string()],
    )?;
    audited(&tx, who, Action::ReportUnfreeze, unit, month, reason, now)?;
    tx.commit()?;
    tracing::info!(unit = %unit, %month, account = %who.id, "附件2 unfrozen");
    get(conn, unit, month)?.ok_or_else(|| AppError::internal("unfrozen row vanished"))
}

fn audited(
    conn: &Connection,
    who: &AccountInfo,
    action: Action,
    unit: &UnitCode,
    month: Month,
    detail: &str,
    now: Timestamp,
) -> Result<(), DbError> {
    let target = format!("attachment2/{unit}/{month}");
    let row = NewAudit {
        at: now,
        actor: Some(who.id),
        action,
        target: &target,
        detail,
    };
    // Marked with the unit, so its lead sees the step in the audit view.
    audit::record_in_unit(conn, &row, unit.as_str())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_month_before_january_is_december_of_the_year_before() {
        let m = Month::parse("2026-01").unwrap();
        assert_eq!(m.previous().to_string(), "2025-12");
        assert_eq!(
            Month::parse("2026-07").unwrap().previous().to_string(),
            "2026-06"
        );
        assert!(Month::parse("2026-13").is_err());
    }
}
