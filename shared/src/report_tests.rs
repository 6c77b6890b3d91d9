#![allow(clippy::unwrap_used)]

use super::*;
use crate::settings::{CampaignSettings, PeriodMode};
use uuid::Uuid;

fn t(s: &str) -> Timestamp {
    Timestamp::parse_local(s).unwrap()
}

fn unit(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

struct Scenario(Vec<ReportItem>);

impl Scenario {
    /// An item of household `h` in building `b` (both small numbers).
    fn item(
        &mut self,
        u: &str,
        b: u128,
        h: u128,
        c: Category,
        state: ItemState,
        completed: Option<&str>,
    ) -> &mut ReportItem {
        self.0.push(ReportItem {
            unit: unit(u),
            building: BuildingId(Uuid::from_u128(b)),
            high_rise: true,
            household: Some(HouseholdId(Uuid::from_u128(h))),
            category: c,
            state,
            completed_at: completed.map(t),
            found_at: t("2026-03-01 10:00"),
            state_since: None,
        });
        self.0.last_mut().unwrap()
    }

    fn run(&self, units: &[&str], p: ReportPeriod) -> Attachment2 {
        let mut items = self.0.clone();
        items.sort_by(|a, b| (&a.unit, a.household).cmp(&(&b.unit, b.household)));
        attachment2(&units.iter().map(|u| unit(u)).collect::<Vec<_>>(), p, items).unwrap()
    }
}

use Category::{Awning, Net};
use ItemState::*;

/// The calendar-month June 2026 period; the hand-computed scenario below.
#[test]
fn every_cell_of_a_two_unit_scenario_matches_the_hand_count() {
    let settings = CampaignSettings {
        period_mode: PeriodMode::CalendarMonth,
        ..CampaignSettings::for_year(2026)
    };
    let june = settings.period(2026, 6).unwrap();
    let mut s = Scenario(vec![]);
    // 渝中区 500103, building 1:
    s.item("500103", 1, 11, Awning, Closed, Some("2026-06-30 23:30")); // h11 awning done in June (23:30 last day)
    s.item("500103", 1, 12, Awning, Closed, Some("2026-05-10 09:00")); // h12 awning done in May
    s.item("500103", 1, 12, Net, PendingVerify, None); // h12 net owner-claimed
    s.item("500103", 1, 13, Awning, Closed, Some("2026-06-02 09:00")); // h13: one closed,
    s.item("500103", 1, 13, Awning, Notified, None); //                       one open → not done
    s.item("500103", 1, 14, Awning, Void, None); // h14 only VOID → not counted
                                                 // building 2: a reopened item (now NOTIFIED, completion cleared by the fold) and a July close.
    s.item("500103", 2, 21, Net, Notified, None);
    s.item("500103", 2, 22, Net, Closed, Some("2026-07-01 00:00"));
    s.item("500103", 2, 22, Net, Void, None); // VOID sibling ignored
                                              // building 3 is multi-storey: reported apart, not here.
    s.item("500103", 3, 31, Awning, Closed, Some("2026-06-05 09:00"))
        .high_rise = false;
    // 两江新区 500157, building 4: a household with both categories, both closed in June.
    s.item("500157", 4, 41, Awning, Closed, Some("2026-06-10 09:00"));
    s.item("500157", 4, 41, Net, Closed, Some("2026-06-11 09:00"));
    // common-part item: ledger only.
    s.0.push(ReportItem {
        household: None,
        ..s.0[0].clone()
    });
    // found after the cut-off: not yet in June's table.
    s.item("500157", 4, 42, Awning, Identified, None).found_at = t("2026-07-02 09:00");

    let r = s.run(&["500103", "500157"], june);
    let yuzhong = &r.rows[0].1;
    assert_eq!(
        yuzhong.awning,
        CategoryCells {
            buildings: 1,
            households: 3,
            completed_in_period: 1,
            completed_total: 2,
            pending_verify: 0
        }
    );
    assert_eq!(yuzhong.awning.rate_text(), "66.67");
    assert_eq!(
        yuzhong.net,
        CategoryCells {
            buildings: 2,
            households: 3,
            completed_in_period: 0,
            completed_total: 0,
            pending_verify: 1
        }
    );
    assert_eq!(yuzhong.net.rate_text(), "0.00");
    let liangjiang = &r.rows[1].1;
    assert_eq!(
        liangjiang.awning,
        CategoryCells {
            buildings: 1,
            households: 1,
            completed_in_period: 1,
            completed_total: 1,
            pending_verify: 0
        }
    );
    assert_eq!(liangjiang.net.rate_text(), "100.00");
    assert_eq!(
        r.total.awning,
        CategoryCells {
            buildings: 2,
            households: 4,
            completed_in_period: 2,
            completed_total: 3,
            pending_verify: 0
        }
    );
    assert_eq!(r.total.awning.rate_text(), "75.00");
    assert_eq!(
        r.total.net,
        CategoryCells {
            buildings: 3,
            households: 4,
            completed_in_period: 1,
            completed_total: 1,
            pending_verify: 1
        }
    );
    assert_eq!(r.total.net.rate_text(), "25.00");

    // July: h22's net (closed 07-01 00:00) completes, h11 stays cumulative.
    let july = settings.period(2026, 7).unwrap();
    let r = s.run(&["500103"], july);
    assert_eq!(
        (
            r.rows[0].1.net.completed_in_period,
            r.rows[0].1.net.completed_total
        ),
        (1, 1)
    );
    assert_eq!(
        (
            r.rows[0].1.awning.completed_in_period,
            r.rows[0].1.awning.completed_total
        ),
        (0, 2)
    );
}

#[test]
fn in_report_day_mode_23_30_on_the_25th_counts_in_that_month() {
    let settings = CampaignSettings::for_year(2026);
    let mut s = Scenario(vec![]);
    s.item("500103", 1, 1, Awning, Closed, Some("2026-06-25 23:30"));
    s.item("500103", 1, 2, Awning, Closed, Some("2026-06-26 00:00"));
    let june = s.run(&["500103"], settings.period(2026, 6).unwrap());
    assert_eq!(june.rows[0].1.awning.completed_in_period, 1);
    let july = s.run(&["500103"], settings.period(2026, 7).unwrap());
    assert_eq!(
        (
            july.rows[0].1.awning.completed_in_period,
            july.rows[0].1.awning.completed_total
        ),
        (1, 2)
    );
}

#[test]
fn an_item_submitted_after_the_cut_off_is_not_yet_awaiting_verification() {
    let settings = CampaignSettings::for_year(2026);
    let mut s = Scenario(vec![]);
    s.item("500103", 1, 1, Awning, PendingVerify, None)
        .state_since = Some(t("2026-06-20 10:00"));
    s.item("500103", 1, 2, Awning, PendingVerify, None)
        .state_since = Some(t("2026-05-20 10:00"));
    let may = s.run(&["500103"], settings.period(2026, 5).unwrap());
    assert_eq!(may.rows[0].1.awning.pending_verify, 1);
    let june = s.run(&["500103"], settings.period(2026, 6).unwrap());
    assert_eq!(june.rows[0].1.awning.pending_verify, 2);
}

#[test]
fn rate_is_a_dash_without_households_and_rounds_half_up() {
    assert_eq!(CategoryCells::default().rate_text(), "—");
    let c = CategoryCells {
        households: 3,
        completed_total: 2,
        ..Default::default()
    };
    assert_eq!(c.rate_centi(), Some(6667));
    let c = CategoryCells {
        households: 8,
        completed_total: 1,
        ..Default::default()
    };
    assert_eq!(c.rate_text(), "12.50");
    let c = CategoryCells {
        households: 200_000,
        completed_total: 1,
        ..Default::default()
    };
    assert_eq!(c.rate_text(), "0.00"); // 0.0005 % rounds to 0.00
}

#[test]
fn ungrouped_input_is_refused() {
    let settings = CampaignSettings::for_year(2026);
    let mut s = Scenario(vec![]);
    s.item("500103", 1, 1, Awning, Closed, Some("2026-06-01 10:00"));
    s.item("500103", 1, 2, Awning, Closed, Some("2026-06-01 10:00"));
    s.item("500103", 1, 1, Net, Closed, Some("2026-06-01 10:00"));
    let err = attachment2(
        &[unit("500103")],
        settings.period(2026, 6).unwrap(),
        s.0.clone(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ReportError::NotGrouped(HouseholdId(Uuid::from_u128(1)))
    );
}
