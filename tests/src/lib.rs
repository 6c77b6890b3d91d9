//! # pengwang-e2e — the field simulator
//!
//! Real pengwang-core devices syncing over real HTTP (through a switchable proxy that stands in
//! for the radio) to a real pengwang-server on 127.0.0.1:0. The end-to-end tests in `tests/`,
//! the `demo` binary (the README's first command) and the `bench` binary all build on it.

pub mod bench;
pub mod device;
pub mod field;
pub mod proxy;
pub mod raw;
pub mod server;
pub mod simulation;

pub use device::TestDevice;
pub use proxy::{Link, Proxy};
pub use server::{NowExt, TestServer};
