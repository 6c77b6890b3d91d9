//! One round of a sync against the store: which documents go, what each carries, and how each
//! reply is taken in and persisted.

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::sync::State;
use automerge::AutoCommit;
use pengwang_shared::id::BuildingId;
use pengwang_shared::protocol::{
    ApiError, DocOutcome, DocPush, DocReply, SyncRequest, SyncResponse, PROTOCOL_VERSION,
};

use super::exchange::{self, Push};
use super::MAX_DOCS_PER_REQUEST;
use crate::device::Device;
use crate::enrollment::to_json;
use crate::error::CoreError;
use crate::store::{key, OutboxEntry, Store};

/// The in-memory side of one sync call. Dropped with the call, never kept past a failure.
#[derive(Default)]
pub(crate) struct Session {
    /// Sync states advanced by this call's messages.
    states: HashMap<BuildingId, State>,
    /// Documents whose heads differed from the server's after its last reply.
    differing: BTreeSet<BuildingId>,
    /// Documents not to send again in this call: refused, or left unanswered.
    skip: HashSet<BuildingId>,
}

impl Session {
    pub fn has_differing(&self) -> bool {
        !self.differing.is_empty()
    }

    /// The documents due, at most a request's worth: queued ones first (oldest first, with
    /// their seq), then those still differing; and whether some had to wait.
    fn due(&self, outbox: Vec<OutboxEntry>) -> (Vec<(BuildingId, Option<i64>)>, bool) {
        let mut seen = HashSet::new();
        let queued = outbox.into_iter().map(|e| (e.doc, Some(e.seq)));
        let mut due: Vec<_> = queued
            .chain(self.differing.iter().map(|d| (*d, None)))
            .filter(|(doc, _)| !self.skip.contains(doc) && seen.insert(*doc))
            .collect();
        let deferred = due.len() > MAX_DOCS_PER_REQUEST;
        due.truncate(MAX_DOCS_PER_REQUEST);
        (due, deferred)
    }

    /// This call's state for `doc`, else the persisted one.
    fn take_state(&mut self, store: &Store, doc: BuildingId) -> Result<State, CoreError> {
        match self.states.remove(&doc) {
            Some(state) => Ok(state),
            None => persisted_state(store, doc),
        }
    }
}

/// A built request.
pub(crate) struct Round {
    /// The postcard-encoded [`SyncRequest`].
    pub body: Vec<u8>,
    pub sent: Vec<Sent>,
    /// More documents were due than fit in one request.
    pub deferred: bool,
}

/// A document in flight: its outbox seq when the request was built (if queued) and the state
/// its message advanced.
pub(crate) struct Sent {
    pub doc: BuildingId,
    pub seq: Option<i64>,
    pub state: State,
}

/// What applying a response did.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub received: usize,
    pub refused: Vec<(BuildingId, ApiError)>,
}

impl Device {
    /// The next request.
    pub(crate) fn build_round(&self, mut session: Session) -> Result<(Round, Session), CoreError> {
        let mut docs = self.docs();
        let store = self.store();
        let cursor = match store.meta(key::CURSOR)? {
            Some(text) => text
                .parse::<u64>()
                .map_err(|e| CoreError::Storage(format!("stored cursor {text:?}: {e}")))?,
            None => 0,
        };
        let (due, deferred) = session.due(store.outbox()?);
        let (mut pushes, mut sent) = (Vec::new(), Vec::new());
        for (doc, seq) in due {
            let Some(local) = self.try_cached(&mut docs, &store, doc)? else {
                continue;
            };
            let mut state = session.take_state(&store, doc)?;
            let push = exchange::push(local, &mut state);
            if push.is_empty() {
                // Nothing more to say about it in this call.
                session.differing.remove(&doc);
                session.states.insert(doc, state);
                continue;
            }
            let Push { changes, message } = push;
            pushes.push(DocPush {
                doc,
                changes,
                message,
            });
            sent.push(Sent { doc, seq, state });
        }
        let request = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor,
            docs: pushes,
        };
        let body = postcard::to_stdvec(&request)
            .map_err(|e| CoreError::Invalid(format!("cannot encode the sync request: {e}")))?;
        Ok((
            Round {
                body,
                sent,
                deferred,
            },
            session,
        ))
    }

    /// Takes in every reply of a response, then the cursor and settings.
    pub(crate) fn apply_round(
        &self,
        mut session: Session,
        sent: Vec<Sent>,
        response: SyncResponse,
    ) -> Result<(Applied, Session), CoreError> {
        let mut sent: HashMap<BuildingId, Sent> = sent.into_iter().map(|s| (s.doc, s)).collect();
        let mut applied = Applied::default();
        session.differing.clear();
        for reply in response.docs {
            let in_flight = sent.remove(&reply.doc);
            self.apply_reply(&mut session, in_flight, reply, &mut applied)?;
        }
        // A document the server did not answer restarts from its persisted state next call.
        for doc in sent.into_keys() {
            session.states.remove(&doc);
            session.skip.insert(doc);
        }
        let settings = to_json(&response.settings)?;
        self.store().set_meta(&[
            (key::CURSOR, response.cursor.to_string()),
            (key::SETTINGS, settings),
        ])?;
        self.set_cached_settings(response.settings);
        Ok((applied, session))
    }

    /// One document's reply. A refused document keeps its outbox row, now with the reason, and
    /// is not sent again in this call.
    fn apply_reply(
        &self,
        session: &mut Session,
        in_flight: Option<Sent>,
        reply: DocReply,
        applied: &mut Applied,
    ) -> Result<(), CoreError> {
        let doc = reply.doc;
        match reply.outcome {
            DocOutcome::Refused(err) => {
                session.states.remove(&doc);
                session.skip.insert(doc);
                self.store().set_outbox_error(doc, &err.to_string())?;
                applied.refused.push((doc, err));
            }
            DocOutcome::Synced { changes, message } => {
                let (mut state, seq) = match in_flight {
                    Some(s) => (s.state, s.seq),
                    None => (session.take_state(&self.store(), doc)?, None),
                };
                let (changed, in_sync) =
                    self.apply_synced(doc, &mut state, seq, &changes, &message)?;
                applied.received += usize::from(changed);
                if !in_sync {
                    session.differing.insert(doc);
                }
                session.states.insert(doc, state);
            }
        }
        Ok(())
    }

    /// Applies one document's reply and persists it in one transaction: the changes it brought,
    /// the new sync state, and the outbox row's removal when the document now equals the
    /// server's and did not change since the request was built. Returns (changed, in sync).
    pub(crate) fn apply_synced(
        &self,
        b: BuildingId,
        state: &mut State,
        seq: Option<i64>,
        changes: &[u8],
        message: &[u8],
    ) -> Result<(bool, bool), CoreError> {
        let actor = self.enrolled()?.actor();
        let mut docs = self.docs();
        let mut store = self.store();
        if self.try_cached(&mut docs, &store, b)?.is_none() {
            docs.insert(b, AutoCommit::new().with_actor(actor.clone()));
        }
        let doc = docs.get_mut(&b).ok_or_else(|| CoreError::NotFound {
            what: "building",
            id: b.to_string(),
        })?;
        let before = doc.get_heads();
        let in_sync = match exchange::apply(doc, state, changes, message, &actor) {
            Ok(in_sync) => in_sync,
            Err(e) => {
                docs.remove(&b);
                return Err(e);
            }
        };
        let after = doc.get_heads();
        if after.is_empty() {
            // A document this device does not have, and still has nothing of: keep no row.
            docs.remove(&b);
            return Ok((false, in_sync));
        }
        let changed = after != before;
        let chunk = if changed {
            doc.save_after(&before)
        } else {
            Vec::new()
        };
        let clear = if in_sync { seq } else { None };
        if let Err(e) = store.save_sync(b, &chunk, &state.encode(), clear, self.now()) {
            docs.remove(&b);
            return Err(e);
        }
        if changed {
            self.compact_if_due(&mut docs, &mut store, b);
        }
        Ok((changed, in_sync))
    }
}

/// The state persisted for `doc`, or a new one. An unreadable stored state only costs a full
/// resync, so it is replaced rather than failing the sync.
fn persisted_state(store: &Store, doc: BuildingId) -> Result<State, CoreError> {
    Ok(store
        .sync_state(doc)?
        .and_then(|bytes| State::decode(&bytes).ok())
        .unwrap_or_default())
}
