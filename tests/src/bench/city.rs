//! A generated city for the 附件2 figure (DESIGN §10: ~40 units, ~36,000 high-rise buildings,
//! ~1 million households and items), written straight into the projection tables the report
//! reads (`p_building`, `p_household`, `p_item`) in one transaction. Going through documents
//! and sync would take hours and is measured separately; the report only ever reads these rows.
//!
//! The mix: units weighted by their number of streets; 8–38 households per building, a fifth of
//! them with both an awning and a net; one building in ten with a common-part item (no
//! household); 3 % of buildings below high-rise; surveys from March to November 2026; item
//! states from VOID to CLOSED in proportions like the demo's, with closing dates spread over the
//! months after each survey.

use std::path::Path;

use anyhow::Context;
use pengwang_shared::region::RegionCatalog;
use pengwang_shared::time::Timestamp;
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{params, Connection, Statement};
use uuid::Builder;

/// What was seeded.
#[derive(Clone, Copy, Debug, Default)]
pub struct City {
    pub units: usize,
    pub buildings: u64,
    pub households: u64,
    pub items: u64,
}

/// Item states (their codes) and their share of items, per mille.
const STATES: [(&str, u32); 9] = [
    ("void", 40),
    ("identified", 80),
    ("notified", 140),
    ("self_rectifying", 70),
    ("pending_verify", 100),
    ("refused", 30),
    ("transferred", 20),
    ("enforced_removed", 30),
    ("closed", 490),
];

const DAY: i64 = 86_400;

/// Where buildings of one unit go: its streets, each with its communities.
struct UnitPlaces {
    code: String,
    streets: Vec<(String, Vec<String>)>,
}

fn places(catalog: &RegionCatalog) -> Vec<UnitPlaces> {
    catalog
        .units
        .iter()
        .map(|u| UnitPlaces {
            code: u.code.to_string(),
            streets: catalog
                .streets_of(&u.code)
                .map(|s| {
                    let communities = catalog.communities_of(&s.code);
                    let mut c: Vec<String> = communities.map(|c| c.code.to_string()).collect();
                    if c.is_empty() {
                        c.push(format!("{}001", s.code)); // a street with no listed community
                    }
                    (s.code.to_string(), c)
                })
                .collect(),
        })
        .filter(|u| !u.streets.is_empty())
        .collect()
}

/// Seeds `items` hazard items into the database at `path` (created and migrated by the server
/// beforehand), deterministically from `seed`.
pub fn seed(path: &Path, catalog: &RegionCatalog, items: u64, seed: u64) -> anyhow::Result<City> {
    let units = places(catalog);
    let weights = WeightedIndex::new(units.iter().map(|u| u.streets.len()))
        .context("no reporting unit has streets")?;
    let mut conn = Connection::open(path)?;
    // Setup only, not the measured path: no fsync, and a cache that holds the indexes.
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576;")?;
    let tx = conn.transaction()?;
    let mut city = City {
        units: units.len(),
        ..City::default()
    };
    {
        let mut w = Writer::new(&tx, seed)?;
        while city.items < items {
            let unit = &units[weights.sample(&mut w.rng)];
            w.building(unit, items - city.items, &mut city)?;
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(city)
}

struct Writer<'c> {
    rng: StdRng,
    building: Statement<'c>,
    household: Statement<'c>,
    item: Statement<'c>,
    states: WeightedIndex<u32>,
    first_survey: i64,
    last_day: i64,
}

impl<'c> Writer<'c> {
    fn new(conn: &'c Connection, seed: u64) -> anyhow::Result<Writer<'c>> {
        Ok(Writer {
            rng: StdRng::seed_from_u64(seed),
            building: conn.prepare(
                "INSERT INTO p_building (id, unit_code, district_code, street_code, community_code, estate, estate_norm,
                    number, number_norm, address, building_use, height_m, floors, high_rise, needs_height_check,
                    survey_status, fields_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?7, ?8, 'residential', NULL, ?9, ?10, 0, 'surveyed', ?11)",
            )?,
            household: conn.prepare(
                "INSERT INTO p_household (id, building_id, unit_code, street_code, stair_unit, floor, room, room_norm,
                    survey_result, deleted, fields_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 'hazard', 0, ?8)",
            )?,
            item: conn.prepare(
                "INSERT INTO p_item (id, building_id, household_id, unit_code, street_code, community_code, category,
                    state, completed_at, found_at, high_rise, persuasion_count, forked, invalid_events, deleted, fields_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0, 0, 0, ?13)",
            )?,
            states: WeightedIndex::new(STATES.iter().map(|s| s.1))?,
            first_survey: Timestamp::parse_local("2026-03-02 09:00")?.0,
            last_day: Timestamp::parse_local("2026-11-30 18:00")?.0,
        })
    }

    /// A UUID v7 made at `at` (seconds), as the phone that recorded the record would make it.
    fn id(&mut self, at: i64) -> String {
        let random: [u8; 10] = self.rng.gen();
        let millis = (at * 1000) as u64 + self.rng.gen_range(0..1000);
        Builder::from_unix_timestamp_millis(millis, &random)
            .into_uuid()
            .to_string()
    }

    /// One building with its households and items, at most `room` items.
    fn building(&mut self, unit: &UnitPlaces, room: u64, city: &mut City) -> anyhow::Result<()> {
        let (street, communities) = &unit.streets[self.rng.gen_range(0..unit.streets.len())];
        let community = &communities[self.rng.gen_range(0..communities.len())];
        let surveyed = self.rng.gen_range(self.first_survey..self.last_day);
        let floors: i64 = self.rng.gen_range(10..40);
        let high_rise = self.rng.gen_bool(0.97);
        let id = self.id(surveyed);
        let estate = format!("小区{}", self.rng.gen_range(1..400));
        let number = format!("{}栋", self.rng.gen_range(1..30));
        let fields = format!(r#"{{"floors":{floors},"number":"{number}","use":"residential"}}"#);
        self.building.execute(params![
            id,
            unit.code,
            &street[..6],
            street,
            community,
            estate,
            number,
            format!("{estate}{number}"),
            floors,
            high_rise,
            fields
        ])?;
        city.buildings += 1;
        let place = Place {
            building: &id,
            unit: &unit.code,
            street,
            community,
            high_rise,
        };
        let mut left = room;
        if left > 0 && self.rng.gen_bool(0.1) {
            self.item(&place, None, "net", surveyed)?;
            left -= 1;
        }
        let households = self.rng.gen_range(8..39);
        for n in 0..households {
            if left == 0 {
                break;
            }
            let at = surveyed + n * 300;
            let h = self.id(at);
            let floor = self.rng.gen_range(2..floors);
            let room_no = format!("{}-{floor}{:02}", n % 2 + 1, n / 2 + 1);
            let fields = format!(
                r#"{{"floor":{floor},"owner_name":"张三","owner_phone":"13812341234","room":"{room_no}","survey_result":"hazard","unit":"{}"}}"#,
                n % 2 + 1
            );
            self.household.execute(params![
                h,
                id,
                unit.code,
                street,
                (n % 2 + 1).to_string(),
                floor,
                room_no,
                fields
            ])?;
            city.households += 1;
            let both = self.rng.gen_bool(0.2);
            let first = if self.rng.gen_bool(0.55) {
                "awning"
            } else {
                "net"
            };
            for category in [first, if first == "awning" { "net" } else { "awning" }] {
                if left == 0 || (category != first && !both) {
                    break;
                }
                self.item(&place, Some(&h), category, at)?;
                left -= 1;
            }
        }
        city.items += room - left;
        Ok(())
    }

    fn item(
        &mut self,
        p: &Place<'_>,
        household: Option<&str>,
        category: &str,
        found: i64,
    ) -> anyhow::Result<()> {
        let state = STATES[self.states.sample(&mut self.rng)].0;
        let completed = (state == "closed").then(|| {
            let span = (self.last_day - found).clamp(DAY / 2, 120 * DAY);
            found + self.rng.gen_range(DAY / 4..=span)
        });
        let fields = if category == "awning" {
            r#"{"fire_grade":"B2","material":"sandwich_foam","position":"window"}"#
        } else {
            r#"{"position":"window","protrusion_cm":35.0}"#
        };
        let id = self.id(found);
        let persuasion: i64 = self.rng.gen_range(0..3);
        self.item.execute(params![
            id,
            p.building,
            household,
            p.unit,
            p.street,
            p.community,
            category,
            state,
            completed,
            found,
            p.high_rise,
            persuasion,
            fields
        ])?;
        Ok(())
    }
}

/// The building the next rows belong to.
struct Place<'a> {
    building: &'a str,
    unit: &'a str,
    street: &'a str,
    community: &'a str,
    high_rise: bool,
}
