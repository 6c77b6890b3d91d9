//! # pengwang-shared
//!
//! The domain of Pengwang (棚网), used by the phone (`pengwang-core`) and the server
//! (`pengwang-server`) alike, with no I/O of its own:
//!
//! - records and vocabularies: [`building`], [`household`], [`item`], [`region`], [`role`];
//! - the building document schema over automerge: [`document`];
//! - lifecycle events and the one fold that derives an item's state: [`event`], [`lifecycle`];
//! - the 附件2 monthly statistics: [`report`];
//! - campaign settings, time, and the sync wire types: [`settings`], [`time`], [`protocol`].

pub mod building;
pub mod choice;
pub mod document;
pub mod error;
pub mod event;
pub mod household;
pub mod id;
pub mod item;
pub mod lifecycle;
pub mod protocol;
pub mod region;
pub mod report;
pub mod role;
pub mod settings;
pub mod time;

pub use error::ParseError;
