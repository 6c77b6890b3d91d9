//! Who may delete what (DESIGN §4). Items are never deleted in the ordinary course: a record made
//! by mistake is VOIDed by the street. The only other removal is a `deleted` tombstone, allowed
//! to the record's creator while the item has nothing but its creation event. A household goes
//! the same way, once none of its items is live.

use pengwang_shared::document::{BuildingDoc, FieldValue, RecordRef};
use pengwang_shared::event::EventKind;
use pengwang_shared::id::AccountId;

use crate::error::CoreError;

/// Refuses, with the reason, a deletion `by` may not make.
pub(crate) fn check_delete(
    building: &BuildingDoc,
    record: RecordRef,
    by: AccountId,
) -> Result<(), CoreError> {
    let refuse = |why: String| Err(CoreError::NotAllowed(why));
    match record {
        RecordRef::Building => refuse("a building is never deleted; void its items instead".into()),
        RecordRef::Household(h) => {
            let household = building
                .households
                .get(&h)
                .ok_or_else(|| CoreError::NotFound {
                    what: "household",
                    id: h.to_string(),
                })?;
            if household.deleted {
                return refuse(format!("household {h} is already deleted"));
            }
            if !created_by(household.fields.get("created_by"), by) {
                return refuse(format!(
                    "only the person who recorded household {h} may delete it"
                ));
            }
            let live = building
                .items
                .values()
                .filter(|i| i.household == Some(h) && !i.deleted)
                .count();
            if live > 0 {
                return refuse(format!(
                    "household {h} still has {live} item(s); delete or void them first"
                ));
            }
            Ok(())
        }
        RecordRef::Item(i) => {
            let item = crate::editing::item_of(building, i)?;
            if item.deleted {
                return refuse(format!("item {i} is already deleted"));
            }
            if !created_by(item.fields.get("created_by"), by) {
                return refuse(format!(
                    "only the person who recorded item {i} may delete it; the street may void it"
                ));
            }
            let only_created = matches!(item.events.as_slice(), [e] if e.kind == EventKind::Create);
            if !only_created {
                return refuse(format!(
                    "item {i} has lifecycle events after its creation; it can no longer be deleted, only voided by the street"
                ));
            }
            Ok(())
        }
    }
}

fn created_by(field: Option<&FieldValue>, by: AccountId) -> bool {
    field.and_then(FieldValue::as_str) == Some(by.to_string().as_str())
}
