//! Campaign settings (deadlines, report period, thresholds). Set by the city, sent to every
//! phone with each sync.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::event::ItemState;
use crate::time::Timestamp;

/// Escape-opening minimums (应急疏散逃生口), metres.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EscapeThresholds {
    pub min_width_m: f64,
    pub min_height_m: f64,
    pub max_sill_m: f64,
}

impl Default for EscapeThresholds {
    fn default() -> Self {
        Self {
            min_width_m: 0.8,
            min_height_m: 1.0,
            max_sill_m: 1.2,
        }
    }
}

/// How a month's reporting period is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodMode {
    /// 26th of last month 00:00 to the report day 24:00 (default).
    ReportDay,
    /// The calendar month, reported by the report day of the next month.
    CalendarMonth,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignSettings {
    /// The campaign year; phase deadlines fall in it.
    pub year: i32,
    /// Self-remediation deadline (06-30).
    pub self_remediation_deadline: NaiveDate,
    /// Enforcement (定点拆除) deadline (09-30).
    pub enforcement_deadline: NaiveDate,
    /// Everything done (12-31).
    pub completion_deadline: NaiveDate,
    /// 附件2 is due on this day each month (25).
    pub report_day: u32,
    pub period_mode: PeriodMode,
    /// Persuasion attempts (NOTIFIED events) before a refusal may be recorded.
    pub persuasion_attempts: u32,
    pub escape: EscapeThresholds,
}

impl CampaignSettings {
    pub fn for_year(year: i32) -> Self {
        let d = |m, day| NaiveDate::from_ymd_opt(year, m, day).expect("valid campaign date");
        Self {
            year,
            self_remediation_deadline: d(6, 30),
            enforcement_deadline: d(9, 30),
            completion_deadline: d(12, 31),
            report_day: 25,
            period_mode: PeriodMode::ReportDay,
            persuasion_attempts: 2,
            escape: EscapeThresholds::default(),
        }
    }

    /// The reporting period of the report due in `year`-`month` (ReportDay mode) or covering
    /// `year`-`month` (CalendarMonth mode).
    pub fn period(&self, year: i32, month: u32) -> Option<ReportPeriod> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let (start, end) = match self.period_mode {
            PeriodMode::CalendarMonth => (first, next_month(first)?),
            PeriodMode::ReportDay => {
                let prev = first.checked_sub_months(chrono::Months::new(1))?;
                let start = prev.with_day(self.report_day + 1).unwrap_or(first);
                let end = first.with_day(self.report_day)?.succ_opt()?;
                (start, end)
            }
        };
        Some(ReportPeriod {
            year,
            month,
            start: Timestamp::start_of(start),
            end: Timestamp::start_of(end),
        })
    }

    /// The deadline of the phase an item in `state` is in (DESIGN §4): self-remediation for
    /// items still with the owner, enforcement for refusals, `None` once it is CLOSED or VOID.
    pub fn phase_deadline(&self, state: ItemState) -> Option<NaiveDate> {
        Phase::of(state).map(|phase| match phase {
            Phase::SelfRemediation => self.self_remediation_deadline,
            Phase::Enforcement => self.enforcement_deadline,
        })
    }

    /// Overdue: not CLOSED (or VOID) after its phase deadline, local date `today`.
    pub fn is_overdue(&self, state: ItemState, today: NaiveDate) -> bool {
        self.phase_deadline(state)
            .is_some_and(|d| today > d.min(self.completion_deadline))
    }

    /// The period that contains `t`.
    pub fn period_containing(&self, t: Timestamp) -> Option<ReportPeriod> {
        let date = t.local_date();
        let (y, m) = (date.year(), date.month());
        let this = self.period(y, m)?;
        if t < this.start {
            let prev = date.checked_sub_months(chrono::Months::new(1))?;
            self.period(prev.year(), prev.month())
        } else if t >= this.end {
            let next = next_month(NaiveDate::from_ymd_opt(y, m, 1)?)?;
            self.period(next.year(), next.month())
        } else {
            Some(this)
        }
    }
}

fn next_month(first: NaiveDate) -> Option<NaiveDate> {
    first.checked_add_months(chrono::Months::new(1))
}

/// A reporting period: `start` inclusive, `end` exclusive (the cut-off).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPeriod {
    pub year: i32,
    pub month: u32,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl ReportPeriod {
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_day_period_runs_from_the_26th_to_the_25th_at_midnight() {
        let s = CampaignSettings::for_year(2026);
        let p = s.period(2026, 7).unwrap();
        assert_eq!(p.start, Timestamp::parse_local("2026-06-26 00:00").unwrap());
        assert_eq!(p.end, Timestamp::parse_local("2026-07-26 00:00").unwrap());
        assert!(p.contains(Timestamp::parse_local("2026-07-25 23:30").unwrap()));
        assert!(!p.contains(Timestamp::parse_local("2026-07-26 00:00").unwrap()));
        // January reaches back into December of the year before.
        let jan = s.period(2027, 1).unwrap();
        assert_eq!(
            jan.start,
            Timestamp::parse_local("2026-12-26 00:00").unwrap()
        );
    }

    #[test]
    fn calendar_month_period_includes_23_30_on_the_last_day() {
        let s = CampaignSettings {
            period_mode: PeriodMode::CalendarMonth,
            ..CampaignSettings::for_year(2026)
        };
        let june = s.period(2026, 6).unwrap();
        assert!(june.contains(Timestamp::parse_local("2026-06-30 23:30").unwrap()));
        assert!(!june.contains(Timestamp::parse_local("2026-07-01 00:00").unwrap()));
        let t = Timestamp::parse_local("2026-06-30 23:30").unwrap();
        assert_eq!(s.period_containing(t).unwrap().month, 6);
    }

    #[test]
    fn an_item_is_overdue_after_the_deadline_of_its_phase() {
        let s = CampaignSettings::for_year(2026);
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert!(!s.is_overdue(ItemState::Notified, d(6, 30)));
        assert!(s.is_overdue(ItemState::Notified, d(7, 1)));
        assert!(s.is_overdue(ItemState::PendingVerify, d(7, 1)));
        assert!(!s.is_overdue(ItemState::Transferred, d(9, 30)));
        assert!(s.is_overdue(ItemState::Transferred, d(10, 1)));
        assert!(!s.is_overdue(ItemState::Closed, d(12, 31)));
        assert!(!s.is_overdue(ItemState::Void, d(12, 31)));
    }

    #[test]
    fn period_containing_picks_next_month_after_the_report_day() {
        let s = CampaignSettings::for_year(2026);
        let t = Timestamp::parse_local("2026-06-27 09:00").unwrap();
        assert_eq!(s.period_containing(t).unwrap().month, 7);
        let t = Timestamp::parse_local("2026-06-25 23:30").unwrap();
        assert_eq!(s.period_containing(t).unwrap().month, 6);
    }
}

/// The phase an open item is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// 自行整改 (with the owner), due `self_remediation_deadline`.
    SelfRemediation,
    /// 拒改与定点拆除, due `enforcement_deadline`.
    Enforcement,
}

impl Phase {
    /// The phase of an item in `state` (DESIGN §4); `None` once it is CLOSED or VOID.
    pub fn of(state: ItemState) -> Option<Phase> {
        use ItemState as S;
        match state {
            S::Identified | S::Notified | S::SelfRectifying | S::PendingVerify => {
                Some(Phase::SelfRemediation)
            }
            S::Refused | S::Transferred | S::EnforcedRemoved => Some(Phase::Enforcement),
            S::Closed | S::Void => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::SelfRemediation => "自行整改阶段",
            Phase::Enforcement => "定点拆除阶段",
        }
    }
}
