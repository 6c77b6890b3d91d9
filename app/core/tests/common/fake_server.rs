//! An in-process stand-in for the server's app API: just enough to drive a real [`Device`]'s
//! enrollment and sync client over real HTTP. Stateless per request like the real server
//! (sync states decoded per device and document), with a change feed and scripted faults.
//! The real server is the lead's; end-to-end tests against it live in `tests/`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use automerge::sync::{Message, State as SyncState, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use pengwang_shared::id::{BuildingId, DeviceId};
use pengwang_shared::protocol::{
    AccountInfo, ApiError, DocOutcome, DocReply, EnrollRequest, EnrollResponse, SyncRequest,
    SyncResponse, PROTOCOL_HEADER, SYNC_CONTENT_TYPE,
};
use pengwang_shared::settings::CampaignSettings;

/// What the next sync request meets.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and error code, storing nothing.
    Status(u16, &'static str),
    /// Store the request's changes, then answer 200 with a body that is not a response: the
    /// device sees a failure after the server already applied its changes (a lost reply).
    LoseReply,
    /// Answer normally but say more documents are waiting (`more: true`).
    More,
}

type Hook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Inner {
    codes: HashMap<String, AccountInfo>,
    devices: HashMap<String, DeviceId>,
    docs: HashMap<BuildingId, AutoCommit>,
    sync_states: HashMap<(DeviceId, BuildingId), Vec<u8>>,
    feed: Vec<BuildingId>,
    faults: VecDeque<Fault>,
    refuse: HashMap<BuildingId, ApiError>,
    hook: Option<Hook>,
    bytes_in: u64,
    bytes_out: u64,
    requests: u32,
    docs_per_request: Vec<usize>,
    settings: Option<CampaignSettings>,
}

#[derive(Clone)]
pub struct FakeServer {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeServer {
    pub async fn start() -> FakeServer {
        let inner = Arc::new(Mutex::new(Inner {
            settings: Some(CampaignSettings::for_year(2026)),
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/v1/enroll", post(enroll))
            .route("/v1/sync", post(sync))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeServer { url, inner }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    pub fn issue_code(&self, account: &AccountInfo) -> String {
        let code = format!("CODE-{}", self.lock().codes.len() + 1);
        self.lock().codes.insert(code.clone(), account.clone());
        code
    }

    pub fn fail_next(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    pub fn refuse(&self, doc: BuildingId, code: &str, message: &str) {
        self.lock().refuse.insert(doc, ApiError::new(code, message));
    }

    pub fn accept(&self, doc: BuildingId) {
        self.lock().refuse.remove(&doc);
    }

    /// Runs `f` while the next sync request is being handled (after its body arrived).
    pub fn during_next_request(&self, f: impl FnOnce() + Send + 'static) {
        self.lock().hook = Some(Box::new(f));
    }

    pub fn set_settings(&self, settings: CampaignSettings) {
        self.lock().settings = Some(settings);
    }

    /// The server's heads of a document, sorted; empty if it does not have it.
    pub fn heads(&self, doc: BuildingId) -> Vec<ChangeHash> {
        let mut heads = self
            .lock()
            .docs
            .get_mut(&doc)
            .map(|d| d.get_heads())
            .unwrap_or_default();
        heads.sort();
        heads
    }

    /// Sync request and response body bytes so far.
    pub fn bytes(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.bytes_in, inner.bytes_out)
    }

    pub fn sync_requests(&self) -> u32 {
        self.lock().requests
    }

    /// How many documents each sync request carried, in order.
    pub fn docs_per_request(&self) -> Vec<usize> {
        self.lock().docs_per_request.clone()
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ApiError::new(code, message))).into_response()
}

fn protocol_error(headers: &HeaderMap) -> Option<Response> {
    match headers.get(PROTOCOL_HEADER).and_then(|v| v.to_str().ok()) {
        Some("1") => None,
        _ => Some(error(
            StatusCode::BAD_REQUEST,
            "missing_protocol",
            "missing pengwang-protocol header",
        )),
    }
}

async fn enroll(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(req): Json<EnrollRequest>,
) -> Response {
    if let Some(r) = protocol_error(&headers) {
        return r;
    }
    let mut inner = inner.lock().unwrap();
    let Some(account) = inner.codes.remove(&req.code) else {
        return error(
            StatusCode::BAD_REQUEST,
            "enrollment_code_unknown",
            "unknown enrollment code",
        );
    };
    let device_id = DeviceId::new();
    let token = format!("token-{}", DeviceId::new());
    inner.devices.insert(token.clone(), device_id);
    let settings = inner
        .settings
        .clone()
        .unwrap_or_else(|| CampaignSettings::for_year(2026));
    Json(EnrollResponse {
        device_id,
        token,
        account,
        settings,
    })
    .into_response()
}

async fn sync(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = protocol_error(&headers) {
        return r;
    }
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some(SYNC_CONTENT_TYPE)
    {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "expected application/x-pengwang-sync",
        );
    }
    let hook = inner.lock().unwrap().hook.take();
    if let Some(hook) = hook {
        hook();
    }
    let mut inner = inner.lock().unwrap();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(device) = token.and_then(|t| inner.devices.get(t).copied()) else {
        return error(StatusCode::UNAUTHORIZED, "invalid_token", "unknown token");
    };
    inner.requests += 1;
    inner.bytes_in += body.len() as u64;
    let fault = inner.faults.pop_front();
    if let Some(Fault::Status(status, code)) = fault {
        return error(
            StatusCode::from_u16(status).unwrap(),
            code,
            &format!("scripted {code}"),
        );
    }
    let request: SyncRequest = postcard::from_bytes(&body).unwrap();
    inner.docs_per_request.push(request.docs.len());
    let mut response = inner.answer(device, request);
    response.more = matches!(fault, Some(Fault::More));
    if let Some(Fault::LoseReply) = fault {
        return (StatusCode::OK, "not a sync response").into_response();
    }
    let bytes = postcard::to_stdvec(&response).unwrap();
    inner.bytes_out += bytes.len() as u64;
    (StatusCode::OK, bytes).into_response()
}

impl Inner {
    fn answer(&mut self, device: DeviceId, request: SyncRequest) -> SyncResponse {
        let mut replies = Vec::new();
        for push in &request.docs {
            if let Some(err) = self.refuse.get(&push.doc) {
                replies.push(DocReply {
                    doc: push.doc,
                    outcome: DocOutcome::Refused(err.clone()),
                });
                continue;
            }
            let message = self.receive(device, push.doc, &push.changes, &push.message);
            replies.push(DocReply {
                doc: push.doc,
                outcome: DocOutcome::Synced {
                    changes: Vec::new(),
                    message,
                },
            });
        }
        let cursor = request.cursor as usize;
        let mut elsewhere: Vec<BuildingId> = Vec::new();
        for doc in self.feed.iter().skip(cursor) {
            if !elsewhere.contains(doc) && !request.docs.iter().any(|p| p.doc == *doc) {
                elsewhere.push(*doc);
            }
        }
        for doc in elsewhere {
            let (changes, message) = self.offer(device, doc);
            replies.push(DocReply {
                doc,
                outcome: DocOutcome::Synced { changes, message },
            });
        }
        SyncResponse {
            cursor: self.feed.len() as u64,
            more: false,
            docs: replies,
            settings: self
                .settings
                .clone()
                .unwrap_or_else(|| CampaignSettings::for_year(2026)),
            open_conflicts: 0,
        }
    }

    fn state(&self, device: DeviceId, doc: BuildingId) -> SyncState {
        self.sync_states
            .get(&(device, doc))
            .map(|s| SyncState::decode(s).unwrap())
            .unwrap_or_default()
    }

    /// A pushed document: its changes, then the device's message; the answer.
    fn receive(
        &mut self,
        device: DeviceId,
        id: BuildingId,
        changes: &[u8],
        message: &[u8],
    ) -> Vec<u8> {
        let mut st = self.state(device, id);
        let doc = self.docs.entry(id).or_default();
        let before = doc.get_heads();
        if !changes.is_empty() {
            doc.load_incremental(changes).unwrap();
        }
        if !message.is_empty() {
            doc.sync()
                .receive_sync_message(&mut st, Message::decode(message).unwrap())
                .unwrap();
        }
        let answer = doc
            .sync()
            .generate_sync_message(&mut st)
            .map(Message::encode)
            .unwrap_or_default();
        if doc.get_heads() != before {
            self.feed.push(id);
        }
        self.sync_states.insert((device, id), st.encode());
        answer
    }

    /// A document changed elsewhere: what the device lacks after the shared heads, and a message.
    fn offer(&mut self, device: DeviceId, id: BuildingId) -> (Vec<u8>, Vec<u8>) {
        let mut st = self.state(device, id);
        let Some(doc) = self.docs.get_mut(&id) else {
            return (Vec::new(), Vec::new());
        };
        let changes = doc.save_after(&st.shared_heads);
        let message = doc
            .sync()
            .generate_sync_message(&mut st)
            .map(Message::encode)
            .unwrap_or_default();
        (changes, message)
    }
}
