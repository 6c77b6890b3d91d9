//! 附件2 as XLSX, laid out like the official form: "附件2", the title with the month, the unit
//! (seal) line, a two-row merged header (序号 and 填报单位 merged down; 可燃雨棚 and 突出外墙防护网
//! each over their five columns), one row per unit and the 合计 row. Numbers are numbers; 整改率
//! has two decimals, "—" without households. A second sheet (明细) shows what the official
//! columns leave out: owner-claimed completions awaiting verification (待核验, never counted),
//! 本月反弹 by reason, and each unit's freeze/submission state.

use pengwang_shared::region::RegionCatalog;
use pengwang_shared::report::{CategoryCells, ReportRow};
use pengwang_shared::time::Timestamp;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use super::failed;
use crate::error::AppError;
use crate::report::{period_days, unit_name, MonthTable, COLUMNS, GROUPS};
use crate::submission::{Status, Submission};

/// The form's title, without the month.
pub const FORM_TITLE: &str = "重庆市高层建筑可燃雨棚和突出外墙防护网整治情况统计表";
/// The columns of each category group on the 明细 sheet.
pub const DETAIL_COLUMNS: [&str; 5] = [
    "待核验户数(户)",
    "本月反弹(户)",
    "反弹：重新打开(户)",
    "反弹：新发现隐患(户)",
    "反弹：移出统计(户)",
];
/// First data row of the form (0-based): after "附件2", title, unit line and the two header rows.
pub const FIRST_ROW: u32 = 5;

struct Formats {
    title: Format,
    header: Format,
    text: Format,
    number: Format,
    rate: Format,
    plain: Format,
}

impl Formats {
    fn new() -> Self {
        let cell = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter);
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center),
            header: cell.clone().set_bold().set_text_wrap(),
            text: cell.clone(),
            number: cell.clone().set_num_format("0"),
            rate: cell.set_num_format("0.00"),
            plain: Format::new(),
        }
    }
}

/// The workbook's bytes, made at `now`.
pub fn workbook(
    catalog: &RegionCatalog,
    table: &MonthTable,
    now: Timestamp,
) -> Result<Vec<u8>, AppError> {
    let mut book = Workbook::new();
    let f = Formats::new();
    form_sheet(book.add_worksheet(), catalog, table, now, &f).map_err(failed)?;
    detail_sheet(book.add_worksheet(), catalog, table, &f).map_err(failed)?;
    book.save_to_buffer().map_err(failed)
}

/// "2026年06月".
fn month_label(table: &MonthTable) -> String {
    let p = &table.report.period;
    format!("{:04}年{:02}月", p.year, p.month)
}

/// The unit line's name: the unit of a one-unit table, else the city.
fn reporting_name(catalog: &RegionCatalog, table: &MonthTable) -> String {
    match table.report.rows.as_slice() {
        [(unit, _)] => unit_name(catalog, unit),
        _ => "重庆市".to_owned(),
    }
}

/// 填报时间: when a one-unit table was submitted, else the day of the download.
fn filled_on(table: &MonthTable, now: Timestamp) -> String {
    let submitted = match table.submissions.as_slice() {
        [Some(s)] if s.status == Status::Submitted => s.submitted_at,
        _ => None,
    };
    submitted.unwrap_or(now).local_date().to_string()
}

fn form_sheet(
    ws: &mut Worksheet,
    catalog: &RegionCatalog,
    table: &MonthTable,
    now: Timestamp,
    f: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name("附件2")?;
    ws.write_string(0, 0, "附件2")?;
    let title = format!("{FORM_TITLE}（{}）", month_label(table));
    ws.merge_range(1, 0, 1, 11, &title, &f.title)?;
    let unit_line = format!("填报单位（盖章）：{}", reporting_name(catalog, table));
    ws.merge_range(2, 0, 2, 5, &unit_line, &f.plain)?;
    let (first, last) = period_days(&table.report.period);
    let when = format!(
        "统计期间：{first} 至 {last}　填报时间：{}",
        filled_on(table, now)
    );
    ws.merge_range(2, 6, 2, 11, &when, &f.plain)?;
    ws.merge_range(3, 0, 4, 0, "序号", &f.header)?;
    ws.merge_range(3, 1, 4, 1, "填报单位", &f.header)?;
    for (g, (_, name)) in GROUPS.iter().enumerate() {
        let c0 = 2 + 5 * g as u16;
        ws.merge_range(3, c0, 3, c0 + 4, name, &f.header)?;
        for (i, col) in COLUMNS.iter().enumerate() {
            ws.write_string_with_format(4, c0 + i as u16, *col, &f.header)?;
        }
    }
    let mut r = FIRST_ROW;
    for (n, (unit, row)) in table.report.rows.iter().enumerate() {
        ws.write_number_with_format(r, 0, n as f64 + 1.0, &f.number)?;
        ws.write_string_with_format(r, 1, unit_name(catalog, unit), &f.text)?;
        form_cells(ws, r, row, f)?;
        r += 1;
    }
    ws.merge_range(r, 0, r, 1, "合计", &f.header)?;
    form_cells(ws, r, &table.report.total, f)?;
    for note in table.period_notes(catalog) {
        r += 1;
        ws.merge_range(r, 0, r, 11, &note, &f.plain)?;
    }
    ws.set_column_width(0, 6)?;
    ws.set_column_width(1, 16)?;
    for c in 2..12 {
        ws.set_column_width(c, 11)?;
    }
    ws.set_row_height(4, 42)?;
    Ok(())
}

/// The ten numbers of one row, from column C.
fn form_cells(ws: &mut Worksheet, r: u32, row: &ReportRow, f: &Formats) -> Result<(), XlsxError> {
    for (g, (category, _)) in GROUPS.iter().enumerate() {
        let c0 = 2 + 5 * g as u16;
        let c: &CategoryCells = row.cells(*category);
        let counts = [
            c.buildings,
            c.households,
            c.completed_in_period,
            c.completed_total,
        ];
        for (i, n) in counts.into_iter().enumerate() {
            ws.write_number_with_format(r, c0 + i as u16, n as f64, &f.number)?;
        }
        match c.rate_centi() {
            Some(centi) => ws.write_number_with_format(r, c0 + 4, centi as f64 / 100.0, &f.rate)?,
            None => ws.write_string_with_format(r, c0 + 4, c.rate_text(), &f.text)?,
        };
    }
    Ok(())
}

fn detail_sheet(
    ws: &mut Worksheet,
    catalog: &RegionCatalog,
    table: &MonthTable,
    f: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name("明细")?;
    let note = format!(
        "附件2 明细（{}）：待核验为业主自报已整改、尚未复核销号的户，不计入正式统计列；本月反弹为上月冻结时已完成、现已不再完成的户",
        month_label(table)
    );
    ws.merge_range(0, 0, 0, 14, &note, &f.plain)?;
    for (c, name) in ["序号", "填报单位", "报表状态", "冻结时间", "提交时间"]
        .iter()
        .enumerate()
    {
        ws.merge_range(1, c as u16, 2, c as u16, name, &f.header)?;
    }
    for (g, (_, name)) in GROUPS.iter().enumerate() {
        let c0 = 5 + 5 * g as u16;
        ws.merge_range(1, c0, 1, c0 + 4, name, &f.header)?;
        for (i, col) in DETAIL_COLUMNS.iter().enumerate() {
            ws.write_string_with_format(2, c0 + i as u16, *col, &f.header)?;
        }
    }
    let mut r = 3;
    let rows = table.report.rows.iter().zip(&table.submissions);
    for (n, ((unit, row), s)) in rows.enumerate() {
        ws.write_number_with_format(r, 0, n as f64 + 1.0, &f.number)?;
        ws.write_string_with_format(r, 1, unit_name(catalog, unit), &f.text)?;
        submission_cells(ws, r, s.as_ref(), f)?;
        detail_cells(ws, r, row, f)?;
        r += 1;
    }
    ws.merge_range(r, 0, r, 4, "合计", &f.header)?;
    detail_cells(ws, r, &table.report.total, f)?;
    ws.set_column_width(1, 16)?;
    ws.set_column_width(3, 20)?;
    ws.set_column_width(4, 20)?;
    ws.set_row_height(2, 42)?;
    Ok(())
}

fn submission_cells(
    ws: &mut Worksheet,
    r: u32,
    s: Option<&Submission>,
    f: &Formats,
) -> Result<(), XlsxError> {
    let status = s.map_or(Status::Open, |s| s.status);
    let time = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    ws.write_string_with_format(r, 2, status.label(), &f.text)?;
    ws.write_string_with_format(r, 3, time(s.and_then(|s| s.frozen_at)), &f.text)?;
    ws.write_string_with_format(r, 4, time(s.and_then(|s| s.submitted_at)), &f.text)?;
    Ok(())
}

fn detail_cells(ws: &mut Worksheet, r: u32, row: &ReportRow, f: &Formats) -> Result<(), XlsxError> {
    for (g, (category, _)) in GROUPS.iter().enumerate() {
        let c0 = 5 + 5 * g as u16;
        let c = row.cells(*category);
        let b = c.rebound;
        let values = [
            c.pending_verify,
            b.total(),
            b.reopened,
            b.new_item,
            b.removed,
        ];
        for (i, n) in values.into_iter().enumerate() {
            ws.write_number_with_format(r, c0 + i as u16, n as f64, &f.number)?;
        }
    }
    Ok(())
}
