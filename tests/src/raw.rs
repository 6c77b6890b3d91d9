//! `RawClient`: speaks the sync protocol by hand — for batches a well-behaved phone would never
//! send (garbage, truncated, forged authors) and for replaying one batch many times.

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit};
use pengwang_shared::document::{self, FieldValue};
use pengwang_shared::event::{Event, EventDetail, EventKind};
use pengwang_shared::id::{BuildingId, DeviceId, EventId, HouseholdId, ItemId};
use pengwang_shared::item::Category;
use pengwang_shared::protocol::{
    AccountInfo, DocPush, EnrollResponse, SyncRequest, SyncResponse, PROTOCOL_VERSION,
};
use pengwang_shared::role::Location;
use pengwang_shared::time::Timestamp;

use crate::field::photo;
use crate::server::TestServer;

#[derive(Clone)]
pub struct RawClient {
    pub base: String,
    pub token: String,
    pub device: DeviceId,
    pub account: AccountInfo,
    http: reqwest::Client,
}

/// An HTTP answer: status, body bytes.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn sync(&self) -> anyhow::Result<SyncResponse> {
        Ok(postcard::from_bytes(&self.body)?)
    }
}

impl RawClient {
    /// Enrolls a fresh device for `account` over HTTP.
    pub async fn enroll(server: &TestServer, account: &AccountInfo) -> anyhow::Result<RawClient> {
        let code = server.enrollment_code(account)?;
        let http = reqwest::Client::new();
        let resp: EnrollResponse = http
            .post(format!("{}/v1/enroll", server.url()))
            .header("pengwang-protocol", "1")
            .json(&serde_json::json!({ "code": code, "device_name": "raw" }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(RawClient {
            base: server.url(),
            token: resp.token,
            device: resp.device_id,
            account: resp.account,
            http,
        })
    }

    pub async fn post(&self, path: &str, body: Vec<u8>) -> anyhow::Result<Answer> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("pengwang-protocol", "1")
            .bearer_auth(&self.token)
            .header("content-type", "application/x-pengwang-sync")
            .body(body)
            .send()
            .await?;
        Ok(Answer {
            status: resp.status().as_u16(),
            body: resp.bytes().await?.to_vec(),
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header("pengwang-protocol", "1")
            .bearer_auth(&self.token)
            .send()
            .await?;
        Ok(Answer {
            status: resp.status().as_u16(),
            body: resp.bytes().await?.to_vec(),
        })
    }

    /// A postcard batch pushing each document whole.
    pub fn batch(docs: &mut [(BuildingId, AutoCommit)]) -> Vec<u8> {
        let docs = docs
            .iter_mut()
            .map(|(id, d)| DocPush {
                doc: *id,
                changes: d.save(),
                message: Vec::new(),
            })
            .collect();
        postcard::to_stdvec(&SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: 0,
            docs,
        })
        .expect("encodes")
    }

    /// A building with one household and one awning, authored as this device — or, with
    /// `forged`, with a creation event that names someone else.
    pub fn building(
        &self,
        loc: &Location,
        forged: Option<&AccountInfo>,
    ) -> anyhow::Result<(BuildingId, AutoCommit)> {
        let mut doc =
            AutoCommit::new().with_actor(ActorId::from(self.device.0.as_bytes().as_slice()));
        let id = BuildingId::new();
        document::create_building(
            &mut doc,
            id,
            loc,
            self.account.id,
            &[("number", FieldValue::Text("1栋".into()))],
        )?;
        let h = HouseholdId::new();
        document::add_household(&mut doc, h, self.account.id, &[])?;
        let author = forged.unwrap_or(&self.account);
        let create = Event {
            id: EventId::new(),
            kind: EventKind::Create,
            to: None,
            at: Timestamp::parse_local("2026-03-02 10:00")?,
            by: author.id,
            role: author.role,
            device: Some(self.device),
            note: String::new(),
            photos: vec![photo(7)],
            prev: vec![],
            detail: EventDetail::default(),
        };
        document::add_item(
            &mut doc,
            ItemId::new(),
            Category::Awning,
            Some(h),
            &[],
            &create,
        )?;
        doc.commit_with(
            CommitOptions::default()
                .with_message("raw")
                .with_time(create.at.0),
        );
        Ok((id, doc))
    }
}
