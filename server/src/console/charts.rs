//! 图表: completed households over the campaign year against the deadlines, one chart per
//! category, and the state mix of items — inline SVG drawn here (no script), each chart with a
//! `<title>`/`<desc>` and its numbers in a table below. Data: [`crate::charts`].

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use chrono::{Datelike, NaiveDate};
use maud::{html, Markup};
use pengwang_shared::event::ItemState;
use pengwang_shared::item::Category;
use pengwang_shared::region::UnitCode;
use pengwang_shared::report::{Attachment2, CategoryCells};
use pengwang_shared::time::Timestamp;
use serde::Deserialize;

use super::contacts::readable_unit;
use super::{layout, Console, PageError};
use crate::campaign;
use crate::charts::{self, ChartData};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/charts", get(page))
}

#[derive(Deserialize, Default)]
struct ChartQuery {
    #[serde(default)]
    unit: String,
}

/// `GET /console/charts?unit=…`: a unit, or (for the city) every unit together.
async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<ChartQuery>,
) -> Result<Markup, PageError> {
    let scope = &console.account.scope;
    let mine: Vec<UnitCode> = state
        .catalog
        .units
        .iter()
        .filter(|u| scope.covers_unit(&u.code))
        .map(|u| u.code.clone())
        .collect();
    let chosen: Vec<UnitCode> = match q.unit.as_str() {
        "" | "all" => mine.clone(),
        code => vec![readable_unit(&state.catalog, &console, code)?],
    };
    if chosen.is_empty() {
        return Err(AppError::forbidden(
            "out_of_scope",
            "图表按填报单位统计，需要区县或市级账号；街道和社区的进度请看台账",
        )
        .into());
    }
    let now = state.now();
    let units = chosen.clone();
    let (year, data) = state
        .db
        .read(move |c| {
            let settings = campaign::load(c, now)?;
            let data = charts::chart_data(c, &units, &settings, now)?;
            Ok::<_, AppError>((settings.year, data))
        })
        .await?;
    let whole = chosen.len() > 1;
    let title = if whole {
        "图表 · 全市".to_owned()
    } else {
        format!("图表 · {}", layout::unit_name(&state.catalog, &chosen[0]))
    };
    let picker = html! {
        @if mine.len() > 1 {
            form.filters method="get" action="/console/charts" {
                label { "填报单位"
                    select name="unit" {
                        option value="all" selected[whole] { "全市" }
                        @for u in &mine {
                            option value=(u) selected[!whole && chosen[0] == *u] { (layout::unit_name(&state.catalog, u)) }
                        }
                    }
                }
                button.btn type="submit" { "查看" }
            }
        }
    };
    let body = html! { (picker) (charts_body(year, now, &data)) };
    Ok(layout::page(&console, &title, body))
}

fn charts_body(year: i32, now: Timestamp, data: &ChartData) -> Markup {
    html! {
        p.muted { "高层建筑中有隐患的户，按月报统计期截止日统计（当前统计期截至现在 " (layout::local_time(Some(now))) "）。红色竖线为活动期限。" }
        div.charts {
            @for (i, c) in [Category::Awning, Category::Net].into_iter().enumerate() {
                figure.chart {
                    (progress_svg(&format!("chart-progress-{i}"), c, year, &data.series, &data.deadlines))
                    figcaption { (c.label()) "：累计完成户数与总户数" }
                }
            }
        }
        (progress_table(&data.series))
        h2 { "隐患点位状态分布" }
        figure.chart {
            (mix_svg(&data.mix))
            figcaption { "各状态的隐患点位数（含多层建筑和公共部位，作废单列）" }
        }
        (mix_table(&data.mix))
    }
}

// Plot geometry (SVG user units).
const W: f64 = 720.0;
const H: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 40.0;

/// A round step for about five gridlines up to `max`.
pub fn y_step(max: u64) -> u64 {
    let mut base = 1;
    loop {
        for m in [1, 2, 5] {
            if max <= base * m * 5 {
                return base * m;
            }
        }
        base *= 10;
    }
}

fn cells(a: &Attachment2, c: Category) -> CategoryCells {
    *a.total.cells(c)
}

/// The date a point stands for: the last day its period counts (the cut-off is exclusive).
fn cut_off_day(a: &Attachment2) -> NaiveDate {
    Timestamp(a.period.end.0 - 1).local_date()
}

fn progress_svg(
    id: &str,
    c: Category,
    year: i32,
    series: &[Attachment2],
    deadlines: &[(NaiveDate, &'static str)],
) -> Markup {
    let x0 = Timestamp::start_of(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default()).0 as f64;
    let x1 =
        Timestamp::start_of(NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap_or_default()).0 as f64;
    let x = |t: i64| LEFT + (t as f64 - x0).clamp(0.0, x1 - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let day_x = |d: NaiveDate| x(Timestamp::start_of(d).0 + 86_400);
    let max = series
        .iter()
        .map(|a| cells(a, c).households)
        .max()
        .unwrap_or(0);
    let step = y_step(max.max(1));
    let top = step * max.max(1).div_ceil(step);
    let y = |v: u64| H - BOTTOM - v as f64 / top as f64 * (H - TOP - BOTTOM);
    let line = |f: fn(&CategoryCells) -> u64| {
        series
            .iter()
            .map(|a| format!("{:.1},{:.1}", x(a.period.end.0), y(f(&cells(a, c)))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let last = series.last().map(|a| cells(a, c)).unwrap_or_default();
    let rate = match last.rate_centi() {
        Some(_) => format!("{}%", last.rate_text()),
        None => last.rate_text(),
    };
    let desc = format!(
        "{}：截至最近统计期，总户数 {} 户，累计完成 {} 户，整改率 {rate}。",
        c.label(),
        last.households,
        last.completed_total,
    );
    html! {
        svg.chart viewBox=(format!("0 0 {W} {H}")) role="img" aria-labelledby=(format!("{id}-t {id}-d")) xmlns="http://www.w3.org/2000/svg" {
            title id=(format!("{id}-t")) { (c.label()) "整改进度" }
            desc id=(format!("{id}-d")) { (desc) }
            @for k in 0..=(top / step) {
                @let v = k * step;
                line.grid x1=(LEFT) x2=(W - RIGHT) y1=(y(v)) y2=(y(v)) {}
                text.tick x=(LEFT - 6.0) y=(y(v) + 4.0) text-anchor="end" { (v) }
            }
            @for m in 1..=12u32 {
                @if let Some(d) = NaiveDate::from_ymd_opt(year, m, 1) {
                    @let mx = x(Timestamp::start_of(d).0);
                    line.month x1=(mx) x2=(mx) y1=(H - BOTTOM) y2=(H - BOTTOM + 4.0) {}
                    text.tick x=(mx + 2.0) y=(H - BOTTOM + 16.0) { (m) "月" }
                }
            }
            line.axis x1=(LEFT) x2=(W - RIGHT) y1=(H - BOTTOM) y2=(H - BOTTOM) {}
            @for (d, name) in deadlines {
                @if d.year() == year {
                    line.deadline x1=(day_x(*d)) x2=(day_x(*d)) y1=(TOP - 8.0) y2=(H - BOTTOM) {}
                    text.deadline x=(day_x(*d) - 3.0) y=(TOP - 12.0) text-anchor="end" { (d.month()) "/" (d.day()) " " (name) }
                }
            }
            polyline.households points=(line(|c| c.households)) {}
            polyline.completed points=(line(|c| c.completed_total)) {}
            @for a in series {
                @let v = cells(a, c);
                circle.completed cx=(x(a.period.end.0)) cy=(y(v.completed_total)) r="3.5" {
                    title { (cut_off_day(a)) "：累计完成 " (v.completed_total) " 户 / 总户数 " (v.households) " 户" }
                }
            }
            g.legend {
                line.completed x1=(LEFT + 8.0) x2=(LEFT + 30.0) y1=(H - 8.0) y2=(H - 8.0) {}
                text x=(LEFT + 34.0) y=(H - 4.0) { "累计完成户数" }
                line.households x1=(LEFT + 140.0) x2=(LEFT + 162.0) y1=(H - 8.0) y2=(H - 8.0) {}
                text x=(LEFT + 166.0) y=(H - 4.0) { "总户数" }
            }
        }
    }
}

fn progress_table(series: &[Attachment2]) -> Markup {
    html! {
        details.chart-data {
            summary { "查看图表数据" }
            table.grid {
                thead {
                    tr { th rowspan="2" { "统计截止" } th colspan="4" { "可燃雨棚" } th colspan="4" { "突出外墙防护网" } }
                    tr { @for _ in 0..2 { th.num { "总户数" } th.num { "本期完成" } th.num { "累计完成" } th.num { "整改率(%)" } } }
                }
                tbody {
                    @for a in series {
                        tr {
                            td { (cut_off_day(a)) }
                            @for c in [Category::Awning, Category::Net] {
                                @let v = cells(a, c);
                                td.num { (v.households) } td.num { (v.completed_in_period) }
                                td.num { (v.completed_total) } td.num { (v.rate_text()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

const MIX_ROW: f64 = 30.0;
const MIX_LEFT: f64 = 110.0;

fn mix_count(mix: &BTreeMap<Category, BTreeMap<ItemState, u64>>, c: Category, s: ItemState) -> u64 {
    mix.get(&c).and_then(|m| m.get(&s)).copied().unwrap_or(0)
}

fn mix_svg(mix: &BTreeMap<Category, BTreeMap<ItemState, u64>>) -> Markup {
    let states = ItemState::ALL;
    let max = states
        .iter()
        .flat_map(|s| [Category::Awning, Category::Net].map(|c| mix_count(mix, c, *s)))
        .max()
        .unwrap_or(0)
        .max(1);
    let h = TOP + MIX_ROW * states.len() as f64 + 24.0;
    let bar = |v: u64| v as f64 / max as f64 * (W - MIX_LEFT - 70.0);
    let total: u64 = mix.values().flat_map(|m| m.values()).sum();
    html! {
        svg.chart viewBox=(format!("0 0 {W} {h}")) role="img" aria-labelledby="chart-mix-t chart-mix-d" xmlns="http://www.w3.org/2000/svg" {
            title id="chart-mix-t" { "隐患点位状态分布" }
            desc id="chart-mix-d" { "共 " (total) " 个隐患点位，按状态和类别分列；数字见下表。" }
            g.legend {
                rect.awning x=(MIX_LEFT) y="6" width="14" height="10" {}
                text x=(MIX_LEFT + 18.0) y="15" { "可燃雨棚" }
                rect.net x=(MIX_LEFT + 100.0) y="6" width="14" height="10" {}
                text x=(MIX_LEFT + 118.0) y="15" { "突出外墙防护网" }
            }
            @for (i, s) in states.iter().enumerate() {
                @let y0 = TOP + MIX_ROW * i as f64;
                text.tick x=(MIX_LEFT - 8.0) y=(y0 + 17.0) text-anchor="end" { (s.label()) }
                @for (j, c) in [Category::Awning, Category::Net].into_iter().enumerate() {
                    @let v = mix_count(mix, c, *s);
                    @let by = y0 + 4.0 + 11.0 * j as f64;
                    rect class=(if j == 0 { "awning" } else { "net" }) x=(MIX_LEFT) y=(by) width=(format!("{:.1}", bar(v))) height="10" {
                        title { (s.label()) " · " (c.label()) "：" (v) }
                    }
                    text.value x=(MIX_LEFT + bar(v) + 4.0) y=(by + 9.0) { (v) }
                }
            }
        }
    }
}

fn mix_table(mix: &BTreeMap<Category, BTreeMap<ItemState, u64>>) -> Markup {
    html! {
        details.chart-data {
            summary { "查看图表数据" }
            table.grid {
                thead { tr { th { "状态" } th.num { "可燃雨棚" } th.num { "突出外墙防护网" } th.num { "合计" } } }
                tbody {
                    @for s in ItemState::ALL {
                        @let (a, n) = (mix_count(mix, Category::Awning, *s), mix_count(mix, Category::Net, *s));
                        tr { td { (s.label()) } td.num { (a) } td.num { (n) } td.num { (a + n) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gridlines_step_in_ones_twos_and_fives() {
        assert_eq!(
            [1, 5, 6, 10, 11, 40, 99, 260, 4000].map(y_step),
            [1, 1, 2, 2, 5, 10, 20, 100, 1000]
        );
    }
}
