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

use crate::event::{Event, EventKind, ItemState};
use crate::id::{AccountId, EventId};
use crate::item::{replacement_acceptable, RemediationMethod};
use crate::role::Role;
use crate::settings::CampaignSettings;
use crate::time::Timestamp;

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

/// Whether `e` is a legal step from `before`; the path after it if so.
fn check(
    e: &Event,
    before: &Frontier,
    notices: u32,
    created: bool,
    s: &CampaignSettings,
) -> Result<Path, String> {
    use ItemState as S;
    let states: BTreeSet<ItemState> = before.iter().map(|(_, p)| p.state).collect();
    if e.kind == EventKind::Create {
        if !before.is_empty() || created {
            return Err("item already has a creation event".into());
        }
        require_role(
            e,
            |r| r.is_inspector() || r.is_street(),
            "an inspector or the street",
        )?;
        require(
            !e.photos.is_empty(),
            "recording a hazard needs at least one before photo",
        )?;
        return Ok(Path {
            state: S::Identified,
            closed_at: None,
            submitter: None,
            at: e.at,
            since: e.at,
        });
    }
    if before.is_empty() {
        return Err("item has no creation event before this".into());
    }
    if e.kind == EventKind::Resolve {
        return resolve(e, &states);
    }
    if states.len() > 1 {
        return Err("the item's history is forked: a supervisor must resolve it first".into());
    }
    let from = *states.first().expect("non-empty frontier");
    let submitters: Vec<AccountId> = before.iter().filter_map(|(_, p)| p.submitter).collect();
    let need_from = |allowed: &[ItemState]| -> Result<(), String> {
        if allowed.contains(&from) {
            Ok(())
        } else {
            Err(format!(
                "cannot {} an item that is {}",
                e.kind.label(),
                from.label()
            ))
        }
    };
    let inspector_or_street = |r: Role| r.is_inspector() || r.is_street();
    match e.kind {
        EventKind::Notify => {
            need_from(&[S::Identified, S::Notified, S::SelfRectifying])?;
            require_role(e, inspector_or_street, "an inspector or the street")?;
            require(
                e.detail.notice_method.is_some(),
                "a notice needs its method",
            )?;
        }
        EventKind::StartSelfRectify => {
            need_from(&[S::Notified])?;
            require_role(e, inspector_or_street, "an inspector or the street")?;
            require(
                e.detail.deadline.is_some(),
                "self-rectification needs a deadline",
            )?;
        }
        EventKind::Submit => {
            need_from(&[S::Identified, S::Notified, S::SelfRectifying])?;
            require_role(e, Role::is_inspector, "an inspector")?;
            check_submission(e, s)?;
        }
        EventKind::Close => {
            need_from(&[S::PendingVerify, S::EnforcedRemoved])?;
            require_role(e, Role::is_street, "the street")?;
            require(
                !submitters.contains(&e.by),
                "the person who submitted the fix cannot verify it",
            )?;
        }
        EventKind::ProposeRefusal => {
            need_from(&[S::Notified, S::SelfRectifying])?;
            require_role(e, Role::is_inspector, "an inspector")?;
        }
        EventKind::Refuse => {
            need_from(&[S::Notified, S::SelfRectifying])?;
            require_role(e, Role::is_street, "the street")?;
            let n = s.persuasion_attempts;
            require(
                notices >= n,
                &format!("refusal needs {n} persuasion attempts, the item has {notices}"),
            )?;
        }
        EventKind::Transfer => {
            need_from(&[S::Refused])?;
            require_role(e, Role::is_street, "the street")?;
            require(
                !e.note.trim().is_empty(),
                "a transfer needs the refusal reason",
            )?;
        }
        EventKind::Enforce => {
            need_from(&[S::Transferred])?;
            require_role(e, |r| r == Role::Enforcement, "the enforcement team")?;
            require(
                e.detail
                    .document_no
                    .as_deref()
                    .is_some_and(|d| !d.trim().is_empty()),
                "enforced removal needs the document number",
            )?;
            require(
                !e.photos.is_empty(),
                "enforced removal needs an enforcement photo",
            )?;
        }
        EventKind::Void => {
            require(
                !matches!(from, S::Closed | S::Void),
                &format!("cannot void an item that is {}", from.label()),
            )?;
            require_role(e, Role::is_street, "the street")?;
            require(!e.note.trim().is_empty(), "voiding needs a reason")?;
        }
        EventKind::Reopen => {
            need_from(&[S::Closed])?;
            require_role(e, Role::is_street, "the street")?;
            require(!e.note.trim().is_empty(), "reopening needs a reason")?;
        }
        EventKind::Return => {
            need_from(&[S::Refused, S::Transferred, S::PendingVerify])?;
            require_role(e, Role::is_street, "the street")?;
            require(!e.note.trim().is_empty(), "returning needs a reason")?;
        }
        EventKind::Create | EventKind::Resolve => unreachable!("handled above"),
    }
    let state = e.target().unwrap_or(from);
    // A proposal changes nothing, so the state keeps the time it began.
    let since = match e.target() {
        Some(_) => e.at,
        None => before.iter().map(|(_, p)| p.since).max().unwrap_or(e.at),
    };
    Ok(Path {
        state,
        closed_at: (state == S::Closed).then_some(e.at),
        submitter: matches!(e.kind, EventKind::Submit | EventKind::Enforce).then_some(e.by),
        at: e.at,
        since,
    })
}

fn resolve(e: &Event, states: &BTreeSet<ItemState>) -> Result<Path, String> {
    require_role(e, Role::is_street, "a supervisor (street checker or above)")?;
    require(
        states.len() > 1,
        "nothing to resolve: the item's history is not forked",
    )?;
    let to = e.to.ok_or("a resolution names the state it chooses")?;
    require(
        states.contains(&to),
        &format!(
            "a resolution must choose one of the branches' states, not {}",
            to.label()
        ),
    )?;
    Ok(Path {
        state: to,
        closed_at: (to == ItemState::Closed).then_some(e.at),
        submitter: None,
        at: e.at,
        since: e.at,
    })
}

fn check_submission(e: &Event, s: &CampaignSettings) -> Result<(), String> {
    let method = e.detail.method.ok_or("a completed fix needs its method")?;
    require(!e.photos.is_empty(), "a completed fix needs an after photo")?;
    match method {
        RemediationMethod::Replaced => {
            let grade = e
                .detail
                .new_grade
                .ok_or("a replacement needs the new material's fire grade")?;
            require(
                replacement_acceptable(grade, e.detail.grade_basis),
                "a replacement counts only with grade A, or B1 backed by a test report",
            )
        }
        RemediationMethod::EscapeOpening => {
            let o = e.detail.opening.ok_or("an escape opening needs its size")?;
            match o.shortfall(&s.escape) {
                Some(why) => Err(format!("the escape opening does not comply: {why}")),
                None => Ok(()),
            }
        }
        RemediationMethod::Removed | RemediationMethod::MovedInside => Ok(()),
    }
}

fn require(ok: bool, why: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(why.to_owned())
    }
}

fn require_role(e: &Event, allowed: impl Fn(Role) -> bool, who: &str) -> Result<(), String> {
    require(
        allowed(e.role),
        &format!(
            "only {who} may {}, not a {}",
            e.kind.label(),
            e.role.label()
        ),
    )
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
