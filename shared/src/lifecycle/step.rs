//! The rules of each lifecycle step (DESIGN §4's table): from which states, by which roles, with
//! what requirements. [`check`] judges one event against the state(s) before it.

use std::collections::BTreeSet;

use super::{Frontier, Path};
use crate::event::{Event, EventKind, ItemState};
use crate::id::AccountId;
use crate::item::{replacement_acceptable, RemediationMethod};
use crate::role::Role;
use crate::settings::CampaignSettings;

/// Whether `e` is a legal step from `before`; the path after it if so.
pub(super) fn check(
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
