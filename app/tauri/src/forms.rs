//! What the UI sends and receives beyond the core's own views: the new-building form, the
//! choice lists (codes and Chinese labels, from `pengwang-shared`, so labels have one home) and a
//! sync summary.

use std::collections::BTreeMap;

use pengwang_core::SyncReport;
use pengwang_shared::building::BuildingUse;
use pengwang_shared::document::{FieldValue, ITEM_FIELDS};
use pengwang_shared::event::{EventDetail, EventKind};
use pengwang_shared::household::{NoticeMethod, Occupancy, SurveyResult};
use pengwang_shared::id::{HouseholdId, PhotoHash};
use pengwang_shared::item::{
    AwningMaterial, Category, FireGrade, GradeBasis, Position, RemediationMethod,
};
use pengwang_shared::settings::EscapeThresholds;
use serde::{Deserialize, Serialize};

/// The add-building form.
#[derive(Clone, Debug, Deserialize)]
pub struct NewBuilding {
    pub community: String,
    pub estate: String,
    pub number: String,
    pub address: String,
    #[serde(rename = "use")]
    pub use_: BuildingUse,
    pub floors: Option<i64>,
    pub height_m: Option<f64>,
    pub units: Option<i64>,
}

impl NewBuilding {
    /// The building's fields (its place is its location, not a field).
    pub fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let mut out = vec![
            ("number", FieldValue::Text(self.number.trim().to_owned())),
            ("address", FieldValue::Text(self.address.trim().to_owned())),
            ("use", FieldValue::Text(self.use_.code().to_owned())),
            ("survey_status", FieldValue::Text("in_progress".to_owned())),
        ];
        let numbers = [
            ("floors", self.floors.map(FieldValue::Int)),
            ("height_m", self.height_m.map(FieldValue::Real)),
            ("units", self.units.map(FieldValue::Int)),
        ];
        out.extend(numbers.into_iter().filter_map(|(k, v)| Some((k, v?))));
        out
    }
}

/// The add-item form: category, household (`None`: common parts), fields of DESIGN §3 by key,
/// the before photos already ingested.
#[derive(Clone, Debug, Deserialize)]
pub struct NewItem {
    pub category: Category,
    pub household: Option<HouseholdId>,
    pub fields: BTreeMap<String, FieldValue>,
    pub photos: Vec<PhotoHash>,
    #[serde(default)]
    pub note: String,
}

/// A lifecycle step with what it needs.
#[derive(Clone, Debug, Deserialize)]
pub struct StepInput {
    pub kind: EventKind,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub photos: Vec<PhotoHash>,
    #[serde(default)]
    pub detail: EventDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
}

macro_rules! choices_of {
    ($t:ty) => {
        <$t>::ALL
            .iter()
            .map(|c| Choice {
                code: c.code(),
                label: c.label(),
            })
            .collect()
    };
}

/// Every choice list the forms offer, and the escape-opening rule they show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choices {
    pub building_uses: Vec<Choice>,
    pub occupancies: Vec<Choice>,
    pub survey_results: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub positions: Vec<Choice>,
    pub awning_materials: Vec<Choice>,
    pub fire_grades: Vec<Choice>,
    pub grade_bases: Vec<Choice>,
    pub remediation_methods: Vec<Choice>,
    pub notice_methods: Vec<Choice>,
    /// The item fields' labels, by key (code).
    pub item_fields: Vec<Choice>,
    pub escape: EscapeThresholds,
}

impl Choices {
    pub fn new(escape: EscapeThresholds) -> Self {
        Choices {
            building_uses: choices_of!(BuildingUse),
            occupancies: choices_of!(Occupancy),
            survey_results: choices_of!(SurveyResult),
            categories: choices_of!(Category),
            positions: choices_of!(Position),
            awning_materials: choices_of!(AwningMaterial),
            fire_grades: choices_of!(FireGrade),
            grade_bases: choices_of!(GradeBasis),
            remediation_methods: choices_of!(RemediationMethod),
            notice_methods: choices_of!(NoticeMethod),
            item_fields: ITEM_FIELDS
                .iter()
                .map(|f| Choice {
                    code: f.key,
                    label: f.label,
                })
                .collect(),
            escape,
        }
    }
}

/// What one sync did, for the status line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    pub docs_sent: usize,
    pub docs_received: usize,
    /// Buildings the server refused, with its reason.
    pub refused: Vec<String>,
    pub open_conflicts: u32,
    pub photos_uploaded: usize,
    pub photos_pending: usize,
    pub photo_error: Option<String>,
}

impl From<SyncReport> for SyncSummary {
    fn from(r: SyncReport) -> Self {
        SyncSummary {
            docs_sent: r.docs_sent,
            docs_received: r.docs_received,
            refused: r
                .refused
                .iter()
                .map(|(b, e)| format!("{b}: {} ({})", e.message, e.code))
                .collect(),
            open_conflicts: r.open_conflicts,
            photos_uploaded: r.photos_uploaded,
            photos_pending: r.photos_pending,
            photo_error: r.photo_error,
        }
    }
}
