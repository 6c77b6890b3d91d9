//! The rules of each lifecycle step (DESIGN §4's table): from which states, by which roles, with
//! what requirements. [`check`] judges one event against the state(s) before it; a refusal's
//! reason is the sentence the phone and the console show (in Chinese).

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
            return Err("这处隐患已经登记过".into());
        }
        require_role(
            e,
            |r| r.is_inspector() || r.is_street(),
            "网格员、物业人员或街道",
        )?;
        require(!e.photos.is_empty(), "登记隐患需要至少一张整改前照片")?;
        return Ok(Path {
            state: S::Identified,
            closed_at: None,
            submitter: None,
            at: e.at,
            since: e.at,
        });
    }
    if before.is_empty() {
        return Err("这处隐患还没有登记记录".into());
    }
    if e.kind == EventKind::Resolve {
        return resolve(e, &states);
    }
    if states.len() > 1 {
        return Err("这处隐患的记录有冲突，须由上级先裁定".into());
    }
    let from = *states.first().expect("non-empty frontier");
    let submitters: Vec<AccountId> = before.iter().filter_map(|(_, p)| p.submitter).collect();
    let need_from = |allowed: &[ItemState]| -> Result<(), String> {
        if allowed.contains(&from) {
            Ok(())
        } else {
            Err(format!(
                "这处隐患当前为“{}”，不能进行“{}”",
                from.label(),
                e.kind.label()
            ))
        }
    };
    let inspector_or_street = |r: Role| r.is_inspector() || r.is_street();
    match e.kind {
        EventKind::Notify => {
            need_from(&[S::Identified, S::Notified, S::SelfRectifying])?;
            require_role(e, inspector_or_street, "网格员、物业人员或街道")?;
            require(e.detail.notice_method.is_some(), "告知劝导需要选择告知方式")?;
        }
        EventKind::StartSelfRectify => {
            need_from(&[S::Notified])?;
            require_role(e, inspector_or_street, "网格员、物业人员或街道")?;
            require(e.detail.deadline.is_some(), "自行整改需要填写整改期限")?;
        }
        EventKind::Submit => {
            need_from(&[S::Identified, S::Notified, S::SelfRectifying])?;
            require_role(e, Role::is_inspector, "网格员或物业人员")?;
            check_submission(e, s)?;
        }
        EventKind::Close => {
            need_from(&[S::PendingVerify, S::EnforcedRemoved])?;
            require_role(e, Role::is_street, "街道核查员及以上")?;
            require(!submitters.contains(&e.by), "提交整改的人不能自己复核销号")?;
        }
        EventKind::ProposeRefusal => {
            need_from(&[S::Notified, S::SelfRectifying])?;
            require_role(e, Role::is_inspector, "网格员或物业人员")?;
        }
        EventKind::Refuse => {
            need_from(&[S::Notified, S::SelfRectifying])?;
            require_role(e, Role::is_street, "街道核查员及以上")?;
            let n = s.persuasion_attempts;
            require(
                notices >= n,
                &format!("认定拒不整改需要至少 {n} 次告知劝导，目前 {notices} 次"),
            )?;
        }
        EventKind::Transfer => {
            need_from(&[S::Refused])?;
            require_role(e, Role::is_street, "街道核查员及以上")?;
            require(!e.note.trim().is_empty(), "移交执法需要填写拒不整改原因")?;
        }
        EventKind::Enforce => {
            need_from(&[S::Transferred])?;
            require_role(e, |r| r == Role::Enforcement, "执法队员")?;
            require(
                e.detail
                    .document_no
                    .as_deref()
                    .is_some_and(|d| !d.trim().is_empty()),
                "定点拆除需要填写执法文书编号",
            )?;
            require(!e.photos.is_empty(), "定点拆除需要拍摄拆除照片")?;
        }
        EventKind::Void => {
            require(
                !matches!(from, S::Closed | S::Void),
                &format!("“{}”的隐患不能作废", from.label()),
            )?;
            require_role(e, Role::is_street, "街道核查员及以上")?;
            require(!e.note.trim().is_empty(), "作废需要填写原因")?;
        }
        EventKind::Reopen => {
            need_from(&[S::Closed])?;
            require_role(e, Role::is_street, "街道核查员及以上")?;
            require(!e.note.trim().is_empty(), "反弹需要填写情况说明")?;
        }
        EventKind::Return => {
            need_from(&[S::Refused, S::Transferred, S::PendingVerify])?;
            require_role(e, Role::is_street, "街道核查员及以上")?;
            require(!e.note.trim().is_empty(), "退回需要填写原因")?;
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
    require_role(e, Role::is_street, "街道核查员及以上")?;
    require(states.len() > 1, "这处隐患的记录没有分叉，无需裁定")?;
    let to = e.to.ok_or("裁定需要选定一个状态")?;
    require(
        states.contains(&to),
        &format!("裁定必须选择分支中的一个状态，不能是“{}”", to.label()),
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
    let method = e.detail.method.ok_or("整改完成需要选择整改方式")?;
    require(!e.photos.is_empty(), "整改完成需要拍摄整改后照片")?;
    match method {
        RemediationMethod::Replaced => {
            let grade = e
                .detail
                .new_grade
                .ok_or("更换材料需要选择新材料的燃烧性能等级")?;
            require(
                replacement_acceptable(grade, e.detail.grade_basis),
                "更换只有 A 级，或有检测报告的 B1 级才算合格",
            )
        }
        RemediationMethod::EscapeOpening => {
            let o = e.detail.opening.ok_or("开设逃生口需要填写逃生口尺寸")?;
            match o.shortfall(&s.escape) {
                Some(why) => Err(format!("逃生口不符合要求：{why}")),
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
            "{}不能进行“{}”，须由{who}进行",
            e.role.label(),
            e.kind.label()
        ),
    )
}
