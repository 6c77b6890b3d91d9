//! 隐患点位: vocabularies of awnings and nets, and the rules that make one a hazard.

use serde::{Deserialize, Serialize};

use crate::choice;
use crate::settings::EscapeThresholds;

choice!(
    /// 类别: the two columns of 附件2.
    Category, "category" {
        Awning = "awning" / "可燃雨棚",
        Net = "net" / "突出外墙防护网",
    }
);

choice!(
    /// 位置.
    Position, "position" {
        Window = "window" / "窗",
        Balcony = "balcony" / "阳台",
        Terrace = "terrace" / "露台",
        Roof = "roof" / "屋顶",
        AcBracket = "ac_bracket" / "空调位",
        StairWindow = "stair_window" / "楼道窗",
    }
);

choice!(
    /// 雨棚材质.
    AwningMaterial, "awning material" {
        SandwichFoam = "sandwich_foam" / "彩钢夹芯板-泡沫芯",
        SandwichRockWool = "sandwich_rockwool" / "彩钢夹芯板-岩棉芯",
        SteelSheet = "steel_sheet" / "单层彩钢瓦",
        Polycarbonate = "polycarbonate" / "PC阳光板/耐力板",
        Plastic = "plastic" / "塑料",
        Frp = "frp" / "玻璃钢",
        Acrylic = "acrylic" / "亚克力",
        Canvas = "canvas" / "帆布",
        Wood = "wood" / "木/竹",
        Aluminium = "aluminium" / "铝合金",
        TemperedGlass = "tempered_glass" / "钢化玻璃",
        StainlessSteel = "stainless_steel" / "不锈钢",
        Other = "other" / "其他",
    }
);

choice!(
    /// 燃烧性能等级 (GB 8624-2012).
    FireGrade, "fire grade" {
        A = "A" / "A级(不燃)",
        B1 = "B1" / "B1级(难燃)",
        B2 = "B2" / "B2级(可燃)",
        B3 = "B3" / "B3级(易燃)",
        Unknown = "unknown" / "未知",
    }
);

choice!(
    /// 等级依据.
    GradeBasis, "grade basis" {
        TestReport = "test_report" / "检测报告",
        Presumed = "presumed" / "材质推定",
    }
);

choice!(
    /// 整改方式.
    RemediationMethod, "remediation method" {
        Removed = "removed" / "自行拆除",
        Replaced = "replaced" / "更换不燃/难燃材料",
        EscapeOpening = "escape_opening" / "开设逃生口",
        MovedInside = "moved_inside" / "移至窗内",
    }
);

/// An escape opening (应急疏散逃生口) as measured, metres.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EscapeOpening {
    pub width_m: f64,
    pub height_m: f64,
    pub sill_m: f64,
    pub openable_inside: bool,
}

impl EscapeOpening {
    /// Why this opening does not comply, or `None` when it does.
    pub fn shortfall(&self, t: &EscapeThresholds) -> Option<String> {
        let mut why = Vec::new();
        if self.width_m < t.min_width_m {
            why.push(format!("宽 {:.2} m < {:.2} m", self.width_m, t.min_width_m));
        }
        if self.height_m < t.min_height_m {
            why.push(format!(
                "高 {:.2} m < {:.2} m",
                self.height_m, t.min_height_m
            ));
        }
        if self.sill_m > t.max_sill_m {
            why.push(format!("窗台 {:.2} m > {:.2} m", self.sill_m, t.max_sill_m));
        }
        if !self.openable_inside {
            why.push("不能从内开启".into());
        }
        (!why.is_empty()).then(|| why.join("；"))
    }
}

/// Whether an awning of this grade is a hazard: B2, B3 or unknown.
pub fn awning_is_hazard(grade: FireGrade) -> bool {
    matches!(grade, FireGrade::B2 | FireGrade::B3 | FireGrade::Unknown)
}

/// Whether a net is a hazard: it protrudes and has no compliant escape opening.
pub fn net_is_hazard(
    protrudes: bool,
    opening: Option<&EscapeOpening>,
    t: &EscapeThresholds,
) -> bool {
    protrudes && opening.is_none_or(|o| o.shortfall(t).is_some())
}

/// Replacement counts only with grade A, or B1 backed by a test report.
pub fn replacement_acceptable(grade: FireGrade, basis: Option<GradeBasis>) -> bool {
    grade == FireGrade::A || (grade == FireGrade::B1 && basis == Some(GradeBasis::TestReport))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awnings_of_b2_b3_or_unknown_grade_are_hazards() {
        assert!(awning_is_hazard(FireGrade::B2));
        assert!(awning_is_hazard(FireGrade::B3));
        assert!(awning_is_hazard(FireGrade::Unknown));
        assert!(!awning_is_hazard(FireGrade::A));
        assert!(!awning_is_hazard(FireGrade::B1));
    }

    #[test]
    fn escape_opening_thresholds_default_to_0_8_by_1_0_sill_1_2() {
        let t = EscapeThresholds::default();
        let ok = EscapeOpening {
            width_m: 0.8,
            height_m: 1.0,
            sill_m: 1.2,
            openable_inside: true,
        };
        assert_eq!(ok.shortfall(&t), None);
        assert!(!net_is_hazard(true, Some(&ok), &t));
        let narrow = EscapeOpening { width_m: 0.6, ..ok };
        assert_eq!(narrow.shortfall(&t).as_deref(), Some("宽 0.60 m < 0.80 m"));
        let locked = EscapeOpening {
            sill_m: 1.5,
            openable_inside: false,
            ..ok
        };
        assert_eq!(
            locked.shortfall(&t).as_deref(),
            Some("窗台 1.50 m > 1.20 m；不能从内开启")
        );
        assert!(net_is_hazard(true, None, &t));
        assert!(!net_is_hazard(false, None, &t));
    }

    #[test]
    fn replacement_needs_a_or_tested_b1() {
        assert!(replacement_acceptable(FireGrade::A, None));
        assert!(replacement_acceptable(
            FireGrade::B1,
            Some(GradeBasis::TestReport)
        ));
        assert!(!replacement_acceptable(
            FireGrade::B1,
            Some(GradeBasis::Presumed)
        ));
        assert!(!replacement_acceptable(
            FireGrade::B2,
            Some(GradeBasis::TestReport)
        ));
    }

    #[test]
    fn choices_parse_codes_and_labels_and_say_what_they_accept() {
        assert_eq!(Category::parse("net").unwrap(), Category::Net);
        assert_eq!(Category::parse("可燃雨棚").unwrap(), Category::Awning);
        let err = Category::parse("roof").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid category \"roof\": expected one of awning, net"
        );
    }
}
