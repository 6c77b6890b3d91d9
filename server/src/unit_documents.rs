//! What a reporting unit hands in besides 附件2 (DESIGN §6): the work plan (工作方案, an uploaded
//! file, due 03-25) and the monthly summary (月度工作总结: 完成情况, 经验做法, 存在问题, 下一步工作打算,
//! due on the report day of each month), and which of these and 附件1 are missing against
//! their due dates.
//!
//! Uploaded files are stored content-addressed (SHA-256) in a `documents` directory beside the
//! photo directory, written atomically before their row is committed. Every version is kept:
//! a new upload or a re-saved summary is a new row, the newest is current.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use pengwang_shared::id::AccountId;
use pengwang_shared::region::UnitCode;
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::audit::{self, Action, NewAudit};
use crate::config::Config;
use crate::contacts;
use crate::error::AppError;

/// The largest work plan accepted.
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;

/// The file types a work plan may be, by extension: (extension, content type, magic bytes).
const TYPES: [(&str, &str, &[&[u8]]); 8] = [
    ("pdf", "application/pdf", &[b"%PDF-"]),
    ("doc", "application/msword", &[OLE2]),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &[ZIP],
    ),
    ("xls", "application/vnd.ms-excel", &[OLE2]),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &[ZIP],
    ),
    ("wps", "application/vnd.ms-works", &[OLE2, ZIP]),
    ("jpg", "image/jpeg", &[b"\xFF\xD8\xFF"]),
    ("png", "image/png", &[b"\x89PNG\r\n\x1a\n"]),
];
const OLE2: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const ZIP: &[u8] = b"PK\x03\x04";

/// Where uploaded documents live: `documents` beside the photo directory.
pub fn document_dir(config: &Config) -> PathBuf {
    config.photo_dir().with_file_name("documents")
}

fn bad_file(message: String) -> AppError {
    AppError::bad_request("invalid_document", message)
}

/// The name a file is listed under: its last path component, without control characters,
/// at most 100 characters.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim();
    let n = clean.chars().count();
    if n <= 100 {
        return clean.to_owned();
    }
    clean.chars().skip(n - 100).collect()
}

/// Checks an upload: an allowed extension, not empty, not too large, and content that is
/// what the extension says. Returns the extension in lower case (`jpeg` becomes `jpg`).
pub fn check_file(file_name: &str, bytes: &[u8]) -> Result<&'static str, AppError> {
    let allowed = "pdf、doc、docx、xls、xlsx、wps、jpg、png";
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let ext = if ext == "jpeg" { "jpg".to_owned() } else { ext };
    let Some((ext, _, magics)) = TYPES.iter().find(|(e, _, _)| *e == ext) else {
        return Err(bad_file(format!(
            "不支持的文件类型“{file_name}”：只接受 {allowed}"
        )));
    };
    if bytes.is_empty() {
        return Err(bad_file(format!("文件“{file_name}”是空的")));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(bad_file(format!(
            "文件“{file_name}”有 {:.1} MB，超过 {} MB 的上限",
            bytes.len() as f64 / 1_048_576.0,
            MAX_DOCUMENT_BYTES / 1_048_576
        )));
    }
    if !magics.iter().any(|m| bytes.starts_with(m)) {
        return Err(bad_file(format!(
            "文件“{file_name}”的内容不是 {ext} 格式（文件可能已损坏或扩展名有误）"
        )));
    }
    Ok(ext)
}

/// The content type of a stored extension.
pub fn content_type(ext: &str) -> &'static str {
    TYPES
        .iter()
        .find(|(e, _, _)| *e == ext)
        .map_or("application/octet-stream", |(_, t, _)| t)
}

/// Writes `bytes` under `dir` named by their SHA-256 (atomically: a temporary file renamed into
/// place, synced first) and returns the hash. Storing the same bytes again rewrites nothing.
pub fn store_file(dir: &Path, bytes: &[u8]) -> std::io::Result<String> {
    let hash = hex::encode(Sha256::digest(bytes));
    let path = file_path(dir, &hash);
    if path.exists() {
        return Ok(hash);
    }
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent)?;
    let mut tmp = tempfile_in(parent)?;
    tmp.1.write_all(bytes)?;
    tmp.1.sync_all()?;
    std::fs::rename(&tmp.0, &path)?;
    Ok(hash)
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = format!(".upload-{}", uuid::Uuid::new_v4());
    let path = dir.join(name);
    let file = std::fs::File::create(&path)?;
    Ok((path, file))
}

/// `dir/ab/abcdef…` for hash `abcdef…`.
pub fn file_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join(hash.get(..2).unwrap_or("00")).join(hash)
}

/// A stored upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitFile {
    pub id: i64,
    pub unit: String,
    pub file_name: String,
    pub extension: String,
    pub bytes: i64,
    pub sha256: String,
    pub uploaded_at: Timestamp,
    pub uploaded_by: String,
}

const FILE_COLUMNS: &str =
    "id, unit_code, file_name, extension, bytes, sha256, uploaded_at, uploaded_by";

fn unit_file(r: &rusqlite::Row<'_>) -> rusqlite::Result<UnitFile> {
    Ok(UnitFile {
        id: r.get(0)?,
        unit: r.get(1)?,
        file_name: r.get(2)?,
        extension: r.get(3)?,
        bytes: r.get(4)?,
        sha256: r.get(5)?,
        uploaded_at: Timestamp(r.get(6)?),
        uploaded_by: r.get(7)?,
    })
}

/// A checked upload whose bytes are already stored.
pub struct NewUnitFile<'a> {
    pub file_name: &'a str,
    pub extension: &'a str,
    pub bytes: usize,
    pub sha256: &'a str,
}

/// Records a work plan version of `unit` (its bytes already stored) with its audit row.
pub fn add_work_plan(
    conn: &mut Connection,
    unit: &UnitCode,
    file: &NewUnitFile<'_>,
    actor: AccountId,
    now: Timestamp,
) -> Result<i64, AppError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO unit_file (unit_code, kind, file_name, extension, bytes, sha256, uploaded_at, uploaded_by)
         VALUES (?1, 'work_plan', ?2, ?3, ?4, ?5, ?6, ?7)",
        params![unit.as_str(), file.file_name, file.extension, file.bytes as i64, file.sha256, now.0, actor.to_string()],
    )?;
    let id = tx.last_insert_rowid();
    let target = format!("unit/{unit}/work_plan/{id}");
    let detail = format!("{} bytes, sha256 {}", file.bytes, file.sha256);
    let row = NewAudit {
        at: now,
        actor: Some(actor),
        action: Action::DocumentUpload,
        target: &target,
        detail: &detail,
    };
    audit::record_in_unit(&tx, &row, unit.as_str())?;
    tx.commit()?;
    Ok(id)
}

/// Every work plan version of `unit`, newest first.
pub fn work_plans(conn: &Connection, unit: &UnitCode) -> Result<Vec<UnitFile>, rusqlite::Error> {
    let sql = format!(
        "SELECT {FILE_COLUMNS} FROM unit_file WHERE unit_code = ?1 AND kind = 'work_plan' ORDER BY id DESC"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([unit.as_str()], unit_file)?;
    rows.collect()
}

/// Upload `id`, or 404.
pub fn file(conn: &Connection, id: i64) -> Result<UnitFile, AppError> {
    let sql = format!("SELECT {FILE_COLUMNS} FROM unit_file WHERE id = ?1");
    conn.query_row(&sql, [id], unit_file)
        .optional()?
        .ok_or_else(|| AppError::not_found("document_not_found", format!("没有编号为 {id} 的文件")))
}

/// A month as `YYYY-MM`, checked.
pub fn parse_month(s: &str) -> Result<(i32, u32), AppError> {
    let bad = || {
        AppError::bad_request(
            "invalid_month",
            format!("月份应写作 YYYY-MM（如 2026-06），收到“{s}”"),
        )
    };
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u32 = m.parse().map_err(|_| bad())?;
    if !(2000..=2100).contains(&year) || !(1..=12).contains(&month) {
        return Err(bad());
    }
    Ok((year, month))
}

/// The monthly summary form.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct SummaryForm {
    #[serde(default)]
    pub month: String,
    #[serde(default)]
    pub progress: String,
    #[serde(default)]
    pub practices: String,
    #[serde(default)]
    pub problems: String,
    #[serde(default)]
    pub next_steps: String,
}

/// The four sections with their labels, in the form's order.
pub const SUMMARY_SECTIONS: [&str; 4] = ["完成情况", "经验做法", "存在问题", "下一步工作打算"];

/// A stored summary version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub id: i64,
    pub month: String,
    /// 完成情况, 经验做法, 存在问题, 下一步工作打算.
    pub sections: [String; 4],
    pub saved_at: Timestamp,
    pub saved_by: String,
}

/// The most characters one section may hold.
pub const MAX_SECTION_CHARS: usize = 5000;

impl SummaryForm {
    /// Checks the form: a month not after `latest` (the month whose report is due next), and
    /// four sections, each filled in and at most [`MAX_SECTION_CHARS`].
    pub fn parse(&self, latest: (i32, u32)) -> Result<(String, [String; 4]), AppError> {
        let (year, month) = parse_month(&self.month)?;
        if (year, month) > latest {
            return Err(AppError::bad_request(
                "invalid_month",
                format!(
                    "{year:04}-{month:02} 的总结还不能提交：最近一期是 {:04}-{:02}",
                    latest.0, latest.1
                ),
            ));
        }
        let raw = [
            &self.progress,
            &self.practices,
            &self.problems,
            &self.next_steps,
        ];
        let mut out: [String; 4] = Default::default();
        for ((label, value), slot) in SUMMARY_SECTIONS.iter().zip(raw).zip(&mut out) {
            let v = value.trim();
            if v.is_empty() {
                return Err(AppError::bad_request(
                    "invalid_summary",
                    format!("请填写“{label}”（没有可写“无”）"),
                ));
            }
            if v.chars().count() > MAX_SECTION_CHARS {
                return Err(AppError::bad_request(
                    "invalid_summary",
                    format!("“{label}”最多 {MAX_SECTION_CHARS} 字"),
                ));
            }
            *slot = v.to_owned();
        }
        Ok((format!("{year:04}-{month:02}"), out))
    }
}

/// Stores a summary version of `unit` for `month` with its audit row.
pub fn save_summary(
    conn: &mut Connection,
    unit: &UnitCode,
    month: &str,
    s: &[String; 4],
    actor: AccountId,
    now: Timestamp,
) -> Result<i64, AppError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO unit_summary (unit_code, month, progress, practices, problems, next_steps, saved_at, saved_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![unit.as_str(), month, s[0], s[1], s[2], s[3], now.0, actor.to_string()],
    )?;
    let id = tx.last_insert_rowid();
    let target = format!("unit/{unit}/summary/{month}");
    let detail = format!("version {id}");
    let row = NewAudit {
        at: now,
        actor: Some(actor),
        action: Action::SummarySave,
        target: &target,
        detail: &detail,
    };
    audit::record_in_unit(&tx, &row, unit.as_str())?;
    tx.commit()?;
    Ok(id)
}

/// Every summary version of `unit` for `month`, newest first.
pub fn summaries(
    conn: &Connection,
    unit: &UnitCode,
    month: &str,
) -> Result<Vec<Summary>, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT id, month, progress, practices, problems, next_steps, saved_at, saved_by FROM unit_summary
         WHERE unit_code = ?1 AND month = ?2 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map(params![unit.as_str(), month], |r| {
        Ok(Summary {
            id: r.get(0)?,
            month: r.get(1)?,
            sections: [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
            saved_at: Timestamp(r.get(6)?),
            saved_by: r.get(7)?,
        })
    })?;
    rows.collect()
}

/// Where a due document stands on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// 已交 (first handed in at; `late` when after the due date).
    Submitted { at: Timestamp, late: bool },
    /// 未交, not yet due.
    Pending,
    /// 逾期: not handed in and the due date has passed.
    Overdue,
}

impl Standing {
    /// First handed in at `submitted` (if ever), due by the end of `due`, seen on `today`.
    pub fn of(submitted: Option<Timestamp>, due: NaiveDate, today: NaiveDate) -> Standing {
        match submitted {
            Some(at) => Standing::Submitted {
                at,
                late: at.local_date() > due,
            },
            None if today > due => Standing::Overdue,
            None => Standing::Pending,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Standing::Submitted { late: false, .. } => "已交",
            Standing::Submitted { late: true, .. } => "已交（逾期提交）",
            Standing::Pending => "未交",
            Standing::Overdue => "逾期",
        }
    }
}

/// The due dates of the campaign year and of one month's summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueDates {
    /// 附件1: 03-15.
    pub contacts: NaiveDate,
    /// 工作方案: 03-25.
    pub work_plan: NaiveDate,
    /// 月度总结 of the month: its report day (25th).
    pub summary: NaiveDate,
}

impl DueDates {
    pub fn of(settings: &CampaignSettings, year: i32, month: u32) -> Option<DueDates> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        // A report day past the month's end (31 in February) falls on its last day.
        let last = first
            .checked_add_months(chrono::Months::new(1))?
            .pred_opt()?;
        let summary = first.with_day(settings.report_day).unwrap_or(last);
        Some(DueDates {
            contacts: NaiveDate::from_ymd_opt(settings.year, 3, 15)?,
            work_plan: NaiveDate::from_ymd_opt(settings.year, 3, 25)?,
            summary,
        })
    }
}

/// One unit's row of the city's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitStanding {
    pub unit: UnitCode,
    pub contacts: Standing,
    pub work_plan: Standing,
    pub summary: Standing,
}

/// The first work plan upload of `unit`.
fn first_work_plan(
    conn: &Connection,
    unit: &UnitCode,
) -> Result<Option<Timestamp>, rusqlite::Error> {
    conn.query_row(
        "SELECT min(uploaded_at) FROM unit_file WHERE unit_code = ?1 AND kind = 'work_plan'",
        [unit.as_str()],
        |r| r.get::<_, Option<i64>>(0),
    )
    .map(|t| t.map(Timestamp))
}

fn first_summary(
    conn: &Connection,
    unit: &UnitCode,
    month: &str,
) -> Result<Option<Timestamp>, rusqlite::Error> {
    conn.query_row(
        "SELECT min(saved_at) FROM unit_summary WHERE unit_code = ?1 AND month = ?2",
        params![unit.as_str(), month],
        |r| r.get::<_, Option<i64>>(0),
    )
    .map(|t| t.map(Timestamp))
}

/// 附件1, work plan and the summary of `year`-`month` for each of `units`, as of `today`.
pub fn standings(
    conn: &Connection,
    units: &[UnitCode],
    settings: &CampaignSettings,
    (year, month): (i32, u32),
    today: NaiveDate,
) -> Result<Vec<UnitStanding>, AppError> {
    let due = DueDates::of(settings, year, month).ok_or_else(|| {
        AppError::bad_request(
            "invalid_month",
            format!("{year:04}-{month:02} 不是有效月份"),
        )
    })?;
    let month_key = format!("{year:04}-{month:02}");
    units
        .iter()
        .map(|unit| {
            Ok(UnitStanding {
                unit: unit.clone(),
                contacts: Standing::of(contacts::submitted_at(conn, unit)?, due.contacts, today),
                work_plan: Standing::of(first_work_plan(conn, unit)?, due.work_plan, today),
                summary: Standing::of(first_summary(conn, unit, &month_key)?, due.summary, today),
            })
        })
        .collect()
}

/// The month whose summary is due next on `today`: this month up to its report day, then the
/// next one.
pub fn current_month(settings: &CampaignSettings, today: NaiveDate) -> (i32, u32) {
    if today.day() <= settings.report_day {
        (today.year(), today.month())
    } else {
        let next = today
            .with_day(1)
            .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
            .unwrap_or(today);
        (next.year(), next.month())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn files_are_checked_by_extension_and_content() {
        assert_eq!(check_file("方案.PDF", b"%PDF-1.7 ...").unwrap(), "pdf");
        assert_eq!(check_file("a.jpeg", b"\xFF\xD8\xFF\xE0").unwrap(), "jpg");
        assert_eq!(check_file("plan.wps", ZIP).unwrap(), "wps");
        let e = |name: &str, bytes: &[u8]| check_file(name, bytes).unwrap_err().to_string();
        assert_eq!(
            e("方案.exe", b"MZ"),
            "不支持的文件类型“方案.exe”：只接受 pdf、doc、docx、xls、xlsx、wps、jpg、png"
        );
        assert_eq!(e("方案.pdf", b""), "文件“方案.pdf”是空的");
        assert_eq!(
            e("方案.docx", b"%PDF-"),
            "文件“方案.docx”的内容不是 docx 格式（文件可能已损坏或扩展名有误）"
        );
        let big = vec![b'%'; MAX_DOCUMENT_BYTES + 1];
        assert_eq!(
            e("大.pdf", &big),
            "文件“大.pdf”有 20.0 MB，超过 20 MB 的上限"
        );
    }

    #[test]
    fn file_names_keep_only_their_last_component() {
        assert_eq!(
            clean_file_name("C:\\Users\\x\\工作方案.docx"),
            "工作方案.docx"
        );
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\u{0}b.pdf"), "ab.pdf");
    }

    #[test]
    fn stored_files_are_named_by_their_hash_and_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let h = store_file(dir.path(), b"%PDF-1").unwrap();
        assert_eq!(h, hex::encode(Sha256::digest(b"%PDF-1")));
        assert_eq!(store_file(dir.path(), b"%PDF-1").unwrap(), h);
        assert_eq!(std::fs::read(file_path(dir.path(), &h)).unwrap(), b"%PDF-1");
        let names: Vec<_> = std::fs::read_dir(dir.path().join(&h[..2]))
            .unwrap()
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn standing_is_submitted_pending_or_overdue_against_the_due_day() {
        let due = d("2026-03-15");
        let at = Timestamp::parse_local("2026-03-15 23:30").unwrap();
        assert_eq!(
            Standing::of(Some(at), due, d("2026-04-01")),
            Standing::Submitted { at, late: false }
        );
        let late = Timestamp::parse_local("2026-03-16 00:10").unwrap();
        assert_eq!(
            Standing::of(Some(late), due, d("2026-04-01")).label(),
            "已交（逾期提交）"
        );
        assert_eq!(Standing::of(None, due, d("2026-03-15")), Standing::Pending);
        assert_eq!(Standing::of(None, due, d("2026-03-16")), Standing::Overdue);
    }

    #[test]
    fn summaries_are_due_on_the_report_day_and_the_next_month_starts_after_it() {
        let s = CampaignSettings::for_year(2026);
        let due = DueDates::of(&s, 2026, 6).unwrap();
        assert_eq!(
            (due.contacts, due.work_plan, due.summary),
            (d("2026-03-15"), d("2026-03-25"), d("2026-06-25"))
        );
        assert_eq!(current_month(&s, d("2026-06-25")), (2026, 6));
        assert_eq!(current_month(&s, d("2026-06-26")), (2026, 7));
        assert_eq!(current_month(&s, d("2026-12-26")), (2027, 1));
        let late_day = CampaignSettings {
            report_day: 31,
            ..s
        };
        assert_eq!(
            DueDates::of(&late_day, 2026, 2).unwrap().summary,
            d("2026-02-28")
        );
    }

    #[test]
    fn a_summary_needs_all_four_sections_and_no_future_month() {
        let form = SummaryForm {
            month: "2026-06".into(),
            progress: "完成 120 户".into(),
            practices: "网格员逐户".into(),
            problems: "无".into(),
            next_steps: " 继续 ".into(),
        };
        let (month, s) = form.parse((2026, 6)).unwrap();
        assert_eq!((month.as_str(), s[3].as_str()), ("2026-06", "继续"));
        assert_eq!(
            form.parse((2026, 5)).unwrap_err().to_string(),
            "2026-06 的总结还不能提交：最近一期是 2026-05"
        );
        let empty = SummaryForm {
            problems: " ".into(),
            ..form.clone()
        };
        assert_eq!(
            empty.parse((2026, 6)).unwrap_err().to_string(),
            "请填写“存在问题”（没有可写“无”）"
        );
        let bad = SummaryForm {
            month: "2026-6".into(),
            ..form
        };
        assert_eq!(
            bad.parse((2026, 6)).unwrap_err().to_string(),
            "月份应写作 YYYY-MM（如 2026-06），收到“2026-6”"
        );
    }
}
