//! The sync client: one HTTP round trip per batch of documents (DESIGN §7), then the photo
//! upload (`photos`, DESIGN §8).
//!
//! A round posts, for each document in the outbox (and each that still differs from the server),
//! the raw changes after the persisted shared heads plus an automerge sync message, and applies
//! the server's per-document replies. Each applied reply is persisted in one transaction; the
//! feed cursor and settings once the whole round is applied.
//!
//! In-memory sync states live only as long as one successful call. Any transport failure ends
//! the call and drops them: the next attempt starts again from the persisted states, because a
//! reused `State` after a lost message loops or falsely reports "done" (automerge #772, #1284).
//! Nothing of a failed round is persisted, and retrying is always safe (changes are
//! content-addressed, the server ignores duplicates).

mod exchange;
mod photos;
mod round;

use pengwang_shared::id::BuildingId;
use pengwang_shared::protocol::{ApiError, SyncResponse, SYNC_CONTENT_TYPE};
use tracing::instrument;

use crate::device::Device;
use crate::error::CoreError;
use crate::transport;

pub(crate) use round::Session;

/// Documents per request at most.
pub(crate) const MAX_DOCS_PER_REQUEST: usize = 100;
/// Round trips per sync at most (a stuck document must not keep the phone busy).
pub(crate) const MAX_ROUNDS: u32 = 20;

/// What one [`Device::sync`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncReport {
    /// HTTP round trips made.
    pub rounds: u32,
    /// Request body bytes sent, summed over rounds.
    pub bytes_up: u64,
    /// Response body bytes received, summed over rounds.
    pub bytes_down: u64,
    /// Documents pushed, summed over rounds.
    pub docs_sent: usize,
    /// Replies that changed a local document (new or updated), summed over rounds.
    pub docs_received: usize,
    /// Documents the server refused, with its reason. They stay in the outbox.
    pub refused: Vec<(BuildingId, ApiError)>,
    /// Open conflicts in this account's scope, as of the last response.
    pub open_conflicts: u32,
    /// Photos whose stored JPEG was uploaded (the server lacked them).
    pub photos_uploaded: usize,
    /// Photo and thumbnail body bytes sent.
    pub photo_bytes_up: u64,
    /// Photos the server has not confirmed after this sync: never "all synced" while > 0.
    pub photos_pending: usize,
    /// Why the photo upload stopped short (offline, refused), if it did. The documents' results
    /// stand; the photos stay pending and the next sync resumes them.
    pub photo_error: Option<String>,
}

impl Device {
    /// Syncs with the server until every document matches it (at most 20 round trips). A sync
    /// with an empty outbox still makes one round, to receive documents changed elsewhere.
    /// Then uploads the photos the server lacks; a failure there is reported in
    /// [`SyncReport::photo_error`] and leaves the photos pending, not the call failed.
    #[instrument(
        skip_all,
        fields(
            rounds,
            docs_sent,
            docs_received,
            refused,
            photos_uploaded,
            photos_pending
        ),
        err
    )]
    pub async fn sync(&self) -> Result<SyncReport, CoreError> {
        let outcome = self.sync_rounds().await;
        if let Some(values) = self.outcome_meta(&outcome) {
            self.blocking(move |d| d.store().set_meta(&values)).await?;
        }
        outcome
    }

    async fn sync_rounds(&self) -> Result<SyncReport, CoreError> {
        let _one_at_a_time = self.sync_lock().lock().await;
        let token = self.enrolled()?.token;
        let url = self.server_url().ok_or(CoreError::NotEnrolled)?;
        let mut session = Session::default();
        let mut report = SyncReport::default();
        let mut more = false;
        while report.rounds < MAX_ROUNDS {
            let (round, s) = self.blocking(move |d| d.build_round(session)).await?;
            session = s;
            if report.rounds > 0 && round.sent.is_empty() && !more {
                break;
            }
            report.docs_sent += round.sent.len();
            let response = self
                .round_trip(&url, &token, round.body, &mut report)
                .await?;
            more = response.more;
            report.open_conflicts = response.open_conflicts;
            let sent = round.sent;
            let (applied, s) = self
                .blocking(move |d| d.apply_round(session, sent, response))
                .await?;
            session = s;
            report.docs_received += applied.received;
            report.refused.extend(applied.refused);
            if !more && !round.deferred && !session.has_differing() {
                break;
            }
        }
        if let Err(e) = self.upload_photos(&url, &token, &mut report).await {
            tracing::warn!(error = %e, "photo upload stopped; the next sync resumes it");
            report.photo_error = Some(e.to_string());
        }
        report.photos_pending = self
            .blocking(|d| d.store().unconfirmed_photo_count())
            .await?;
        report.record(&tracing::Span::current());
        Ok(report)
    }

    /// One POST /v1/sync, counting the body bytes that actually crossed the wire.
    async fn round_trip(
        &self,
        url: &str,
        token: &str,
        body: Vec<u8>,
        report: &mut SyncReport,
    ) -> Result<SyncResponse, CoreError> {
        report.rounds += 1;
        report.bytes_up += body.len() as u64;
        let answer = transport::send(
            self.http(),
            reqwest::Method::POST,
            url,
            "/v1/sync",
            Some(token),
            SYNC_CONTENT_TYPE,
            body,
        )
        .await?;
        report.bytes_down += answer.len() as u64;
        postcard::from_bytes(&answer).map_err(|e| transport::undecodable("sync answer", e))
    }
}

impl SyncReport {
    fn record(&self, span: &tracing::Span) {
        span.record("rounds", self.rounds);
        span.record("docs_sent", self.docs_sent);
        span.record("docs_received", self.docs_received);
        span.record("refused", self.refused.len());
        span.record("photos_uploaded", self.photos_uploaded);
        span.record("photos_pending", self.photos_pending);
    }
}
