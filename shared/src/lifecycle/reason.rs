//! A refusal's reason in the words the field and the console read. The lifecycle rules
//! (`step.rs`) give their reasons in Chinese at the source; the record-keeping checks of the
//! phone library (deleting, scope, read-only accounts) still give English sentences for logs and
//! tests, translated here — the one translation every screen uses. An unknown English reason
//! gets a general sentence (the original stays in the technical details).

/// Whether an English reason is of one kind.
type Matches = &'static dyn Fn(&str) -> bool;

/// The rule a refused step or edit broke, as a sentence in Chinese.
pub fn reason_in_chinese(why: &str) -> String {
    // The fold's own reasons are already Chinese (they never start with a Latin letter).
    if !why.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return format!("{why}。");
    }
    let known: &[(Matches, &str)] = &[
        (
            &|w| w.starts_with("only the person who recorded"),
            "只有登记这条记录的人才能删除它。",
        ),
        (
            &|w| w.contains("still has") && w.contains("item(s)"),
            "这一户还有隐患记录，不能删除。",
        ),
        (
            &|w| w.contains("it can no longer be deleted"),
            "这处隐患已有后续记录，不能删除，只能由街道作废。",
        ),
        (
            &|w| {
                w.contains("is already deleted")
                    || w.contains("is deleted; it can no longer change")
            },
            "这条记录已删除，不能再修改。",
        ),
        (
            &|w| w.contains("is outside your scope"),
            "这条记录不在您的负责范围内。",
        ),
        (
            &|w| w.ends_with("account is read-only"),
            "此账号只能查看，不能登记或修改。",
        ),
    ];
    known
        .iter()
        .find(|(matches, _)| matches(why))
        .map_or("按规则不能进行此操作。", |(_, zh)| zh)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_in_chinese() {
        let cases = [
            ("整改完成需要拍摄整改后照片", "整改完成需要拍摄整改后照片。"),
            ("“已复核销号”的隐患不能作废", "“已复核销号”的隐患不能作废。"),
            (
                "only the person who recorded household x may delete it",
                "只有登记这条记录的人才能删除它。",
            ),
            (
                "household h still has 2 item(s); delete or void them first",
                "这一户还有隐患记录，不能删除。",
            ),
            (
                "a 消防救援(只读) account is read-only",
                "此账号只能查看，不能登记或修改。",
            ),
            ("something new", "按规则不能进行此操作。"),
        ];
        for (why, zh) in cases {
            assert_eq!(reason_in_chinese(why), zh, "{why}");
        }
    }
}
