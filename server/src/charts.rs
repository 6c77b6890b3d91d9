//! The data behind the console's charts (issue 5 item 7): completed households over time for
//! each category against the campaign deadlines, and the state mix of items — per reporting unit
//! or for the city.
//!
//! Completions come from the shared [`attachment2_series`]: the 附件2 columns at the cut-off of
//! every reporting period of the campaign year up to now (the current period cut at now), fed
//! with the stored fold result of every item, so a point of the chart is exactly the 累计完成 the
//! table shows for that month (frozen snapshots aside: the chart shows actual completion dates).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use pengwang_shared::event::ItemState;
use pengwang_shared::item::Category;
use pengwang_shared::region::UnitCode;
use pengwang_shared::report::{attachment2_series, Attachment2};
use pengwang_shared::settings::{CampaignSettings, ReportPeriod};
use pengwang_shared::time::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection};

use crate::db::DbError;
use crate::error::AppError;

/// Everything one chart page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartData {
    /// 附件2 at each cut-off, oldest first; use `total` for the units asked for.
    pub series: Vec<Attachment2>,
    /// Live (not deleted) items per category and state, all buildings (high-rise or not, common
    /// parts included), VOID included.
    pub mix: BTreeMap<Category, BTreeMap<ItemState, u64>>,
    /// 06-30, 09-30, 12-31 with their names.
    pub deadlines: Vec<(NaiveDate, &'static str)>,
}

/// The periods of the campaign year that have begun by `now`, the last one cut at `now`.
pub fn periods(settings: &CampaignSettings, now: Timestamp) -> Vec<ReportPeriod> {
    let mut out = Vec::new();
    for month in 1..=12 {
        let Some(mut p) = settings.period(settings.year, month) else {
            continue;
        };
        if p.start >= now {
            break;
        }
        if p.end > now {
            p.end = now;
        }
        out.push(p);
    }
    out
}

/// The campaign deadlines as chart lines.
pub fn deadlines(settings: &CampaignSettings) -> Vec<(NaiveDate, &'static str)> {
    vec![
        (settings.self_remediation_deadline, "自行整改期限"),
        (settings.enforcement_deadline, "定点拆除期限"),
        (settings.completion_deadline, "全部完成期限"),
    ]
}

/// The chart data of `units` (one unit, or every unit for the city) as of `now`.
pub fn chart_data(
    conn: &Connection,
    units: &[UnitCode],
    settings: &CampaignSettings,
    now: Timestamp,
) -> Result<ChartData, AppError> {
    let periods = periods(settings, now);
    Ok(ChartData {
        series: series(conn, units, &periods)?,
        mix: state_mix(conn, units)?,
        deadlines: deadlines(settings),
    })
}

fn unit_params(units: &[UnitCode]) -> (String, impl Iterator<Item = Sql> + '_) {
    let marks = vec!["?"; units.len().max(1)].join(", ");
    let params = units.iter().map(|u| Sql::Text(u.to_string()));
    (marks, params)
}

/// Streams `p_item` (as 附件2 reads it) into [`attachment2_series`].
fn series(
    conn: &Connection,
    units: &[UnitCode],
    periods: &[ReportPeriod],
) -> Result<Vec<Attachment2>, AppError> {
    let series = crate::report::stream_items(conn, units, |items| {
        attachment2_series(units, periods, items)
    })?;
    Ok(series.map_err(|e| DbError::corrupt("p_item order", e))?)
}

/// Live items of `units` by category and state. Items whose fold has no state are left out.
pub fn state_mix(
    conn: &Connection,
    units: &[UnitCode],
) -> Result<BTreeMap<Category, BTreeMap<ItemState, u64>>, AppError> {
    let (marks, params) = unit_params(units);
    let sql = format!(
        "SELECT category, state, COUNT(*) FROM p_item
         WHERE deleted = 0 AND state IS NOT NULL AND unit_code IN ({marks}) GROUP BY 1, 2"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut out: BTreeMap<Category, BTreeMap<ItemState, u64>> = BTreeMap::new();
    for c in Category::ALL {
        out.insert(*c, BTreeMap::new());
    }
    while let Some(r) = rows.next()? {
        let bad = |what: &'static str| move |e| DbError::corrupt(what, e);
        let category = Category::parse(&r.get::<_, String>(0)?).map_err(bad("p_item category"))?;
        let state = ItemState::parse(&r.get::<_, String>(1)?).map_err(bad("p_item state"))?;
        out.entry(category).or_default().insert(state, r.get(2)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_periods_run_from_january_to_now_and_the_last_is_cut_at_now() {
        let s = CampaignSettings::for_year(2026);
        let now = Timestamp::parse_local("2026-03-10 12:00").unwrap();
        let p = periods(&s, now);
        let t = |s: &str| Timestamp::parse_local(s).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(
            (p[0].start, p[0].end),
            (t("2025-12-26 00:00"), t("2026-01-26 00:00"))
        );
        assert_eq!(
            (p[2].month, p[2].start, p[2].end),
            (3, t("2026-02-26 00:00"), now)
        );
        let all = periods(&s, t("2027-02-01 00:00"));
        assert_eq!(all.len(), 12);
        assert_eq!(all[11].end, t("2026-12-26 00:00"));
    }
}
