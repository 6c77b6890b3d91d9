//! The region hierarchy (区县 → 街道/乡镇 → 社区/村) and reporting units (填报单位).
//!
//! Reporting units are data: every district is one, and the 管委会 units (两江新区, 重庆高新区,
//! 万盛经开区) report apart from their host districts. Which unit a street reports under is an
//! editable mapping; the seed lives in `data/regions/` and ships with the product.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use crate::error::ParseError;

macro_rules! digit_code {
    ($(#[$doc:meta])* $name:ident, $digits:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                if s.len() == $digits && s.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(ParseError::new($what, s, concat!("expected ", $digits, " digits (GB/T 2260)")))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

digit_code!(
    /// 区县 code, e.g. `500103` 渝中区.
    DistrictCode, 6, "district code"
);
digit_code!(
    /// 街道/乡镇 code, e.g. `500103001`.
    StreetCode, 9, "street code"
);
digit_code!(
    /// 社区/村 code, e.g. `500103001001`.
    CommunityCode, 12, "community code"
);

impl StreetCode {
    pub fn district(&self) -> DistrictCode {
        DistrictCode(self.0[..6].to_owned())
    }
}

impl CommunityCode {
    pub fn street(&self) -> StreetCode {
        StreetCode(self.0[..9].to_owned())
    }
}

/// 填报单位: a district code, or a slug for a 管委会 without one (`CQGXQ`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (2..=12).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new(
                "reporting unit code",
                s,
                "expected 2–12 digits or capital letters",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&DistrictCode> for UnitCode {
    fn from(d: &DistrictCode) -> Self {
        Self(d.0.clone())
    }
}

impl TryFrom<String> for UnitCode {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl From<UnitCode> for String {
    fn from(c: UnitCode) -> String {
        c.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 区县.
    District,
    /// 管委会.
    Committee,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingUnit {
    pub code: UnitCode,
    pub name: String,
    pub kind: UnitKind,
    /// `YYYY-MM-DD`; units carry validity because divisions change.
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Street {
    pub code: StreetCode,
    pub name: String,
    /// The unit this street reports under (its district unless a 管委会 took it over).
    pub unit: UnitCode,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Community {
    pub code: CommunityCode,
    pub name: String,
}

/// The whole hierarchy, as seeded.
#[derive(Clone, Debug, Default)]
pub struct RegionCatalog {
    pub units: Vec<ReportingUnit>,
    pub districts: BTreeMap<DistrictCode, String>,
    pub streets: BTreeMap<StreetCode, Street>,
    pub communities: BTreeMap<CommunityCode, Community>,
}

/// The seed files, compiled in so a phone without signal can pick a street.
pub mod seed {
    pub const DISTRICTS: &str = include_str!("../../data/regions/chongqing-districts.csv");
    pub const STREETS: &str = include_str!("../../data/regions/chongqing-streets.csv");
    pub const COMMUNITIES: &str = include_str!("../../data/regions/chongqing-communities.csv");
    pub const UNITS: &str = include_str!("../../data/regions/reporting-units.csv");
    pub const UNIT_STREETS: &str = include_str!("../../data/regions/unit-streets.csv");
}

impl RegionCatalog {
    /// The Chongqing seed shipped in `data/regions/`.
    pub fn chongqing() -> Result<Self, ParseError> {
        Self::from_csv(
            seed::DISTRICTS,
            seed::STREETS,
            seed::COMMUNITIES,
            seed::UNITS,
            seed::UNIT_STREETS,
        )
    }

    pub fn from_csv(
        districts: &str,
        streets: &str,
        communities: &str,
        committees: &str,
        unit_streets: &str,
    ) -> Result<Self, ParseError> {
        let mut cat = RegionCatalog::default();
        for row in csv_rows(districts) {
            let code = DistrictCode::parse(field(&row, 0)?)?;
            let name = field(&row, 1)?.to_owned();
            cat.units.push(ReportingUnit {
                code: UnitCode::from(&code),
                name: name.clone(),
                kind: UnitKind::District,
                valid_from: None,
                valid_to: None,
            });
            cat.districts.insert(code, name);
        }
        for row in csv_rows(committees) {
            let opt = |i: usize| row.get(i).filter(|s| !s.is_empty()).cloned();
            cat.units.push(ReportingUnit {
                code: UnitCode::parse(field(&row, 0)?)?,
                name: field(&row, 1)?.to_owned(),
                kind: UnitKind::Committee,
                valid_from: opt(3),
                valid_to: opt(4),
            });
        }
        let mut takeover = BTreeMap::new();
        for row in csv_rows(unit_streets) {
            takeover.insert(
                StreetCode::parse(field(&row, 0)?)?,
                UnitCode::parse(field(&row, 1)?)?,
            );
        }
        for row in csv_rows(streets) {
            let code = StreetCode::parse(field(&row, 0)?)?;
            let unit = takeover
                .get(&code)
                .cloned()
                .unwrap_or_else(|| UnitCode::from(&code.district()));
            let name = field(&row, 1)?.to_owned();
            cat.streets
                .insert(code.clone(), Street { code, name, unit });
        }
        for row in csv_rows(communities) {
            let code = CommunityCode::parse(field(&row, 0)?)?;
            let name = field(&row, 1)?.to_owned();
            cat.communities
                .insert(code.clone(), Community { code, name });
        }
        Ok(cat)
    }

    pub fn unit(&self, code: &UnitCode) -> Option<&ReportingUnit> {
        self.units.iter().find(|u| &u.code == code)
    }

    /// The streets reporting under `unit`.
    pub fn streets_of<'a>(&'a self, unit: &'a UnitCode) -> impl Iterator<Item = &'a Street> + 'a {
        self.streets.values().filter(move |s| &s.unit == unit)
    }

    pub fn communities_of<'a>(
        &'a self,
        street: &'a StreetCode,
    ) -> impl Iterator<Item = &'a Community> + 'a {
        self.communities
            .values()
            .filter(move |c| &c.code.street() == street)
    }
}

fn field(row: &[String], i: usize) -> Result<&str, ParseError> {
    row.get(i).map(String::as_str).ok_or_else(|| {
        ParseError::new(
            "region row",
            row.join(","),
            format!("missing column {}", i + 1),
        )
    })
}

/// Rows of a simple CSV (header skipped; fields may be double-quoted, no escaped quotes).
fn csv_rows(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut fields = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            for ch in line.trim_end_matches('\r').chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
            }
            fields.push(cur);
            fields
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chongqing_seed_has_38_districts_3_committees_and_real_streets() {
        let cat = RegionCatalog::chongqing().unwrap();
        assert_eq!(cat.districts.len(), 38);
        assert_eq!(cat.units.len(), 41);
        assert_eq!(cat.streets.len(), 1031);
        assert_eq!(cat.communities.len(), 11270);
        let qixinggang = &cat.streets[&StreetCode::parse("500103001").unwrap()];
        assert_eq!(qixinggang.unit.as_str(), "500103");
        // 礼嘉街道 (渝北区) reports under 两江新区.
        let lijia = &cat.streets[&StreetCode::parse("500112019").unwrap()];
        assert_eq!(
            (lijia.name.as_str(), lijia.unit.as_str()),
            ("礼嘉街道", "500157")
        );
        assert_eq!(
            cat.unit(&UnitCode::parse("WSJKQ").unwrap()).unwrap().name,
            "万盛经开区"
        );
    }

    #[test]
    fn codes_refuse_wrong_lengths_with_the_value_in_the_message() {
        let err = StreetCode::parse("50010300").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid street code \"50010300\": expected 9 digits (GB/T 2260)"
        );
        assert_eq!(
            CommunityCode::parse("500103001001")
                .unwrap()
                .street()
                .as_str(),
            "500103001"
        );
    }
}
