//! The error the UI receives: a stable `code` to branch on (the core's), a `message` in plain
//! Chinese that says what happened and what to do, and the core's own text as `detail`.

use pengwang_core::CoreError;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UiError {
    pub code: String,
    pub message: String,
    pub detail: String,
}

impl From<CoreError> for UiError {
    fn from(e: CoreError) -> Self {
        let message = match &e {
            CoreError::NotEnrolled => "本机尚未注册：请输入服务器地址和注册码。",
            CoreError::NotAllowed(_) => "按规则不能进行此操作。",
            CoreError::InvalidPhoto(_) => {
                "这张照片无法使用（已损坏、格式不支持或过大），请重新拍摄。"
            }
            CoreError::Invalid(_) => "填写的内容不符合要求，请检查后重试。",
            CoreError::NotFound { .. } => "找不到这条记录，可能尚未同步到本机。",
            CoreError::Offline(_) => "连不上服务器。修改已保存在本机，网络恢复后会自动同步。",
            CoreError::Server { code, .. } => server_message(code),
            CoreError::Revoked(_) => {
                "本机已被停用，同步已停止。请联系管理员，或清除本机数据后重新注册。"
            }
            CoreError::UpdateRequired(_) => "应用版本过旧，请先更新应用。",
            CoreError::Storage(_) | CoreError::Migration(_) => {
                "本机存储出错。请重启应用，仍出错请联系管理员。"
            }
        };
        UiError {
            code: e.code().to_owned(),
            message: message.to_owned(),
            detail: e.to_string(),
        }
    }
}

/// The server's refusals the app's own flows can meet, in Chinese.
fn server_message(code: &str) -> &'static str {
    match code {
        "enrollment_code_unknown" => "注册码不正确，请核对后重新输入。",
        "enrollment_code_expired" => "注册码已过期，请向管理员索取新的注册码。",
        "enrollment_code_used" => "注册码已被使用过，请向管理员索取新的注册码。",
        "out_of_scope" => "这条记录不在您的负责范围内，服务器拒收。",
        "console_account" => "此账号只能在网页端使用，不能在手机上同步。",
        _ => "服务器拒绝了请求，请稍后重试或联系管理员。",
    }
}

/// A value from the UI that the shell cannot read (a bad id, an unknown choice).
pub fn invalid(what: impl std::fmt::Display) -> UiError {
    UiError {
        code: "invalid".into(),
        message: "填写的内容不符合要求，请检查后重试。".into(),
        detail: what.to_string(),
    }
}
