//! Every command through tauri's mock runtime and the real IPC path (`get_ipc_response`), with
//! a real device store and a small scripted HTTP server standing in for pengwang-server where a
//! command talks to it (enroll, sync, reachability).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use pengwang_core::Device;
use pengwang_shared::id::{AccountId, DeviceId};
use pengwang_shared::protocol::{AccountInfo, EnrollResponse, SyncResponse};
use pengwang_shared::region::{CommunityCode, StreetCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::{FakeClock, Timestamp};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

/// 2026-05-29 04:26 in Chongqing (2026-05-28 20:26 UTC): before every deadline.
const NOW: i64 = 1_780_000_000;
const COMMUNITY: &str = "500103001003";

fn fixture(name: &str) -> Vec<u8> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/photos/"
    );
    std::fs::read(format!("{dir}{name}")).unwrap()
}

/// What the scripted server answers.
#[derive(Clone)]
struct Script {
    role: Role,
    account: AccountId,
    revoked: bool,
}

/// A one-thread HTTP server answering `/health`, `/v1/enroll` and `/v1/sync` from a [`Script`].
fn scripted_server(script: Arc<Mutex<Script>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let s = script.lock().unwrap().clone();
            let (status, bytes) = answer(&line, &s);
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                bytes.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&bytes).unwrap();
        }
    });
    url
}

fn answer(request_line: &str, s: &Script) -> (&'static str, Vec<u8>) {
    let settings = CampaignSettings::for_year(2026);
    if request_line.starts_with("GET /health") {
        return ("200 OK", br#"{"status":"ok"}"#.to_vec());
    }
    if request_line.starts_with("POST /v1/enroll") {
        let scope = match s.role {
            Role::StreetChecker => Scope::Street {
                street: StreetCode::parse("500103001").unwrap(),
            },
            _ => Scope::Community {
                community: CommunityCode::parse(COMMUNITY).unwrap(),
            },
        };
        let enrolled = EnrollResponse {
            device_id: DeviceId::new(),
            token: "token".into(),
            account: AccountInfo {
                id: s.account,
                name: "李网格".into(),
                role: s.role,
                scope,
            },
            settings,
        };
        return ("200 OK", serde_json::to_vec(&enrolled).unwrap());
    }
    if s.revoked {
        let body = br#"{"code":"device_revoked","message":"device revoked by the street"}"#;
        return ("403 Forbidden", body.to_vec());
    }
    let reply = SyncResponse {
        cursor: 1,
        more: false,
        docs: Vec::new(),
        settings,
        open_conflicts: 3,
    };
    ("200 OK", postcard::to_stdvec(&reply).unwrap())
}

struct Phone {
    _app: tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
    script: Arc<Mutex<Script>>,
    server: String,
    _dir: tempfile::TempDir,
}

impl Phone {
    fn new() -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FakeClock::at(Timestamp(NOW)));
        let device = Device::open(&dir.path().join("device.db"), clock).unwrap();
        let app = crate::builder(mock_builder())
            .manage(device)
            .build(mock_context(noop_assets()))
            .unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        let script = Arc::new(Mutex::new(Script {
            role: Role::CommunityInspector,
            account: AccountId::new(),
            revoked: false,
        }));
        let server = scripted_server(script.clone());
        Phone {
            _app: app,
            webview,
            script,
            server,
            _dir: dir,
        }
    }

    fn request(
        &self,
        cmd: &str,
        body: InvokeBody,
        headers: &[(&str, &str)],
    ) -> Result<Value, Value> {
        let mut map = tauri::http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                tauri::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: if cfg!(any(windows, target_os = "android")) {
                "http://tauri.localhost"
            } else {
                "tauri://localhost"
            }
            .parse()
            .unwrap(),
            body,
            headers: map,
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.webview, request).map(|b| b.deserialize::<Value>().unwrap())
    }

    fn call(&self, cmd: &str, args: Value) -> Value {
        self.request(cmd, InvokeBody::Json(args), &[])
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn fail(&self, cmd: &str, args: Value) -> Value {
        self.request(cmd, InvokeBody::Json(args), &[]).unwrap_err()
    }

    fn enroll(&self) -> Value {
        let args = json!({"serverUrl": self.server, "code": " ABCD-1234 ", "deviceName": "测试机"});
        self.call("enroll", args)
    }

    fn photo(&self, name: &str) -> String {
        let v = self
            .request("ingest_photo", InvokeBody::Raw(fixture(name)), &[])
            .unwrap();
        v.as_str().unwrap().to_owned()
    }

    /// A building with a 1 × 2 × 2 grid and an awning (B3) in the first household.
    fn surveyed(&self) -> (String, String, String, String) {
        let building = json!({"community": COMMUNITY, "estate": "阳光花园", "number": "3栋",
            "address": "和平路1号", "use": "residential", "floors": 10, "height_m": null, "units": 1});
        let b = self.call("create_building", json!({ "building": building }));
        let b = b.as_str().unwrap().to_owned();
        assert_eq!(
            self.call(
                "add_household_grid",
                json!({"building": b, "units": 1, "floors": 2, "rooms": 2})
            ),
            json!(4)
        );
        let h = self.call("households", json!({ "building": b }))[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let photo = self.photo("phone/jolla.jpg");
        let item = json!({"category": "awning", "household": h, "photos": [photo],
            "fields": {"position": "window", "material": "sandwich_foam", "fire_grade": "B3", "area_m2": 4.5}});
        let i = self.call("add_item", json!({"building": b, "item": item}));
        (b, h, i.as_str().unwrap().to_owned(), photo)
    }
}

#[test]
fn status_before_enrollment_says_not_enrolled_and_nothing_pending() {
    let phone = Phone::new();
    let status = phone.call("status", json!({}));
    assert_eq!(status["account"], Value::Null);
    assert_eq!(status["pending"], json!({"docs": 0, "photos": 0}));
    assert_eq!(status["last_sync_at"], Value::Null);
    let err = phone.fail("my_buildings", json!({}));
    assert_eq!(err["code"], "not_enrolled");
    assert_eq!(err["message"], "本机尚未注册：请输入服务器地址和注册码。");
}

#[test]
fn enroll_stores_the_account_and_the_server_answers_health() {
    let phone = Phone::new();
    let account = phone.enroll();
    assert_eq!(
        (account["name"].as_str(), account["role"].as_str()),
        (Some("李网格"), Some("community_inspector"))
    );
    let status = phone.call("status", json!({}));
    assert_eq!(status["role_label"], "社区网格员");
    assert_eq!(status["server_url"], phone.server.as_str());
    assert_eq!(phone.call("server_reachable", json!({})), json!(true));
    let places = phone.call("places", json!({}));
    assert_eq!(places.as_array().unwrap().len(), 1);
    assert_eq!(places[0]["community"], COMMUNITY);
    assert_eq!(places[0]["street"], "500103001");
    assert_eq!(places[0]["unit"], "500103");
}

#[test]
fn an_unreachable_server_is_offline_in_plain_chinese() {
    let phone = Phone::new();
    let args = json!({"serverUrl": "http://127.0.0.1:9", "code": "X", "deviceName": "测试机"});
    let err = phone.fail("enroll", args);
    assert_eq!(err["code"], "offline");
    assert_eq!(
        err["message"],
        "连不上服务器。修改已保存在本机，网络恢复后会自动同步。"
    );
}

#[test]
fn a_bad_server_address_is_named_before_anything_is_sent() {
    let phone = Phone::new();
    let cases = [
        (
            "",
            "server_url_missing",
            "请填写服务器地址，例如 http://192.168.1.10:8080。",
        ),
        (
            "192.168.1.10:8080",
            "server_url_no_scheme",
            "服务器地址要以 http:// 或 https:// 开头，例如 http://192.168.1.10:8080。",
        ),
        (
            "http://192.168.1.10:8080/v1",
            "server_url_invalid",
            "服务器地址格式不对，应为 http://地址:端口，例如 http://192.168.1.10:8080。",
        ),
    ];
    for (url, code, message) in cases {
        let args = json!({"serverUrl": url, "code": "X", "deviceName": "测试机"});
        let err = phone.fail("enroll", args);
        assert_eq!(
            (err["code"].as_str(), err["message"].as_str()),
            (Some(code), Some(message)),
            "{url}"
        );
    }
    let args = json!({"serverUrl": phone.server, "code": "  ", "deviceName": "测试机"});
    assert_eq!(
        phone.fail("enroll", args)["code"],
        "enrollment_code_missing"
    );

    // Some other web server: it answers, but not as Pengwang.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let body = "<html>Not Found</html>";
        let head = format!(
            "HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
    });
    let args = json!({"serverUrl": other, "code": "ABCD-1234", "deviceName": "测试机"});
    let err = phone.fail("enroll", args);
    assert_eq!(
        (err["code"].as_str(), err["message"].as_str()),
        (
            Some("not_pengwang_server"),
            Some("这个地址不是棚网服务器，请核对服务器地址（含端口）。")
        )
    );
    assert_eq!(phone.call("status", json!({}))["account"], Value::Null);
}

#[test]
fn sync_reports_the_servers_conflicts_and_remembers_when_it_finished() {
    let phone = Phone::new();
    phone.enroll();
    let report = phone.call("sync", json!({}));
    assert_eq!(
        report,
        json!({"docs_sent": 0, "docs_received": 0, "refused": [], "open_conflicts": 3,
               "photos_uploaded": 0, "photos_pending": 0, "photo_error": null})
    );
    let status = phone.call("status", json!({}));
    assert_eq!(
        (
            status["open_conflicts"].clone(),
            status["last_sync_at"].clone()
        ),
        (json!(3), json!(NOW))
    );
    assert_eq!(status["my_conflicts"], json!(0));
    // Chongqing time, whatever zone the phone (or this machine) is set to.
    assert_eq!(status["last_sync_local"], "2026-05-29 04:26");
}

#[test]
fn a_revoked_device_stops_syncing_and_wipe_says_what_was_unsynced() {
    let phone = Phone::new();
    phone.enroll();
    phone.surveyed();
    phone.script.lock().unwrap().revoked = true;
    let err = phone.fail("sync", json!({}));
    assert_eq!(err["code"], "revoked");
    assert_eq!(
        err["message"],
        "本机已被停用，同步已停止。请联系管理员，或清除本机数据后重新注册。"
    );
    let status = phone.call("status", json!({}));
    assert_eq!(status["revoked"], "device revoked by the street");
    assert_eq!(status["pending"], json!({"docs": 1, "photos": 1}));
    // Edits are refused now: they could never be uploaded.
    let (b, h) = {
        let list = phone.call("my_buildings", json!({}));
        let b = list[0]["id"].as_str().unwrap().to_owned();
        let h = phone.call("households", json!({ "building": b }))[1]["id"].clone();
        (b, h)
    };
    let record = json!({"record": "household", "id": h});
    let err = phone.fail(
        "set_field",
        json!({"building": b, "record": record, "key": "survey_result", "value": "hazard"}),
    );
    assert_eq!(
        (err["code"].as_str(), err["message"].as_str()),
        (
            Some("revoked_read_only"),
            Some("本机已被停用，不能再登记或修改（修改无法上传）。请联系管理员重新注册。")
        )
    );
    assert_eq!(
        phone.call("status", json!({}))["pending"],
        json!({"docs": 1, "photos": 1})
    );
    let wiped = phone.call("wipe", json!({}));
    assert_eq!(
        wiped,
        json!({"buildings": 1, "unsynced": {"docs": 1, "photos": 1}})
    );
    let status = phone.call("status", json!({}));
    assert_eq!(
        (status["account"].clone(), status["revoked"].clone()),
        (Value::Null, Value::Null)
    );
}

#[test]
fn choices_carry_the_labels_and_the_escape_rule() {
    let phone = Phone::new();
    let c = phone.call("choices", json!({}));
    assert_eq!(
        c["survey_results"],
        json!([{"code": "no_hazard", "label": "无隐患"},
        {"code": "hazard", "label": "有隐患"}, {"code": "not_reached", "label": "无法入户待复访"}])
    );
    assert_eq!(
        c["fire_grades"][4],
        json!({"code": "unknown", "label": "未知"})
    );
    assert_eq!(c["awning_materials"].as_array().unwrap().len(), 13);
    assert_eq!(
        c["escape"],
        json!({"min_width_m": 0.8, "min_height_m": 1.0, "max_sill_m": 1.2})
    );
    assert!(c["item_fields"]
        .as_array()
        .unwrap()
        .contains(&json!({"code": "protrusion_cm", "label": "外凸(厘米)"})));
}

#[test]
fn height_class_and_opening_shortfall_follow_the_shared_rules() {
    let phone = Phone::new();
    let args = json!({"buildingUse": "residential", "heightM": null, "floors": 10});
    assert_eq!(
        phone.call("height_class", args),
        json!({"high_rise": true, "needs_check": true})
    );
    let args = json!({"buildingUse": "public", "heightM": 24.0, "floors": 8});
    assert_eq!(
        phone.call("height_class", args),
        json!({"high_rise": false, "needs_check": false})
    );
    let args = json!({"width": 0.6, "height": 1.0, "sill": 1.5, "inside": true});
    assert_eq!(
        phone.call("opening_shortfall", args),
        json!("宽 0.60 m < 0.80 m；窗台 1.50 m > 1.20 m")
    );
    let args = json!({"width": 0.8, "height": 1.0, "sill": 1.2, "inside": true});
    assert_eq!(phone.call("opening_shortfall", args), Value::Null);
}

#[test]
fn an_inspector_records_a_building_households_and_an_awning_offline() {
    let phone = Phone::new();
    phone.enroll();
    let (b, h, i, photo) = phone.surveyed();
    let list = phone.call("my_buildings", json!({}));
    assert_eq!(list.as_array().unwrap().len(), 1);
    let s = &list[0];
    assert_eq!(
        (
            s["estate"].as_str(),
            s["number"].as_str(),
            s["height_class"].as_str()
        ),
        (Some("阳光花园"), Some("3栋"), Some("高层"))
    );
    assert_eq!(
        (
            s["needs_height_check"].clone(),
            s["households"].clone(),
            s["items"].clone()
        ),
        (json!(true), json!(4), json!(1))
    );

    let added = phone.call(
        "add_household",
        json!({"building": b, "unit": "1", "floor": 3, "room": "301"}),
    );
    let households = phone.call("households", json!({ "building": b }));
    assert_eq!(households.as_array().unwrap().len(), 5);
    assert_eq!(households[4]["id"], added);
    let record = json!({"record": "household", "id": added});
    phone.call(
        "set_field",
        json!({"building": b, "record": record, "key": "survey_result", "value": "not_reached"}),
    );
    let revisits = phone.call("revisits", json!({}));
    assert_eq!(
        (
            revisits[0]["household"]["room"].as_str(),
            revisits[0]["number"].as_str()
        ),
        (Some("301"), Some("3栋"))
    );
    phone.call("delete_record", json!({"building": b, "record": record}));
    assert_eq!(phone.call("revisits", json!({})), json!([]));

    let items = phone.call("items", json!({"building": b, "household": h}));
    assert_eq!(items.as_array().unwrap().len(), 1);
    let item = phone.call("item", json!({"building": b, "item": i}));
    assert_eq!(
        (
            item["state"].as_str(),
            item["state_label"].as_str(),
            item["hazard"].clone()
        ),
        (Some("identified"), Some("已登记"), json!(true))
    );
    assert_eq!(
        item["photos"],
        json!([{"hash": photo, "role": "before", "role_label": "整改前"}])
    );
    assert_eq!(
        item["steps"],
        json!([{"kind": "notify", "label": "告知劝导"}, {"kind": "submit", "label": "整改完成待核查"}])
    );
    assert_eq!(item["fields"]["area_m2"], json!(4.5));
    let status = phone.call("status", json!({}));
    assert_eq!(status["pending"], json!({"docs": 1, "photos": 1}));
}

#[test]
fn a_photo_is_refused_in_plain_chinese_and_attached_by_headers() {
    let phone = Phone::new();
    phone.enroll();
    let (b, _, i, _) = phone.surveyed();
    let err = phone
        .request(
            "ingest_photo",
            InvokeBody::Raw(fixture("bad/sample.heif")),
            &[],
        )
        .unwrap_err();
    assert_eq!(err["code"], "invalid_photo");
    assert_eq!(
        err["message"],
        "这张照片是 HEIF/HEIC 格式，无法使用。请把相机设置为 JPEG/兼容格式后重新拍摄。"
    );
    let mut cut = fixture("orientation/portrait_1.jpg");
    cut.truncate(cut.len() / 3);
    let err = phone
        .request("ingest_photo", InvokeBody::Raw(cut), &[])
        .unwrap_err();
    assert_eq!(
        (err["code"].as_str(), err["message"].as_str()),
        (
            Some("invalid_photo"),
            Some("照片文件已损坏或不完整，请重新拍摄。")
        )
    );
    let err = phone.fail("ingest_photo", json!({"bytes": "not raw"}));
    assert_eq!(
        err["detail"],
        "expected the photo's bytes as the raw request body"
    );
    let headers = [
        ("pengwang-building", b.as_str()),
        ("pengwang-item", i.as_str()),
        ("pengwang-role", "other"),
    ];
    let hash = phone
        .request(
            "add_photo",
            InvokeBody::Raw(fixture("orientation/portrait_3.jpg")),
            &headers,
        )
        .unwrap();
    let item = phone.call("item", json!({"building": b, "item": i}));
    assert_eq!(item["photos"].as_array().unwrap().len(), 2);
    assert!(item["photos"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["hash"] == hash && p["role"] == "other"));
}

#[test]
fn only_the_street_is_offered_the_close_of_an_inspectors_fix() {
    let phone = Phone::new();
    phone.enroll();
    let (b, _, i, _) = phone.surveyed();
    // A fix without its after photo is refused with the rule, in Chinese.
    let step = json!({"kind": "submit", "note": "", "photos": [], "detail": {"method": "removed"}});
    let err = phone.fail(
        "record_step",
        json!({"building": b, "item": i, "step": step}),
    );
    assert_eq!(
        (err["code"].as_str(), err["message"].as_str()),
        (Some("not_allowed"), Some("整改完成需要拍摄整改后照片。"))
    );
    let after = phone.photo("orientation/landscape_2.jpg");
    let step =
        json!({"kind": "submit", "note": "", "photos": [after], "detail": {"method": "removed"}});
    phone.call(
        "record_step",
        json!({"building": b, "item": i, "step": step}),
    );
    let item = phone.call("item", json!({"building": b, "item": i}));
    assert_eq!(
        (item["state"].as_str(), item["steps"].clone()),
        (Some("pending_verify"), json!([]))
    );
    assert_eq!(phone.call("verification_list", json!({})), json!([]));
    let step = json!({"kind": "close", "note": "", "photos": [], "detail": {}});
    let err = phone.fail(
        "record_step",
        json!({"building": b, "item": i, "step": step.clone()}),
    );
    assert_eq!(
        err["message"],
        "社区网格员不能进行“复核销号”，须由街道核查员及以上进行。"
    );
    let err = phone.fail(
        "record_step",
        json!({"building": b, "item": i, "step": step.clone()}),
    );
    assert_eq!(err["code"], "not_allowed");

    // The same phone re-enrolled for the street's checker (another account).
    {
        let mut s = phone.script.lock().unwrap();
        s.role = Role::StreetChecker;
        s.account = AccountId::new();
    }
    phone.enroll();
    let list = phone.call("verification_list", json!({}));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], i.as_str());
    let kinds: Vec<&str> = list[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["close", "void", "return"]);
    let roles: Vec<&str> = list[0]["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles.len(), 2);
    assert!(roles.contains(&"before") && roles.contains(&"after"));
    phone.call(
        "record_step",
        json!({"building": b, "item": i, "step": step}),
    );
    let item = phone.call("item", json!({"building": b, "item": i}));
    assert_eq!(
        (item["state"].as_str(), item["state_label"].as_str()),
        (Some("closed"), Some("已复核销号"))
    );
    assert_eq!(phone.call("verification_list", json!({})), json!([]));
}

#[test]
fn the_real_capabilities_allow_the_apps_commands() {
    let dir = tempfile::tempdir().unwrap();
    let device = crate::open_device(dir.path().to_owned()).unwrap();
    let app = crate::builder(mock_builder())
        .manage(device)
        .build(tauri::generate_context!())
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let request = InvokeRequest {
        cmd: "status".into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(json!({})),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    let status = get_ipc_response(&webview, request)
        .unwrap()
        .deserialize::<Value>()
        .unwrap();
    assert_eq!(status["pending"], json!({"docs": 0, "photos": 0}));
}
