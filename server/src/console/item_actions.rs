//! The lifecycle step forms of one item and the route they post to,
//! `POST /console/items/{item}/action` (see [`crate::actions`] for the rules).
//!
//! Pages that show an item call [`choices`] for it and render [`action_forms`]: only the steps
//! the fold would accept from this user now are offered.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Redirect;
use axum::routing::post;
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::event::EventKind;
use pengwang_shared::id::ItemId;
use serde::Deserialize;

use super::layout::csrf_field;
use super::{Console, CsrfForm, PageError};
use crate::actions::{self, needs_note, step_label, ItemChoices, StepRequest};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/items/{item}/action", post(take_step))
}

/// The item's state and the steps this user may take (404 outside the user's scope).
pub async fn choices(
    state: &AppState,
    console: &Console,
    item: ItemId,
) -> Result<ItemChoices, PageError> {
    let now = state.now();
    let account = console.account.clone();
    let found = state
        .db
        .read(move |c| actions::choices(c, &account, item, now))
        .await?;
    Ok(found)
}

/// One form per step the user may take on `item`; a note why when there is none.
pub fn action_forms(console: &Console, item: &ItemChoices) -> Markup {
    let action = format!("/console/items/{}/action", item.item);
    html! {
        div.item-actions {
            @if item.forked {
                p.muted { "该点位存在分叉（并发操作），请先在“冲突”页面裁定。" }
            }
            @if item.steps.is_empty() && !item.forked {
                p.muted { "当前状态下您没有可进行的操作。" }
            }
            @for step in &item.steps {
                form.inline method="post" action=(action) {
                    (csrf_field(console))
                    input type="hidden" name="step" value=(step.code());
                    @if needs_note(*step) {
                        input type="text" name="note" required placeholder=(format!("{}原因（必填）", step_label(*step)));
                    } @else {
                        input type="text" name="note" placeholder="备注（选填）";
                    }
                    button type="submit" class=(button_class(*step)) { (step_label(*step)) }
                }
            }
        }
    }
}

fn button_class(step: EventKind) -> &'static str {
    match step {
        EventKind::Close => "btn primary",
        EventKind::Void | EventKind::Refuse => "btn danger",
        _ => "btn",
    }
}

#[derive(Deserialize)]
struct StepForm {
    step: String,
    #[serde(default)]
    note: String,
    /// Where to go afterwards (a console path); else the page the form was on.
    #[serde(default)]
    back: String,
}

async fn take_step(
    State(state): State<AppState>,
    Path(item): Path<String>,
    headers: HeaderMap,
    CsrfForm(console, form): CsrfForm<StepForm>,
) -> Result<Redirect, PageError> {
    console.require_write()?;
    let item = ItemId::parse(&item)
        .map_err(|_| AppError::not_found("unknown_item", format!("没有找到隐患点位 {item}")))?;
    let kind = EventKind::parse(&form.step)
        .map_err(|_| AppError::bad_request("invalid_step", format!("未知的操作：{}", form.step)))?;
    let req = StepRequest {
        item,
        kind,
        note: form.note,
    };
    let now = state.now();
    let account = console.account.clone();
    state
        .db
        .write(move |c| actions::take_step(c, &account, &req, now))
        .await?;
    Ok(Redirect::to(&back_to(&form.back, &headers)))
}

/// A console path to return to: the form's `back`, else the referring console page, else the
/// verification queue. Never another site.
fn back_to(back: &str, headers: &HeaderMap) -> String {
    let referer = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .map(|r| match r.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]).to_owned(),
            None => r.to_owned(),
        });
    [Some(back.to_owned()), referer]
        .into_iter()
        .flatten()
        .find(|p| p.starts_with("/console") && !p.contains("://") && !p.starts_with("//"))
        .unwrap_or_else(|| "/console/queue".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_returned_to() {
        let mut h = HeaderMap::new();
        assert_eq!(back_to("", &h), "/console/queue");
        assert_eq!(
            back_to("https://evil.example/console", &h),
            "/console/queue"
        );
        h.insert(
            axum::http::header::REFERER,
            "http://localhost:8080/console/ledger/items/x?y=1"
                .parse()
                .unwrap(),
        );
        assert_eq!(back_to("", &h), "/console/ledger/items/x?y=1");
        assert_eq!(back_to("/console/deadlines", &h), "/console/deadlines");
    }
}
