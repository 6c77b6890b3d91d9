//! A refusal's reason in the words the field and the console read: the rules (lifecycle steps,
//! deletion, scope) give their reasons as English sentences for logs and tests; this is the one
//! translation every screen uses. An unknown reason gets a general sentence (the original stays
//! in the technical details).

/// The rule a refused step or edit broke, in Chinese. The reasons come from the shared fold
/// (`pengwang_shared::lifecycle`) and the core's deletion and scope checks; one not known here
/// gets the general sentence (its text stays in `detail`).
pub fn reason_in_chinese(why: &str) -> String {
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
            assert_eq!(reason_in_chinese(en), zh, "{en}");
        }
    }
}
