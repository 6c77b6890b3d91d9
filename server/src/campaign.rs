//! Campaign settings as stored on the server (one JSON row). Phones receive them at enrollment
//! and with every sync, so a deadline the city moves reaches every phone on its next sync.

use chrono::Datelike;
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::Timestamp;
use rusqlite::{Connection, OptionalExtension};

use crate::db::DbError;

/// The stored settings, or the defaults for the campaign year of `now` when none are stored.
pub fn load(conn: &Connection, now: Timestamp) -> Result<CampaignSettings, DbError> {
    let json: Option<String> = conn
        .query_row("SELECT json FROM campaign_settings WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    match json {
        Some(json) => {
            serde_json::from_str(&json).map_err(|e| DbError::corrupt("campaign settings", e))
        }
        None => Ok(CampaignSettings::for_year(now.local_date().year())),
    }
}

/// Replaces the stored settings.
pub fn store(conn: &Connection, settings: &CampaignSettings) -> Result<(), DbError> {
    let json =
        serde_json::to_string(settings).map_err(|e| DbError::corrupt("campaign settings", e))?;
    conn.execute(
        "INSERT INTO campaign_settings (id, json) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET json = excluded.json",
        [json],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::db::Db;

    #[test]
    fn defaults_follow_the_shanghai_year_until_settings_are_stored() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("t.sqlite3")).unwrap();
        // 2026-12-31 16:30 UTC is already 2027-01-01 in Shanghai.
        let new_year = Timestamp::parse_local("2027-01-01 00:30").unwrap();
        let settings = db.with_writer(|c| load(c, new_year)).unwrap();
        assert_eq!(settings, CampaignSettings::for_year(2027));
        let custom = CampaignSettings {
            persuasion_attempts: 3,
            ..CampaignSettings::for_year(2026)
        };
        db.with_writer(|c| store(c, &custom)).unwrap();
        db.with_writer(|c| store(c, &custom)).unwrap();
        assert_eq!(db.with_writer(|c| load(c, new_year)).unwrap(), custom);
    }
}
