//! The error the UI receives: a stable `code` to branch on (the core's), a `message` in plain
//! Chinese that says what happened and what to do, and the core's own text as `detail`.

use pengwang_core::photo::PhotoError;
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
        let message: String = match &e {
            CoreError::NotEnrolled => "本机尚未注册：请输入服务器地址和注册码。".into(),
            CoreError::NotAllowed(why) => pengwang_shared::lifecycle::reason_in_chinese(why),
            CoreError::InvalidPhoto(p) => photo_message(p).into(),
            CoreError::Invalid(_) => "填写的内容不符合要求，请检查后重试。".into(),
            CoreError::NotFound { .. } => "找不到这条记录，可能尚未同步到本机。".into(),
            CoreError::Offline(_) => {
                "连不上服务器。修改已保存在本机，网络恢复后会自动同步。".into()
            }
            CoreError::Server { code, .. } => server_message(code).into(),
            CoreError::Revoked(_) => {
                "本机已被停用，同步已停止。请联系管理员，或清除本机数据后重新注册。".into()
            }
            CoreError::RevokedReadOnly(_) => {
                "本机已被停用，不能再登记或修改（修改无法上传）。请联系管理员重新注册。".into()
            }
            CoreError::EnrollInput { code, .. } => enroll_message(code).into(),
            CoreError::NotPengwang(_) => {
                "这个地址不是棚网服务器，请核对服务器地址（含端口）。".into()
            }
            CoreError::UpdateRequired(_) => "应用版本过旧，请先更新应用。".into(),
            CoreError::Storage(_) | CoreError::Migration(_) => {
                "本机存储出错。请重启应用，仍出错请联系管理员。".into()
            }
        };
        UiError {
            code: e.code().to_owned(),
            message,
            detail: e.to_string(),
        }
    }
}

/// What is wrong with the enrollment form.
fn enroll_message(code: &str) -> &'static str {
    match code {
        "server_url_missing" => "请填写服务器地址，例如 http://192.168.1.10:8080。",
        "server_url_no_scheme" => {
            "服务器地址要以 http:// 或 https:// 开头，例如 http://192.168.1.10:8080。"
        }
        "enrollment_code_missing" => "请填写管理员发给您的注册码。",
        _ => "服务器地址格式不对，应为 http://地址:端口，例如 http://192.168.1.10:8080。",
    }
}

/// Why a photo cannot be used, and what to do, by the core's photo error.
fn photo_message(e: &PhotoError) -> &'static str {
    match e {
        PhotoError::Heif => {
            "这张照片是 HEIF/HEIC 格式，无法使用。请把相机设置为 JPEG/兼容格式后重新拍摄。"
        }
        PhotoError::NotJpeg { .. } => "只能使用 JPEG 照片，这个文件不是 JPEG 照片。",
        PhotoError::Unsupported(_) => "不支持这种 JPEG 格式，请用手机相机直接拍摄。",
        PhotoError::Corrupt(_) => "照片文件已损坏或不完整，请重新拍摄。",
        PhotoError::TooLarge { .. } => "照片文件太大（超过 40 MB），请调低相机分辨率后重新拍摄。",
        PhotoError::Bomb { .. } => "照片像素太多，无法处理，请调低相机分辨率后重新拍摄。",
        PhotoError::Io(_) => "读取不了这张照片，请重新拍摄。",
        PhotoError::Internal(_) => "照片处理失败，请重试；仍失败请换一张照片。",
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
