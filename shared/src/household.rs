//! 户: vocabularies of the household record and personal-data masking.

use crate::choice;

choice!(
    /// 使用情况.
    Occupancy, "occupancy" {
        OwnerOccupied = "owner" / "自住",
        Rented = "rented" / "出租",
        Vacant = "vacant" / "空置",
        Shop = "shop" / "商铺",
    }
);

choice!(
    /// 排查结果.
    SurveyResult, "survey result" {
        NoHazard = "no_hazard" / "无隐患",
        Hazard = "hazard" / "有隐患",
        NotReached = "not_reached" / "无法入户待复访",
    }
);

choice!(
    /// 告知方式.
    NoticeMethod, "notice method" {
        InPerson = "in_person" / "当面告知",
        Written = "written" / "书面告知书",
        Posted = "posted" / "张贴告知",
        Phone = "phone" / "电话告知",
        WeChat = "wechat" / "微信告知",
    }
);

/// 张* — keeps the first character of a name.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count();
            format!("{first}{}", "*".repeat(rest.max(1)))
        }
        None => String::new(),
    }
}

/// 138****1234 — keeps the first three and last four digits.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 8 {
        return "*".repeat(digits.len());
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(digits.len() - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_masked_like_the_forms() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("023-6388"), "*******");
    }
}
