//! Wire types shared by the phone's sync client and the server (DESIGN §7).
//!
//! Sync bodies are postcard-encoded (`application/x-pengwang-sync`): documents travel as raw
//! automerge bytes, so a text encoding would inflate every change by a third. Every request carries
//! the protocol version in the `Pengwang-Protocol` header and in the envelope; errors come back as
//! JSON [`ApiError`]s.

use serde::{Deserialize, Serialize};

use crate::id::{AccountId, BuildingId, DeviceId};
use crate::role::{Role, Scope};
use crate::settings::CampaignSettings;

/// Major protocol version. The server refuses any other major with "please update the app".
pub const PROTOCOL_VERSION: u16 = 1;
/// Header carrying [`PROTOCOL_VERSION`] on every request.
pub const PROTOCOL_HEADER: &str = "pengwang-protocol";
/// Content type of postcard sync bodies.
pub const SYNC_CONTENT_TYPE: &str = "application/x-pengwang-sync";

/// POST /v1/enroll (JSON): trade a one-time enrollment code for a device token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    /// A human name for the phone, e.g. "张三的手机".
    pub device_name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: DeviceId,
    /// Bearer token for every later request. Revocable on the server.
    pub token: String,
    pub account: AccountInfo,
    pub settings: CampaignSettings,
}

/// Who a device (or a console session) acts for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub id: AccountId,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

/// POST /v1/sync: one round trip for every document that changed on either side.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncRequest {
    pub protocol: u16,
    /// The server's change-feed position this device has seen (0 at first).
    pub cursor: u64,
    pub docs: Vec<DocPush>,
}

/// One document in a request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DocPush {
    pub doc: BuildingId,
    /// Raw changes the server may lack: `save_after(shared heads)`; empty when nothing new.
    #[serde(with = "serde_bytes_compat")]
    pub changes: Vec<u8>,
    /// An encoded automerge sync message.
    #[serde(with = "serde_bytes_compat")]
    pub message: Vec<u8>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Advance the device's cursor to this once the response is applied.
    pub cursor: u64,
    /// More documents changed than fitted in this response: sync again.
    pub more: bool,
    pub docs: Vec<DocReply>,
    pub settings: CampaignSettings,
    /// Open conflicts on documents in this device's scope (for the app's badge).
    pub open_conflicts: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DocReply {
    pub doc: BuildingId,
    pub outcome: DocOutcome,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum DocOutcome {
    /// Stored (or already known). `changes` are raw changes (or a compressed document) the device
    /// lacks; `message` the server's sync message.
    Synced {
        #[serde(with = "serde_bytes_compat")]
        changes: Vec<u8>,
        #[serde(with = "serde_bytes_compat")]
        message: Vec<u8>,
    },
    /// Nothing of this document was stored; the device keeps it and may fix and retry.
    Refused(ApiError),
}

/// A JSON error body, and a refused document's reason. `code` is for programs, `message` for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// postcard already writes `Vec<u8>` as length + bytes; this module keeps the field attribute
/// explicit so a later switch to a self-describing format does not turn bytes into number lists.
mod serde_bytes_compat {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_bytes(V)
    }
}

/// POST /v1/conflicts/resolve (JSON): a supervisor's decision on one open conflict. The server
/// writes it into the document as a change authored by that account, which reaches every device
/// by sync.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResolveRequest {
    pub doc: BuildingId,
    pub record: crate::document::RecordRef,
    pub resolution: Resolution,
    #[serde(default)]
    pub note: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolution {
    /// A field conflict: the chosen (or newly written) value.
    Field {
        key: String,
        value: crate::document::FieldValue,
    },
    /// A tombstone conflict: keep the record deleted, or restore it.
    Deleted { keep_deleted: bool },
    /// A lifecycle fork: the state chosen among the branches'.
    Fork { to: crate::event::ItemState },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResolveResponse {
    /// The document's heads after the resolution (hex).
    pub heads: Vec<String>,
    /// What was decided, as written to the audit trail: kind, chosen value or state, what it
    /// replaced, the note (owner names and phones masked).
    pub decision: serde_json::Value,
}

/// POST /v1/photos/missing (JSON): which of these photos the server does not have yet. A phone
/// asks before uploading, so an interrupted upload resumes with only what did not arrive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotosMissingRequest {
    pub hashes: Vec<crate::id::PhotoHash>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotosMissingResponse {
    /// The subset of the asked hashes the server lacks, in the order asked.
    pub missing: Vec<crate::id::PhotoHash>,
    /// The asked hashes whose thumbnail the server lacks (a missing photo's included): an upload
    /// cut between a photo and its thumbnail resumes with the thumbnail.
    #[serde(default)]
    pub missing_thumbnails: Vec<crate::id::PhotoHash>,
}

/// Upload paths: `PUT /v1/photos/{hash}` (the stored JPEG, ≤ 2048 px) and
/// `PUT /v1/photos/{hash}/thumbnail` (its ≤ 320 px thumbnail), body `image/jpeg`. Idempotent: the
/// server re-hashes the photo and answers 200 whether it was new or already there.
pub const PHOTO_CONTENT_TYPE: &str = "image/jpeg";
