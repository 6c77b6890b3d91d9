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
            CoreError::NotAllowed(why) => rule_message(why),
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

/// The rule a refused step or edit broke, in Chinese. The reasons come from the shared fold
/// (`pengwang_shared::lifecycle`) and the core's deletion and scope checks; one not known here
/// gets the general sentence (its text stays in `detail`).
fn rule_message(why: &str) -> String {
    const FIXED: &[(&str, &str)] = &[
        (
            "a completed fix needs an after photo",
            "整改完成需要拍摄整改后照片。",
        ),
        (
            "a completed fix needs its method",
            "整改完成需要选择整改方式。",
        ),
        ("a notice needs its method", "告知劝导需要选择告知方式。"),
        (
            "self-rectification needs a deadline",
            "自行整改需要填写整改期限。",
        ),
        (
            "a replacement needs the new material's fire grade",
            "更换材料需要选择新材料的燃烧性能等级。",
        ),
        (
            "a replacement counts only with grade A, or B1 backed by a test report",
            "更换只有 A 级，或有检测报告的 B1 级才算合格。",
        ),
        (
            "an escape opening needs its size",
            "开设逃生口需要填写逃生口尺寸。",
        ),
        (
            "a transfer needs the refusal reason",
            "移交执法需要填写拒不整改原因。",
        ),
        (
            "enforced removal needs the document number",
            "定点拆除需要填写执法文书编号。",
        ),
        (
            "enforced removal needs an enforcement photo",
            "定点拆除需要拍摄拆除照片。",
        ),
        ("voiding needs a reason", "作废需要填写原因。"),
        ("reopening needs a reason", "反弹需要填写情况说明。"),
        ("returning needs a reason", "退回需要填写原因。"),
        (
            "recording a hazard needs at least one before photo",
            "登记隐患需要至少一张整改前照片。",
        ),
        (
            "the person who submitted the fix cannot verify it",
            "提交整改的人不能自己复核销号。",
        ),
        (
            "the item's history is forked: a supervisor must resolve it first",
            "这处隐患的记录有冲突，须由上级先裁定。",
        ),
    ];
    if let Some((_, zh)) = FIXED.iter().find(|(en, _)| *en == why) {
        return (*zh).to_owned();
    }
    if let Some(rest) = why.strip_prefix("the escape opening does not comply: ") {
        return format!("逃生口不符合要求：{rest}。");
    }
    if let Some(rest) = why.strip_prefix("refusal needs ") {
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return format!("认定拒不整改需要至少 {n} 次告知劝导。");
    }
    if let Some(rest) = why.strip_prefix("cannot ") {
        // "cannot 告知劝导 an item that is 已复核销号"
        if let Some((step, state)) = rest.split_once(" an item that is ") {
            return format!("这处隐患当前为“{state}”，不能进行“{step}”。");
        }
    }
    if let Some(rest) = why.strip_prefix("only ") {
        // "only the street may 复核销号, not a 社区网格员"
        if let Some((_, tail)) = rest.split_once(" may ") {
            if let Some((step, role)) = tail.split_once(", not a ") {
                return format!("{role}不能进行“{step}”。");
            }
            if tail.starts_with("delete") || why.contains("may delete") {
                return "只有登记这条记录的人才能删除它。".to_owned();
            }
        }
    }
    if why.contains("still has") && why.contains("item(s)") {
        return "这一户还有隐患记录，不能删除。".to_owned();
    }
    if why.contains("it can no longer be deleted") {
        return "这处隐患已有后续记录，不能删除，只能由街道作废。".to_owned();
    }
    if why.contains("is already deleted") || why.contains("is deleted; it can no longer change") {
        return "这条记录已删除，不能再修改。".to_owned();
    }
    if why.contains("is outside your scope") {
        return "这条记录不在您的负责范围内。".to_owned();
    }
    if why.ends_with("account is read-only") {
        return "此账号只能查看，不能登记或修改。".to_owned();
    }
    "按规则不能进行此操作。".to_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_reasons_read_in_chinese() {
        let cases = [
            (
                "a completed fix needs an after photo",
                "整改完成需要拍摄整改后照片。",
            ),
            (
                "the escape opening does not comply: 宽 0.60 m < 0.80 m",
                "逃生口不符合要求：宽 0.60 m < 0.80 m。",
            ),
            (
                "refusal needs 2 persuasion attempts, the item has 1",
                "认定拒不整改需要至少 2 次告知劝导。",
            ),
            (
                "cannot 告知劝导 an item that is 已复核销号",
                "这处隐患当前为“已复核销号”，不能进行“告知劝导”。",
            ),
            (
                "only the street may 复核销号, not a 社区网格员",
                "社区网格员不能进行“复核销号”。",
            ),
            (
                "only the person who recorded household x may delete it",
                "只有登记这条记录的人才能删除它。",
            ),
            ("something new", "按规则不能进行此操作。"),
        ];
        for (en, zh) in cases {
            assert_eq!(rule_message(en), zh, "{en}");
        }
    }
}
