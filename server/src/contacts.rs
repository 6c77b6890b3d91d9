//! 附件1 — the contact receipt (DESIGN §6): per reporting unit, who leads and who is the liaison
//! (类别, 姓名, 单位及职务, 手机号码, 备注), due 03-15. The unit's lead keeps it; the city reads it.
//!
//! Rows are never overwritten: an edit stores a new row and marks the old one replaced, a removal
//! only marks the row. Phone numbers are personal data: every list and the XLSX export show them
//! masked (138****1234). The export is masked too: the file travels by WeChat and e-mail, and
//! the city reaches a contact through the console, where a full number is an audited reveal.

use pengwang_shared::household::mask_phone;
use pengwang_shared::id::AccountId;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::UnitCode;
use pengwang_shared::role::Role;
use pengwang_shared::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::audit::{self, Action, NewAudit};
use crate::error::AppError;

/// The usual 类别 of the official form, offered as suggestions (others may be typed).
pub const CATEGORIES: [&str; 3] = ["政府分管领导", "牵头部门负责人", "联络员"];

/// The header row of the sheet and its export.
pub const HEADER: [&str; 5] = ["类别", "姓名", "单位及职务", "手机号码", "备注"];

/// One live row of the sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub id: i64,
    pub category: String,
    pub name: String,
    pub organization: String,
    pub phone: String,
    pub note: String,
    pub created_at: Timestamp,
}

impl Contact {
    /// The phone as every list and export shows it.
    pub fn masked_phone(&self) -> String {
        mask_phone(&self.phone)
    }
}

/// A row as typed into the form, before it is checked.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub organization: String,
    /// Empty when editing: keep the stored number (the form never shows it in full).
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub note: String,
}

/// A checked row about to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewContact {
    pub category: String,
    pub name: String,
    pub organization: String,
    pub phone: String,
    pub note: String,
}

fn invalid(message: String) -> AppError {
    AppError::bad_request("invalid_contact", message)
}

/// Checks one text field: trimmed, required or not, at most `max` characters.
fn text(label: &str, value: &str, required: bool, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(invalid(format!("请填写{label}")));
    }
    if v.chars().count() > max {
        return Err(invalid(format!("{label}最多 {max} 个字")));
    }
    Ok(v.to_owned())
}

/// A mainland mobile number: 11 digits starting with 1; spaces and dashes are dropped.
pub fn parse_mobile(value: &str) -> Result<String, AppError> {
    let digits: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let ok =
        digits.len() == 11 && digits.starts_with('1') && digits.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(digits)
    } else {
        Err(invalid(format!(
            "手机号码应为以 1 开头的 11 位数字，收到 {} 个字符",
            value.trim().chars().count()
        )))
    }
}

impl ContactForm {
    /// Checks the form; `keep_phone` is the stored number an edit may leave unchanged.
    pub fn parse(&self, keep_phone: Option<&str>) -> Result<NewContact, AppError> {
        let phone = match (self.phone.trim(), keep_phone) {
            ("", Some(old)) => old.to_owned(),
            ("", None) => return Err(invalid("请填写手机号码".into())),
            (p, _) => parse_mobile(p)?,
        };
        Ok(NewContact {
            category: text("类别", &self.category, true, 20)?,
            name: text("姓名", &self.name, true, 20)?,
            organization: text("单位及职务", &self.organization, true, 60)?,
            phone,
            note: text("备注", &self.note, false, 200)?,
        })
    }
}

/// Whether `account` may change the sheet of `unit`: its unit lead. The city reads every sheet
/// but a unit answers for its own contacts.
pub fn may_edit(account: &AccountInfo, unit: &UnitCode) -> bool {
    account.role == Role::UnitLead && account.scope.covers_unit(unit)
}

/// The live rows of `unit`: by the form's category order, then as entered.
pub fn list(conn: &Connection, unit: &UnitCode) -> Result<Vec<Contact>, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT id, category, name, organization, phone, note, created_at FROM unit_contact
         WHERE unit_code = ?1 AND removed_at IS NULL
         ORDER BY CASE category WHEN ?2 THEN 0 WHEN ?3 THEN 1 WHEN ?4 THEN 2 ELSE 3 END, id",
    )?;
    let rows = stmt.query_map(
        params![unit.as_str(), CATEGORIES[0], CATEGORIES[1], CATEGORIES[2]],
        |r| {
            Ok(Contact {
                id: r.get(0)?,
                category: r.get(1)?,
                name: r.get(2)?,
                organization: r.get(3)?,
                phone: r.get(4)?,
                note: r.get(5)?,
                created_at: Timestamp(r.get(6)?),
            })
        },
    )?;
    rows.collect()
}

/// One live row of `unit`, or 404.
pub fn get(conn: &Connection, unit: &UnitCode, id: i64) -> Result<Contact, AppError> {
    list(conn, unit)?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| {
            AppError::not_found(
                "contact_not_found",
                format!("附件1 中没有第 {id} 条联系人（可能已被删除或修改）"),
            )
        })
}

/// When the sheet was first handed in: its first row, if any row is live.
pub fn submitted_at(
    conn: &Connection,
    unit: &UnitCode,
) -> Result<Option<Timestamp>, rusqlite::Error> {
    conn.query_row(
        "SELECT min(created_at) FROM unit_contact WHERE unit_code = ?1
           AND EXISTS (SELECT 1 FROM unit_contact l WHERE l.unit_code = ?1 AND l.removed_at IS NULL)",
        [unit.as_str()],
        |r| r.get::<_, Option<i64>>(0),
    )
    .map(|t| t.map(Timestamp))
}

fn audit_change(
    conn: &Connection,
    unit: &UnitCode,
    id: i64,
    what: &str,
    actor: AccountId,
    now: Timestamp,
) -> Result<(), rusqlite::Error> {
    let target = format!("unit/{unit}/contact/{id}");
    let row = NewAudit {
        at: now,
        actor: Some(actor),
        action: Action::ContactChange,
        target: &target,
        detail: what,
    };
    audit::record_in_unit(conn, &row, unit.as_str())
}

fn insert(
    conn: &Connection,
    unit: &UnitCode,
    c: &NewContact,
    actor: AccountId,
    now: Timestamp,
) -> Result<i64, rusqlite::Error> {
    conn.execute(
        "INSERT INTO unit_contact (unit_code, category, name, organization, phone, note, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![unit.as_str(), c.category, c.name, c.organization, c.phone, c.note, now.0, actor.to_string()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Adds a row; returns its id.
pub fn add(
    conn: &mut Connection,
    unit: &UnitCode,
    c: &NewContact,
    actor: AccountId,
    now: Timestamp,
) -> Result<i64, AppError> {
    let tx = conn.transaction()?;
    let id = insert(&tx, unit, c, actor, now)?;
    audit_change(&tx, unit, id, "add", actor, now)?;
    tx.commit()?;
    Ok(id)
}

/// Replaces row `id` with `form` (an empty phone keeps the old number); returns the new id.
pub fn replace(
    conn: &mut Connection,
    unit: &UnitCode,
    id: i64,
    form: &ContactForm,
    actor: AccountId,
    now: Timestamp,
) -> Result<i64, AppError> {
    let tx = conn.transaction()?;
    let old = get(&tx, unit, id)?;
    let new = form.parse(Some(&old.phone))?;
    let new_id = insert(&tx, unit, &new, actor, now)?;
    tx.execute(
        "UPDATE unit_contact SET removed_at = ?1, removed_by = ?2, replaced_by = ?3 WHERE id = ?4",
        params![now.0, actor.to_string(), new_id, id],
    )?;
    audit_change(
        &tx,
        unit,
        new_id,
        &format!("edit (replaces {id})"),
        actor,
        now,
    )?;
    tx.commit()?;
    Ok(new_id)
}

/// Removes row `id` from the sheet (the row itself is kept).
pub fn remove(
    conn: &mut Connection,
    unit: &UnitCode,
    id: i64,
    actor: AccountId,
    now: Timestamp,
) -> Result<(), AppError> {
    let tx = conn.transaction()?;
    get(&tx, unit, id)?;
    tx.execute(
        "UPDATE unit_contact SET removed_at = ?1, removed_by = ?2 WHERE id = ?3",
        params![now.0, actor.to_string(), id],
    )?;
    audit_change(&tx, unit, id, "remove", actor, now)?;
    tx.commit()?;
    Ok(())
}

/// The full phone of row `id`, for an audited reveal (never logged, never in the audit row).
pub fn reveal_phone(
    conn: &mut Connection,
    unit: &UnitCode,
    id: i64,
    actor: AccountId,
    now: Timestamp,
) -> Result<String, AppError> {
    let tx = conn.transaction()?;
    let phone: Option<String> = tx
        .query_row(
            "SELECT phone FROM unit_contact WHERE id = ?1 AND unit_code = ?2",
            params![id, unit.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(phone) = phone else {
        return Err(AppError::not_found(
            "contact_not_found",
            format!("附件1 中没有第 {id} 条联系人"),
        ));
    };
    let target = format!("unit/{unit}/contact/{id}");
    let row = NewAudit {
        at: now,
        actor: Some(actor),
        action: Action::PhoneReveal,
        target: &target,
        detail: "附件1 手机号码",
    };
    audit::record_in_unit(&tx, &row, unit.as_str())?;
    tx.commit()?;
    Ok(phone)
}

/// The title of the export.
pub fn title(unit_name: &str) -> String {
    format!("{unit_name}高层建筑可燃雨棚和突出外墙防护网整治工作联系人回执（附件1）")
}

/// The sheet as an XLSX workbook: title (merged over the five columns), 填报单位 line, header,
/// one row per contact with the phone masked.
pub fn xlsx(unit_name: &str, contacts: &[Contact]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("附件1")?;
    let title_fmt = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let head = cell.clone().set_bold().set_align(FormatAlign::Center);
    sheet.merge_range(0, 0, 0, 4, &title(unit_name), &title_fmt)?;
    sheet.set_row_height(0, 36)?;
    sheet.merge_range(
        1,
        0,
        1,
        4,
        &format!("填报单位（盖章）：{unit_name}"),
        &Format::new(),
    )?;
    for (col, (name, width)) in HEADER
        .iter()
        .zip([16.0, 12.0, 30.0, 16.0, 24.0])
        .enumerate()
    {
        let col = col as u16;
        sheet.write_string_with_format(2, col, *name, &head)?;
        sheet.set_column_width(col, width)?;
    }
    for (i, c) in contacts.iter().enumerate() {
        let row = 3 + i as u32;
        let cells = [
            c.category.clone(),
            c.name.clone(),
            c.organization.clone(),
            c.masked_phone(),
            c.note.clone(),
        ];
        for (col, value) in cells.iter().enumerate() {
            if value.is_empty() {
                sheet.write_blank(row, col as u16, &cell)?;
            } else {
                sheet.write_string_with_format(row, col as u16, value, &cell)?;
            }
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn form(phone: &str) -> ContactForm {
        ContactForm {
            category: " 联络员 ".into(),
            name: "王五".into(),
            organization: "区住房城乡建委 科员".into(),
            phone: phone.into(),
            note: String::new(),
        }
    }

    #[test]
    fn a_mobile_number_is_eleven_digits_from_one_and_spacing_is_dropped() {
        assert_eq!(parse_mobile("138 1234-5678").unwrap(), "13812345678");
        for bad in ["1381234567", "23812345678", "138123456789", "1381234567x"] {
            let e = parse_mobile(bad).unwrap_err();
            assert_eq!(e.to_api_error().code, "invalid_contact", "{bad}");
        }
    }

    #[test]
    fn the_form_is_trimmed_and_an_edit_may_keep_the_stored_phone() {
        let c = form("13812345678").parse(None).unwrap();
        assert_eq!(
            (c.category.as_str(), c.phone.as_str()),
            ("联络员", "13812345678")
        );
        assert_eq!(
            form("").parse(Some("13900001111")).unwrap().phone,
            "13900001111"
        );
        assert_eq!(
            form("").parse(None).unwrap_err().to_string(),
            "请填写手机号码"
        );
        let nameless = ContactForm {
            name: "  ".into(),
            ..form("13812345678")
        };
        assert_eq!(nameless.parse(None).unwrap_err().to_string(), "请填写姓名");
    }
}
