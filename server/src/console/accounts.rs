//! 账号与设备: unit leads and the city create accounts with a role and scope, reset passwords,
//! issue and withdraw enrollment codes, revoke devices, disable and enable (启用) accounts — each
//! limited to the accounts inside their own scope, each audited.

use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::id::{AccountId, DeviceId};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{CommunityCode, RegionCatalog, StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Timestamp;
use serde::Deserialize;

use super::layout::{self, csrf_field, local_time, page};
use super::{Console, CsrfForm, NoFields, PageError};
use crate::accounts::{self, AccountRow, NewAccount};
use crate::devices::{self, DEFAULT_CODE_DAYS};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/accounts", get(list).post(create))
        .route("/console/accounts/{id}/password", post(reset_password))
        .route("/console/accounts/{id}/code", post(issue_code))
        .route("/console/accounts/{id}/code/withdraw", post(withdraw_code))
        .route("/console/accounts/{id}/disable", post(disable))
        .route("/console/accounts/{id}/enable", post(enable))
        .route("/console/devices/{id}/revoke", post(revoke_device))
}

/// Only unit leads and the city manage accounts.
fn require_manager(console: &Console) -> Result<(), PageError> {
    if matches!(console.account.role, Role::City | Role::UnitLead) {
        Ok(())
    } else {
        Err(PageError(AppError::forbidden(
            "not_account_manager",
            "只有区县牵头部门和市级专班可以管理账号",
        )))
    }
}

/// The reporting unit a scope lies in; `None` for the city scope.
fn unit_of(catalog: &RegionCatalog, scope: &Scope) -> Option<UnitCode> {
    let street_unit = |s: &StreetCode| catalog.streets.get(s).map(|st| st.unit.clone());
    match scope {
        Scope::City => None,
        Scope::Unit { unit } => Some(unit.clone()),
        Scope::Street { street } => street_unit(street),
        Scope::Community { community } | Scope::Estates { community, .. } => {
            street_unit(&community.street())
        }
    }
}

/// Whether a manager with scope `manager` may see and change an account with scope `other`:
/// the city manages everyone, a unit lead the accounts inside its unit except other leads'
/// peers above it.
pub fn manages(catalog: &RegionCatalog, manager: &Scope, other: &Scope) -> bool {
    match manager {
        Scope::City => true,
        Scope::Unit { unit } => unit_of(catalog, other).as_ref() == Some(unit),
        _ => false,
    }
}

/// Whether `manager` may see and change the account `other`: inside its scope, and holding a
/// role the manager may hand out — so a unit lead cannot reset another lead's password (only the
/// city manages leads).
fn manages_account(catalog: &RegionCatalog, manager: &AccountInfo, other: &AccountInfo) -> bool {
    manages(catalog, &manager.scope, &other.scope)
        && (grantable(manager.role).contains(&other.role) || manager.id == other.id)
}

/// The roles a manager may hand out.
fn grantable(role: Role) -> &'static [Role] {
    match role {
        Role::City => &Role::ALL,
        Role::UnitLead => &[
            Role::StreetChecker,
            Role::CommunityInspector,
            Role::PropertyStaff,
            Role::Enforcement,
            Role::FireRescue,
        ],
        _ => &[],
    }
}

/// The account `id` if the manager may manage it, else 404 (as if unknown).
fn managed_account(
    conn: &rusqlite::Connection,
    catalog: &RegionCatalog,
    console: &Console,
    id: AccountId,
) -> Result<AccountRow, AppError> {
    let row = accounts::list_accounts(conn)?
        .into_iter()
        .find(|r| r.info.id == id)
        .filter(|r| manages_account(catalog, &console.account, &r.info));
    row.ok_or_else(|| {
        AppError::not_found("account_not_found", "没有这个账号，或它不在您的管辖范围内")
    })
}

fn parse_id<T>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, pengwang_shared::ParseError>,
) -> Result<T, PageError> {
    parse(raw).map_err(|e| PageError(AppError::bad_request("invalid_id", e.to_string())))
}

async fn list(State(state): State<AppState>, console: Console) -> Result<Markup, PageError> {
    require_manager(&console)?;
    let me = console.account.clone();
    let catalog = state.catalog.clone();
    let now = state.now();
    let rows = state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for row in accounts::list_accounts(c)? {
                if !manages_account(&catalog, &me, &row.info) {
                    continue;
                }
                let login = accounts::login_of(c, row.info.id)?;
                let devices = devices::list_for(c, row.info.id)?;
                let codes = devices::open_codes(c, row.info.id, now)?;
                out.push((row, login, devices, codes));
            }
            Ok::<_, AppError>(out)
        })
        .await?;
    let body = html! {
        p.muted { "共 " (rows.len()) " 个账号在您的管辖范围内（" (console.scope_label) "）。手机账号用一次性注册码登记设备；控制台账号用用户名和密码登录。" }
        table.grid {
            thead { tr { th { "姓名" } th { "角色" } th { "范围" } th { "控制台用户名" } th { "设备" } th { "注册码" } th { "操作" } } }
            tbody {
                @for (row, login, devs, codes) in &rows {
                    tr id=(format!("account-{}", row.info.id)) {
                        td { (row.info.name) @if row.disabled { " " span.badge.bad { "已停用" } } }
                        td { (row.info.role.label()) }
                        td { (layout::scope_label(&state.catalog, &row.info.scope)) }
                        td { (login.as_deref().unwrap_or("—")) }
                        td {
                            @if devs.is_empty() { span.muted { "无" } }
                            @for d in devs {
                                div {
                                    (d.name) " "
                                    @if d.revoked_at.is_some() {
                                        span.badge.bad { "已吊销" }
                                    } @else {
                                        span.muted { "最近 " (local_time(d.last_seen_at)) } " "
                                        form.inline method="post" action=(format!("/console/devices/{}/revoke", d.id)) {
                                            (csrf_field(&console))
                                            button.btn.danger type="submit" { "吊销" }
                                        }
                                    }
                                }
                            }
                        }
                        td {
                            @for code in codes {
                                div {
                                    span.secret { (code.code) } " "
                                    span.muted { "至 " (local_time(Some(code.expires_at))) } " "
                                    form.inline method="post" action=(format!("/console/accounts/{}/code/withdraw", row.info.id)) {
                                        (csrf_field(&console))
                                        input type="hidden" name="code" value=(code.code);
                                        button.btn type="submit" { "作废" }
                                    }
                                }
                            }
                            @if !row.disabled && row.info.role.syncs_documents() {
                                form.inline method="post" action=(format!("/console/accounts/{}/code", row.info.id)) {
                                    (csrf_field(&console))
                                    button.btn type="submit" { "发注册码" }
                                }
                            }
                        }
                        td {
                            @if !row.disabled {
                                form.inline method="post" action=(format!("/console/accounts/{}/password", row.info.id)) {
                                    (csrf_field(&console))
                                    @if login.is_none() {
                                        input name="login" placeholder="用户名" size="10" required;
                                    }
                                    input name="password" type="password" placeholder="新密码（至少8位）" size="14" required minlength="8";
                                    button.btn type="submit" { "设密码" }
                                }
                                @if row.info.id != console.account.id {
                                    form.inline method="post" action=(format!("/console/accounts/{}/disable", row.info.id)) {
                                        (csrf_field(&console))
                                        button.btn.danger type="submit" { "停用" }
                                    }
                                }
                            } @else {
                                form.inline method="post" action=(format!("/console/accounts/{}/enable", row.info.id)) {
                                    (csrf_field(&console))
                                    button.btn type="submit" { "启用" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "新建账号" }
        (create_form(&state.catalog, &console))
    };
    Ok(page(&console, "账号与设备", body))
}

fn create_form(catalog: &RegionCatalog, console: &Console) -> Markup {
    let streets: Vec<_> = match &console.account.scope {
        Scope::City => catalog.streets.values().collect(),
        Scope::Unit { unit } => catalog.streets_of(unit).collect(),
        _ => vec![],
    };
    html! {
        form.stack method="post" action="/console/accounts" {
            (csrf_field(console))
            label { "姓名" input name="name" required; }
            label { "角色"
                select name="role" required {
                    @for r in grantable(console.account.role) {
                        option value=(r.code()) { (r.label()) }
                    }
                }
            }
            label { "范围类型"
                select name="scope_kind" {
                    @if console.account.scope == Scope::City { option value="city" { "全市" } }
                    option value="unit" { "区县（填报单位代码）" }
                    option value="street" selected { "街道（街道代码）" }
                    option value="community" { "社区（社区代码）" }
                    option value="estates" { "物业小区（社区代码 + 小区名）" }
                }
            }
            label { "范围代码"
                input name="scope_code" list="region-codes" placeholder="如 500103001";
                datalist id="region-codes" {
                    @if let Scope::Unit { unit } = &console.account.scope {
                        option value=(unit) { (layout::unit_name(catalog, unit)) }
                    }
                    @for s in &streets {
                        option value=(s.code) { (layout::street_label(catalog, &s.code)) }
                    }
                }
            }
            label { "物业小区（仅物业人员；多个用逗号分隔）" input name="estates" placeholder="如 嘉华大厦,金岸雅居"; }
            label { "控制台用户名（可选；区县、街道、市级账号需要）" input name="login" autocomplete="off"; }
            label { "控制台密码（可选，至少8位）" input name="password" type="password" autocomplete="new-password"; }
            button.btn.primary type="submit" { "创建账号" }
        }
    }
}

#[derive(Deserialize)]
struct CreateForm {
    name: String,
    role: String,
    scope_kind: String,
    #[serde(default)]
    scope_code: String,
    #[serde(default)]
    estates: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

fn bad(field: &str, why: impl std::fmt::Display) -> PageError {
    PageError(AppError::bad_request(
        "invalid_request",
        format!("{field}：{why}"),
    ))
}

fn build_scope(form: &CreateForm) -> Result<Scope, PageError> {
    let code = form.scope_code.trim();
    Ok(match form.scope_kind.as_str() {
        "city" => Scope::City,
        "unit" => Scope::Unit {
            unit: UnitCode::parse(code).map_err(|e| bad("范围代码", e))?,
        },
        "street" => Scope::Street {
            street: StreetCode::parse(code).map_err(|e| bad("范围代码", e))?,
        },
        "community" => Scope::Community {
            community: CommunityCode::parse(code).map_err(|e| bad("范围代码", e))?,
        },
        "estates" => {
            let estates: Vec<String> = form
                .estates
                .split([',', '，', '、'])
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect();
            if estates.is_empty() {
                return Err(bad("物业小区", "物业人员的范围至少要有一个小区名"));
            }
            Scope::Estates {
                community: CommunityCode::parse(code).map_err(|e| bad("范围代码", e))?,
                estates,
            }
        }
        other => return Err(bad("范围类型", format!("不认识的类型 {other:?}"))),
    })
}

async fn create(
    State(state): State<AppState>,
    CsrfForm(console, form): CsrfForm<CreateForm>,
) -> Result<Redirect, PageError> {
    require_manager(&console)?;
    let role = Role::parse(&form.role).map_err(|e| bad("角色", e))?;
    if !grantable(console.account.role).contains(&role) {
        return Err(PageError(AppError::forbidden(
            "role_not_grantable",
            format!("您不能创建“{}”账号", role.label()),
        )));
    }
    let scope = build_scope(&form)?;
    if !manages(&state.catalog, &console.account.scope, &scope) {
        return Err(PageError(AppError::forbidden(
            "out_of_scope",
            "新账号的范围必须在您的管辖范围之内",
        )));
    }
    let login = form.login.trim().to_owned();
    let password = Some(form.password.clone()).filter(|p| !p.is_empty());
    if password.is_some() == login.is_empty() {
        return Err(bad("控制台登录", "用户名和密码要么都填，要么都不填"));
    }
    let new = NewAccount {
        name: form.name.clone(),
        role,
        scope,
        password,
    };
    let now = state.now();
    let by = console.account.id;
    let id = state
        .db
        .write(move |c| {
            // `create_account_by` commits on its own: the login is checked first so a taken one
            // leaves no half-made account behind.
            if !login.is_empty() {
                accounts::check_login_free(c, &login)?;
            }
            let info = accounts::create_account_by(c, new, Some(by), now)?;
            if !login.is_empty() {
                accounts::set_login(c, info.id, &login)?;
            }
            Ok::<_, AppError>(info.id)
        })
        .await?;
    Ok(Redirect::to(&format!("/console/accounts#account-{id}")))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    login: String,
    password: String,
}

/// Runs `change` on the account `id` (or the account owning it) after checking the user manages
/// it, in one write; the manager's id and the time go along for the audit row.
async fn on_managed_account<T: Send + 'static>(
    state: &AppState,
    console: &Console,
    account_of: impl FnOnce(&rusqlite::Connection) -> Result<AccountId, AppError> + Send + 'static,
    change: impl FnOnce(&mut rusqlite::Connection, AccountId, AccountId, Timestamp) -> Result<T, AppError>
        + Send
        + 'static,
) -> Result<(AccountRow, T), PageError> {
    require_manager(console)?;
    let now = state.now();
    let catalog = state.catalog.clone();
    let manager = console.clone();
    Ok(state
        .db
        .write(move |c| {
            let id = account_of(c)?;
            let row = managed_account(c, &catalog, &manager, id)?;
            let out = change(c, id, manager.account.id, now)?;
            Ok::<_, AppError>((row, out))
        })
        .await?)
}

/// The account named in the path.
fn account_in_path(
    raw: &str,
) -> Result<impl FnOnce(&rusqlite::Connection) -> Result<AccountId, AppError>, PageError> {
    let id = parse_id(raw, AccountId::parse)?;
    Ok(move |_: &rusqlite::Connection| Ok(id))
}

fn back_to(id: AccountId) -> Redirect {
    Redirect::to(&format!("/console/accounts#account-{id}"))
}

async fn reset_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(console, form): CsrfForm<PasswordForm>,
) -> Result<Redirect, PageError> {
    let (row, ()) = on_managed_account(
        &state,
        &console,
        account_in_path(&id)?,
        move |c, id, by, now| {
            if !form.login.trim().is_empty() {
                accounts::set_login(c, id, &form.login)?;
            }
            Ok(accounts::reset_password(
                c,
                id,
                &form.password,
                Some(by),
                now,
            )?)
        },
    )
    .await?;
    Ok(back_to(row.info.id))
}

async fn issue_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(console, NoFields {}): CsrfForm<NoFields>,
) -> Result<Markup, PageError> {
    let (row, code) =
        on_managed_account(&state, &console, account_in_path(&id)?, |c, id, by, now| {
            Ok(devices::issue_code_by(
                c,
                id,
                DEFAULT_CODE_DAYS,
                Some(by),
                now,
            )?)
        })
        .await?;
    let id = row.info.id;
    let body = html! {
        p { "给 " strong { (row.info.name) } "（" (row.info.role.label()) "）的一次性注册码：" }
        p { span.secret #enrollment-code { (code) } }
        p.muted { "在手机应用首次打开时输入服务器地址和这个注册码。" (DEFAULT_CODE_DAYS) " 天内有效，只能用一次。" }
        p { a.btn href=(format!("/console/accounts#account-{id}")) { "返回账号列表" } }
    };
    Ok(page(&console, "注册码", body))
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn withdraw_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(console, form): CsrfForm<CodeForm>,
) -> Result<Redirect, PageError> {
    let (row, _) = on_managed_account(
        &state,
        &console,
        account_in_path(&id)?,
        move |c, id, by, now| Ok(devices::withdraw_code(c, id, &form.code, Some(by), now)?),
    )
    .await?;
    Ok(back_to(row.info.id))
}

async fn disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(console, NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, PageError> {
    if parse_id(&id, AccountId::parse)? == console.account.id {
        return Err(bad("停用", "不能停用自己的账号"));
    }
    let (row, ()) =
        on_managed_account(&state, &console, account_in_path(&id)?, |c, id, by, now| {
            Ok(accounts::disable(c, id, Some(by), now)?)
        })
        .await?;
    Ok(back_to(row.info.id))
}

/// 启用: a disabled account in the manager's scope may sign in and enroll phones again.
async fn enable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(console, NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, PageError> {
    let (row, ()) =
        on_managed_account(&state, &console, account_in_path(&id)?, |c, id, by, now| {
            Ok(accounts::enable(c, id, Some(by), now)?)
        })
        .await?;
    Ok(back_to(row.info.id))
}

async fn revoke_device(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(console, NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, PageError> {
    let device = parse_id(&id, DeviceId::parse)?;
    let owner = move |c: &rusqlite::Connection| Ok(devices::owner(c, device)?);
    let (row, _) = on_managed_account(&state, &console, owner, move |c, _, by, now| {
        Ok(devices::revoke(c, device, Some(by), now)?)
    })
    .await?;
    Ok(back_to(row.info.id))
}
