//! Scopes as SQL: every table that holds a building's place has `unit_code`, `street_code`,
//! `community_code` (and `doc` / `p_building` an estate), so one filter serves them all.

use pengwang_shared::role::{normalize_name, Scope};
use rusqlite::types::Value;

/// A `WHERE` fragment (for table alias `t`) limiting rows to `scope`, with its parameters.
/// `estate_col` names the normalised estate column of that table.
pub fn filter(scope: &Scope, t: &str, estate_col: &str) -> (String, Vec<Value>) {
    let text = |s: &str| Value::Text(s.to_owned());
    match scope {
        Scope::City => ("1 = 1".into(), vec![]),
        Scope::Unit { unit } => (format!("{t}.unit_code = ?"), vec![text(unit.as_str())]),
        Scope::Street { street } => (format!("{t}.street_code = ?"), vec![text(street.as_str())]),
        Scope::Community { community } => (
            format!("{t}.community_code = ?"),
            vec![text(community.as_str())],
        ),
        Scope::Estates { community, estates } => {
            let marks = vec!["?"; estates.len().max(1)].join(", ");
            let mut params = vec![text(community.as_str())];
            params.extend(estates.iter().map(|e| Value::Text(normalize_name(e))));
            if estates.is_empty() {
                params.push(Value::Null);
            }
            (
                format!("{t}.community_code = ? AND {t}.{estate_col} IN ({marks})"),
                params,
            )
        }
    }
}
