//! Where a new building can be recorded: the communities (社区) of the account's scope, from the
//! region seed compiled into `pengwang-shared`, so a phone without signal can still pick one.

use std::sync::OnceLock;

use pengwang_shared::region::{CommunityCode, RegionCatalog};
use pengwang_shared::role::{Location, Scope};
use serde::Serialize;

use crate::device::Device;
use crate::error::CoreError;

/// A community a building may be recorded in, with its street and reporting unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Place {
    pub community: String,
    pub community_name: String,
    pub street: String,
    pub street_name: String,
    pub unit: String,
}

/// The Chongqing seed, parsed once.
fn catalog() -> Result<&'static RegionCatalog, CoreError> {
    static CATALOG: OnceLock<Result<RegionCatalog, String>> = OnceLock::new();
    CATALOG
        .get_or_init(|| RegionCatalog::chongqing().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| CoreError::Storage(format!("region seed is unreadable: {e}")))
}

impl Device {
    /// The communities this account may record buildings in, by code.
    pub fn places(&self) -> Result<Vec<Place>, CoreError> {
        let scope = self.enrolled()?.account.scope;
        let cat = catalog()?;
        let mut out = Vec::new();
        for c in cat.communities.values() {
            let street_code = c.code.street();
            let Some(street) = cat.streets.get(&street_code) else {
                continue;
            };
            let location = Location {
                unit: street.unit.clone(),
                street: street_code.clone(),
                community: c.code.clone(),
                estate: String::new(),
            };
            let inside = match &scope {
                // Estates are named within their community: any estate name is checked later.
                Scope::Estates { community, .. } => community == &c.code,
                other => other.covers(&location),
            };
            if inside {
                out.push(Place {
                    community: c.code.to_string(),
                    community_name: c.name.clone(),
                    street: street_code.to_string(),
                    street_name: street.name.clone(),
                    unit: street.unit.to_string(),
                });
            }
        }
        Ok(out)
    }

    /// The location of an estate in a community: its street and reporting unit come from the
    /// region seed.
    pub fn location_of(&self, community: &str, estate: &str) -> Result<Location, CoreError> {
        let code =
            CommunityCode::parse(community).map_err(|e| CoreError::Invalid(e.to_string()))?;
        let street = catalog()?
            .streets
            .get(&code.street())
            .ok_or_else(|| CoreError::NotFound {
                what: "street of community",
                id: community.to_owned(),
            })?;
        Ok(Location {
            unit: street.unit.clone(),
            street: street.code.clone(),
            community: code,
            estate: estate.trim().to_owned(),
        })
    }
}
