//! A change to a building document written on the server in an account's name — a supervisor's
//! conflict decision (`resolve`) or a console lifecycle step (`actions`). One path for both:
//! committed on a copy with the account's actor, the server's time and a message, stored like a
//! synced change, re-projected and audited in one SQLite transaction, so a phone receives it by
//! its next sync exactly as it would another phone's change.

use automerge::transaction::{CommitOptions, Transaction as DocTx};
use automerge::Automerge;
use pengwang_shared::document::BuildingDoc;
use pengwang_shared::id::{BuildingId, DeviceId};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::role::Location;
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::Timestamp;
use rusqlite::Connection;

use crate::audit::{self, Action, NewAudit};
use crate::error::AppError;
use crate::{documents, projection};

/// Who writes, about what, and how the audit trail names it.
pub struct Authored<'a> {
    pub account: &'a AccountInfo,
    /// The phone the decision came from; `None` from the console.
    pub device: Option<DeviceId>,
    pub building: BuildingId,
    pub location: &'a Location,
    /// The automerge commit message.
    pub message: String,
    pub action: Action,
    pub target: String,
    pub detail: String,
}

/// Commits `write` on a copy of `stored` as `who`, then stores, projects and audits it in one
/// transaction. A failed `write` leaves nothing behind (`failed` names its error); returns the
/// new document and its projection.
pub fn commit<E>(
    conn: &mut Connection,
    stored: &Automerge,
    who: &Authored<'_>,
    settings: &CampaignSettings,
    now: Timestamp,
    write: impl FnOnce(&mut DocTx<'_>) -> Result<(), E>,
    failed: impl FnOnce(E) -> AppError,
) -> Result<(Automerge, BuildingDoc), AppError> {
    let mut working = stored.fork();
    working.set_actor(documents::account_actor(who.account.id));
    let before = working.get_heads();
    working
        .transact_with(
            |_| {
                CommitOptions::default()
                    .with_message(who.message.clone())
                    .with_time(now.0)
            },
            write,
        )
        .map_err(|f| failed(f.error))?;
    let tx = conn.transaction()?;
    documents::append(
        &tx,
        who.building,
        &working,
        &before,
        who.location,
        who.device,
        now.0,
    )
    .map_err(AppError::internal)?;
    let projected =
        projection::project(&tx, &working, settings, now.0).map_err(AppError::internal)?;
    audit::record(
        &tx,
        &NewAudit {
            at: now,
            actor: Some(who.account.id),
            action: who.action,
            target: &who.target,
            detail: &who.detail,
        },
    )?;
    tx.commit()?;
    Ok((working, projected))
}
