//! Identifiers. Records are keyed by UUIDs made on the device that created them (v7, so they
//! sort by creation time), which is what lets two offline phones create records without asking
//! anyone.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

use crate::error::ParseError;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn parse(s: &str) -> Result<Self, ParseError> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| ParseError::new($what, s, "not a UUID"))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                Self::parse(s)
            }
        }
    };
}

uuid_id!(
    /// 楼栋 — also the id of the building's automerge document.
    BuildingId,
    "building id"
);
uuid_id!(
    /// 户.
    HouseholdId,
    "household id"
);
uuid_id!(
    /// 隐患点位: one awning or one net.
    ItemId,
    "item id"
);
uuid_id!(
    /// One lifecycle event of an item.
    EventId,
    "event id"
);
uuid_id!(
    /// A server account (a person with a role and a scope).
    AccountId,
    "account id"
);
uuid_id!(
    /// One enrolled app install. Also the automerge actor of that install.
    DeviceId,
    "device id"
);

/// A photo, named by the SHA-256 of its stored JPEG bytes (64 lowercase hex digits).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhotoHash(String);

impl PhotoHash {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new(
                "photo hash",
                s,
                "expected 64 lowercase hex digits (SHA-256)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhotoHash {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl From<PhotoHash> for String {
    fn from(h: PhotoHash) -> String {
        h.0
    }
}

impl fmt::Display for PhotoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
