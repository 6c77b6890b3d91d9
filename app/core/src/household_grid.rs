//! Households generated as a grid: units × floors × rooms per floor (room 101, 102 … 1804), added
//! in one commit. Inspectors then edit the odd ones (a merged flat, a shop) one by one.

use pengwang_shared::document::{self, read, FieldValue};
use pengwang_shared::id::{BuildingId, HouseholdId};

use crate::device::Device;
use crate::editing::Target;
use crate::error::CoreError;

/// More households than this in one grid is a typo, not a building.
pub const MAX_GRID: u32 = 5_000;

impl Device {
    /// Adds the households of `units` stairwell units (单元 "1", "2" …), floors `1..=floors`
    /// and `rooms_per_floor` rooms on each (room `{floor}{nn}`: 101, 102 …), skipping any
    /// already recorded with the same unit, floor and room (a deleted one counts while it still
    /// holds live items). One commit; returns how many were added.
    pub fn add_household_grid(
        &self,
        b: BuildingId,
        units: u32,
        floors: u32,
        rooms_per_floor: u32,
    ) -> Result<usize, CoreError> {
        let total = units.saturating_mul(floors).saturating_mul(rooms_per_floor);
        if total == 0 || total > MAX_GRID {
            return Err(CoreError::Invalid(format!(
                "a grid of {units} units × {floors} floors × {rooms_per_floor} rooms is {total} households; expected 1 to {MAX_GRID}"
            )));
        }
        let mut added = 0;
        let message = format!("add household grid {units}x{floors}x{rooms_per_floor}");
        self.write_with_photos(b, &message, Target::Existing, &[], |doc, me, _| {
            let building = read(&*doc)?;
            // A household deleted while another phone recorded an item there is still present
            // (the street decides): a grid over it must not add a duplicate.
            let existing: Vec<(String, Option<i64>, String)> = building
                .households
                .iter()
                .filter(|(id, _)| crate::survey::listed(&building, **id))
                .map(|(_, h)| {
                    let text = |k: &str| {
                        h.fields
                            .get(k)
                            .and_then(FieldValue::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let floor = h.fields.get("floor").and_then(FieldValue::as_i64);
                    (text("unit"), floor, text("room"))
                })
                .collect();
            for unit in 1..=units {
                for floor in 1..=floors {
                    for r in 1..=rooms_per_floor {
                        let key = (
                            unit.to_string(),
                            Some(i64::from(floor)),
                            format!("{floor}{r:02}"),
                        );
                        if existing.contains(&key) {
                            continue;
                        }
                        let fields = [
                            ("unit", FieldValue::Text(key.0)),
                            ("floor", FieldValue::Int(i64::from(floor))),
                            ("room", FieldValue::Text(key.2)),
                        ];
                        document::add_household(doc, HouseholdId::new(), me.account.id, &fields)?;
                        added += 1;
                    }
                }
            }
            Ok(())
        })?;
        Ok(added)
    }
}
