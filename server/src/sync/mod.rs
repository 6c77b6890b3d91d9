//! `POST /v1/sync` (DESIGN §7): one round trip carries every document that changed on either
//! side. Each pushed document is validated and stored on its own — a refused document gets its
//! own error and nothing of it is stored, the others are — and everything stored is committed
//! before the answer is sent, so retrying is always safe.

mod chunks;
mod incoming;
mod outgoing;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use pengwang_shared::protocol::{SyncRequest, SyncResponse, PROTOCOL_VERSION, SYNC_CONTENT_TYPE};
use std::collections::HashSet;

use crate::auth::AuthDevice;
use crate::db::DbError;
use crate::devices::Device;
use crate::error::AppError;
use crate::state::AppState;
use crate::{campaign, scope};

/// At most this many documents in one request.
const MAX_DOCS_PER_REQUEST: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/sync", post(sync))
}

async fn sync(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let role = device.account.role;
    if !role.syncs_documents() {
        return Err(AppError::forbidden(
            "console_account",
            format!(
                "a {} account works in the console and does not sync documents",
                role.code()
            ),
        ));
    }
    let body = body?;
    let req = decode(&body)?;
    tracing::info!(device = %device.id, docs = req.docs.len(), bytes = body.len(), "sync");
    let worker = state.clone();
    let resp = state
        .db
        .write(move |conn| handle(conn, &worker, &device, req))
        .await?;
    state.failpoint("sync.after_commit");
    let bytes = postcard::to_stdvec(&resp).map_err(AppError::internal)?;
    Ok(([(CONTENT_TYPE, SYNC_CONTENT_TYPE)], bytes).into_response())
}

/// The envelope: refused whole when it is not a well-formed batch.
fn decode(body: &[u8]) -> Result<SyncRequest, AppError> {
    if body.is_empty() {
        return Err(AppError::bad_request(
            "malformed_batch",
            "empty sync body: expected a postcard SyncRequest",
        ));
    }
    let (req, rest): (SyncRequest, &[u8]) = postcard::take_from_bytes(body).map_err(|e| {
        AppError::bad_request(
            "malformed_batch",
            format!(
                "sync body of {} bytes is not a valid batch: {e}",
                body.len()
            ),
        )
    })?;
    if !rest.is_empty() {
        return Err(AppError::bad_request(
            "malformed_batch",
            format!("{} unexpected bytes after the batch", rest.len()),
        ));
    }
    if req.protocol != PROTOCOL_VERSION {
        return Err(AppError::ProtocolMismatch {
            sent: req.protocol.to_string(),
        });
    }
    if req.docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(AppError::bad_request(
            "batch_too_large",
            format!(
                "{} documents in one batch; send at most {MAX_DOCS_PER_REQUEST}",
                req.docs.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    if let Some(dup) = req.docs.iter().find(|d| !seen.insert(d.doc)) {
        return Err(AppError::bad_request(
            "malformed_batch",
            format!("document {} appears twice in the batch", dup.doc),
        ));
    }
    Ok(req)
}

fn handle(
    conn: &mut rusqlite::Connection,
    state: &AppState,
    device: &Device,
    req: SyncRequest,
) -> Result<SyncResponse, AppError> {
    let now = state.now();
    let settings = campaign::load(conn, now)?;
    let mut docs = Vec::with_capacity(req.docs.len());
    let mut touched = Vec::new();
    for push in &req.docs {
        let outcome = incoming::apply(conn, state, device, &settings, push)?;
        touched.push(push.doc);
        docs.push(outcome);
    }
    let (more_docs, cursor, more) =
        outgoing::changed_elsewhere(conn, state, device, req.cursor, &touched)?;
    docs.extend(more_docs);
    let open_conflicts = open_conflicts(conn, device)?;
    Ok(SyncResponse {
        cursor,
        more,
        docs,
        settings,
        open_conflicts,
    })
}

fn open_conflicts(conn: &rusqlite::Connection, device: &Device) -> Result<u32, DbError> {
    let (filter, params) = scope::filter(&device.account.scope, "d", "estate_norm");
    let sql = format!(
        "SELECT COUNT(*) FROM p_conflict c JOIN doc d ON d.doc_id = c.doc_id WHERE {filter}"
    );
    Ok(conn.query_row(&sql, rusqlite::params_from_iter(params), |r| r.get(0))?)
}
