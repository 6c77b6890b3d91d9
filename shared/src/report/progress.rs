//! Progress over time (the console's charts): 附件2's columns at a series of cut-offs, computed in
//! one pass over the items with the very rules of [`attachment2`](super::attachment2) — the
//! household count of each period is the table's own per-household count, so the chart and the
//! table can never disagree.
//!
//! Frozen tables are not consulted: a chart shows when households actually completed.

use std::collections::BTreeMap;

use crate::region::UnitCode;
use crate::settings::ReportPeriod;

use super::{Attachment2, ReportError, ReportItem, ReportRow, UnitAcc};

/// 附件2 for each of `periods`, as if [`attachment2`](super::attachment2) were called once per
/// period, reading `items` once. Items must come ordered by (unit code, household id), as for
/// `attachment2`; each household is counted in a period with only its items found before that
/// period's cut-off.
pub fn attachment2_series(
    units: &[UnitCode],
    periods: &[ReportPeriod],
    items: impl IntoIterator<Item = ReportItem>,
) -> Result<Vec<Attachment2>, ReportError> {
    let index: BTreeMap<&UnitCode, usize> = units.iter().enumerate().map(|(i, u)| (u, i)).collect();
    let mut accs: Vec<Vec<UnitAcc>> = periods
        .iter()
        .map(|_| units.iter().map(|_| UnitAcc::default()).collect())
        .collect();
    let Some(last_end) = periods.iter().map(|p| p.end).max() else {
        return Ok(Vec::new());
    };
    super::by_household(items, last_end, |group| {
        let Some(&u) = index.get(&group[0].unit) else {
            return;
        };
        for (pi, period) in periods.iter().enumerate() {
            // Most households were found before every cut-off: count them without a copy.
            if group.iter().all(|i| i.found_at < period.end) {
                accs[pi][u].count_household(group, period);
            } else {
                let found: Vec<ReportItem> = group
                    .iter()
                    .filter(|i| i.found_at < period.end)
                    .cloned()
                    .collect();
                if !found.is_empty() {
                    accs[pi][u].count_household(&found, period);
                }
            }
        }
    })?;
    Ok(periods
        .iter()
        .zip(accs)
        .map(|(period, accs)| {
            let rows: Vec<(UnitCode, ReportRow)> = units
                .iter()
                .cloned()
                .zip(accs.into_iter().map(|acc| acc.finish().0))
                .collect();
            let total = ReportRow::sum(rows.iter().map(|(_, r)| r));
            Attachment2 {
                period: *period,
                rows,
                total,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::event::ItemState;
    use crate::id::{BuildingId, HouseholdId};
    use crate::item::Category;
    use crate::report::attachment2;
    use crate::settings::{CampaignSettings, PeriodMode};
    use crate::time::Timestamp;
    use uuid::Uuid;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_local(s).unwrap()
    }

    fn item(h: u128, c: Category, state: ItemState, found: &str, done: Option<&str>) -> ReportItem {
        ReportItem {
            unit: UnitCode::parse("500103").unwrap(),
            building: BuildingId(Uuid::from_u128(h / 10)),
            high_rise: true,
            household: Some(HouseholdId(Uuid::from_u128(h))),
            category: c,
            state,
            completed_at: done.map(t),
            found_at: t(found),
            state_since: None,
        }
    }

    /// h11: awning closed 04-10 → completed from April on.
    /// h12: awning closed 05-20, a second awning found 06-15 and still notified → completed in
    ///      May only (in June the new item reopens the household).
    /// h21: net closed 06-05 → completed in June; found 05-10 so absent from April.
    #[test]
    fn each_month_counts_the_items_found_before_its_cut_off() {
        use Category::{Awning, Net};
        use ItemState::{Closed, Notified};
        let settings = CampaignSettings {
            period_mode: PeriodMode::CalendarMonth,
            ..CampaignSettings::for_year(2026)
        };
        let periods: Vec<ReportPeriod> =
            (4..=6).map(|m| settings.period(2026, m).unwrap()).collect();
        let items = vec![
            item(
                11,
                Awning,
                Closed,
                "2026-03-01 09:00",
                Some("2026-04-10 10:00"),
            ),
            item(
                12,
                Awning,
                Closed,
                "2026-03-01 09:00",
                Some("2026-05-20 10:00"),
            ),
            item(12, Awning, Notified, "2026-06-15 09:00", None),
            item(
                21,
                Net,
                Closed,
                "2026-05-10 09:00",
                Some("2026-06-05 10:00"),
            ),
        ];
        let units = [UnitCode::parse("500103").unwrap()];
        let series = attachment2_series(&units, &periods, items.clone()).unwrap();
        let cells = |i: usize| {
            let a = series[i].total.awning;
            let n = series[i].total.net;
            (
                (
                    a.buildings,
                    a.households,
                    a.completed_in_period,
                    a.completed_total,
                ),
                (
                    n.buildings,
                    n.households,
                    n.completed_in_period,
                    n.completed_total,
                ),
            )
        };
        assert_eq!(cells(0), ((1, 2, 1, 1), (0, 0, 0, 0)));
        assert_eq!(cells(1), ((1, 2, 1, 2), (1, 1, 0, 0)));
        assert_eq!(cells(2), ((1, 2, 0, 1), (1, 1, 1, 1)));
        for (i, p) in periods.iter().enumerate() {
            assert_eq!(series[i], attachment2(&units, *p, items.clone()).unwrap());
        }
        assert!(attachment2_series(&units, &[], items).unwrap().is_empty());
    }
}
