//! Roles and scopes: who may do what, and over which part of the city.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::ParseError;
use crate::region::{CommunityCode, StreetCode, UnitCode};

/// An account's role. Capabilities follow DESIGN §4's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 市住房城乡建委 task force.
    City,
    /// 区县牵头部门 / 专班.
    UnitLead,
    /// 街道 checker.
    StreetChecker,
    /// 社区网格员.
    CommunityInspector,
    /// 物业服务企业 staff (own estates only).
    PropertyStaff,
    /// 城市管理/综合执法.
    Enforcement,
    /// 消防救援: read-only.
    FireRescue,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::City,
        Role::UnitLead,
        Role::StreetChecker,
        Role::CommunityInspector,
        Role::PropertyStaff,
        Role::Enforcement,
        Role::FireRescue,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::City => "city",
            Role::UnitLead => "unit_lead",
            Role::StreetChecker => "street_checker",
            Role::CommunityInspector => "community_inspector",
            Role::PropertyStaff => "property_staff",
            Role::Enforcement => "enforcement",
            Role::FireRescue => "fire_rescue",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::City => "市级专班",
            Role::UnitLead => "区县牵头部门",
            Role::StreetChecker => "街道核查员",
            Role::CommunityInspector => "社区网格员",
            Role::PropertyStaff => "物业人员",
            Role::Enforcement => "执法队员",
            Role::FireRescue => "消防救援(只读)",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| ParseError::new("role", s, "expected one of city, unit_lead, street_checker, community_inspector, property_staff, enforcement, fire_rescue"))
    }

    /// "inspector" in DESIGN §4: records and follows up hazards door to door.
    pub fn is_inspector(self) -> bool {
        matches!(self, Role::CommunityInspector | Role::PropertyStaff)
    }

    /// "street" in DESIGN §4: verifies, refuses, transfers, voids; also resolves conflicts.
    pub fn is_street(self) -> bool {
        matches!(self, Role::StreetChecker | Role::UnitLead | Role::City)
    }

    /// Works in the field with a phone that holds the documents of its scope (DESIGN §1): the
    /// district lead, the city and fire-rescue work in the console, whose views mask personal data,
    /// and never receive raw documents.
    pub fn syncs_documents(self) -> bool {
        matches!(
            self,
            Role::CommunityInspector
                | Role::PropertyStaff
                | Role::StreetChecker
                | Role::Enforcement
        )
    }

    /// May change documents at all.
    pub fn can_write(self) -> bool {
        self != Role::FireRescue
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where a building sits: what scopes are checked against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub unit: UnitCode,
    pub street: StreetCode,
    pub community: CommunityCode,
    /// 小区 name.
    pub estate: String,
}

/// The part of the city an account sees and changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    City,
    Unit {
        unit: UnitCode,
    },
    Street {
        street: StreetCode,
    },
    Community {
        community: CommunityCode,
    },
    /// A property company's estates, each named within its community.
    Estates {
        community: CommunityCode,
        estates: Vec<String>,
    },
}

impl Scope {
    pub fn covers(&self, loc: &Location) -> bool {
        match self {
            Scope::City => true,
            Scope::Unit { unit } => &loc.unit == unit,
            Scope::Street { street } => &loc.street == street,
            Scope::Community { community } => &loc.community == community,
            Scope::Estates { community, estates } => {
                &loc.community == community
                    && estates
                        .iter()
                        .any(|e| normalize_name(e) == normalize_name(&loc.estate))
            }
        }
    }

    /// Whether this scope includes the whole reporting unit `unit` (report and ledger views).
    pub fn covers_unit(&self, unit: &UnitCode) -> bool {
        match self {
            Scope::City => true,
            Scope::Unit { unit: u } => u == unit,
            _ => false,
        }
    }

    /// A short human description, e.g. `street 500103001`.
    pub fn describe(&self) -> String {
        match self {
            Scope::City => "city".into(),
            Scope::Unit { unit } => format!("unit {unit}"),
            Scope::Street { street } => format!("street {street}"),
            Scope::Community { community } => format!("community {community}"),
            Scope::Estates { community, estates } => {
                format!("estates {} in community {community}", estates.join("/"))
            }
        }
    }
}

/// Names typed by different people differ in spacing and width; compare them normalised.
pub fn normalize_name(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            // Full-width ASCII (Ａ, １, －) to half-width.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Location {
        Location {
            unit: UnitCode::parse("500103").unwrap(),
            street: StreetCode::parse("500103001").unwrap(),
            community: CommunityCode::parse("500103001001").unwrap(),
            estate: "嘉华 大厦".into(),
        }
    }

    #[test]
    fn scopes_cover_only_their_part_of_the_city() {
        let l = loc();
        assert!(Scope::City.covers(&l));
        assert!(Scope::Unit {
            unit: UnitCode::parse("500103").unwrap()
        }
        .covers(&l));
        assert!(!Scope::Unit {
            unit: UnitCode::parse("500104").unwrap()
        }
        .covers(&l));
        assert!(Scope::Street {
            street: StreetCode::parse("500103001").unwrap()
        }
        .covers(&l));
        assert!(!Scope::Street {
            street: StreetCode::parse("500103002").unwrap()
        }
        .covers(&l));
        let estates = |e: &str| Scope::Estates {
            community: l.community.clone(),
            estates: vec![e.into()],
        };
        assert!(estates("嘉华大厦").covers(&l));
        assert!(!estates("融汇").covers(&l));
    }

    #[test]
    fn names_normalise_spaces_and_full_width() {
        assert_eq!(normalize_name(" 阳光 １００ Ａ栋"), "阳光100a栋");
    }
}
