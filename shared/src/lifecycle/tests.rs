#![allow(clippy::unwrap_used)]

use super::*;
use crate::event::EventDetail;
use crate::household::NoticeMethod;
use crate::id::{EventId, PhotoHash};
use crate::item::RemediationMethod;
use crate::item::{EscapeOpening, FireGrade, GradeBasis};
use crate::role::Role;
use crate::time::Timestamp;
use uuid::Uuid;

const INSPECTOR: u128 = 1;
const CHECKER: u128 = 2;
const OFFICER: u128 = 3;
const CHECKER_2: u128 = 4;

fn account(n: u128) -> AccountId {
    AccountId(Uuid::from_u128(n))
}

fn role_of(n: u128) -> Role {
    match n {
        INSPECTOR => Role::CommunityInspector,
        OFFICER => Role::Enforcement,
        _ => Role::StreetChecker,
    }
}

fn photo(n: u8) -> PhotoHash {
    PhotoHash::parse(&format!("{n:02x}").repeat(32)).unwrap()
}

/// A small event-history builder: each event follows the previous one unless told otherwise.
struct History {
    events: Vec<Event>,
    clock: i64,
}

impl History {
    fn new() -> Self {
        let mut h = History {
            events: vec![],
            clock: Timestamp::parse_local("2026-05-01 09:00").unwrap().0,
        };
        h.push(EventKind::Create, INSPECTOR, |e| e.photos = vec![photo(1)]);
        h
    }

    fn last(&self) -> EventId {
        self.events.last().unwrap().id
    }

    fn push(&mut self, kind: EventKind, by: u128, f: impl FnOnce(&mut Event)) -> EventId {
        let prev = self.events.last().map(|e| vec![e.id]).unwrap_or_default();
        self.push_after(prev, kind, by, f)
    }

    fn push_after(
        &mut self,
        prev: Vec<EventId>,
        kind: EventKind,
        by: u128,
        f: impl FnOnce(&mut Event),
    ) -> EventId {
        self.clock += 3600;
        let mut e = Event {
            id: EventId(Uuid::from_u128(self.events.len() as u128 + 100)),
            kind,
            to: None,
            at: Timestamp(self.clock),
            by: account(by),
            role: role_of(by),
            device: None,
            note: String::new(),
            photos: vec![],
            prev,
            detail: EventDetail::default(),
        };
        f(&mut e);
        let id = e.id;
        self.events.push(e);
        id
    }

    fn notify(&mut self) -> EventId {
        self.push(EventKind::Notify, INSPECTOR, |e| {
            e.detail.notice_method = Some(NoticeMethod::Written)
        })
    }

    fn submit_removed(&mut self) -> EventId {
        self.push(EventKind::Submit, INSPECTOR, removed)
    }

    fn fold(&self) -> Fold {
        fold(&self.events, &CampaignSettings::for_year(2026), false)
    }

    fn reasons(&self) -> Vec<String> {
        self.fold().invalid.into_iter().map(|i| i.reason).collect()
    }
}

fn removed(e: &mut Event) {
    e.detail.method = Some(RemediationMethod::Removed);
    e.photos = vec![photo(2)];
}

fn with_note(e: &mut Event) {
    e.note = "业主拒绝".into();
}

#[test]
fn creation_needs_a_before_photo() {
    let h = History::new();
    let f = h.fold();
    assert_eq!(f.state, Some(ItemState::Identified));
    assert_eq!(
        f.found_at,
        Some(Timestamp::parse_local("2026-05-01 10:00").unwrap())
    );
    assert!(f.invalid.is_empty());

    let mut bare = History {
        events: vec![],
        clock: 0,
    };
    bare.push(EventKind::Create, INSPECTOR, |_| {});
    assert_eq!(bare.fold().state, None);
    assert_eq!(bare.reasons(), ["登记隐患需要至少一张整改前照片"]);
}

#[test]
fn notify_counts_persuasion_and_needs_a_method() {
    let mut h = History::new();
    h.notify();
    h.notify();
    h.push(EventKind::Notify, INSPECTOR, |_| {});
    let f = h.fold();
    assert_eq!(f.state, Some(ItemState::Notified));
    assert_eq!(f.persuasion_count, 2);
    assert_eq!(h.reasons(), ["告知劝导需要选择告知方式"]);
}

#[test]
fn self_rectifying_needs_notice_first_and_a_deadline() {
    let mut h = History::new();
    h.push(EventKind::StartSelfRectify, INSPECTOR, |e| {
        e.detail.deadline = Some("2026-06-30".into())
    });
    h.notify();
    h.push(EventKind::StartSelfRectify, INSPECTOR, |_| {});
    h.push(EventKind::StartSelfRectify, INSPECTOR, |e| {
        e.detail.deadline = Some("2026-06-30".into())
    });
    assert_eq!(h.fold().state, Some(ItemState::SelfRectifying));
    assert_eq!(
        h.reasons(),
        [
            "这处隐患当前为“已登记”，不能进行“自行整改”",
            "自行整改需要填写整改期限"
        ]
    );
}

#[test]
fn owner_may_fix_before_any_notice_and_a_checker_closes_it() {
    let mut h = History::new();
    h.submit_removed();
    assert_eq!(h.fold().state, Some(ItemState::PendingVerify));
    assert_eq!(h.fold().completed_at, None);
    let close = h.push(EventKind::Close, CHECKER, |_| {});
    let f = h.fold();
    assert_eq!(f.state, Some(ItemState::Closed));
    assert_eq!(
        f.completed_at,
        Some(h.events.iter().find(|e| e.id == close).unwrap().at)
    );
}

#[test]
fn submission_needs_an_after_photo_and_an_acceptable_fix() {
    let mut h = History::new();
    h.push(EventKind::Submit, INSPECTOR, |e| {
        e.detail.method = Some(RemediationMethod::Removed)
    });
    h.push(EventKind::Submit, INSPECTOR, |e| {
        removed(e);
        e.detail.method = Some(RemediationMethod::Replaced);
        e.detail.new_grade = Some(FireGrade::B1);
        e.detail.grade_basis = Some(GradeBasis::Presumed);
    });
    h.push(EventKind::Submit, INSPECTOR, |e| {
        removed(e);
        e.detail.method = Some(RemediationMethod::EscapeOpening);
        e.detail.opening = Some(EscapeOpening {
            width_m: 0.7,
            height_m: 1.0,
            sill_m: 1.0,
            openable_inside: true,
        });
    });
    h.push(EventKind::Submit, CHECKER, removed);
    assert_eq!(h.fold().state, Some(ItemState::Identified));
    assert_eq!(
        h.reasons(),
        [
            "整改完成需要拍摄整改后照片",
            "更换只有 A 级，或有检测报告的 B1 级才算合格",
            "逃生口不符合要求：宽 0.70 m < 0.80 m",
            "街道核查员不能进行“整改完成待核查”，须由网格员或物业人员进行",
        ]
    );
    h.push(EventKind::Submit, INSPECTOR, |e| {
        removed(e);
        e.detail.method = Some(RemediationMethod::Replaced);
        e.detail.new_grade = Some(FireGrade::A);
    });
    assert_eq!(h.fold().state, Some(ItemState::PendingVerify));
}

#[test]
fn inspectors_cannot_close_and_nobody_verifies_their_own_fix() {
    let mut h = History::new();
    h.submit_removed();
    h.push(EventKind::Close, INSPECTOR, |_| {});
    assert_eq!(
        h.reasons(),
        ["社区网格员不能进行“复核销号”，须由街道核查员及以上进行"]
    );

    // A street checker who submitted the fix cannot verify it; another checker can.
    let mut h = History::new();
    let mut e = h.push(EventKind::Submit, INSPECTOR, removed);
    h.events.last_mut().unwrap().by = account(CHECKER);
    h.events.last_mut().unwrap().role = Role::PropertyStaff;
    e = h.push_after(vec![e], EventKind::Close, CHECKER, |_| {});
    assert_eq!(h.reasons(), ["提交整改的人不能自己复核销号"]);
    h.push_after(vec![e], EventKind::Close, CHECKER_2, |_| {});
    assert_eq!(h.fold().state, Some(ItemState::Closed));
}

#[test]
fn refusal_needs_enough_persuasion_and_the_street() {
    let mut h = History::new();
    h.notify();
    h.push(EventKind::Refuse, CHECKER, with_note);
    h.push(EventKind::ProposeRefusal, INSPECTOR, with_note);
    h.notify();
    h.push(EventKind::Refuse, INSPECTOR, with_note);
    assert_eq!(h.fold().state, Some(ItemState::Notified));
    h.push(EventKind::Refuse, CHECKER, with_note);
    assert_eq!(h.fold().state, Some(ItemState::Refused));
    assert_eq!(
        h.reasons(),
        [
            "认定拒不整改需要至少 2 次告知劝导，目前 1 次",
            "社区网格员不能进行“认定拒不整改”，须由街道核查员及以上进行"
        ]
    );
}

#[test]
fn refusal_goes_to_enforcement_then_closes() {
    let mut h = History::new();
    h.notify();
    h.notify();
    h.push(EventKind::Refuse, CHECKER, with_note);
    h.push(EventKind::Transfer, CHECKER, |_| {});
    h.push(EventKind::Transfer, CHECKER, with_note);
    h.push(EventKind::Enforce, OFFICER, |e| e.photos = vec![photo(3)]);
    h.push(EventKind::Enforce, CHECKER, |e| {
        e.photos = vec![photo(3)];
        e.detail.document_no = Some("渝中执〔2026〕12号".into());
    });
    h.push(EventKind::Enforce, OFFICER, |e| {
        e.detail.document_no = Some("渝中执〔2026〕12号".into());
        e.photos = vec![photo(3)];
    });
    assert_eq!(h.fold().state, Some(ItemState::EnforcedRemoved));
    h.push(EventKind::Close, CHECKER, |_| {});
    assert_eq!(h.fold().state, Some(ItemState::Closed));
    assert_eq!(
        h.reasons(),
        [
            "移交执法需要填写拒不整改原因",
            "定点拆除需要填写执法文书编号",
            "街道核查员不能进行“定点拆除”，须由执法队员进行",
        ]
    );
}

#[test]
fn late_agreement_and_return_go_back_to_self_rectifying() {
    let mut h = History::new();
    h.notify();
    h.notify();
    h.push(EventKind::Refuse, CHECKER, with_note);
    h.push(EventKind::Return, CHECKER, with_note);
    assert_eq!(h.fold().state, Some(ItemState::SelfRectifying));
    h.submit_removed();
    h.push(EventKind::Return, CHECKER, |_| {});
    h.push(EventKind::Return, CHECKER, with_note);
    assert_eq!(h.fold().state, Some(ItemState::SelfRectifying));
    assert_eq!(h.reasons(), ["退回需要填写原因"]);
}

#[test]
fn void_is_for_anything_but_closed_and_reopen_brings_closed_back_to_notified() {
    let mut h = History::new();
    h.submit_removed();
    h.push(EventKind::Close, CHECKER, |_| {});
    h.push(EventKind::Void, CHECKER, with_note);
    h.push(EventKind::Reopen, CHECKER, with_note);
    let f = h.fold();
    assert_eq!(f.state, Some(ItemState::Notified));
    assert_eq!(f.completed_at, None);
    assert_eq!(h.reasons(), ["“已复核销号”的隐患不能作废"]);
    h.push(EventKind::Void, INSPECTOR, with_note);
    h.push(EventKind::Void, CHECKER, with_note);
    assert_eq!(h.fold().state, Some(ItemState::Void));
    assert_eq!(
        h.reasons()[1],
        "社区网格员不能进行“作废”，须由街道核查员及以上进行"
    );
}

#[test]
fn concurrent_submit_and_refusal_proposal_fork_until_a_supervisor_resolves() {
    let mut h = History::new();
    let n1 = h.notify();
    let n2 = h.notify();
    let a = h.push_after(vec![n2], EventKind::Submit, INSPECTOR, removed);
    let b = h.push_after(vec![n2], EventKind::ProposeRefusal, INSPECTOR, with_note);
    let f = h.fold();
    assert_eq!(
        f.fork,
        vec![
            Branch {
                event: a,
                state: ItemState::PendingVerify
            },
            Branch {
                event: b,
                state: ItemState::Notified
            }
        ]
    );
    assert_eq!(f.completed_at, None);
    // A normal step on top of both branches is not allowed while forked.
    h.push_after(vec![a, b], EventKind::Close, CHECKER, |_| {});
    assert_eq!(h.reasons(), ["这处隐患的记录有冲突，须由上级先裁定"]);
    assert!(h.fold().is_forked());
    // The supervisor chooses the submitted fix; a checker then closes it.
    let r = h.push_after(vec![a, b], EventKind::Resolve, CHECKER, |e| {
        e.to = Some(ItemState::PendingVerify)
    });
    let f = h.fold();
    assert!(f.fork.is_empty());
    assert_eq!(f.state, Some(ItemState::PendingVerify));
    h.push_after(vec![r], EventKind::Close, CHECKER_2, |_| {});
    assert_eq!(h.fold().state, Some(ItemState::Closed));
    let _ = n1;
}

#[test]
fn a_resolution_into_closed_completes_on_the_resolution_date() {
    let mut h = History::new();
    let s = h.submit_removed();
    let c = h.push_after(vec![s], EventKind::Close, CHECKER, |_| {});
    let v = h.push_after(vec![s], EventKind::Return, CHECKER_2, with_note);
    assert!(h.fold().is_forked());
    let r = h.push_after(vec![c, v], EventKind::Resolve, CHECKER, |e| {
        e.to = Some(ItemState::Closed)
    });
    let at = h.events.iter().find(|e| e.id == r).unwrap().at;
    let f = h.fold();
    assert_eq!(
        (f.state, f.completed_at),
        (Some(ItemState::Closed), Some(at))
    );
}

#[test]
fn concurrent_steps_to_the_same_state_are_not_a_conflict() {
    let mut h = History::new();
    let c = h.last();
    h.push_after(vec![c], EventKind::Notify, INSPECTOR, |e| {
        e.detail.notice_method = Some(NoticeMethod::Phone)
    });
    h.push_after(vec![c], EventKind::Notify, CHECKER, |e| {
        e.detail.notice_method = Some(NoticeMethod::Written)
    });
    let f = h.fold();
    assert!(f.fork.is_empty());
    assert_eq!(
        (f.state, f.persuasion_count),
        (Some(ItemState::Notified), 2)
    );
}

#[test]
fn resolution_must_be_by_a_supervisor_and_pick_a_branch() {
    let mut h = History::new();
    let c = h.last();
    let a = h.push_after(vec![c], EventKind::Submit, INSPECTOR, removed);
    let b = h.push_after(vec![c], EventKind::Notify, INSPECTOR, |e| {
        e.detail.notice_method = Some(NoticeMethod::Phone)
    });
    h.push_after(vec![a, b], EventKind::Resolve, INSPECTOR, |e| {
        e.to = Some(ItemState::Notified)
    });
    h.push_after(vec![a, b], EventKind::Resolve, CHECKER, |e| {
        e.to = Some(ItemState::Closed)
    });
    assert!(h.fold().is_forked());
    assert_eq!(
        h.reasons(),
        [
            "社区网格员不能进行“冲突裁定”，须由街道核查员及以上进行",
            "裁定必须选择分支中的一个状态，不能是“已复核销号”",
        ]
    );
}

#[test]
fn a_tombstone_counts_like_void() {
    let h = History::new();
    let f = fold(&h.events, &CampaignSettings::for_year(2026), true);
    assert_eq!(f.state, Some(ItemState::Void));
}

#[test]
fn unknown_prev_and_second_creation_are_invalid() {
    let mut h = History::new();
    h.push_after(
        vec![EventId(Uuid::from_u128(999))],
        EventKind::Notify,
        INSPECTOR,
        |e| e.detail.notice_method = Some(NoticeMethod::Phone),
    );
    h.push_after(vec![], EventKind::Create, INSPECTOR, |e| {
        e.photos = vec![photo(1)]
    });
    assert_eq!(h.fold().state, Some(ItemState::Identified));
    assert_eq!(
        h.reasons(),
        [
            "refers to an event this item does not have",
            "这处隐患已经登记过"
        ]
    );
}

#[test]
fn new_events_follow_the_heads_and_illegal_ones_are_not_admitted() {
    let mut h = History::new();
    let c = h.last();
    let a = h.push_after(vec![c], EventKind::Submit, INSPECTOR, removed);
    let b = h.push_after(vec![c], EventKind::Notify, INSPECTOR, |e| {
        e.detail.notice_method = Some(NoticeMethod::Phone)
    });
    let mut heads = vec![a, b];
    heads.sort();
    assert_eq!(head_events(&h.events), heads);
    let s = CampaignSettings::for_year(2026);
    let mut close = h.events[1].clone();
    close.id = EventId(Uuid::from_u128(999));
    close.kind = EventKind::Close;
    close.prev = vec![a];
    assert_eq!(
        admit(&h.events, &close, &s, false),
        Err("社区网格员不能进行“复核销号”，须由街道核查员及以上进行".to_owned())
    );
    close.by = account(CHECKER);
    close.role = Role::StreetChecker;
    assert_eq!(admit(&h.events, &close, &s, false), Ok(()));
}
