#![allow(clippy::unwrap_used)]

use automerge::sync::{Message, State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ReadDoc, ROOT};

use super::*;

/// The server's side of the protocol for one document, stateless per request like the real
/// one: apply the pushed changes, decode the persisted state, answer, persist the state.
struct Server {
    doc: AutoCommit,
    state: Vec<u8>,
}

impl Server {
    fn new() -> Self {
        Server {
            doc: AutoCommit::new().with_actor(actor(9)),
            state: Vec::new(),
        }
    }

    fn answer(&mut self, push: &Push) -> Push {
        if !push.changes.is_empty() {
            self.doc.load_incremental(&push.changes).unwrap();
        }
        let mut st = if self.state.is_empty() {
            State::new()
        } else {
            State::decode(&self.state).unwrap()
        };
        if !push.message.is_empty() {
            self.doc
                .sync()
                .receive_sync_message(&mut st, Message::decode(&push.message).unwrap())
                .unwrap();
        }
        let message = self
            .doc
            .sync()
            .generate_sync_message(&mut st)
            .map(Message::encode)
            .unwrap_or_default();
        self.state = st.encode();
        Push {
            changes: Vec::new(),
            message,
        }
    }
}

fn actor(n: u8) -> ActorId {
    ActorId::from([n; 16])
}

fn put(doc: &mut AutoCommit, key: &str, value: i64) {
    doc.put(ROOT, key, value).unwrap();
    doc.commit();
}

fn value(doc: &AutoCommit, key: &str) -> Option<i64> {
    doc.get(ROOT, key).unwrap().and_then(|(v, _)| v.as_i64())
}

/// One round trip from the persisted state; returns the new persisted state and "in sync".
fn round(doc: &mut AutoCommit, persisted: &[u8], server: &mut Server) -> (Vec<u8>, bool) {
    let mut st = if persisted.is_empty() {
        State::new()
    } else {
        State::decode(persisted).unwrap()
    };
    let reply = server.answer(&push(doc, &mut st));
    let in_sync = apply(doc, &mut st, &reply.changes, &reply.message, &actor(1)).unwrap();
    (st.encode(), in_sync)
}

#[test]
fn local_changes_reach_the_server_in_one_round_trip() {
    let mut doc = AutoCommit::new().with_actor(actor(1));
    put(&mut doc, "floors", 33);
    put(&mut doc, "units", 2);
    let mut server = Server::new();
    let (persisted, in_sync) = round(&mut doc, &[], &mut server);
    assert!(in_sync);
    assert_eq!(
        (value(&server.doc, "floors"), value(&server.doc, "units")),
        (Some(33), Some(2))
    );
    assert_eq!(
        State::decode(&persisted).unwrap().shared_heads,
        doc.get_heads()
    );
}

#[test]
fn changes_made_elsewhere_arrive_in_one_round_trip_from_the_persisted_state() {
    let mut doc = AutoCommit::new().with_actor(actor(1));
    put(&mut doc, "floors", 33);
    let mut server = Server::new();
    let (persisted, _) = round(&mut doc, &[], &mut server);
    put(&mut server.doc, "units", 4);
    let (persisted, in_sync) = round(&mut doc, &persisted, &mut server);
    assert!(in_sync);
    assert_eq!(value(&doc, "units"), Some(4));
    assert_eq!(
        State::decode(&persisted).unwrap().shared_heads,
        server.doc.get_heads()
    );
}

#[test]
fn an_unknown_document_arrives_whole_and_keeps_the_device_actor() {
    let mut server = Server::new();
    put(&mut server.doc, "floors", 18);
    let mut doc = AutoCommit::new().with_actor(actor(1));
    let (_, in_sync) = round(&mut doc, &[], &mut server);
    assert!(in_sync);
    assert_eq!(value(&doc, "floors"), Some(18));
    assert_eq!(doc.get_actor(), &actor(1));
    put(&mut doc, "units", 1);
    let last = doc.get_last_local_change().unwrap();
    assert_eq!(last.actor_id(), &actor(1));
}

#[test]
fn after_a_lost_reply_the_in_memory_state_is_stuck_and_the_persisted_one_converges() {
    let mut doc = AutoCommit::new().with_actor(actor(1));
    put(&mut doc, "floors", 33);
    let mut server = Server::new();
    let (persisted, _) = round(&mut doc, &[], &mut server);
    put(&mut doc, "units", 2);

    // The request reaches the server, the reply is lost.
    let mut in_memory = State::decode(&persisted).unwrap();
    server.answer(&push(&mut doc, &mut in_memory));
    // Reusing that state: automerge thinks its message is still in flight and says nothing.
    assert!(
        push(&mut doc, &mut in_memory).message.is_empty(),
        "the stuck state of automerge #772"
    );

    // Restarting from the persisted state converges in one more round trip.
    let (_, in_sync) = round(&mut doc, &persisted, &mut server);
    assert!(in_sync);
    assert_eq!(value(&server.doc, "units"), Some(2));
}

#[test]
fn an_edit_made_while_the_request_was_in_flight_is_not_in_sync_and_goes_next() {
    let mut doc = AutoCommit::new().with_actor(actor(1));
    put(&mut doc, "floors", 33);
    let mut server = Server::new();
    let mut st = State::new();
    let reply = server.answer(&push(&mut doc, &mut st));
    put(&mut doc, "units", 2);
    assert!(!apply(&mut doc, &mut st, &reply.changes, &reply.message, &actor(1)).unwrap());
    let next = push(&mut doc, &mut st);
    assert!(!next.changes.is_empty());
    let reply = server.answer(&next);
    assert!(apply(&mut doc, &mut st, &reply.changes, &reply.message, &actor(1)).unwrap());
    assert_eq!(value(&server.doc, "units"), Some(2));
}

#[test]
fn a_document_is_not_in_sync_before_the_server_announced_its_heads() {
    let mut doc = AutoCommit::new().with_actor(actor(1));
    assert!(!in_sync(&mut doc, &State::new()));
    assert!(apply(&mut doc, &mut State::new(), b"", b"garbage", &actor(1)).is_err());
}
