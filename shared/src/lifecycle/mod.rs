//! The lifecycle fold (DESIGN §4): events → state, completion date, persuasion count, invalid
//! events and forks. The phone and the server both call [`fold`], so a phone shows exactly what
//! the ledger will count.
//!
//! Events form a DAG through `prev`. The fold walks them in a deterministic topological order
//! (ties by time, then id), so every replica gets the same answer whatever order changes arrived
//! in. An event that is not a legal step is kept, skipped, and reported with its reason; the
//! state after it is the state before it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

mod reason;
pub use reason::reason_in_chinese;
mod step;

use crate::event::{Event, EventKind, ItemState};
use crate::id::{AccountId, EventId};
use crate::settings::CampaignSettings;
use crate::time::Timestamp;
use step::check;

/// What the events of one item add up to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fold {
    /// The current state; `None` when no valid creation event exists. During a fork, the state of
    /// the most recent branch (for display only: a fork is never counted as completed).
    pub state: Option<ItemState>,
    /// Set only when the item counts as completed: CLOSED on every branch.
    pub completed_at: Option<Timestamp>,
    /// When the item was recorded (its creation event).
    pub found_at: Option<Timestamp>,
    /// When the current state began (the event that led to it); `None` during a fork.
    pub state_since: Option<Timestamp>,
    /// Valid notify events (劝导次数).
    pub persuasion_count: u32,
    pub invalid: Vec<InvalidEvent>,
    /// Concurrent branches leading to different states: a conflict for a supervisor. Empty when
    /// there is none.
    pub fork: Vec<Branch>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidEvent {
    pub event: EventId,
    pub reason: String,
}

/// One branch of a fork: its latest event and the state it leads to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub event: EventId,
    pub state: ItemState,
}

impl Fold {
    pub fn is_forked(&self) -> bool {
        !self.fork.is_empty()
    }
}

/// The state reached along one path through the DAG.
#[derive(Clone, Debug, PartialEq)]
struct Path {
    state: ItemState,
    closed_at: Option<Timestamp>,
    submitter: Option<AccountId>,
    at: Timestamp,
    /// When `state` began on this path.
    since: Timestamp,
}

/// The latest events reached and the path state after each.
type Frontier = Vec<(EventId, Path)>;

/// Folds an item's events. `deleted` is the item's tombstone, treated like VOID.
pub fn fold(events: &[Event], settings: &CampaignSettings, deleted: bool) -> Fold {
    let by_id: HashMap<EventId, &Event> = events.iter().map(|e| (e.id, e)).collect();
    let (order, cyclic) = topological_order(events, &by_id);
    let mut out = Fold::default();
    let mut after: HashMap<EventId, Frontier> = HashMap::new();
    let mut valid: HashSet<EventId> = HashSet::new();

    for e in &order {
        let before = frontier_of(e.prev.iter().filter_map(|p| after.get(p)));
        let verdict = if e.prev.iter().any(|p| !by_id.contains_key(p)) {
            Err("refers to an event this item does not have".to_owned())
        } else {
            let notices = count_valid_notices(e, &by_id, &valid);
            check(e, &before, notices, out.found_at.is_some(), settings)
        };
        match verdict {
            Ok(path) => {
                if e.kind == EventKind::Create {
                    out.found_at = Some(e.at);
                }
                if e.kind == EventKind::Notify {
                    out.persuasion_count += 1;
                }
                valid.insert(e.id);
                after.insert(e.id, vec![(e.id, path)]);
            }
            Err(reason) => {
                out.invalid.push(InvalidEvent {
                    event: e.id,
                    reason,
                });
                after.insert(e.id, before);
            }
        }
    }
    for e in cyclic {
        out.invalid.push(InvalidEvent {
            event: e,
            reason: "event graph has a cycle".into(),
        });
    }

    let superseded = ancestors_of_valid(&valid, &by_id);
    let leaves = frontier_of(
        order
            .iter()
            .filter(|e| valid.contains(&e.id) && !superseded.contains(&e.id))
            .filter_map(|e| after.get(&e.id)),
    );
    settle(&mut out, &leaves);
    if deleted {
        out.state = Some(ItemState::Void);
        out.completed_at = None;
        out.state_since = None;
        out.fork.clear();
    }
    out
}

/// The events nothing else names as `prev`: what a new event's `prev` should be.
pub fn head_events(events: &[Event]) -> Vec<EventId> {
    let named: HashSet<EventId> = events.iter().flat_map(|e| e.prev.iter().copied()).collect();
    let mut heads: Vec<EventId> = events
        .iter()
        .map(|e| e.id)
        .filter(|id| !named.contains(id))
        .collect();
    heads.sort();
    heads
}

/// Whether `event` would be a legal step after `events`: `Err` with the fold's reason if not.
/// Phones and the console call this before writing, so they never record an illegal step.
pub fn admit(
    events: &[Event],
    event: &Event,
    settings: &CampaignSettings,
    deleted: bool,
) -> Result<(), String> {
    let mut all = events.to_vec();
    all.push(event.clone());
    match fold(&all, settings, deleted)
        .invalid
        .into_iter()
        .find(|i| i.event == event.id)
    {
        Some(invalid) => Err(invalid.reason),
        None => Ok(()),
    }
}

/// Final state from the leaves' frontier.
fn settle(out: &mut Fold, leaves: &Frontier) {
    let states: BTreeSet<ItemState> = leaves.iter().map(|(_, p)| p.state).collect();
    let latest = leaves.iter().max_by_key(|(id, p)| (p.at, *id));
    out.state = latest.map(|(_, p)| p.state);
    if states.len() > 1 {
        let mut fork: Vec<Branch> = leaves
            .iter()
            .map(|(id, p)| Branch {
                event: *id,
                state: p.state,
            })
            .collect();
        fork.sort_by_key(|b| b.event);
        out.fork = fork;
    } else {
        out.state_since = leaves.iter().map(|(_, p)| p.since).max();
        if states.first() == Some(&ItemState::Closed) {
            out.completed_at = leaves.iter().filter_map(|(_, p)| p.closed_at).max();
        }
    }
}

/// Union of frontiers, without repeats, in id order.
fn frontier_of<'a>(parts: impl Iterator<Item = &'a Frontier>) -> Frontier {
    let mut map: BTreeMap<EventId, Path> = BTreeMap::new();
    for part in parts {
        for (id, p) in part {
            map.insert(*id, p.clone());
        }
    }
    map.into_iter().collect()
}

/// Kahn's algorithm, ready events taken by (time, id). Returns the order and the ids left in
/// cycles. Unknown prevs are ignored here (and make the event invalid in the fold).
fn topological_order<'a>(
    events: &'a [Event],
    by_id: &HashMap<EventId, &'a Event>,
) -> (Vec<&'a Event>, Vec<EventId>) {
    let mut pending: HashMap<EventId, usize> = HashMap::new();
    let mut children: HashMap<EventId, Vec<EventId>> = HashMap::new();
    for e in by_id.values() {
        let known: BTreeSet<EventId> = e
            .prev
            .iter()
            .copied()
            .filter(|p| by_id.contains_key(p))
            .collect();
        pending.insert(e.id, known.len());
        for p in known {
            children.entry(p).or_default().push(e.id);
        }
    }
    let mut ready: BTreeSet<(Timestamp, EventId)> = pending
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| (by_id[id].at, *id))
        .collect();
    let mut order = Vec::with_capacity(events.len());
    while let Some(next) = ready.pop_first() {
        let e = by_id[&next.1];
        order.push(e);
        for c in children.get(&e.id).into_iter().flatten() {
            let n = pending.get_mut(c).expect("child is known");
            *n -= 1;
            if *n == 0 {
                ready.insert((by_id[c].at, *c));
            }
        }
    }
    let placed: HashSet<EventId> = order.iter().map(|e| e.id).collect();
    let mut cyclic: Vec<EventId> = by_id
        .keys()
        .filter(|id| !placed.contains(id))
        .copied()
        .collect();
    cyclic.sort();
    (order, cyclic)
}

/// Every event that is an ancestor of some valid event. A valid event outside this set is a leaf:
/// invalid events never supersede what they follow.
fn ancestors_of_valid(
    valid: &HashSet<EventId>,
    by_id: &HashMap<EventId, &Event>,
) -> HashSet<EventId> {
    let mut seen = HashSet::new();
    let mut stack: Vec<EventId> = valid
        .iter()
        .flat_map(|v| by_id[v].prev.iter().copied())
        .collect();
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            if let Some(a) = by_id.get(&id) {
                stack.extend(a.prev.iter().copied());
            }
        }
    }
    seen
}

/// Valid notify events among the ancestors of `e`.
fn count_valid_notices(
    e: &Event,
    by_id: &HashMap<EventId, &Event>,
    valid: &HashSet<EventId>,
) -> u32 {
    let mut seen = HashSet::new();
    let mut stack: Vec<EventId> = e.prev.clone();
    let mut n = 0;
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(a) = by_id.get(&id) {
            if a.kind == EventKind::Notify && valid.contains(&id) {
                n += 1;
            }
            stack.extend(a.prev.iter().copied());
        }
    }
    n
}

#[cfg(test)]
mod tests;
