//! 附件2 — the monthly statistics table (DESIGN §6). Pure and deterministic: the server feeds it
//! the stored fold result of every item; nothing here reads a database or folds events.
//!
//! Per reporting unit and category (可燃雨棚, 突出外墙防护网), over high-rise buildings:
//! - 总户数: households with at least one non-VOID item of the category found by the cut-off;
//! - 楼栋总数: buildings with at least one such household;
//! - a household is completed when every such item is CLOSED; its date is the last closing;
//! - 本月完成: completion dates inside the period; 累计完成: completed by the cut-off;
//! - 整改率 = 累计 / 总户数 × 100, two decimals, "—" when 总户数 is 0;
//! - owner-claimed completions (PENDING_VERIFY) are counted apart and never in the columns;
//! - after a frozen month, the next one is counted against its snapshot ([`frozen`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::event::ItemState;
use crate::id::{BuildingId, HouseholdId};
use crate::item::Category;
use crate::region::UnitCode;
use crate::settings::ReportPeriod;
use crate::time::Timestamp;

mod progress;
pub use progress::attachment2_series;

mod frozen;

pub use frozen::{counting_period, Completions, Movement, Rebound};

/// One item as the report sees it: where it is and its stored fold result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportItem {
    pub unit: UnitCode,
    pub building: BuildingId,
    pub high_rise: bool,
    /// `None` for common parts: counted in the ledger, not in the household columns.
    pub household: Option<HouseholdId>,
    pub category: Category,
    pub state: ItemState,
    /// Set only when the fold counts the item completed.
    pub completed_at: Option<Timestamp>,
    pub found_at: Timestamp,
    /// When the current state began (from the fold). An item counts as awaiting verification
    /// in a period only if it was already waiting at its cut-off; `None` (unknown) counts.
    pub state_since: Option<Timestamp>,
}

/// The five columns of one category.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCells {
    /// 楼栋总数(栋)
    pub buildings: u64,
    /// 总户数(户)
    pub households: u64,
    /// 本月完成户数(户)
    pub completed_in_period: u64,
    /// 累计完成户数(户)
    pub completed_total: u64,
    /// Households whose remaining items all await verification (shown apart, never counted).
    pub pending_verify: u64,
    /// 本月反弹: households completed at the last frozen cut-off that no longer are (zero when
    /// the previous month is not frozen).
    #[serde(default)]
    pub rebound: Rebound,
}

impl CategoryCells {
    /// 整改率 in hundredths of a percent, rounded half up; `None` when 总户数 is 0.
    pub fn rate_centi(&self) -> Option<u64> {
        (self.households > 0)
            .then(|| (self.completed_total * 10_000 * 2 + self.households) / (self.households * 2))
    }

    /// 整改率 as printed: `"66.67"`, or `"—"`.
    pub fn rate_text(&self) -> String {
        match self.rate_centi() {
            Some(c) => format!("{}.{:02}", c / 100, c % 100),
            None => "—".into(),
        }
    }

    fn add(&mut self, o: &CategoryCells) {
        self.buildings += o.buildings;
        self.households += o.households;
        self.completed_in_period += o.completed_in_period;
        self.completed_total += o.completed_total;
        self.pending_verify += o.pending_verify;
        self.rebound.add(&o.rebound);
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    pub awning: CategoryCells,
    pub net: CategoryCells,
}

impl ReportRow {
    pub fn cells(&self, c: Category) -> &CategoryCells {
        match c {
            Category::Awning => &self.awning,
            Category::Net => &self.net,
        }
    }

    fn cells_mut(&mut self, c: Category) -> &mut CategoryCells {
        match c {
            Category::Awning => &mut self.awning,
            Category::Net => &mut self.net,
        }
    }

    /// The city total (合计) of unit rows.
    pub fn sum<'a>(rows: impl IntoIterator<Item = &'a ReportRow>) -> ReportRow {
        let mut total = ReportRow::default();
        for row in rows {
            total.awning.add(&row.awning);
            total.net.add(&row.net);
        }
        total
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment2 {
    pub period: ReportPeriod,
    /// One row per requested unit, in the order given (units with no items have zero rows).
    pub rows: Vec<(UnitCode, ReportRow)>,
    pub total: ReportRow,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error(
        "report input must be ordered by unit, then household: household {0} came out of order"
    )]
    NotGrouped(HouseholdId),
}

/// Computes 附件2 for `units` over `items`, each month counted on its own (no frozen snapshot).
/// Items must come ordered by (unit code, household id) — the order of an index on those
/// columns — so each household is one run of items and memory stays flat over a city's million
/// items (only building ids are kept, to count 楼栋). Out-of-order input is an error, not a wrong
/// table. Items of other units and of multi-storey buildings are skipped.
pub fn attachment2(
    units: &[UnitCode],
    period: ReportPeriod,
    items: impl IntoIterator<Item = ReportItem>,
) -> Result<Attachment2, ReportError> {
    Ok(attachment2_counted(units, period, Counting::default(), items)?.report)
}

/// What the count starts from and what it keeps.
#[derive(Clone, Debug, Default)]
pub struct Counting {
    /// Per unit, the completions of the frozen month that ends where this period starts. For
    /// such a unit 本月完成 = completed now and not then, 本月反弹 = completed then and not now,
    /// so a completion dated inside the frozen month that arrived after the freeze counts here.
    /// Units without one count 本月完成 by completion date.
    pub bases: HashMap<UnitCode, Completions>,
    /// Keep each unit's completions at this cut-off (to freeze them as the next month's base).
    pub collect: bool,
}

/// A computed table and, when asked for, the completions it counted per unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    pub report: Attachment2,
    /// In the order of `units`; empty unless [`Counting::collect`].
    pub completions: Vec<(UnitCode, Completions)>,
}

/// Hands `count` each household's items — high-rise, found before `cut_off`, the household's
/// items together — and checks the input is grouped by (unit, household) as the index reads it.
/// The one walk every 附件2 count (one period or a series of cut-offs) makes.
pub(crate) fn by_household(
    items: impl IntoIterator<Item = ReportItem>,
    cut_off: Timestamp,
    mut count: impl FnMut(&[ReportItem]),
) -> Result<(), ReportError> {
    let mut last: Option<(UnitCode, HouseholdId)> = None;
    let mut group: Vec<ReportItem> = Vec::new();
    for item in items {
        let Some(h) = item.household else { continue };
        if !item.high_rise || item.found_at >= cut_off {
            continue;
        }
        if group.first().is_some_and(|g| g.household != Some(h)) {
            count(&group);
            group.clear();
        }
        if group.is_empty() {
            let key = (item.unit.clone(), h);
            if last.as_ref().is_some_and(|l| *l >= key) {
                return Err(ReportError::NotGrouped(h));
            }
            last = Some(key);
        }
        group.push(item);
    }
    if !group.is_empty() {
        count(&group);
    }
    Ok(())
}

/// [`attachment2`] counted against frozen bases (DESIGN §6: an event dated inside a frozen
/// period counts in the first open period; 本月反弹).
pub fn attachment2_counted(
    units: &[UnitCode],
    period: ReportPeriod,
    mut counting: Counting,
    items: impl IntoIterator<Item = ReportItem>,
) -> Result<Counted, ReportError> {
    let index: BTreeMap<&UnitCode, usize> = units.iter().enumerate().map(|(i, u)| (u, i)).collect();
    let mut units_acc: Vec<UnitAcc> = units
        .iter()
        .map(|u| UnitAcc {
            base: counting.bases.remove(u),
            collected: counting.collect.then(Completions::default),
            ..Default::default()
        })
        .collect();
    by_household(items, period.end, |group| {
        if let Some(&u) = index.get(&group[0].unit) {
            units_acc[u].count_household(group, &period);
        }
    })?;
    let mut rows = Vec::with_capacity(units.len());
    let mut completions = Vec::new();
    for (code, acc) in units.iter().zip(units_acc) {
        let (row, collected) = acc.finish();
        if let Some(c) = collected {
            completions.push((code.clone(), c));
        }
        rows.push((code.clone(), row));
    }
    let total = ReportRow::sum(rows.iter().map(|(_, r)| r));
    Ok(Counted {
        report: Attachment2 {
            period,
            rows,
            total,
        },
        completions,
    })
}

/// One unit's row while its households stream past.
#[derive(Default)]
struct UnitAcc {
    row: ReportRow,
    buildings: [HashSet<BuildingId>; 2],
    /// The frozen base; entries are removed as their households are seen.
    base: Option<Completions>,
    collected: Option<Completions>,
}

impl UnitAcc {
    fn count_household(&mut self, items: &[ReportItem], period: &ReportPeriod) {
        let (base, collected) = (self.base.as_mut(), self.collected.as_mut());
        count_household_with(
            items,
            period,
            &mut self.row,
            &mut self.buildings,
            base,
            collected,
        );
    }

    /// The row, with base households never seen (their items gone from the table) as removed.
    fn finish(mut self) -> (ReportRow, Option<Completions>) {
        if let Some(base) = &self.base {
            self.row.awning.rebound.removed += base.awning.len() as u64;
            self.row.net.rebound.removed += base.net.len() as u64;
        }
        (self.row, self.collected)
    }
}

/// Adds one household's items to its unit's row, per category. With a frozen `base`, 本月完成 and
/// 本月反弹 are counted against it (and the household's entries taken out of it); `collected`
/// receives the household's completions at this cut-off.
fn count_household_with(
    items: &[ReportItem],
    period: &ReportPeriod,
    row: &mut ReportRow,
    buildings: &mut [HashSet<BuildingId>; 2],
    mut base: Option<&mut Completions>,
    mut collected: Option<&mut Completions>,
) {
    for (ci, category) in [Category::Awning, Category::Net].into_iter().enumerate() {
        let h = items.first().and_then(|i| i.household);
        let was_done = h.and_then(|h| base.as_deref_mut()?.of_mut(category).remove(&h));
        let live: Vec<&ReportItem> = items
            .iter()
            .filter(|i| i.category == category && i.state != ItemState::Void)
            .collect();
        let cells = row.cells_mut(category);
        let Some(first) = live.first() else {
            if was_done.is_some() {
                cells.rebound.removed += 1;
            }
            continue;
        };
        cells.households += 1;
        if buildings[ci].insert(first.building) {
            cells.buildings += 1;
        }
        let closed: Vec<Option<Timestamp>> = live
            .iter()
            .map(|i| i.completed_at.filter(|t| *t < period.end))
            .collect();
        if closed.iter().all(Option::is_some) {
            let done = closed.iter().flatten().max().copied();
            cells.completed_total += 1;
            let new = if base.is_some() {
                was_done.is_none()
            } else {
                done.is_some_and(|t| period.contains(t))
            };
            if new {
                cells.completed_in_period += 1;
            }
            if let (Some(c), Some(h), Some(done)) = (collected.as_deref_mut(), h, done) {
                c.of_mut(category).insert(h, done);
            }
            continue;
        }
        if let Some(done_at) = was_done {
            let found_later = live
                .iter()
                .zip(&closed)
                .any(|(i, c)| c.is_none() && i.found_at > done_at);
            if found_later {
                cells.rebound.new_item += 1;
            } else {
                cells.rebound.reopened += 1;
            }
        }
        if live
            .iter()
            .zip(&closed)
            .all(|(i, c)| c.is_some() || pending_at_cutoff(i, period))
        {
            cells.pending_verify += 1;
        }
    }
}

fn pending_at_cutoff(i: &ReportItem, period: &ReportPeriod) -> bool {
    i.state == ItemState::PendingVerify && i.state_since.is_none_or(|t| t < period.end)
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
