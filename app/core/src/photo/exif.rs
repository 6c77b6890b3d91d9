//! The EXIF fields a photo record keeps — when and where it was taken — and the orientation that
//! makes its pixels upright. Everything else in the EXIF is dropped with it. EXIF is advisory:
//! unreadable or half-readable EXIF never fails an ingest, it only leaves a note.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use exif::{Exif, In, Rational, Tag, Value};
use pengwang_shared::time::{shanghai, Timestamp};
use serde::{Deserialize, Serialize};

/// When the photo was taken, by the camera's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakenAt {
    /// `DateTimeOriginal` exactly as the camera wrote it, e.g. `2008:10:22 16:28:39`.
    pub original: String,
    /// `OffsetTimeOriginal` as written, e.g. `+02:00`, when the camera recorded one.
    pub offset: Option<String>,
    /// The moment: `original` at `offset`, or — when the camera recorded no offset, as most
    /// do — at Asia/Shanghai time (UTC+8), where the inspectors and their phones are.
    pub at: DateTime<FixedOffset>,
}

impl TakenAt {
    pub fn timestamp(&self) -> Timestamp {
        Timestamp(self.at.timestamp())
    }
}

/// Where the photo was taken: WGS-84 decimal degrees, north and east positive.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gps {
    pub lat: f64,
    pub lng: f64,
    /// `GPSHPositioningError`: the horizontal accuracy in metres, when recorded.
    pub accuracy_m: Option<f64>,
}

/// What ingest takes from the EXIF.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExifRecord {
    /// EXIF orientation 1–8 (1 when absent or invalid).
    pub orientation: u8,
    pub taken_at: Option<TakenAt>,
    pub gps: Option<Gps>,
    /// Why some or all of the EXIF could not be used, for the photo's record.
    pub note: Option<String>,
}

/// Reads the raw EXIF (TIFF structure after the `Exif\0\0` header), if the photo had any.
pub(crate) fn read(raw: Option<&[u8]>) -> ExifRecord {
    let mut record = ExifRecord {
        orientation: 1,
        taken_at: None,
        gps: None,
        note: None,
    };
    let Some(raw) = raw else {
        return record;
    };
    let mut notes = Vec::new();
    let exif = match exif::Reader::new()
        .continue_on_error(true)
        .read_raw(raw.to_vec())
    {
        Ok(exif) => exif,
        Err(exif::Error::PartialResult(partial)) => {
            let (exif, errors) = partial.into_inner();
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            if exif.fields().len() == 0 {
                record.note = Some(unreadable(&first));
                return record;
            }
            notes.push(format!(
                "EXIF partly unreadable ({} error(s), first: {first})",
                errors.len()
            ));
            exif
        }
        Err(e) => {
            record.note = Some(format!(
                "EXIF unreadable ({e}); taken-at and GPS not recorded"
            ));
            return record;
        }
    };
    record.orientation = orientation(&exif, &mut notes);
    record.taken_at = taken_at(&exif, &mut notes);
    record.gps = gps(&exif, &mut notes);
    record.note = (!notes.is_empty()).then(|| notes.join("; "));
    record
}

fn unreadable(why: &dyn std::fmt::Display) -> String {
    format!("EXIF unreadable ({why}); taken-at, GPS and orientation not recorded")
}

fn field(exif: &Exif, tag: Tag) -> Option<&Value> {
    exif.get_field(tag, In::PRIMARY).map(|f| &f.value)
}

fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    match field(exif, tag)? {
        Value::Ascii(parts) => {
            let s = String::from_utf8_lossy(parts.first()?);
            Some(
                s.trim_matches(|c: char| c == '\0' || c.is_whitespace())
                    .to_owned(),
            )
        }
        _ => None,
    }
}

fn orientation(exif: &Exif, notes: &mut Vec<String>) -> u8 {
    match field(exif, Tag::Orientation).map(|v| v.get_uint(0)) {
        None => 1,
        Some(Some(o @ 1..=8)) => o as u8,
        Some(other) => {
            notes.push(format!(
                "EXIF orientation {other:?} is invalid; pixels kept as stored"
            ));
            1
        }
    }
}

fn taken_at(exif: &Exif, notes: &mut Vec<String>) -> Option<TakenAt> {
    let original = ascii(exif, Tag::DateTimeOriginal)?;
    let Ok(local) = NaiveDateTime::parse_from_str(&original, "%Y:%m:%d %H:%M:%S") else {
        notes.push(format!(
            "DateTimeOriginal {original:?} is not a date; taken-at not recorded"
        ));
        return None;
    };
    let offset = ascii(exif, Tag::OffsetTimeOriginal).filter(|s| !s.is_empty());
    let zone = match offset.as_deref().map(parse_offset) {
        None => shanghai(),
        Some(Some(zone)) => zone,
        Some(None) => {
            notes.push(format!(
                "OffsetTimeOriginal {offset:?} is invalid; read as UTC+8"
            ));
            shanghai()
        }
    };
    let at = zone.from_local_datetime(&local).single()?;
    Some(TakenAt {
        original,
        offset,
        at,
    })
}

/// `+08:00` / `-03:30` → the fixed offset.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn gps(exif: &Exif, notes: &mut Vec<String>) -> Option<Gps> {
    let lat = degrees(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S');
    let lng = degrees(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W');
    let (lat, lng) = match (lat, lng) {
        (None, None) => return None,
        (Some(Some(lat)), Some(Some(lng)))
            if lat.abs() <= 90.0 && lng.abs() <= 180.0 && (lat, lng) != (0.0, 0.0) =>
        {
            (lat, lng)
        }
        _ => {
            notes.push("GPS position incomplete or invalid; not recorded".into());
            return None;
        }
    };
    let accuracy_m = match field(exif, Tag::GPSHPositioningError) {
        Some(Value::Rational(r)) => r.first().and_then(ratio).filter(|a| *a >= 0.0),
        _ => None,
    };
    Some(Gps {
        lat,
        lng,
        accuracy_m,
    })
}

/// Degrees, minutes, seconds (rationals) → signed decimal degrees; `negative` is the reference
/// letter (S or W) that flips the sign. A missing reference reads as N / E.
/// `None` when the tag is absent, `Some(None)` when it is there but unusable.
fn degrees(exif: &Exif, tag: Tag, reference: Tag, negative: u8) -> Option<Option<f64>> {
    let Value::Rational(parts) = field(exif, tag)? else {
        return Some(None);
    };
    let scale = [1.0, 60.0, 3600.0];
    if parts.is_empty() || parts.len() > 3 {
        return Some(None);
    }
    let mut value = 0.0;
    for (part, div) in parts.iter().zip(scale) {
        let Some(x) = ratio(part) else {
            return Some(None);
        };
        value += x / div;
    }
    let flip = ascii(exif, reference).is_some_and(|r| r.as_bytes().first() == Some(&negative));
    Some(Some(if flip { -value } else { value }))
}

fn ratio(r: &Rational) -> Option<f64> {
    (r.denom != 0).then(|| f64::from(r.num) / f64::from(r.denom))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_both_ways_and_refuse_nonsense() {
        assert_eq!(parse_offset("+08:00"), FixedOffset::east_opt(8 * 3600));
        assert_eq!(
            parse_offset("-03:30"),
            FixedOffset::east_opt(-(3 * 3600 + 1800))
        );
        for bad in ["08:00", "+8", "+25:00", "+08:61", "", "+"] {
            assert_eq!(parse_offset(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn no_exif_is_upright_with_no_note() {
        let r = read(None);
        assert_eq!(
            (r.orientation, r.taken_at, r.gps, r.note),
            (1, None, None, None)
        );
    }

    #[test]
    fn garbage_exif_leaves_a_note_and_nothing_else() {
        let r = read(Some(b"MM\0*garbage"));
        assert_eq!((r.orientation, r.taken_at, r.gps), (1, None, None));
        let note = r.note.unwrap();
        assert!(note.starts_with("EXIF unreadable"), "{note}");
    }
}
