//! The supervisors' web console (issue 5): server-rendered pages in Simplified Chinese for street
//! checkers, district task forces and the city.
//!
//! - [`Console`] is the signed-in user (session cookie, [`session`]); a page request without a
//!   session is sent to the sign-in page.
//! - [`CsrfForm`] reads a form post and refuses it unless it carries the session's CSRF token;
//!   the cookie is also `SameSite=Strict`.
//! - [`PageError`] renders a failed request as a page rather than JSON.
//! - Every page module owns its routes; [`routes`] merges them.

mod accounts;
mod audit;
mod charts;
mod conflicts;
mod contacts;
mod deadlines;
mod documents;
mod duplicates;
mod exports;
pub mod item_actions;
pub mod layout;
mod ledger;
mod queue;
mod reports;
pub mod session;
mod settings;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup, DOCTYPE};
use pengwang_shared::protocol::AccountInfo;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "pw_session";
/// No console form field is longer than this (the longest are the monthly summary's sections);
/// stricter limits (a step's reason, a name) are checked where the value is used.
const MAX_FIELD_CHARS: usize = 10_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", axum::routing::post(logout))
        .route("/console/static/console.css", get(stylesheet))
        .merge(accounts::routes())
        .merge(audit::routes())
        .merge(charts::routes())
        .merge(conflicts::routes())
        .merge(contacts::routes())
        .merge(documents::routes())
        .merge(crate::reveal::routes())
        .merge(ledger::routes())
        .merge(item_actions::routes())
        .merge(queue::routes())
        .merge(duplicates::routes())
        .merge(deadlines::routes())
        .merge(settings::routes())
        .merge(reports::routes())
        .merge(exports::routes())
        .layer(axum::middleware::map_response(no_store))
}

/// Console pages carry personal data (masked, or revealed on request): no browser or proxy
/// keeps a copy. Responses that set their own caching (content-addressed photos) keep it.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The signed-in console user.
#[derive(Clone, Debug)]
pub struct Console {
    pub account: AccountInfo,
    pub csrf: String,
    /// The account's scope in words, e.g. "渝中区 · 解放碑街道".
    pub scope_label: String,
}

impl Console {
    /// For forms read by hand (multipart): refuses a missing or wrong CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if session::same_token(token, &self.csrf) {
            Ok(())
        } else {
            Err(PageError(AppError::forbidden(
                "csrf",
                "表单已失效或来源不明（缺少或错误的 CSRF 令牌），请刷新页面后重试",
            )))
        }
    }

    /// Refuses read-only roles (fire-rescue) before any change.
    pub fn require_write(&self) -> Result<(), PageError> {
        if self.account.role.can_write() {
            Ok(())
        } else {
            Err(PageError(AppError::forbidden(
                "read_only",
                "消防救援账号为只读，不能修改数据",
            )))
        }
    }
}

/// Why a request has no console user.
pub enum NotSignedIn {
    /// A page: go and sign in, then come back.
    Redirect(String),
    /// A form post or download: say so.
    Refused,
    Failed(AppError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Redirect(next) => {
                let to = format!("/console/login?next={}", encode_query(&next));
                Redirect::to(&to).into_response()
            }
            NotSignedIn::Refused => PageError(AppError::unauthorized(
                "not_signed_in",
                "未登录或登录已过期，请重新登录",
            ))
            .into_response(),
            NotSignedIn::Failed(e) => PageError(e).into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NotSignedIn> {
        let not_signed_in = || {
            if parts.method == Method::GET {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/console", |p| p.as_str());
                NotSignedIn::Redirect(next.to_owned())
            } else {
                NotSignedIn::Refused
            }
        };
        let Some(token) = session_cookie(&parts.headers) else {
            return Err(not_signed_in());
        };
        let now = state.now();
        let found = state
            .db
            .read(move |c| session::lookup(c, &token, now).map_err(AppError::from))
            .await
            .map_err(NotSignedIn::Failed)?;
        match found {
            Some(s) => Ok(Console {
                scope_label: layout::scope_label(&state.catalog, &s.account.scope),
                account: s.account,
                csrf: s.csrf,
            }),
            None => Err(not_signed_in()),
        }
    }
}

/// A form post from a signed-in user carrying the session's CSRF token.
pub struct CsrfForm<T>(pub Console, pub T);

/// The form of a button that only needs its CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let console = Console::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let req = Request::from_parts(parts, body);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let token: CsrfOnly = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            PageError(AppError::bad_request(
                "invalid_form",
                format!("表单无法读取：{e}"),
            ))
            .into_response()
        })?;
        console
            .check_csrf(&token.csrf)
            .map_err(IntoResponse::into_response)?;
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        if let Some((name, _)) = fields
            .iter()
            .find(|(_, v)| v.chars().count() > MAX_FIELD_CHARS)
        {
            return Err(PageError(AppError::bad_request(
                "field_too_long",
                format!("表单项“{name}”太长：每项最多 {MAX_FIELD_CHARS} 字"),
            ))
            .into_response());
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            PageError(AppError::bad_request(
                "invalid_form",
                format!("表单内容有误：{e}"),
            ))
            .into_response()
        })?;
        Ok(CsrfForm(console, form))
    }
}

/// A failed console request, rendered as a page in Chinese with what went wrong.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if let AppError::Internal(cause) = &self.0 {
            tracing::error!(error = %cause, "console request failed");
        }
        let heading = match status {
            StatusCode::BAD_REQUEST => "提交的内容有误",
            StatusCode::UNAUTHORIZED => "请先登录",
            StatusCode::FORBIDDEN => "无权进行此操作",
            StatusCode::NOT_FOUND => "未找到",
            StatusCode::CONFLICT => "与当前状态冲突",
            StatusCode::PAYLOAD_TOO_LARGE => "文件太大",
            _ => "服务器出错了",
        };
        let message = self.0.to_api_error().message;
        let body = html! {
            (DOCTYPE)
            html lang="zh-CN" {
                (layout::head(heading))
                body.error-page {
                    main {
                        h1 { (heading) }
                        p.error-message { (message) }
                        p { a.btn href="javascript:history.back()" { "返回上一页" } " " a.btn href="/console" { "回到首页" } }
                    }
                }
            }
        };
        (status, body).into_response()
    }
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("console.css"),
    )
}

/// The console's front door: the ledger.
async fn home(console: Option<Console>) -> Redirect {
    match console {
        Some(_) => Redirect::to("/console/ledger"),
        None => Redirect::to("/console/login"),
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Console {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <Console as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    #[serde(default)]
    next: String,
}

async fn login_page(axum::extract::Query(q): axum::extract::Query<LoginQuery>) -> Markup {
    layout::sign_in_page(&safe_next(&q.next), None)
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    if !same_origin(&headers) {
        return Err(PageError(AppError::forbidden(
            "cross_origin",
            "登录请求来自其他网站，已拒绝",
        )));
    }
    let now = state.now();
    let next = safe_next(&form.next);
    let login = form.login.clone();
    let signed = state
        .db
        .write(move |c| Ok::<_, AppError>(session::sign_in(c, &form.login, &form.password, now)))
        .await?;
    match signed {
        Ok(s) => {
            let cookie = session_cookie_header(&state, &s.token, session::SESSION_SECS);
            let mut resp = Redirect::to(&next).into_response();
            resp.headers_mut().insert(SET_COOKIE, cookie);
            Ok(resp)
        }
        Err(session::SignInError::Account(e)) => Err(e.into()),
        Err(e) => {
            let page = layout::sign_in_page(&next, Some((&login, &e.to_string())));
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(_console, NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    if let Some(token) = session_cookie(&headers) {
        let now = state.now();
        state
            .db
            .write(move |c| session::end(c, &token, now).map_err(AppError::from))
            .await?;
    }
    let mut resp = Redirect::to("/console/login").into_response();
    resp.headers_mut()
        .insert(SET_COOKIE, session_cookie_header(&state, "", 0));
    Ok(resp)
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

fn session_cookie_header(state: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A browser's form post names its page's origin; one from another site is refused. Clients
/// that send no `Origin` (curl, old browsers) are let through: they carry no victim's cookie.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin == "null" && host.is_empty()
        || origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
}

/// Only a path on this site may follow sign-in (no open redirect).
fn safe_next(next: &str) -> String {
    if next.starts_with("/console") && !next.starts_with("//") && !next.contains("://") {
        next.to_owned()
    } else {
        "/console/ledger".to_owned()
    }
}

/// Percent-encodes a query value.
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
