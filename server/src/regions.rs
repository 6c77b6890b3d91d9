//! The region tables: seeded once from the shipped Chongqing catalog, then owned by the
//! database, because which unit a street reports under is edited there (divisions change).

use pengwang_shared::region::{
    Community, CommunityCode, DistrictCode, RegionCatalog, ReportingUnit, Street, StreetCode,
    UnitCode, UnitKind,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::db::DbError;

/// Copies `catalog` into empty region tables, in one transaction. Does nothing (returns false)
/// when units already exist, so restarts never overwrite edited mappings.
pub fn seed_if_empty(conn: &mut Connection, catalog: &RegionCatalog) -> Result<bool, DbError> {
    let units: i64 = conn.query_row("SELECT count(*) FROM reporting_unit", [], |r| r.get(0))?;
    if units > 0 {
        return Ok(false);
    }
    let tx = conn.transaction()?;
    insert_all(&tx, catalog)?;
    tx.commit()?;
    tracing::info!(
        units = catalog.units.len(),
        streets = catalog.streets.len(),
        communities = catalog.communities.len(),
        "seeded region tables"
    );
    Ok(true)
}

fn insert_all(conn: &Connection, catalog: &RegionCatalog) -> Result<(), rusqlite::Error> {
    let mut unit = conn.prepare("INSERT INTO reporting_unit VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for u in &catalog.units {
        unit.execute(params![
            u.code.as_str(),
            u.name,
            kind_code(u.kind),
            u.valid_from,
            u.valid_to
        ])?;
    }
    let mut district = conn.prepare("INSERT INTO district VALUES (?1, ?2)")?;
    for (code, name) in &catalog.districts {
        district.execute(params![code.as_str(), name])?;
    }
    let mut street = conn.prepare("INSERT INTO street VALUES (?1, ?2, ?3, ?4)")?;
    for s in catalog.streets.values() {
        street.execute(params![
            s.code.as_str(),
            s.name,
            s.code.district().as_str(),
            s.unit.as_str()
        ])?;
    }
    let mut community = conn.prepare("INSERT INTO community VALUES (?1, ?2, ?3)")?;
    for c in catalog.communities.values() {
        community.execute(params![c.code.as_str(), c.name, c.code.street().as_str()])?;
    }
    Ok(())
}

fn kind_code(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::District => "district",
        UnitKind::Committee => "committee",
    }
}

/// The hierarchy as the database holds it now (districts first, then 管委会 units).
pub fn load_catalog(conn: &Connection) -> Result<RegionCatalog, DbError> {
    let mut cat = RegionCatalog::default();
    let mut stmt = conn.prepare(
        "SELECT code, name, kind, valid_from, valid_to FROM reporting_unit ORDER BY kind = 'committee', code",
    )?;
    cat.units = stmt.query_map([], unit_row)?.collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare("SELECT code, name FROM district")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
        let (code, name) = row?;
        cat.districts
            .insert(parse(DistrictCode::parse(&code))?, name);
    }
    let mut stmt = conn.prepare("SELECT code, name, unit_code FROM street")?;
    for row in stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?))
    })? {
        let (code, name, unit) = row?;
        let street = Street {
            code: parse(StreetCode::parse(&code))?,
            name,
            unit: parse(UnitCode::parse(&unit))?,
        };
        cat.streets.insert(street.code.clone(), street);
    }
    let mut stmt = conn.prepare("SELECT code, name FROM community")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
        let (code, name) = row?;
        let community = Community {
            code: parse(CommunityCode::parse(&code))?,
            name,
        };
        cat.communities.insert(community.code.clone(), community);
    }
    Ok(cat)
}

fn unit_row(r: &Row<'_>) -> rusqlite::Result<ReportingUnit> {
    let code: String = r.get(0)?;
    let kind: String = r.get(2)?;
    let code = UnitCode::parse(&code).map_err(|e| conversion_error(0, e))?;
    let kind = if kind == "committee" {
        UnitKind::Committee
    } else {
        UnitKind::District
    };
    Ok(ReportingUnit {
        code,
        name: r.get(1)?,
        kind,
        valid_from: r.get(3)?,
        valid_to: r.get(4)?,
    })
}

fn conversion_error(col: usize, e: pengwang_shared::error::ParseError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
}

fn parse<T>(r: Result<T, pengwang_shared::error::ParseError>) -> Result<T, DbError> {
    r.map_err(|e| DbError::corrupt("region code", e))
}

/// The unit `street` reports under now, or `None` for an unknown street.
pub fn street_unit(conn: &Connection, street: &StreetCode) -> Result<Option<UnitCode>, DbError> {
    let unit: Option<String> = conn
        .query_row(
            "SELECT unit_code FROM street WHERE code = ?1",
            [street.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    unit.map(|u| parse(UnitCode::parse(&u))).transpose()
}

/// Whether `code` exists in the region table `table` (one of the four region tables).
pub fn exists(conn: &Connection, table: RegionTable, code: &str) -> Result<bool, DbError> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE code = ?1)",
        table.name()
    );
    Ok(conn.query_row(&sql, [code], |r| r.get(0))?)
}

/// The region tables, so callers cannot splice arbitrary SQL into [`exists`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionTable {
    Unit,
    District,
    Street,
    Community,
}

impl RegionTable {
    pub fn name(self) -> &'static str {
        match self {
            RegionTable::Unit => "reporting_unit",
            RegionTable::District => "district",
            RegionTable::Street => "street",
            RegionTable::Community => "community",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::db::Db;

    fn seeded() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("t.sqlite3")).unwrap();
        let cat = RegionCatalog::chongqing().unwrap();
        assert!(db.with_writer(|c| seed_if_empty(c, &cat)).unwrap());
        (dir, db)
    }

    #[test]
    fn the_seeded_tables_read_back_as_the_shipped_catalog() {
        let (_dir, db) = seeded();
        let loaded = db.with_writer(|c| load_catalog(c)).unwrap();
        let shipped = RegionCatalog::chongqing().unwrap();
        let mut units = shipped.units.clone();
        units.sort_by_key(|u| (u.kind == UnitKind::Committee, u.code.clone()));
        assert_eq!(loaded.units, units);
        assert_eq!(loaded.districts, shipped.districts);
        assert_eq!(loaded.streets, shipped.streets);
        assert_eq!(loaded.communities, shipped.communities);
    }

    #[test]
    fn seeding_twice_keeps_an_edited_street_mapping() {
        let (_dir, db) = seeded();
        let lijia = StreetCode::parse("500112019").unwrap();
        db.with_writer(|c| {
            c.execute(
                "UPDATE street SET unit_code = '500112' WHERE code = ?1",
                [lijia.as_str()],
            )?;
            seed_if_empty(c, &RegionCatalog::chongqing().unwrap())
        })
        .map(|seeded_again| assert!(!seeded_again))
        .unwrap();
        let unit = db.with_writer(|c| street_unit(c, &lijia)).unwrap();
        assert_eq!(unit.unwrap().as_str(), "500112");
    }

    #[test]
    fn street_unit_follows_the_committee_takeover_and_is_none_for_unknown_streets() {
        let (_dir, db) = seeded();
        let (lijia, unknown) = (
            StreetCode::parse("500112019").unwrap(),
            StreetCode::parse("500199999").unwrap(),
        );
        let units = db
            .with_writer(|c| Ok::<_, DbError>((street_unit(c, &lijia)?, street_unit(c, &unknown)?)))
            .unwrap();
        assert_eq!(units, (Some(UnitCode::parse("500157").unwrap()), None));
        assert!(db
            .with_writer(|c| exists(c, RegionTable::Unit, "CQGXQ"))
            .unwrap());
        assert!(!db
            .with_writer(|c| exists(c, RegionTable::Community, "500103001999"))
            .unwrap());
    }
}
