//! The audit trail (DESIGN §8): who created accounts, issued codes, enrolled and revoked devices,
//! and — once the lead's modules land — who edited, exported or viewed personal data.
//!
//! Rows are written in the same transaction as the action they record, so an action and its
//! audit row commit or roll back together. They hold ids and region codes, never tokens,
//! enrollment codes, names or phone numbers.

use pengwang_shared::id::AccountId;
use pengwang_shared::time::Timestamp;
use rusqlite::{params, Connection};

/// What was done. The string forms are stored; never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    AccountCreate,
    EnrollmentCodeIssue,
    DeviceEnroll,
    DeviceRevoke,
    ConflictResolve,
    ReportExport,
    CampaignChange,
    ReportFreeze,
    ReportSubmit,
    ReportUnfreeze,
    LedgerExport,
    ContactChange,
    PhoneReveal,
    DocumentUpload,
    DocumentDownload,
    SummarySave,
    SignIn,
    PasswordReset,
    AccountDisable,
    EnrollmentCodeWithdraw,
    ItemStep,
    DuplicateMerge,
    AccountEnable,
    SignInFailure,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::AccountCreate => "account.create",
            Action::EnrollmentCodeIssue => "enrollment_code.issue",
            Action::DeviceEnroll => "device.enroll",
            Action::DeviceRevoke => "device.revoke",
            Action::ConflictResolve => "conflict.resolve",
            Action::ReportExport => "report.export",
            Action::CampaignChange => "campaign.change",
            Action::ReportFreeze => "report.freeze",
            Action::ReportSubmit => "report.submit",
            Action::ReportUnfreeze => "report.unfreeze",
            Action::LedgerExport => "ledger.export",
            Action::ContactChange => "contact.change",
            Action::PhoneReveal => "phone.reveal",
            Action::DocumentUpload => "document.upload",
            Action::DocumentDownload => "document.download",
            Action::SummarySave => "summary.save",
            Action::SignIn => "console.sign_in",
            Action::PasswordReset => "account.password_reset",
            Action::AccountDisable => "account.disable",
            Action::EnrollmentCodeWithdraw => "enrollment_code.withdraw",
            Action::ItemStep => "item.step",
            Action::DuplicateMerge => "duplicate.merge",
            Action::AccountEnable => "account.enable",
            Action::SignInFailure => "console.sign_in_failure",
        }
    }
    /// The action in words, as the audit view shows it.
    pub fn label(self) -> &'static str {
        match self {
            Action::AccountCreate => "创建账号",
            Action::EnrollmentCodeIssue => "签发注册码",
            Action::DeviceEnroll => "设备注册",
            Action::DeviceRevoke => "吊销设备",
            Action::ConflictResolve => "裁定冲突",
            Action::ReportExport => "导出报表",
            Action::CampaignChange => "修改活动设置",
            Action::ReportFreeze => "冻结附件2",
            Action::ReportSubmit => "提交附件2",
            Action::ReportUnfreeze => "解冻附件2",
            Action::LedgerExport => "导出台账",
            Action::ContactChange => "修改附件1联系人",
            Action::PhoneReveal => "查看完整手机号码",
            Action::DocumentUpload => "上传工作方案",
            Action::DocumentDownload => "下载材料",
            Action::SummarySave => "保存月度总结",
            Action::SignIn => "登录控制台",
            Action::PasswordReset => "重置密码",
            Action::AccountDisable => "停用账号",
            Action::EnrollmentCodeWithdraw => "撤回注册码",
            Action::ItemStep => "隐患点位操作",
            Action::DuplicateMerge => "合并疑似重复",
            Action::AccountEnable => "启用账号",
            Action::SignInFailure => "登录失败",
        }
    }

    /// Every action, for reading stored codes back.
    pub const ALL: [Action; 24] = [
        Action::AccountCreate,
        Action::EnrollmentCodeIssue,
        Action::DeviceEnroll,
        Action::DeviceRevoke,
        Action::ConflictResolve,
        Action::ReportExport,
        Action::CampaignChange,
        Action::ReportFreeze,
        Action::ReportSubmit,
        Action::ReportUnfreeze,
        Action::LedgerExport,
        Action::ContactChange,
        Action::PhoneReveal,
        Action::DocumentUpload,
        Action::DocumentDownload,
        Action::SummarySave,
        Action::SignIn,
        Action::PasswordReset,
        Action::AccountDisable,
        Action::EnrollmentCodeWithdraw,
        Action::ItemStep,
        Action::DuplicateMerge,
        Action::AccountEnable,
        Action::SignInFailure,
    ];

    /// The label of a stored code; an unknown code as it is.
    pub fn label_of(code: &str) -> &str {
        Self::ALL
            .iter()
            .find(|a| a.code() == code)
            .map_or(code, |a| a.label())
    }
}

/// One audit row about to be written. `actor` is `None` for operator commands on the server.
#[derive(Clone, Debug)]
pub struct NewAudit<'a> {
    pub at: Timestamp,
    pub actor: Option<AccountId>,
    pub action: Action,
    pub target: &'a str,
    pub detail: &'a str,
}

pub fn record(conn: &Connection, row: &NewAudit<'_>) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO audit (at, account_id, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            row.at.0,
            row.actor.map(|a| a.to_string()),
            row.action.code(),
            row.target,
            row.detail
        ],
    )?;
    Ok(())
}

/// [`record`], marking the row as concerning reporting unit `unit` so the unit's lead sees it in
/// the audit view (`audit.unit_code`).
pub fn record_in_unit(
    conn: &Connection,
    row: &NewAudit<'_>,
    unit: &str,
) -> Result<(), rusqlite::Error> {
    record(conn, row)?;
    conn.execute(
        "UPDATE audit SET unit_code = ?1 WHERE id = last_insert_rowid()",
        [unit],
    )?;
    Ok(())
}

/// Audits a read that changes nothing else (an export, a download) in its own write; `unit`
/// tags the row for that unit's lead, as [`record_in_unit`].
pub async fn record_read(
    state: &crate::state::AppState,
    actor: AccountId,
    action: Action,
    target: String,
    detail: String,
    unit: Option<String>,
) -> Result<(), crate::error::AppError> {
    let now = state.now();
    state
        .db
        .write(move |c| {
            let row = NewAudit {
                at: now,
                actor: Some(actor),
                action,
                target: &target,
                detail: &detail,
            };
            match &unit {
                Some(u) => record_in_unit(c, &row, u),
                None => record(c, &row),
            }
            .map_err(crate::db::DbError::from)
        })
        .await?;
    Ok(())
}

/// A stored audit row, for listings and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub at: Timestamp,
    pub actor: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// The newest `limit` rows, newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<AuditRow>, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT at, account_id, action, target, detail FROM audit ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(AuditRow {
            at: Timestamp(r.get(0)?),
            actor: r.get(1)?,
            action: r.get(2)?,
            target: r.get(3)?,
            detail: r.get(4)?,
        })
    })?;
    rows.collect()
}
