//! One document's side of the automerge sync protocol, without I/O: what to push, and how to
//! take the server's reply. The server is the only peer, so one `State` per document suffices.

use automerge::sync::{Message, State, SyncDoc};
use automerge::{ActorId, AutoCommit};

use crate::error::CoreError;

/// What a request carries for one document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Push {
    /// Raw changes the server may lack: everything after the shared heads. Sending them with
    /// the first message is what lets the common case converge in one round trip.
    pub changes: Vec<u8>,
    /// An encoded sync message; empty when automerge has nothing to say.
    pub message: Vec<u8>,
}

impl Push {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.message.is_empty()
    }
}

/// The push for `doc`, advancing `st` as a sent message does.
pub(crate) fn push(doc: &mut AutoCommit, st: &mut State) -> Push {
    let changes = doc.save_after(&st.shared_heads);
    let message = doc
        .sync()
        .generate_sync_message(st)
        .map(Message::encode)
        .unwrap_or_default();
    Push { changes, message }
}

/// Applies the server's reply: its raw changes, then its sync message. Returns whether the
/// document now has exactly the server's heads. The actor is set again afterwards because the
/// first load into an empty document replaces the document inside automerge.
pub(crate) fn apply(
    doc: &mut AutoCommit,
    st: &mut State,
    changes: &[u8],
    message: &[u8],
    actor: &ActorId,
) -> Result<bool, CoreError> {
    let message = if message.is_empty() {
        None
    } else {
        Some(Message::decode(message).map_err(|e| {
            CoreError::Invalid(format!("unreadable sync message from the server: {e}"))
        })?)
    };
    if !changes.is_empty() {
        doc.load_incremental(changes)
            .map_err(|e| CoreError::Invalid(format!("unreadable changes from the server: {e}")))?;
    }
    if let Some(message) = message {
        doc.sync().receive_sync_message(st, message).map_err(|e| {
            CoreError::Invalid(format!("cannot apply the server's sync message: {e}"))
        })?;
    }
    doc.set_actor(actor.clone());
    Ok(in_sync(doc, st))
}

/// Whether the document's heads are the heads the server last announced.
pub(crate) fn in_sync(doc: &mut AutoCommit, st: &State) -> bool {
    let Some(theirs) = &st.their_heads else {
        return false;
    };
    let mut ours = doc.get_heads();
    let mut theirs = theirs.clone();
    ours.sort();
    theirs.sort();
    ours == theirs
}

#[cfg(test)]
#[path = "exchange_tests.rs"]
mod tests;
