//! 楼栋: the building record and the high-rise rule (GB 50016).

use serde::{Deserialize, Serialize};

use crate::choice;

choice!(
    /// 用途. 商住, 宿舍公寓 and 公共 count as non-residential for the height rule.
    BuildingUse, "building use" {
        Residential = "residential" / "住宅",
        Public = "public" / "公共",
        Mixed = "mixed" / "商住",
        Dormitory = "dormitory" / "宿舍公寓",
    }
);

choice!(
    /// 排查状态.
    SurveyStatus, "survey status" {
        Pending = "pending" / "待排查",
        InProgress = "in_progress" / "排查中",
        Done = "done" / "已排查",
    }
);

/// 高层 / 多层, and whether the height needs checking on site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeightClass {
    pub high_rise: bool,
    /// 需核实高度: presumed from floors, near the threshold.
    pub needs_check: bool,
}

impl HeightClass {
    pub fn label(self) -> &'static str {
        if self.high_rise {
            "高层"
        } else {
            "多层"
        }
    }
}

/// Classifies a building. High-rise: residential > 27 m, other > 24 m. Height unknown: residential
/// with ≥ 10 floors (non-residential ≥ 8) is presumed high-rise; a presumption at 9–10 floors
/// (non-residential 7–8) is flagged for checking. A single-storey building is never high-rise.
pub fn classify_height(
    use_: BuildingUse,
    height_m: Option<f64>,
    floors: Option<u32>,
) -> HeightClass {
    let residential = use_ == BuildingUse::Residential;
    if let Some(h) = height_m {
        let limit = if residential { 27.0 } else { 24.0 };
        let single_storey = floors == Some(1);
        return HeightClass {
            high_rise: h > limit && !single_storey,
            needs_check: false,
        };
    }
    let Some(floors) = floors else {
        return HeightClass {
            high_rise: false,
            needs_check: true,
        };
    };
    let (presume, near) = if residential {
        (10, 9..=10)
    } else {
        (8, 7..=8)
    };
    HeightClass {
        high_rise: floors >= presume,
        needs_check: near.contains(&floors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_height_decides_when_known() {
        let r = BuildingUse::Residential;
        assert_eq!(
            classify_height(r, Some(27.0), Some(9)),
            HeightClass {
                high_rise: false,
                needs_check: false
            }
        );
        assert_eq!(
            classify_height(r, Some(27.1), Some(9)),
            HeightClass {
                high_rise: true,
                needs_check: false
            }
        );
        let p = BuildingUse::Public;
        assert!(!classify_height(p, Some(24.0), Some(8)).high_rise);
        assert!(classify_height(p, Some(24.5), Some(7)).high_rise);
        // 商住 counts as non-residential.
        assert!(classify_height(BuildingUse::Mixed, Some(25.0), None).high_rise);
        // A tall single-storey hall is not high-rise.
        assert!(!classify_height(p, Some(30.0), Some(1)).high_rise);
    }

    #[test]
    fn floors_presume_with_a_check_flag_near_the_threshold() {
        let r = BuildingUse::Residential;
        assert_eq!(
            classify_height(r, None, Some(8)),
            HeightClass {
                high_rise: false,
                needs_check: false
            }
        );
        assert_eq!(
            classify_height(r, None, Some(9)),
            HeightClass {
                high_rise: false,
                needs_check: true
            }
        );
        assert_eq!(
            classify_height(r, None, Some(10)),
            HeightClass {
                high_rise: true,
                needs_check: true
            }
        );
        assert_eq!(
            classify_height(r, None, Some(11)),
            HeightClass {
                high_rise: true,
                needs_check: false
            }
        );
        let d = BuildingUse::Dormitory;
        assert_eq!(
            classify_height(d, None, Some(7)),
            HeightClass {
                high_rise: false,
                needs_check: true
            }
        );
        assert_eq!(
            classify_height(d, None, Some(8)),
            HeightClass {
                high_rise: true,
                needs_check: true
            }
        );
        assert_eq!(
            classify_height(d, None, Some(9)),
            HeightClass {
                high_rise: true,
                needs_check: false
            }
        );
        assert_eq!(
            classify_height(r, None, None),
            HeightClass {
                high_rise: false,
                needs_check: true
            }
        );
    }
}
