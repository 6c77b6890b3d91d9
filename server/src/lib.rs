//! Pengwang sync server (DESIGN §5, §7): accounts and devices, region tables, and the HTTP API
//! the phones sync with. The binary (`main.rs`) only parses the command line; everything it
//! does is a call into this library, so tests run the same server without a socket.
//!
//! Reading order: [`config`] → [`db`] → [`regions`] → [`accounts`] /
//! [`devices`] → [`state`] → [`auth`] / [`error`] → [`routes`] → [`run`].

pub mod accounts;
pub mod actions;
pub mod audit;
pub mod auth;
pub mod authoring;
pub mod campaign;
pub mod charts;
pub mod cli;
pub mod config;
pub mod conflicts;
pub mod console;
pub mod contacts;
pub mod db;
pub mod deadlines;
pub mod devices;
pub mod documents;
pub mod error;
pub mod export;
pub mod ledger;
pub mod merge;
pub mod photos;
pub mod projection;
pub mod regions;
pub mod report;
pub mod resolve;
pub mod reveal;
pub mod routes;
pub mod scope;
pub mod state;
pub mod submission;
pub mod sync;
pub mod unit_documents;

#[cfg(test)]
mod testing;

use std::future::Future;
use tokio::net::TcpListener;

pub use config::Config;
pub use db::Db;
pub use error::AppError;
pub use state::AppState;

/// Serves the API on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (a sync that has committed still gets its answer).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let db = state.db.clone();
    axum::serve(listener, routes::router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    // In-flight requests have finished: fold the write-ahead log into the database file so a copy
    // of the file alone is complete.
    let checkpoint = tokio::task::spawn_blocking(move || db.checkpoint()).await;
    if let Ok(Err(e)) = checkpoint {
        tracing::warn!(error = %e, "could not checkpoint the database on shutdown");
    }
    Ok(())
}
