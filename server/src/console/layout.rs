//! The console's page frame: head, navigation by role, the signed-in user, and small pieces
//! every page uses (CSRF field, local times, masked personal data).

use maud::{html, Markup, PreEscaped, DOCTYPE};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{CommunityCode, RegionCatalog, StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Timestamp;

use super::Console;

/// One navigation entry: path, label, who sees it.
struct NavItem {
    path: &'static str,
    label: &'static str,
    shown: fn(&AccountInfo) -> bool,
}

fn everyone(_: &AccountInfo) -> bool {
    true
}
fn supervisors(a: &AccountInfo) -> bool {
    a.role.is_street()
}
fn leads(a: &AccountInfo) -> bool {
    matches!(a.role, Role::City | Role::UnitLead)
}
fn city(a: &AccountInfo) -> bool {
    a.role == Role::City
}
fn not_fire(a: &AccountInfo) -> bool {
    a.role != Role::FireRescue
}
/// Pages counted per reporting unit (charts): accounts that see a whole unit or the city.
fn unit_wide(a: &AccountInfo) -> bool {
    matches!(a.scope, Scope::City | Scope::Unit { .. })
}

const NAV: &[NavItem] = &[
    NavItem {
        path: "/console/ledger",
        label: "台账",
        shown: everyone,
    },
    NavItem {
        path: "/console/queue",
        label: "核验队列",
        shown: supervisors,
    },
    NavItem {
        path: "/console/conflicts",
        label: "冲突",
        shown: supervisors,
    },
    NavItem {
        path: "/console/duplicates",
        label: "疑似重复",
        shown: supervisors,
    },
    NavItem {
        path: "/console/deadlines",
        label: "期限与逾期",
        shown: not_fire,
    },
    NavItem {
        path: "/console/reports",
        label: "附件2月报",
        shown: everyone,
    },
    NavItem {
        path: "/console/contacts",
        label: "附件1与材料",
        shown: leads,
    },
    NavItem {
        path: "/console/charts",
        label: "图表",
        shown: unit_wide,
    },
    NavItem {
        path: "/console/audit",
        label: "审计日志",
        shown: leads,
    },
    NavItem {
        path: "/console/accounts",
        label: "账号与设备",
        shown: leads,
    },
    NavItem {
        path: "/console/settings",
        label: "活动设置",
        shown: city,
    },
];

/// A full console page titled `title`, with the navigation for the user's role.
pub fn page(console: &Console, title: &str, body: Markup) -> Markup {
    let account = &console.account;
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body {
                header.top {
                    a.brand href="/console" { "棚网 · 高层建筑可燃雨棚和突出外墙防护网整治" }
                    div.who {
                        span { (account.name) } " "
                        span.badge { (account.role.label()) } " "
                        span.muted { (console.scope_label) }
                        form.inline method="post" action="/console/logout" {
                            (csrf_field(console))
                            button.btn type="submit" { "退出" }
                        }
                    }
                }
                nav.main {
                    @for item in NAV.iter().filter(|i| (i.shown)(account)) {
                        a href=(item.path) { (item.label) }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The `<head>` of every console page: the title and the one stylesheet.
pub fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · 棚网控制台" }
            link rel="stylesheet" href="/console/static/console.css";
        }
    }
}

/// The hidden CSRF field every console form carries.
pub fn csrf_field(console: &Console) -> Markup {
    html! { input type="hidden" name="_csrf" value=(console.csrf); }
}

/// The sign-in page; `failed` is the login typed and why it was refused.
pub fn sign_in_page(next: &str, failed: Option<(&str, &str)>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head("登录"))
            body.sign-in {
                main {
                    h1 { "棚网控制台" }
                    p.muted { "高层建筑可燃雨棚和突出外墙防护网整治 · 街道、区县专班和市级专班使用" }
                    @if let Some((_, why)) = failed {
                        p.error-message role="alert" { (why) }
                    }
                    form method="post" action="/console/login" {
                        input type="hidden" name="next" value=(next);
                        label { "用户名" input name="login" autocomplete="username" required value=(failed.map_or("", |f| f.0)); }
                        label { "密码" input name="password" type="password" autocomplete="current-password" required; }
                        button.btn.primary type="submit" { "登录" }
                    }
                }
            }
        }
    }
}

/// `YYYY-MM-DD HH:MM` in Beijing time; "—" for none.
pub fn local_time(t: Option<Timestamp>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.to_string().chars().take(16).collect(),
    )
}

/// A count that reads as a link to a filtered list.
pub fn count_link(n: u64, href: &str) -> Markup {
    if n == 0 {
        html! { span.muted { "0" } }
    } else {
        html! { a href=(href) { (n) } }
    }
}

/// Text that must be shown verbatim inside a `<script>`-free page (already escaped by maud
/// elsewhere); kept for SVG fragments built by chart modules.
pub fn raw_svg(svg: String) -> Markup {
    PreEscaped(svg)
}

/// A scope in words with region names, e.g. "渝中区 · 解放碑街道".
pub fn scope_label(catalog: &RegionCatalog, scope: &Scope) -> String {
    match scope {
        Scope::City => "全市".to_owned(),
        Scope::Unit { unit } => unit_name(catalog, unit),
        Scope::Street { street } => street_label(catalog, street),
        Scope::Community { community } => community_label(catalog, community),
        Scope::Estates { community, estates } => {
            format!(
                "{} · {}",
                community_label(catalog, community),
                estates.join("、")
            )
        }
    }
}

pub fn unit_name(catalog: &RegionCatalog, unit: &UnitCode) -> String {
    catalog
        .unit(unit)
        .map_or_else(|| unit.to_string(), |u| u.name.clone())
}

pub fn street_label(catalog: &RegionCatalog, street: &StreetCode) -> String {
    match catalog.streets.get(street) {
        Some(s) => format!("{} · {}", unit_name(catalog, &s.unit), s.name),
        None => street.to_string(),
    }
}

pub fn community_label(catalog: &RegionCatalog, community: &CommunityCode) -> String {
    let name = catalog
        .communities
        .get(community)
        .map_or_else(|| community.to_string(), |c| c.name.clone());
    format!("{} · {}", street_label(catalog, &community.street()), name)
}
