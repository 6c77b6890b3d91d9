//! # pengwang-core
//!
//! The device library of Pengwang (棚网): everything the phone app does except drawing screens.
//! The Tauri shell and the field simulator both drive a [`Device`]:
//!
//! - [`Device::open`] opens the install's SQLite store (documents, sync state, outbox);
//! - [`Device::enroll`] trades a one-time code for the install's identity;
//! - editing ([`Device::create_building`], [`Device::add_item`], [`Device::record_event`], …)
//!   works offline: each user action is one automerge commit, durable before the call returns,
//!   and lifecycle steps the fold would mark invalid are refused with its reason;
//! - photos: [`Device::add_photo`] (or [`Device::ingest_photo`] before `add_item` /
//!   `record_event` name the hash) ingests a camera photo, stores it and attaches its record to
//!   the item in the same commit; [`Device::pending`] counts unconfirmed photos apart;
//! - [`Device::sync`] exchanges changes with the server over HTTP, one round trip per batch,
//!   then uploads the photos the server lacks.
//!
//! One automerge document per building (DESIGN §7); the schema and the lifecycle fold live in
//! `pengwang-shared`, so the phone shows exactly what the server will count.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pengwang_core::CoreError> {
//! use std::sync::Arc;
//! use pengwang_shared::time::SystemClock;
//!
//! let device = pengwang_core::Device::open("device.db".as_ref(), Arc::new(SystemClock))?;
//! device.enroll("https://pengwang.example", "ABCD-1234", "张三的手机").await?;
//! let report = device.sync().await?;
//! println!("{} round(s), {} document(s) received", report.rounds, report.docs_received);
//! # Ok(()) }
//! ```
//!
//! Local operations are synchronous (SQLite and automerge, milliseconds); call them from a
//! blocking context in async code. Only enrollment and sync touch the network.

mod deletion;
mod device;
mod editing;
mod enrollment;
mod error;
mod evidence;
mod household_grid;
pub mod photo;
mod places;
mod status;
mod store;
mod survey;
mod sync;
mod transport;

pub use device::{Device, Pending};
pub use editing::EventRequest;
pub use error::CoreError;
pub use evidence::PhotoFiles;
pub use household_grid::MAX_GRID;
pub use places::Place;
pub use status::{Status, Wiped};
pub use survey::{
    BuildingSummary, HistoryEntry, HouseholdView, ItemView, PhotoView, Revisit, StepView,
    HELD_LABEL,
};
pub use sync::SyncReport;
