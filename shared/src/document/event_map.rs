//! Events as automerge maps: written once by their author, read back strictly.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ReadDoc};

use super::{field::FieldValue, DocumentError};
use crate::event::{Event, EventDetail, EventKind, ItemState};
use crate::household::NoticeMethod;
use crate::id::{AccountId, DeviceId, EventId, PhotoHash};
use crate::item::{EscapeOpening, FireGrade, GradeBasis, RemediationMethod};
use crate::role::Role;
use crate::time::Timestamp;

pub(super) fn write<D: Transactable>(
    doc: &mut D,
    events: &ObjId,
    e: &Event,
) -> Result<(), DocumentError> {
    check_note(&e.note)?;
    let m = doc.put_object(events, e.id.to_string(), ObjType::Map)?;
    doc.put(&m, "kind", e.kind.code())?;
    if let Some(to) = e.to {
        doc.put(&m, "to", to.code())?;
    }
    doc.put(&m, "at", e.at.0)?;
    doc.put(&m, "by", e.by.to_string())?;
    doc.put(&m, "role", e.role.code())?;
    if let Some(d) = e.device {
        doc.put(&m, "device", d.to_string())?;
    }
    doc.put(&m, "note", e.note.as_str())?;
    doc.put(&m, "photos", join(e.photos.iter()))?;
    doc.put(&m, "prev", join(e.prev.iter()))?;
    let d = &e.detail;
    let mut opt = |key: &str, v: Option<String>| -> Result<(), DocumentError> {
        if let Some(v) = v {
            doc.put(&m, key, v)?;
        }
        Ok(())
    };
    opt(
        "notice_method",
        d.notice_method.map(|x| x.code().to_owned()),
    )?;
    opt("deadline", d.deadline.clone())?;
    opt("method", d.method.map(|x| x.code().to_owned()))?;
    opt("new_grade", d.new_grade.map(|x| x.code().to_owned()))?;
    opt("grade_basis", d.grade_basis.map(|x| x.code().to_owned()))?;
    opt("document_no", d.document_no.clone())?;
    if let Some(o) = d.opening {
        doc.put(&m, "opening_width_m", o.width_m)?;
        doc.put(&m, "opening_height_m", o.height_m)?;
        doc.put(&m, "opening_sill_m", o.sill_m)?;
        doc.put(&m, "opening_inside", o.openable_inside)?;
    }
    Ok(())
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

/// Reads one event map. Any malformed value is a schema error naming the event and key.
pub(super) fn read<D: ReadDoc>(doc: &D, id: &str, m: &ObjId) -> Result<Event, DocumentError> {
    let bad = |key: &str, why: String| DocumentError::Schema(format!("event {id}: {key}: {why}"));
    let get = |key: &str| -> Result<Option<FieldValue>, DocumentError> {
        Ok(doc
            .get(m, key)?
            .and_then(|(v, _)| FieldValue::from_value(&v)))
    };
    let text = |key: &str| -> Result<Option<String>, DocumentError> {
        match get(key)? {
            None | Some(FieldValue::Null) => Ok(None),
            Some(FieldValue::Text(s)) => Ok(Some(s)),
            Some(other) => Err(bad(key, format!("expected text, found {other:?}"))),
        }
    };
    let need = |key: &str| text(key)?.ok_or_else(|| bad(key, "missing".into()));
    let real = |key: &str| -> Result<Option<f64>, DocumentError> {
        Ok(get(key)?.and_then(|v| v.as_f64()))
    };
    let parse_list = |key: &str| -> Result<Vec<String>, DocumentError> {
        Ok(text(key)?
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    };
    let at = get("at")?
        .and_then(|v| v.as_i64())
        .ok_or_else(|| bad("at", "missing".into()))?;
    let opening = match (
        real("opening_width_m")?,
        real("opening_height_m")?,
        real("opening_sill_m")?,
    ) {
        (Some(w), Some(h), Some(s)) => Some(EscapeOpening {
            width_m: w,
            height_m: h,
            sill_m: s,
            openable_inside: get("opening_inside")?
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }),
        _ => None,
    };
    Ok(Event {
        id: EventId::parse(id)?,
        kind: EventKind::parse(&need("kind")?)?,
        to: text("to")?.map(|s| ItemState::parse(&s)).transpose()?,
        at: Timestamp(at),
        by: AccountId::parse(&need("by")?)?,
        role: Role::parse(&need("role")?)?,
        device: text("device")?.map(|s| DeviceId::parse(&s)).transpose()?,
        note: check_note(&text("note")?.unwrap_or_default())?.to_owned(),
        photos: parse_list("photos")?
            .iter()
            .map(|s| PhotoHash::parse(s))
            .collect::<Result<_, _>>()?,
        prev: parse_list("prev")?
            .iter()
            .map(|s| EventId::parse(s))
            .collect::<Result<_, _>>()?,
        detail: EventDetail {
            notice_method: text("notice_method")?
                .map(|s| NoticeMethod::parse(&s))
                .transpose()?,
            deadline: text("deadline")?,
            method: text("method")?
                .map(|s| RemediationMethod::parse(&s))
                .transpose()?,
            new_grade: text("new_grade")?
                .map(|s| FireGrade::parse(&s))
                .transpose()?,
            grade_basis: text("grade_basis")?
                .map(|s| GradeBasis::parse(&s))
                .transpose()?,
            opening,
            document_no: text("document_no")?,
        },
    })
}

/// The longest note an event may carry (a reason, a remark): the same as the 备注 field.
pub const MAX_NOTE_CHARS: usize = 1000;

/// Refuses an event note longer than [`MAX_NOTE_CHARS`], written or read.
fn check_note(note: &str) -> Result<&str, crate::ParseError> {
    if note.chars().count() > MAX_NOTE_CHARS {
        let shown: String = note.chars().take(20).collect();
        return Err(crate::ParseError::new(
            "note",
            format!("{shown}…"),
            format!("说明不能超过 {MAX_NOTE_CHARS} 字"),
        ));
    }
    Ok(note)
}

#[cfg(test)]
mod note_tests {
    use super::*;

    #[test]
    fn an_event_note_holds_at_most_a_thousand_characters() {
        assert!(check_note(&"字".repeat(MAX_NOTE_CHARS)).is_ok());
        let err = check_note(&"字".repeat(MAX_NOTE_CHARS + 1)).unwrap_err();
        assert!(err.to_string().contains("说明不能超过 1000 字"), "{err}");
    }
}
