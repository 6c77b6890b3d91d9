//! Lifecycle events of a hazard item (DESIGN §4). Events are append-only records in the item's
//! `events` map; the state is derived by [`crate::lifecycle::fold`].

use serde::{Deserialize, Serialize};

use crate::choice;
use crate::household::NoticeMethod;
use crate::id::{AccountId, DeviceId, EventId, PhotoHash};
use crate::item::{EscapeOpening, FireGrade, GradeBasis, RemediationMethod};
use crate::role::Role;
use crate::time::Timestamp;

choice!(
    /// The state of a hazard item.
    ItemState, "item state" {
        Identified = "identified" / "已登记",
        Notified = "notified" / "已告知",
        SelfRectifying = "self_rectifying" / "自行整改中",
        PendingVerify = "pending_verify" / "已整改待核查",
        Closed = "closed" / "已复核销号",
        Refused = "refused" / "拒不整改",
        Transferred = "transferred" / "已移交执法",
        EnforcedRemoved = "enforced_removed" / "已定点拆除",
        Void = "void" / "作废",
    }
);

choice!(
    /// What an event does.
    EventKind, "event kind" {
        Create = "create" / "登记",
        Notify = "notify" / "告知劝导",
        StartSelfRectify = "start_self_rectify" / "自行整改",
        Submit = "submit" / "整改完成待核查",
        Close = "close" / "复核销号",
        ProposeRefusal = "propose_refusal" / "提请认定拒不整改",
        Refuse = "refuse" / "认定拒不整改",
        Transfer = "transfer" / "移交执法",
        Enforce = "enforce" / "定点拆除",
        Void = "void" / "作废",
        Reopen = "reopen" / "反弹",
        Return = "return" / "退回整改",
        Resolve = "resolve" / "冲突裁定",
    }
);

impl EventKind {
    /// The state this kind leads to. `None`: no change (a proposal), or chosen by the event
    /// (a resolution).
    pub fn target(self) -> Option<ItemState> {
        use ItemState as S;
        Some(match self {
            EventKind::Create => S::Identified,
            EventKind::Notify | EventKind::Reopen => S::Notified,
            EventKind::StartSelfRectify | EventKind::Return => S::SelfRectifying,
            EventKind::Submit => S::PendingVerify,
            EventKind::Close => S::Closed,
            EventKind::Refuse => S::Refused,
            EventKind::Transfer => S::Transferred,
            EventKind::Enforce => S::EnforcedRemoved,
            EventKind::Void => S::Void,
            EventKind::ProposeRefusal | EventKind::Resolve => return None,
        })
    }
}

/// One lifecycle event. Immutable once written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub kind: EventKind,
    /// The chosen state of a [`EventKind::Resolve`]; ignored for other kinds.
    pub to: Option<ItemState>,
    /// Device time.
    pub at: Timestamp,
    pub by: AccountId,
    pub role: Role,
    /// The phone that recorded it; `None` when recorded on the server (console).
    pub device: Option<DeviceId>,
    /// Reason, refusal reason, remarks.
    pub note: String,
    /// Before (create), after (submit) or enforcement (enforce) photos.
    pub photos: Vec<PhotoHash>,
    /// The events the author had seen as latest.
    pub prev: Vec<EventId>,
    pub detail: EventDetail,
}

/// The requirements some steps carry (DESIGN §4 "needs").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    /// Notify: how the notice was served.
    pub notice_method: Option<NoticeMethod>,
    /// StartSelfRectify: the owner's deadline, `YYYY-MM-DD`.
    pub deadline: Option<String>,
    /// Submit: how it was fixed.
    pub method: Option<RemediationMethod>,
    /// Submit by replacement: the new material's grade and its basis.
    pub new_grade: Option<FireGrade>,
    pub grade_basis: Option<GradeBasis>,
    /// Submit by escape opening: its measured size.
    pub opening: Option<EscapeOpening>,
    /// Enforce: 执法文书编号.
    pub document_no: Option<String>,
}

impl Event {
    /// The state this event leads to when valid (`None` for a proposal).
    pub fn target(&self) -> Option<ItemState> {
        match self.kind {
            EventKind::Resolve => self.to,
            k => k.target(),
        }
    }
}
