//! `pwphoto:` — the UI shows photos by URL instead of receiving their bytes as JSON:
//! `pwphoto://localhost/<hash>` is the JPEG, `pwphoto://localhost/thumb/<hash>` its thumbnail
//! (on Android and Windows the webview spells it `http://pwphoto.localhost/…`). Photos taken on
//! this phone come from its store; others (a checker verifying an inspector's fix) from the
//! server.

use pengwang_core::Device;
use pengwang_shared::id::PhotoHash;
use tauri::http::{Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

pub const SCHEME: &str = "pwphoto";

pub fn serve<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let device = ctx.app_handle().state::<Device>().inner().clone();
    let path = request.uri().path().trim_start_matches('/').to_owned();
    tauri::async_runtime::spawn(async move { responder.respond(answer(&device, &path).await) });
}

async fn answer(device: &Device, path: &str) -> Response<Vec<u8>> {
    let (thumbnail, hash) = match path.strip_prefix("thumb/") {
        Some(hash) => (true, hash),
        None => (false, path),
    };
    let found = match PhotoHash::parse(hash) {
        Ok(hash) => device.photo_for_display(&hash, thumbnail).await,
        Err(_) => Ok(None),
    };
    let response = match found {
        Ok(Some(jpeg)) => Response::builder()
            .header("Content-Type", "image/jpeg")
            .header("Cache-Control", "max-age=31536000, immutable")
            .body(jpeg),
        Ok(None) => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Vec::new()),
        Err(_) => Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body(Vec::new()),
    };
    response.unwrap_or_else(|_| Response::new(Vec::new()))
}
