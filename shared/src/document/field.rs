//! Record fields: what each record kind may hold, with the rule each value must pass. Writes go
//! through these specs one key at a time (never whole records), so concurrent edits of different
//! fields merge and concurrent edits of one field surface as a conflict.

use automerge::{ScalarValue, Value};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::building::{BuildingUse, SurveyStatus};
use crate::error::ParseError;
use crate::household::{NoticeMethod, Occupancy, SurveyResult};
use crate::item::{AwningMaterial, Category, FireGrade, GradeBasis, Position, RemediationMethod};
use crate::time::parse_date;

/// A stored field value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
}

impl FieldValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            FieldValue::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Real(x) => Some(*x),
            FieldValue::Int(n) => Some(*n as f64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            FieldValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub(crate) fn to_scalar(&self) -> ScalarValue {
        match self {
            FieldValue::Null => ScalarValue::Null,
            FieldValue::Bool(b) => ScalarValue::Boolean(*b),
            FieldValue::Int(n) => ScalarValue::Int(*n),
            FieldValue::Real(x) => ScalarValue::F64(*x),
            FieldValue::Text(s) => ScalarValue::Str(s.as_str().into()),
        }
    }

    /// The field value of an automerge value; `None` for objects (maps, lists), which are never
    /// field values.
    pub fn from_value(v: &Value<'_>) -> Option<Self> {
        let Value::Scalar(s) = v else { return None };
        Some(match s.as_ref() {
            ScalarValue::Null => FieldValue::Null,
            ScalarValue::Boolean(b) => FieldValue::Bool(*b),
            ScalarValue::Int(n) => FieldValue::Int(*n),
            ScalarValue::Uint(n) => FieldValue::Int(i64::try_from(*n).unwrap_or(i64::MAX)),
            ScalarValue::F64(x) => FieldValue::Real(*x),
            ScalarValue::Str(s) => FieldValue::Text(s.to_string()),
            _ => return None,
        })
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Null => f.write_str("(空)"),
            FieldValue::Bool(b) => f.write_str(if *b { "是" } else { "否" }),
            FieldValue::Int(n) => write!(f, "{n}"),
            FieldValue::Real(x) => write!(f, "{x}"),
            FieldValue::Text(s) => f.write_str(s),
        }
    }
}

impl FieldSpec {
    /// `value` as a person reads it: a choice by its Chinese label, 是/否, numbers and text as
    /// they are.
    pub fn display(&self, value: &FieldValue) -> String {
        match (self.rule, value) {
            (Rule::Choice(_, label), FieldValue::Text(s)) => label(s).unwrap_or(s).to_owned(),
            _ => value.to_string(),
        }
    }
}

/// What a field accepts.
#[derive(Clone, Copy, Debug)]
pub enum Rule {
    Text {
        max_chars: usize,
    },
    Int {
        min: i64,
        max: i64,
    },
    Real {
        min: f64,
        max: f64,
    },
    Bool,
    Date,
    Phone,
    /// A choice: its check, and the Chinese label of a valid code.
    Choice(
        fn(&str) -> Result<(), ParseError>,
        fn(&str) -> Option<&'static str>,
    ),
}

/// One field of a record kind.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub rule: Rule,
    /// Set at creation only (location, category, creator): changing it would move the record
    /// between scopes or columns behind everyone's back.
    pub fixed: bool,
}

impl FieldSpec {
    /// Checks `value` for this field. Null is accepted for every field not fixed (clearing).
    pub fn check(&self, value: &FieldValue) -> Result<(), ParseError> {
        let bad = |expected: &str| ParseError::new(self.key, value, format!("expected {expected}"));
        match (self.rule, value) {
            (_, FieldValue::Null) if !self.fixed => Ok(()),
            (Rule::Text { max_chars }, FieldValue::Text(s)) if s.chars().count() <= max_chars => {
                Ok(())
            }
            (Rule::Text { max_chars }, _) => {
                Err(bad(&format!("text of at most {max_chars} characters")))
            }
            (Rule::Int { min, max }, FieldValue::Int(n)) if (min..=max).contains(n) => Ok(()),
            (Rule::Int { min, max }, _) => Err(bad(&format!("a whole number from {min} to {max}"))),
            (Rule::Real { min, max }, v)
                if v.as_f64()
                    .is_some_and(|x| x.is_finite() && x >= min && x <= max) =>
            {
                Ok(())
            }
            (Rule::Real { min, max }, _) => Err(bad(&format!("a number from {min} to {max}"))),
            (Rule::Bool, FieldValue::Bool(_)) => Ok(()),
            (Rule::Bool, _) => Err(bad("true or false")),
            (Rule::Date, FieldValue::Text(s)) => parse_date(self.key, s).map(|_| ()),
            (Rule::Date, _) => Err(bad("a date YYYY-MM-DD")),
            (Rule::Phone, FieldValue::Text(s)) if is_phone(s) => Ok(()),
            (Rule::Phone, _) => Err(bad("a phone number of 7 to 15 digits")),
            (Rule::Choice(parse, _), FieldValue::Text(s)) => parse(s),
            (Rule::Choice(..), _) => Err(bad("one of the listed choices")),
        }
    }
}

fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ' || c == '+')
}

macro_rules! choice_rule {
    ($t:ty) => {
        Rule::Choice(
            |s| <$t>::parse(s).map(|_| ()),
            |s| <$t>::parse(s).ok().map(<$t>::label),
        )
    };
}

const fn spec(key: &'static str, label: &'static str, rule: Rule) -> FieldSpec {
    FieldSpec {
        key,
        label,
        rule,
        fixed: false,
    }
}

const fn fixed(key: &'static str, label: &'static str, rule: Rule) -> FieldSpec {
    FieldSpec {
        key,
        label,
        rule,
        fixed: true,
    }
}

const SHORT: Rule = Rule::Text { max_chars: 100 };
const LONG: Rule = Rule::Text { max_chars: 1000 };
const CODE: Rule = Rule::Text { max_chars: 12 };
const COUNT: Rule = Rule::Int {
    min: 0,
    max: 100_000,
};

pub const BUILDING_FIELDS: &[FieldSpec] = &[
    fixed("unit", "填报单位", CODE),
    fixed("district", "区县", CODE),
    fixed("street", "街道", CODE),
    fixed("community", "社区", CODE),
    fixed("created_by", "登记人", SHORT),
    spec("estate", "小区", SHORT),
    spec("number", "楼栋号", SHORT),
    spec("address", "地址", Rule::Text { max_chars: 200 }),
    spec("use", "用途", choice_rule!(BuildingUse)),
    spec(
        "height_m",
        "高度(米)",
        Rule::Real {
            min: 0.0,
            max: 700.0,
        },
    ),
    spec("floors", "地上层数", Rule::Int { min: 1, max: 200 }),
    spec("units", "单元数", Rule::Int { min: 1, max: 100 }),
    spec("households_total", "总户数", COUNT),
    spec("property_company", "物业公司", SHORT),
    spec(
        "lat",
        "纬度",
        Rule::Real {
            min: -90.0,
            max: 90.0,
        },
    ),
    spec(
        "lng",
        "经度",
        Rule::Real {
            min: -180.0,
            max: 180.0,
        },
    ),
    spec("survey_status", "排查状态", choice_rule!(SurveyStatus)),
];

pub const HOUSEHOLD_FIELDS: &[FieldSpec] = &[
    fixed("created_by", "登记人", SHORT),
    spec("unit", "单元", Rule::Text { max_chars: 20 }),
    spec("floor", "楼层", Rule::Int { min: -10, max: 200 }),
    spec("room", "房号", Rule::Text { max_chars: 20 }),
    spec("occupancy", "使用情况", choice_rule!(Occupancy)),
    spec("owner_name", "业主姓名", Rule::Text { max_chars: 50 }),
    spec("owner_phone", "联系电话", Rule::Phone),
    spec("survey_result", "排查结果", choice_rule!(SurveyResult)),
    spec("visit_attempts", "入户次数", COUNT),
    spec("notice_date", "告知日期", Rule::Date),
    spec("notice_method", "告知方式", choice_rule!(NoticeMethod)),
    spec("pledge_signed", "签订承诺书", Rule::Bool),
    spec("subsidy_applied", "申请补贴", Rule::Bool),
    spec(
        "subsidy_amount",
        "补贴金额(元)",
        Rule::Real {
            min: 0.0,
            max: 1_000_000.0,
        },
    ),
    spec("subsidy_paid", "补贴已发放", Rule::Bool),
    spec("deleted", "已删除", Rule::Bool),
];

pub const ITEM_FIELDS: &[FieldSpec] = &[
    fixed("category", "类别", choice_rule!(Category)),
    fixed("household", "所属户", Rule::Text { max_chars: 36 }),
    fixed("created_by", "登记人", SHORT),
    spec("position", "位置", choice_rule!(Position)),
    spec("facade", "立面", Rule::Text { max_chars: 20 }),
    spec("count", "数量", Rule::Int { min: 1, max: 1000 }),
    spec(
        "area_m2",
        "面积(㎡)",
        Rule::Real {
            min: 0.0,
            max: 10_000.0,
        },
    ),
    spec(
        "length_m",
        "长度(米)",
        Rule::Real {
            min: 0.0,
            max: 1_000.0,
        },
    ),
    spec("material", "材质", choice_rule!(AwningMaterial)),
    spec("material_note", "材质说明", SHORT),
    spec("fire_grade", "燃烧性能等级", choice_rule!(FireGrade)),
    spec("grade_basis", "等级依据", choice_rule!(GradeBasis)),
    spec(
        "protrusion_cm",
        "外凸(厘米)",
        Rule::Real {
            min: 0.0,
            max: 500.0,
        },
    ),
    spec("fully_enclosed", "全封闭", Rule::Bool),
    spec(
        "opening_width_m",
        "逃生口宽(米)",
        Rule::Real {
            min: 0.0,
            max: 10.0,
        },
    ),
    spec(
        "opening_height_m",
        "逃生口高(米)",
        Rule::Real {
            min: 0.0,
            max: 10.0,
        },
    ),
    spec(
        "opening_sill_m",
        "逃生口窗台高(米)",
        Rule::Real {
            min: 0.0,
            max: 10.0,
        },
    ),
    spec("opening_inside", "可从内开启", Rule::Bool),
    spec(
        "remediation_method",
        "整改方式",
        choice_rule!(RemediationMethod),
    ),
    spec("executor", "整改实施方", SHORT),
    spec("refusal_reason", "拒改原因", LONG),
    spec("enforcement_doc_no", "执法文书号", SHORT),
    spec("note", "备注", LONG),
    spec("deleted", "已删除", Rule::Bool),
];

/// The spec of `key` in `fields`, or an error naming the unknown key.
pub fn spec_of(
    fields: &'static [FieldSpec],
    record: &'static str,
    key: &str,
) -> Result<&'static FieldSpec, ParseError> {
    fields.iter().find(|f| f.key == key).ok_or_else(|| {
        ParseError::new(
            "field",
            format!("{record}.{key}"),
            format!("{record} has no field {key:?}"),
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fields_check_their_values_and_say_what_they_expect() {
        let floors = spec_of(BUILDING_FIELDS, "building", "floors").unwrap();
        assert!(floors.check(&FieldValue::Int(33)).is_ok());
        assert_eq!(
            floors.check(&FieldValue::Int(0)).unwrap_err().to_string(),
            "invalid floors \"0\": expected a whole number from 1 to 200"
        );
        let phone = spec_of(HOUSEHOLD_FIELDS, "household", "owner_phone").unwrap();
        assert!(phone
            .check(&FieldValue::Text("138 1234 1234".into()))
            .is_ok());
        assert!(phone.check(&FieldValue::Text("call me".into())).is_err());
        let grade = spec_of(ITEM_FIELDS, "item", "fire_grade").unwrap();
        assert!(grade.check(&FieldValue::Text("B2".into())).is_ok());
        assert!(grade.check(&FieldValue::Text("C".into())).is_err());
        assert_eq!(
            spec_of(ITEM_FIELDS, "item", "colour")
                .unwrap_err()
                .to_string(),
            "invalid field \"item.colour\": item has no field \"colour\""
        );
    }
}
