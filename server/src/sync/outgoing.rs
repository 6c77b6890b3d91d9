//! Documents changed elsewhere since the device's cursor, in its scope: sent without being asked,
//! as the changes the device lacks beyond the heads it last shared (the whole compressed document
//! when it has none).

use automerge::sync::{Message, State as SyncState, SyncDoc};
use pengwang_shared::id::BuildingId;
use pengwang_shared::protocol::{DocOutcome, DocReply};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::devices::Device;
use crate::error::AppError;
use crate::state::AppState;
use crate::{documents, scope};

/// Replies for documents changed since `cursor`, the new cursor, and whether more remain.
pub(super) fn changed_elsewhere(
    conn: &Connection,
    state: &AppState,
    device: &Device,
    cursor: u64,
    skip: &[BuildingId],
) -> Result<(Vec<DocReply>, u64, bool), AppError> {
    let limit = state.config.max_docs_per_response;
    let (filter, mut args) = scope::filter(&device.account.scope, "d", "estate_norm");
    args.push(rusqlite::types::Value::Integer(cursor as i64));
    let sql = format!("SELECT doc_id, feed_seq FROM doc d WHERE {filter} AND d.feed_seq > ? ORDER BY d.feed_seq LIMIT {}", limit + 1);
    let mut stmt = conn.prepare(&sql)?;
    let rows: Vec<(String, i64)> = stmt
        .query_map(params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let more = rows.len() > limit;
    let mut replies = Vec::new();
    let mut last = 0;
    for (doc_id, seq) in rows.into_iter().take(limit) {
        last = seq;
        let Ok(id) = BuildingId::parse(&doc_id) else {
            continue;
        };
        if skip.contains(&id) {
            continue;
        }
        if let Some(reply) = reply_for(conn, device, id, state.now().0)? {
            replies.push(reply);
        }
    }
    let cursor = if more {
        last as u64
    } else {
        let max: Option<i64> = conn.query_row("SELECT MAX(feed_seq) FROM doc", [], |r| r.get(0))?;
        max.unwrap_or(0).max(cursor as i64) as u64
    };
    Ok((replies, cursor, more))
}

/// What the device lacks of one document, or `None` when it already has everything.
fn reply_for(
    conn: &Connection,
    device: &Device,
    id: BuildingId,
    now: i64,
) -> Result<Option<DocReply>, AppError> {
    let Some(doc) = documents::load(conn, id).map_err(AppError::internal)? else {
        return Ok(None);
    };
    let persisted: Option<Vec<u8>> = conn
        .query_row(
            "SELECT state FROM sync_state WHERE device_id = ?1 AND doc_id = ?2",
            params![device.id.to_string(), id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    let mut st = persisted
        .and_then(|b| SyncState::decode(&b).ok())
        .unwrap_or_default();
    if st.shared_heads == doc.get_heads() {
        return Ok(None);
    }
    let changes = if st.shared_heads.is_empty() {
        doc.save()
    } else {
        doc.save_after(&st.shared_heads)
    };
    let message = doc
        .generate_sync_message(&mut st)
        .map(Message::encode)
        .unwrap_or_default();
    // The device was sent everything up to these heads: remember them as shared, so the next
    // change goes as a delta rather than as the whole document again. If this answer is lost the
    // device is behind what the server assumes; its next push carries its real heads in the sync
    // message and the server's reply fills the gap (the e2e tests cover it).
    st.shared_heads = doc.get_heads();
    conn.execute(
        "INSERT INTO sync_state (device_id, doc_id, state, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id, doc_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        params![device.id.to_string(), id.to_string(), st.encode(), now],
    )?;
    Ok(Some(DocReply {
        doc: id,
        outcome: DocOutcome::Synced { changes, message },
    }))
}
