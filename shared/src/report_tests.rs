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
            pending_verify: 0,
            rebound: Rebound::default()
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
            pending_verify: 1,
            rebound: Rebound::default()
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
            pending_verify: 0,
            rebound: Rebound::default()
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
            pending_verify: 0,
            rebound: Rebound::default()
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
            pending_verify: 1,
            rebound: Rebound::default()
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

/// March (calendar month) is frozen with these completions; April is counted against them.
fn march_base() -> Completions {
    let h = |n| HouseholdId(Uuid::from_u128(n));
    let mut base = Completions::default();
    for (n, done) in [
        (1, "2026-03-10 09:00"),
        (3, "2026-03-05 09:00"),
        (4, "2026-03-20 09:00"),
        (5, "2026-03-12 09:00"),
        (6, "2026-03-08 09:00"),
    ] {
        base.awning.insert(h(n), t(done));
    }
    base.net.insert(h(9), t("2026-03-15 09:00"));
    base
}

/// The hand count of April 2026 (calendar months), March frozen with [`march_base`]:
/// - h1 awning closed 03-10, in the base, still closed: neither done nor rebound;
/// - h2 awning closed 03-31 23:30 but synced after March was frozen: April's 本月完成;
/// - h3 awning closed 03-05, reopened in April: 反弹 (reopened);
/// - h4 awning closed 03-20, a second awning found 04-05: 反弹 (new item);
/// - h5 awning closed 03-12, voided in April: 反弹 (removed);
/// - h6 awning closed 03-08, building found multi-storey: 反弹 (removed, never seen);
/// - h7 awning found 04-01, closed 04-10: 本月完成;
/// - h8 awning found 04-02, owner-claimed since 04-20: 待核验, not done;
/// - h9 net closed 03-15, in the base: unchanged.
///
/// Awning: 总户数 h1 h2 h3 h4 h7 h8 = 6; 累计 h1 h2 h7 = 3; 本月完成 h2 h7 = 2;
/// 反弹 1 + 1 + 2 = 4; check 5 + 2 − 4 = 3.
fn april_items() -> Scenario {
    let mut s = Scenario(vec![]);
    s.item("500103", 1, 1, Awning, Closed, Some("2026-03-10 09:00"));
    s.item("500103", 1, 2, Awning, Closed, Some("2026-03-31 23:30"));
    s.item("500103", 1, 3, Awning, Notified, None);
    s.item("500103", 1, 4, Awning, Closed, Some("2026-03-20 09:00"));
    s.item("500103", 1, 4, Awning, Identified, None).found_at = t("2026-04-05 09:00");
    s.item("500103", 1, 5, Awning, Void, None);
    s.item("500103", 9, 6, Awning, Closed, Some("2026-03-08 09:00"))
        .high_rise = false;
    s.item("500103", 1, 7, Awning, Closed, Some("2026-04-10 09:00"))
        .found_at = t("2026-04-01 09:00");
    let h8 = s.item("500103", 1, 8, Awning, PendingVerify, None);
    h8.found_at = t("2026-04-02 09:00");
    h8.state_since = Some(t("2026-04-20 09:00"));
    s.item("500103", 1, 9, Net, Closed, Some("2026-03-15 09:00"));
    s
}

fn calendar() -> CampaignSettings {
    CampaignSettings {
        period_mode: PeriodMode::CalendarMonth,
        ..CampaignSettings::for_year(2026)
    }
}

impl Scenario {
    fn counted(&self, units: &[&str], p: ReportPeriod, counting: Counting) -> Counted {
        let mut items = self.0.clone();
        items.sort_by(|a, b| (&a.unit, a.household).cmp(&(&b.unit, b.household)));
        let units: Vec<UnitCode> = units.iter().map(|u| unit(u)).collect();
        attachment2_counted(&units, p, counting, items).unwrap()
    }
}

#[test]
fn after_a_frozen_month_completions_and_rebounds_are_counted_against_its_snapshot() {
    let april = calendar().period(2026, 4).unwrap();
    let counting = Counting {
        bases: [(unit("500103"), march_base())].into(),
        collect: true,
    };
    let c = april_items().counted(&["500103"], april, counting);
    let row = &c.report.rows[0].1;
    assert_eq!(
        row.awning,
        CategoryCells {
            buildings: 1,
            households: 6,
            completed_in_period: 2,
            completed_total: 3,
            pending_verify: 1,
            rebound: Rebound {
                reopened: 1,
                new_item: 1,
                removed: 2
            },
        }
    );
    assert_eq!(
        row.net,
        CategoryCells {
            buildings: 1,
            households: 1,
            completed_in_period: 0,
            completed_total: 1,
            pending_verify: 0,
            rebound: Rebound::default(),
        }
    );
    assert_eq!(c.report.total, *row);
    // The completions April would freeze: h1, h2, h7 (awning) and h9 (net), with their dates.
    let h = |n| HouseholdId(Uuid::from_u128(n));
    let (code, done) = &c.completions[0];
    assert_eq!(code, &unit("500103"));
    let mut awning: Vec<(HouseholdId, Timestamp)> = done.awning.clone().into_iter().collect();
    awning.sort();
    assert_eq!(
        awning,
        vec![
            (h(1), t("2026-03-10 09:00")),
            (h(2), t("2026-03-31 23:30")),
            (h(7), t("2026-04-10 09:00"))
        ]
    );
    assert_eq!(
        done.net.clone().into_iter().collect::<Vec<_>>(),
        vec![(h(9), t("2026-03-15 09:00"))]
    );
}

#[test]
fn without_the_freeze_a_late_completion_dated_in_march_would_be_lost_from_april() {
    let april = calendar().period(2026, 4).unwrap();
    let r = april_items().run(&["500103"], april);
    // Date-based: only h7 completed in April; h2 (dated 03-31) belongs to March's table, which
    // was already frozen without it — hence the base.
    assert_eq!(r.rows[0].1.awning.completed_in_period, 1);
    assert_eq!(r.rows[0].1.awning.completed_total, 3);
    assert_eq!(r.rows[0].1.awning.rebound, Rebound::default());
}

#[test]
fn the_rate_change_balances_and_names_why_the_rate_fell() {
    let april = calendar().period(2026, 4).unwrap();
    let counting = Counting {
        bases: [(unit("500103"), march_base())].into(),
        collect: false,
    };
    let c = april_items().counted(&["500103"], april, counting);
    // March as frozen: 6 households (h1–h6), 5 completed.
    let march = CategoryCells {
        buildings: 2,
        households: 6,
        completed_in_period: 5,
        completed_total: 5,
        ..Default::default()
    };
    let m = Movement::between(&march, &c.report.rows[0].1.awning);
    assert!(m.balances()); // 3 = 5 + 2 − 4
    assert_eq!((m.rate_before, m.rate_now), (Some(8333), Some(5000)));
    assert!(m.rate_falls());
    assert_eq!(m.new_households(), 2); // h7, h8
    assert_eq!(
        m.reasons(),
        vec![
            "新发现隐患户 2 户",
            "已销号后反弹（重新打开） 1 户",
            "已完成户新发现隐患 1 户",
            "已完成户移出统计（作废或非高层） 2 户"
        ]
    );
    // A wrong 累计 does not balance.
    let wrong = CategoryCells {
        completed_total: 4,
        ..march
    };
    assert!(!Movement::between(&wrong, &c.report.rows[0].1.awning).balances());
    // The net column did not fall: no reasons.
    let net_before = CategoryCells {
        households: 1,
        completed_total: 1,
        ..Default::default()
    };
    let n = Movement::between(&net_before, &c.report.rows[0].1.net);
    assert!(n.balances() && !n.rate_falls() && n.reasons().is_empty());
}

#[test]
fn a_month_after_a_frozen_month_with_nothing_new_has_no_completions_and_no_rebound() {
    let cal = calendar();
    let s = april_items();
    let april = s.counted(
        &["500103"],
        cal.period(2026, 4).unwrap(),
        Counting {
            bases: [(unit("500103"), march_base())].into(),
            collect: true,
        },
    );
    let may_base = april.completions[0].1.clone();
    let may = s.counted(
        &["500103", "500157"],
        cal.period(2026, 5).unwrap(),
        Counting {
            bases: [(unit("500103"), may_base)].into(),
            collect: false,
        },
    );
    let a = may.report.rows[0].1.awning;
    assert_eq!(
        (
            a.households,
            a.completed_in_period,
            a.completed_total,
            a.rebound.total()
        ),
        (6, 0, 3, 0)
    );
    // A unit without a base is counted by date as before; the total adds both.
    assert_eq!(may.report.rows[1].1, ReportRow::default());
    assert_eq!(may.report.total, may.report.rows[0].1);
    assert!(may.completions.is_empty());
}

#[test]
fn an_event_dated_in_a_frozen_period_counts_in_the_first_open_one() {
    let cal = calendar();
    let at = t("2026-03-31 23:30");
    let month = |frozen: &[u32]| {
        counting_period(&cal, at, |y, m| y == 2026 && frozen.contains(&m))
            .unwrap()
            .month
    };
    assert_eq!(month(&[]), 3);
    assert_eq!(month(&[3]), 4);
    assert_eq!(month(&[3, 4]), 5);
    assert_eq!(month(&[2, 4]), 3);
    // Report-day periods: 23:30 on the 25th belongs to that month; frozen, it moves on.
    let report_day = CampaignSettings::for_year(2026);
    let at = t("2026-03-25 23:30");
    let p = counting_period(&report_day, at, |_, m| m == 3).unwrap();
    assert_eq!((p.month, p.start), (4, t("2026-03-26 00:00")));
}
