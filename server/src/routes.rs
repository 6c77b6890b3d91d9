//! The HTTP surface. [`router`] assembles the routes of every module; each domain module owns
//! its handlers and hands back a `Router<AppState>` that is merged in [`feature_routes`].

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pengwang_shared::protocol::{AccountInfo, EnrollRequest, EnrollResponse, PROTOCOL_VERSION};
use serde::Serialize;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::{AuthDevice, ProtocolChecked};
use crate::db::DbError;
use crate::error::AppError;
use crate::state::AppState;
use crate::{campaign, devices};

/// The whole application: routes, a body limit of `max_batch_bytes` (a bigger body gets 413
/// before it is buffered), and request tracing.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_batch_bytes;
    Router::new()
        .route("/health", get(health))
        .route("/v1/enroll", post(enroll))
        .route("/v1/me", get(me))
        .merge(feature_routes())
        // Photo uploads carry their own body limit (`max_photo_bytes`), which overrides the one below.
        .merge(crate::photos::routes(state.config.max_photo_bytes))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(request_tracing())
        .with_state(state)
}

async fn unknown_route(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/console") {
        let e = AppError::not_found("unknown_route", format!("没有这个页面：{}", uri.path()));
        return crate::console::PageError(e).into_response();
    }
    AppError::not_found("unknown_route", format!("no such endpoint: {}", uri.path()))
        .into_response()
}

async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/console") {
        let e = AppError::MethodNotAllowed(format!("这个地址不接受 {method} 请求：{}", uri.path()));
        return crate::console::PageError(e).into_response();
    }
    AppError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())).into_response()
}

/// One INFO line per request with method, path, status and latency. Headers are not recorded:
/// they carry bearer tokens.
fn request_tracing(
) -> TraceLayer<tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>>
{
    TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}

/// ── Routes added by later modules go here ──
/// e.g. `.merge(crate::sync::routes()).merge(crate::resolve::routes())` where `sync::routes() -> Router<AppState>` declares
/// `POST /v1/sync`. Handlers take `AuthDevice` for the caller and return `Result<_, AppError>`.
fn feature_routes() -> Router<AppState> {
    Router::new()
        .merge(crate::sync::routes())
        .merge(crate::resolve::routes())
        .merge(crate::ledger::routes())
        .merge(crate::report::routes())
        .merge(crate::export::routes())
        .merge(crate::conflicts::routes())
        .merge(crate::deadlines::routes())
        .merge(crate::console::routes())
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    protocol: u16,
    database: &'static str,
}

/// Liveness and database reachability, for load balancers and the demo.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db = state
        .db
        .read(|c| {
            c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map_err(DbError::from)
        })
        .await;
    let (status, code, database) = match db {
        Ok(_) => ("ok", StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            ("degraded", StatusCode::SERVICE_UNAVAILABLE, "error")
        }
    };
    let body = Health {
        status,
        version: env!("CARGO_PKG_VERSION"),
        protocol: PROTOCOL_VERSION,
        database,
    };
    (code, Json(body))
}

/// Trades a one-time code for a device token, and hands the phone its account and the
/// campaign settings so it can work offline from the first minute.
async fn enroll(
    State(state): State<AppState>,
    _: ProtocolChecked,
    body: Result<Json<EnrollRequest>, JsonRejection>,
) -> Result<Json<EnrollResponse>, AppError> {
    let Json(req) = body?;
    let now = state.now();
    let enrolled = state
        .db
        .write(move |c| devices::enroll(c, &req.code, &req.device_name, now))
        .await?;
    let settings = state.db.read(move |c| campaign::load(c, now)).await?;
    Ok(Json(EnrollResponse {
        device_id: enrolled.device_id,
        token: enrolled.token,
        account: enrolled.account,
        settings,
    }))
}

/// Who this device acts for: lets the app show the account and check its token.
async fn me(AuthDevice(device): AuthDevice) -> Json<AccountInfo> {
    Json(device.account)
}
