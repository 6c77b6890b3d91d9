//! # pengwang-app
//!
//! The phone app's Tauri 2 shell. It owns no logic: [`commands`] call [`pengwang_core::Device`]
//! and map its errors to a serialisable `{code, message, detail}` ([`error::UiError`]) in plain
//! Chinese; photos cross as raw bytes (upload) and through the `pwphoto:` protocol (display),
//! never as base64 JSON.
//!
//! [`builder`] is generic over the runtime so the command tests run on tauri's mock runtime.

pub mod commands;
pub mod error;
pub mod forms;
pub mod photo_protocol;

use std::path::PathBuf;
use std::sync::Arc;

use pengwang_core::Device;
use pengwang_shared::time::SystemClock;
use tauri::Manager;

/// Where the device database lives when `PENGWANG_APP_DIR` does not say (the E2E test gives
/// each run its own folder).
pub const APP_DIR_ENV: &str = "PENGWANG_APP_DIR";

/// The app's commands and photo protocol. The device is managed state, added by [`run`] (or a
/// test) once its folder is known.
pub fn builder<R: tauri::Runtime>(b: tauri::Builder<R>) -> tauri::Builder<R> {
    b.register_asynchronous_uri_scheme_protocol(photo_protocol::SCHEME, photo_protocol::serve)
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::server_reachable,
            commands::enroll,
            commands::sync,
            commands::wipe,
            commands::choices,
            commands::places,
            commands::height_class,
            commands::opening_shortfall,
            commands::my_buildings,
            commands::create_building,
            commands::households,
            commands::add_household_grid,
            commands::add_household,
            commands::set_field,
            commands::delete_record,
            commands::revisits,
            commands::items,
            commands::item,
            commands::ingest_photo,
            commands::add_item,
            commands::add_photo,
            commands::record_step,
            commands::verification_list,
        ])
}

/// Opens the device store under `dir` (created if needed).
pub fn open_device(dir: PathBuf) -> Result<Device, String> {
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Device::open(&dir.join("device.db"), Arc::new(SystemClock)).map_err(|e| e.to_string())
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let context = tauri::generate_context!();
    let result = builder(tauri::Builder::default())
        .setup(|app| {
            let dir = match std::env::var_os(APP_DIR_ENV) {
                Some(dir) => PathBuf::from(dir),
                None => app.path().app_data_dir()?,
            };
            app.manage(open_device(dir)?);
            Ok(())
        })
        .run(context);
    if let Err(e) = result {
        eprintln!("pengwang: the app could not start: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests;
