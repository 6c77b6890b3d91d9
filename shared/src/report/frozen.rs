//! Frozen tables (DESIGN §6): once a unit's 附件2 for a month is frozen its numbers never change,
//! so what happens later is counted against the frozen snapshot, in the first open period.
//!
//! - An event dated inside a frozen period counts in the first open period after it
//!   ([`counting_period`]): a completion dated in frozen March that arrives in April is April's
//!   本月完成.
//! - 本月反弹 (rebound): households completed at the last frozen cut-off that no longer are —
//!   an item reopened, a new item found, or the household left the table ([`Rebound`]).
//! - The check 累计(this) = 累计(last) + 本月完成 − 本月反弹, and why a rate falls ([`Movement`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::id::HouseholdId;
use crate::item::Category;
use crate::settings::{CampaignSettings, ReportPeriod};
use crate::time::Timestamp;

use super::CategoryCells;

/// The households counted completed at a cut-off, per category, each with the moment it
/// completed: the part of a frozen snapshot the next period is counted against.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completions {
    pub awning: HashMap<HouseholdId, Timestamp>,
    pub net: HashMap<HouseholdId, Timestamp>,
}

impl Completions {
    pub fn of(&self, c: Category) -> &HashMap<HouseholdId, Timestamp> {
        match c {
            Category::Awning => &self.awning,
            Category::Net => &self.net,
        }
    }

    pub fn of_mut(&mut self, c: Category) -> &mut HashMap<HouseholdId, Timestamp> {
        match c {
            Category::Awning => &mut self.awning,
            Category::Net => &mut self.net,
        }
    }
}

/// 本月反弹 of one category, by reason: households completed at the last frozen cut-off that are
/// no longer completed at this one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rebound {
    /// An item that was closed is open again (反弹 REOPENED, or an unresolved fork).
    pub reopened: u64,
    /// An item of the category found in the household after it had completed.
    pub new_item: u64,
    /// The household left the table: its items voided or deleted, or its building found not to
    /// be high-rise.
    pub removed: u64,
}

impl Rebound {
    pub fn total(&self) -> u64 {
        self.reopened + self.new_item + self.removed
    }

    pub(super) fn add(&mut self, o: &Rebound) {
        self.reopened += o.reopened;
        self.new_item += o.new_item;
        self.removed += o.removed;
    }
}

/// The period an event dated `at` counts in: the one that contains it, or, while that one is
/// frozen (`is_frozen(year, month)`), the first open period after it. `None` past the calendar.
pub fn counting_period(
    settings: &CampaignSettings,
    at: Timestamp,
    is_frozen: impl Fn(i32, u32) -> bool,
) -> Option<ReportPeriod> {
    let mut p = settings.period_containing(at)?;
    // A campaign freezes at most a few years of months; the bound only guards the loop.
    for _ in 0..1200 {
        if !is_frozen(p.year, p.month) {
            return Some(p);
        }
        p = settings.period_containing(p.end)?;
    }
    None
}

/// How one category moved from the last cut-off (`before`: the frozen snapshot, or the previous
/// month as computed now) to this one (`now`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// 累计(last)
    pub completed_before: u64,
    /// 本月完成
    pub completed_in_period: u64,
    /// 本月反弹
    pub rebound: Rebound,
    /// 累计(this)
    pub completed_now: u64,
    /// 总户数 then and now: a rise means new hazard households were found.
    pub households_before: u64,
    pub households_now: u64,
    /// 整改率 in hundredths of a percent, then and now (`None` without households).
    pub rate_before: Option<u64>,
    pub rate_now: Option<u64>,
}

impl Movement {
    pub fn between(before: &CategoryCells, now: &CategoryCells) -> Self {
        Movement {
            completed_before: before.completed_total,
            completed_in_period: now.completed_in_period,
            rebound: now.rebound,
            completed_now: now.completed_total,
            households_before: before.households,
            households_now: now.households,
            rate_before: before.rate_centi(),
            rate_now: now.rate_centi(),
        }
    }

    /// 累计(this) = 累计(last) + 本月完成 − 本月反弹.
    pub fn balances(&self) -> bool {
        self.completed_before + self.completed_in_period
            == self.completed_now + self.rebound.total()
    }

    /// Households added to 总户数 since the last cut-off, net of those that left the table.
    pub fn new_households(&self) -> i64 {
        self.households_now as i64 - self.households_before as i64 + self.rebound.removed as i64
    }

    pub fn rate_falls(&self) -> bool {
        matches!((self.rate_before, self.rate_now), (Some(b), Some(n)) if n < b)
    }

    /// Why the rate fell, in the console's words; empty when it did not fall.
    pub fn reasons(&self) -> Vec<String> {
        if !self.rate_falls() {
            return vec![];
        }
        let mut out = vec![];
        if self.new_households() > 0 {
            out.push(format!("新发现隐患户 {} 户", self.new_households()));
        }
        let r = &self.rebound;
        for (n, what) in [
            (r.reopened, "已销号后反弹（重新打开）"),
            (r.new_item, "已完成户新发现隐患"),
            (r.removed, "已完成户移出统计（作废或非高层）"),
        ] {
            if n > 0 {
                out.push(format!("{what} {n} 户"));
            }
        }
        out
    }
}
