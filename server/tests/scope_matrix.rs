//! The roles × endpoints scope matrix (issue 5, "Tests that must exist"): every console route and
//! every `/v1` read route, called by nine accounts, each cell's status asserted; list pages and
//! downloads checked for the estates the caller must not see; every refused POST checked to have
//! changed nothing (all tables but sessions and the region catalog compared before and after).
//!
//! Run `cargo test -p pengwang-server --test scope_matrix -- --nocapture` to read the policy as a
//! table (endpoint × role → expected status).
//!
//! The city (campaign 2026, clock 2026-07-10 10:00, after the self-remediation deadline), all
//! stored as real building documents and projected as a sync would:
//! - 渝中区 500103 / 七星岗街道 500103001 / 华一坡社区 500103001003:
//!   - 金汤小区 1栋 (the property company's estate): h1 (1单元 101, phone 13812341234), a pending
//!     item with an uploaded before photo, pending items for the close cells, an overdue notified
//!     item, households with concurrent phone writes (field conflicts), duplicate households
//!     (1单元 201/202/203 twice);
//!   - 金汤小区 2栋/3栋/4栋, each recorded twice ("2栋" and "2 栋"): duplicate buildings to merge;
//!   - 华一坡花园 1栋 (same community, not the property company's).
//! - 七星岗街道 / 临华路社区 500103001006: 临华大厦 1栋 (outside the community inspector's scope).
//! - 解放碑街道 500103003 / 民生路社区 500103003013: 民生大楼 1栋.
//! - 大渡口区 500104 / 新山村街道 500104001 / 平安社区 500104001001: 平安小区 1栋.
//!
//! Every estate's 1栋 has a pending item, an overdue notified item, a field conflict and a twin
//! ("1 栋"), so each list page would show it if scope let it through.
#![allow(clippy::unwrap_used)]

mod building_docs;
mod common;

use std::fmt::Write as _;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use building_docs::*;
use common::{ConsoleUser, Response, TestApp};
use pengwang_shared::document::{self, FieldValue, RecordRef};
use pengwang_shared::event::{Event, EventDetail, EventKind};
use pengwang_shared::id::{BuildingId, HouseholdId, ItemId};
use pengwang_shared::item::Category;
use pengwang_shared::protocol::{
    Resolution, ResolveRequest, SyncRequest, PROTOCOL_HEADER, PROTOCOL_VERSION, SYNC_CONTENT_TYPE,
};
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Clock;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

// ── The places ──

const QXG: &str = "500103001";
const HYP: &str = "500103001003";
const LHL: &str = "500103001006";
const JFB: &str = "500103003";
const MSL: &str = "500103003013";
const DDK_STREET: &str = "500104001";
const DDK_COMMUNITY: &str = "500104001001";

const JINTANG: &str = "金汤小区";
const HUAYIPO: &str = "华一坡花园";
const LINHUA: &str = "临华大厦";
const MINSHENG: &str = "民生大楼";
const PINGAN: &str = "平安小区";
const ESTATES: [&str; 5] = [JINTANG, HUAYIPO, LINHUA, MINSHENG, PINGAN];

const MONTH: &str = "2026-06";

// ── The roles (rows of the policy) ──

/// One account of the matrix: a console user and a phone (device token) of the same role.
struct Who {
    key: &'static str,
    role: Role,
    scope: Scope,
    name: &'static str,
    /// The estates in this account's scope.
    sees: &'static [&'static str],
    /// Reporting units whose rows it may read in 附件2 (names as in the catalog).
    units_hidden: &'static [&'static str],
}

fn street(code: &str) -> Scope {
    Scope::Street {
        street: StreetCode::parse(code).unwrap(),
    }
}

fn unit(code: &str) -> Scope {
    Scope::Unit {
        unit: UnitCode::parse(code).unwrap(),
    }
}

fn roles() -> Vec<Who> {
    let yuzhong: &'static [&'static str] = &[JINTANG, HUAYIPO, LINHUA, MINSHENG];
    vec![
        Who {
            key: "city",
            role: Role::City,
            scope: Scope::City,
            name: "市级专班甲",
            sees: &ESTATES,
            units_hidden: &[],
        },
        Who {
            key: "lead103",
            role: Role::UnitLead,
            scope: unit("500103"),
            name: "渝中牵头甲",
            sees: yuzhong,
            units_hidden: &["大渡口区"],
        },
        Who {
            key: "chk七星岗",
            role: Role::StreetChecker,
            scope: street(QXG),
            name: "七星岗核查甲",
            sees: &[JINTANG, HUAYIPO, LINHUA],
            units_hidden: &["大渡口区"],
        },
        Who {
            key: "chk解放碑",
            role: Role::StreetChecker,
            scope: street(JFB),
            name: "解放碑核查甲",
            sees: &[MINSHENG],
            units_hidden: &["大渡口区"],
        },
        Who {
            key: "insp华一坡",
            role: Role::CommunityInspector,
            scope: Scope::Community {
                community: CommunityCode::parse(HYP).unwrap(),
            },
            name: "华一坡网格甲",
            sees: &[JINTANG, HUAYIPO],
            units_hidden: &["大渡口区"],
        },
        Who {
            key: "prop金汤",
            role: Role::PropertyStaff,
            scope: Scope::Estates {
                community: CommunityCode::parse(HYP).unwrap(),
                estates: vec![JINTANG.into()],
            },
            name: "金汤物业甲",
            sees: &[JINTANG],
            units_hidden: &["大渡口区"],
        },
        Who {
            key: "enf103",
            role: Role::Enforcement,
            scope: unit("500103"),
            name: "渝中执法甲",
            sees: yuzhong,
            units_hidden: &["大渡口区"],
        },
        Who {
            key: "fire103",
            role: Role::FireRescue,
            scope: unit("500103"),
            name: "渝中消防甲",
            sees: yuzhong,
            units_hidden: &["大渡口区"],
        },
        Who {
            key: "lead104",
            role: Role::UnitLead,
            scope: unit("500104"),
            name: "大渡口牵头甲",
            sees: &[PINGAN],
            units_hidden: &["渝中区"],
        },
    ]
}

/// A role signed in: console session and phone token.
struct Actor {
    who: Who,
    user: ConsoleUser,
    token: String,
}

// ── The world ──

/// One estate's 1栋 as stored.
struct Estate {
    building: BuildingId,
    /// Pending items, used one per successful close.
    pending: Vec<ItemId>,
    household: HouseholdId,
}

struct World {
    app: TestApp,
    jintang: Estate,
    huayipo: Estate,
    minsheng: Estate,
    pingan: Estate,
    /// 金汤小区 1栋's field conflicts (household owner_phone), one per successful resolution.
    conflicts: Vec<HouseholdId>,
    /// (survivor, merged) pairs of 金汤小区 buildings.
    building_pairs: Vec<(BuildingId, BuildingId)>,
    /// (survivor, merged) pairs of 金汤小区 1栋 households.
    household_pairs: Vec<(HouseholdId, HouseholdId)>,
    photo: String,
    /// Community inspectors of 华一坡社区 managed by the leads: (account id, device id, code).
    targets: Vec<(String, String, String)>,
    contacts: Vec<i64>,
    work_plan: i64,
    actors: Vec<Actor>,
}

fn jpeg(width: u16, height: u16, seed: u8) -> Vec<u8> {
    let pixels: Vec<u8> = (0..usize::from(width) * usize::from(height) * 3)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// Two phones wrote `h`'s owner phone concurrently: a field conflict once stored.
fn phone_conflict(draft: &mut BuildingDraft, h: HouseholdId) {
    let mut a = draft.doc.fork();
    let mut b = draft.doc.fork();
    for (doc, number) in [(&mut a, "13800000001"), (&mut b, "13900000002")] {
        let v = FieldValue::Text(number.into());
        document::set_field(doc, RecordRef::Household(h), "owner_phone", v).unwrap();
    }
    draft.doc.merge(&mut a).unwrap();
    draft.doc.merge(&mut b).unwrap();
}

/// An item created with `photos` as its before photos.
fn item_with_photo(draft: &mut BuildingDraft, tag: &str, h: HouseholdId, hash: &str) -> ItemId {
    let id = ItemId(uuid(tag));
    let create = Event {
        id: pengwang_shared::id::EventId::new(),
        kind: EventKind::Create,
        to: None,
        at: t("2026-03-01 09:00"),
        by: draft.crew.inspector,
        role: Role::CommunityInspector,
        device: None,
        note: String::new(),
        photos: vec![pengwang_shared::id::PhotoHash::parse(hash).unwrap()],
        prev: vec![],
        detail: EventDetail::default(),
    };
    document::add_item(&mut draft.doc, id, Category::Awning, Some(h), &[], &create).unwrap();
    id
}

/// An estate's 1栋 (pending items, an overdue notified item, a field conflict) and its twin.
fn estate(
    app: &TestApp,
    tag: &str,
    street: &str,
    community: &str,
    name: &str,
    pending: usize,
) -> (Estate, BuildingDraft) {
    let mut draft = BuildingDraft::new(
        &format!("{tag}b"),
        location(street, community, name),
        "1栋",
        Crew::new(),
    );
    let h = draft.household(&format!("{tag}h"), "1", "101");
    let phone = FieldValue::Text("13812341234".into());
    document::set_field(
        &mut draft.doc,
        RecordRef::Household(h),
        "owner_phone",
        phone,
    )
    .unwrap();
    let mut items = Vec::new();
    for n in 0..pending {
        let i = draft.item(
            &format!("{tag}p{n}"),
            Category::Awning,
            Some(h),
            "2026-03-01 09:00",
        );
        draft.submit(i, "2026-06-10 09:00");
        items.push(i);
    }
    let notified = draft.item(
        &format!("{tag}n"),
        Category::Net,
        Some(h),
        "2026-03-01 09:00",
    );
    draft.notify(notified, "2026-04-01 09:00");
    let hc = draft.household(&format!("{tag}c"), "2", "101");
    phone_conflict(&mut draft, hc);
    BuildingDraft::new(
        &format!("{tag}t"),
        location(street, community, name),
        "1 栋",
        Crew::new(),
    )
    .store(&app.state);
    let e = Estate {
        building: draft.id,
        pending: items,
        household: h,
    };
    (e, draft)
}

async fn world() -> World {
    let app = TestApp::at("2026-07-10 10:00", |_| {});
    let before = jpeg(64, 48, 7);
    let photo = hex::encode(Sha256::digest(&before));

    let (jintang, mut jt) = estate(&app, "jt", QXG, HYP, JINTANG, 4);
    let h = jintang.household;
    item_with_photo(&mut jt, "jtph", h, &photo);
    let conflicts: Vec<HouseholdId> = (0..6)
        .map(|n| {
            let hc = jt.household(&format!("jtc{n}"), "3", &format!("30{n}"));
            phone_conflict(&mut jt, hc);
            hc
        })
        .collect();
    let household_pairs = (1..=3)
        .map(|n| {
            let room = format!("20{n}");
            let a = jt.household(&format!("jta{n}"), "1", &room);
            let b = jt.household(&format!("jtb{n}"), "1", &room);
            (a, b)
        })
        .collect();
    jt.store(&app.state);
    let building_pairs = (2..=4)
        .map(|n| {
            let loc = || location(QXG, HYP, JINTANG);
            let a = BuildingDraft::new(&format!("jd{n}a"), loc(), &format!("{n}栋"), Crew::new());
            let b = BuildingDraft::new(&format!("jd{n}b"), loc(), &format!("{n} 栋"), Crew::new());
            let ids = (a.id, b.id);
            a.store(&app.state);
            b.store(&app.state);
            ids
        })
        .collect();
    let (huayipo, d) = estate(&app, "hy", QXG, HYP, HUAYIPO, 1);
    d.store(&app.state);
    let (_, d) = estate(&app, "lh", QXG, LHL, LINHUA, 1);
    d.store(&app.state);
    let (minsheng, d) = estate(&app, "ms", JFB, MSL, MINSHENG, 4);
    d.store(&app.state);
    let (pingan, d) = estate(&app, "pa", DDK_STREET, DDK_COMMUNITY, PINGAN, 1);
    d.store(&app.state);

    let mut actors = Vec::new();
    for (n, who) in roles().into_iter().enumerate() {
        let login = format!("user{n}");
        app.console_account(who.name, who.role, who.scope.clone(), &login);
        let user = app.sign_in(&login).await;
        let (token, _) = app
            .enroll_account(&format!("{}手机", who.name), who.role, who.scope.clone())
            .await;
        actors.push(Actor { who, user, token });
    }

    // The inspector's phone uploads the before photo and its thumbnail.
    let insp = &actors[4].token;
    for (uri, bytes) in [
        (format!("/v1/photos/{photo}"), before.clone()),
        (format!("/v1/photos/{photo}/thumbnail"), jpeg(32, 24, 7)),
    ] {
        let r = app
            .request(Method::PUT, &uri, Some(insp), Some(("image/jpeg", bytes)))
            .await;
        assert!(r.status.is_success(), "{uri}: {} {}", r.status, r.text());
    }

    // Accounts the leads manage: community inspectors of 华一坡社区 with a phone and a code.
    let mut targets = Vec::new();
    for n in 0..3 {
        let community = Scope::Community {
            community: CommunityCode::parse(HYP).unwrap(),
        };
        let (_, device) = app
            .enroll_account(&format!("目标网格{n}"), Role::CommunityInspector, community)
            .await;
        let now = app.clock.now();
        let (account, code) = app
            .state
            .db
            .with_writer(|c| {
                let account: String = c.query_row(
                    "SELECT account_id FROM device WHERE id = ?1",
                    [&device],
                    |r| r.get(0),
                )?;
                let id = pengwang_shared::id::AccountId::parse(&account).unwrap();
                let code = pengwang_server::devices::issue_code(c, id, 7, now).unwrap();
                Ok::<_, rusqlite::Error>((account, code))
            })
            .unwrap();
        targets.push((account, device, code));
    }

    // 附件1 rows and a work plan of 渝中区, kept by its lead.
    let lead = &actors[1].user;
    for n in 0..3 {
        let form = contact_form(&format!("联络员{n}"));
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .post_form(lead, "/console/contacts/500103", &fields)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
    let r = upload(&app, lead, "/console/documents/500103/work-plan").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let (contacts, work_plan) = app
        .state
        .db
        .with_writer(|c| {
            let mut stmt = c.prepare("SELECT id FROM unit_contact ORDER BY id")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            let file: i64 = c.query_row("SELECT max(id) FROM unit_file", [], |r| r.get(0))?;
            Ok::<_, rusqlite::Error>((ids, file))
        })
        .unwrap();
    World {
        app,
        jintang,
        huayipo,
        minsheng,
        pingan,
        conflicts,
        building_pairs,
        household_pairs,
        photo,
        targets,
        contacts,
        work_plan,
        actors,
    }
}

fn contact_form(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("category", "联络员".to_owned()),
        ("name", name.to_owned()),
        ("organization", "渝中区住房城乡建委".to_owned()),
        ("phone", "13800001111".to_owned()),
        ("note", String::new()),
    ]
}

// ── Requests ──

async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    headers: &[(&str, String)],
    body: Option<(String, Vec<u8>)>,
) -> Response {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let body = match body {
        Some((ct, bytes)) => {
            req = req.header(header::CONTENT_TYPE, ct);
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    let response = app.router().oneshot(req.body(body).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Response {
        status,
        headers,
        bytes,
    }
}

/// A work plan (a small PDF) posted as the browser's multipart form.
async fn upload(app: &TestApp, user: &ConsoleUser, uri: &str) -> Response {
    let boundary = "scopematrixboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n",
        user.csrf
    )
    .into_bytes();
    body.extend_from_slice(b"%PDF-1.4 work plan\r\n");
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    send(
        app,
        Method::POST,
        uri,
        &[("cookie", user.cookie.clone())],
        Some((ct, body)),
    )
    .await
}

/// What one cell sends.
enum Call {
    Page(String),
    Form(String, Vec<(&'static str, String)>),
    Upload(String),
    ApiGet(String),
    ApiPost(String, &'static str, Vec<u8>),
}

impl Call {
    fn method(&self) -> &'static str {
        match self {
            Call::Page(_) | Call::ApiGet(_) => "GET",
            _ => "POST",
        }
    }

    fn changes(&self) -> bool {
        self.method() == "POST"
    }

    async fn send(&self, app: &TestApp, a: &Actor) -> Response {
        let bearer = || {
            vec![
                (PROTOCOL_HEADER, "1".to_owned()),
                ("authorization", format!("Bearer {}", a.token)),
            ]
        };
        match self {
            Call::Page(uri) => app.page(&a.user, uri).await,
            Call::Form(uri, fields) => {
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.post_form(&a.user, uri, &fields).await
            }
            Call::Upload(uri) => upload(app, &a.user, uri).await,
            Call::ApiGet(uri) => send(app, Method::GET, uri, &bearer(), None).await,
            Call::ApiPost(uri, ct, body) => {
                let body = Some(((*ct).to_owned(), body.clone()));
                send(app, Method::POST, uri, &bearer(), body).await
            }
        }
    }
}

/// How an allowed answer's body is checked for data outside the caller's scope.
#[derive(Clone, Copy, PartialEq)]
enum Scan {
    Skip,
    /// HTML or JSON or CSV text: no estate outside the scope.
    Estates,
    /// A list of the whole scope: no estate outside it, and every estate inside it (each has a
    /// pending item, an overdue item, a conflict and a twin, so an empty list would hide a bug).
    List,
    /// [`Scan::List`], and no reporting unit outside the scope.
    ListUnits,
    /// Estates, and no reporting unit outside the scope (附件2, charts, the unit list).
    Units,
    /// An XLSX file read back with calamine: no estate outside the scope.
    Xlsx,
    /// [`Scan::Xlsx`], and every estate inside the scope.
    XlsxList,
    /// No account name of another unit (accounts, audit).
    Accounts,
}

/// The request of a cell, given how many cells of its column changed something so far.
type Target = dyn Fn(&World, usize) -> Call;

/// One endpoint (a row of the printed policy): the call for a role given how many cells of this
/// column have changed something so far (so each allowed change gets a fresh target), and the
/// expected status per role, in the order of [`roles`].
struct Column {
    name: String,
    call: Box<Target>,
    expect: [u16; 9],
    scan: Scan,
}

fn col(
    name: &str,
    expect: [u16; 9],
    scan: Scan,
    call: impl Fn(&World, usize) -> Call + 'static,
) -> Column {
    Column {
        name: name.to_owned(),
        call: Box::new(call),
        expect,
        scan,
    }
}

fn page(uri: impl Into<String>) -> impl Fn(&World, usize) -> Call {
    let uri = uri.into();
    move |_, _| Call::Page(uri.clone())
}

fn api(uri: impl Into<String>) -> impl Fn(&World, usize) -> Call {
    let uri = uri.into();
    move |_, _| Call::ApiGet(uri.clone())
}

/// The nth of a pool (the last one once used up: then the cell fails loudly on its status).
fn nth<T: Clone>(pool: &[T], n: usize) -> T {
    pool[n.min(pool.len() - 1)].clone()
}

//                 city lead103 chk七 chk解 insp prop enf fire lead104
const ALL_200: [u16; 9] = [200; 9];

fn columns() -> Vec<Column> {
    use Scan::*;
    vec![
        // ── Console pages ──
        col(
            "GET /console/ledger",
            ALL_200,
            Units,
            page("/console/ledger"),
        ),
        col(
            "GET /console/ledger/units/500103 (渝中区)",
            [200, 200, 200, 200, 200, 200, 200, 200, 404],
            Estates,
            page("/console/ledger/units/500103"),
        ),
        col(
            "GET /console/ledger/units/500104 (大渡口区)",
            [200, 404, 404, 404, 404, 404, 404, 404, 200],
            Estates,
            page("/console/ledger/units/500104"),
        ),
        col(
            "GET /console/ledger/streets/500103001 (七星岗)",
            [200, 200, 200, 404, 200, 200, 200, 200, 404],
            Estates,
            page(format!("/console/ledger/streets/{QXG}")),
        ),
        col(
            "GET /console/ledger/streets/500103003 (解放碑)",
            [200, 200, 404, 200, 404, 404, 200, 200, 404],
            Estates,
            page(format!("/console/ledger/streets/{JFB}")),
        ),
        col(
            "GET /console/ledger/buildings/{金汤小区 1栋}",
            [200, 200, 200, 404, 200, 200, 200, 200, 404],
            Estates,
            |w, _| Call::Page(format!("/console/ledger/buildings/{}", w.jintang.building)),
        ),
        col(
            "GET /console/ledger/buildings/{华一坡花园 1栋}",
            [200, 200, 200, 404, 200, 404, 200, 200, 404],
            Estates,
            |w, _| Call::Page(format!("/console/ledger/buildings/{}", w.huayipo.building)),
        ),
        col(
            "GET /console/ledger/buildings/{民生大楼 1栋}",
            [200, 200, 404, 200, 404, 404, 200, 200, 404],
            Estates,
            |w, _| Call::Page(format!("/console/ledger/buildings/{}", w.minsheng.building)),
        ),
        col(
            "GET /console/ledger/buildings/{平安小区 1栋}",
            [200, 404, 404, 404, 404, 404, 404, 404, 200],
            Estates,
            |w, _| Call::Page(format!("/console/ledger/buildings/{}", w.pingan.building)),
        ),
        col(
            "GET /console/ledger/items",
            ALL_200,
            List,
            page("/console/ledger/items"),
        ),
        col(
            "GET /console/ledger/items?overdue=1",
            ALL_200,
            List,
            page("/console/ledger/items?overdue=1"),
        ),
        col(
            "GET /console/ledger/items?street=500103003 (解放碑)",
            ALL_200,
            Estates,
            page(format!("/console/ledger/items?street={JFB}")),
        ),
        col(
            "GET /console/ledger/items/{金汤小区 item}",
            [200, 200, 200, 404, 200, 200, 200, 200, 404],
            Estates,
            |w, _| Call::Page(format!("/console/ledger/items/{}", w.jintang.pending[0])),
        ),
        col(
            "GET /console/ledger/items/{华一坡花园 item}",
            [200, 200, 200, 404, 200, 404, 200, 200, 404],
            Estates,
            |w, _| Call::Page(format!("/console/ledger/items/{}", w.huayipo.pending[0])),
        ),
        col(
            "GET /console/ledger/items/{民生大楼 item}",
            [200, 200, 404, 200, 404, 404, 200, 200, 404],
            Estates,
            |w, _| Call::Page(format!("/console/ledger/items/{}", w.minsheng.pending[0])),
        ),
        col(
            "GET /console/photos/{金汤小区 photo}",
            [200, 200, 200, 404, 200, 200, 200, 200, 404],
            Skip,
            |w, _| Call::Page(format!("/console/photos/{}", w.photo)),
        ),
        col(
            "GET /console/photos/{金汤小区 photo}/thumbnail",
            [200, 200, 200, 404, 200, 200, 200, 200, 404],
            Skip,
            |w, _| Call::Page(format!("/console/photos/{}/thumbnail", w.photo)),
        ),
        col(
            "GET /console/ledger/export.xlsx",
            ALL_200,
            XlsxList,
            page("/console/ledger/export.xlsx"),
        ),
        col(
            "GET /console/ledger/export.xlsx?street=500103001",
            [200, 200, 200, 403, 200, 200, 200, 200, 403],
            Xlsx,
            page(format!("/console/ledger/export.xlsx?street={QXG}")),
        ),
        col(
            "GET /console/ledger/export.xlsx?unit=500103",
            [200, 200, 200, 200, 200, 200, 200, 200, 403],
            Xlsx,
            page("/console/ledger/export.xlsx?unit=500103"),
        ),
        col("GET /console/queue", ALL_200, List, page("/console/queue")),
        col(
            "GET /console/conflicts",
            [200, 200, 200, 200, 403, 403, 403, 200, 200],
            List,
            page("/console/conflicts"),
        ),
        col(
            "GET /console/duplicates",
            ALL_200,
            List,
            page("/console/duplicates"),
        ),
        col(
            "GET /console/deadlines",
            ALL_200,
            ListUnits,
            page("/console/deadlines"),
        ),
        col(
            "GET /console/reports?month=2026-06",
            ALL_200,
            Units,
            page(format!("/console/reports?month={MONTH}")),
        ),
        col(
            "GET /console/reports/attachment2.xlsx",
            [200, 200, 403, 403, 403, 403, 200, 200, 200],
            Skip,
            page(format!("/console/reports/attachment2.xlsx?month={MONTH}")),
        ),
        col(
            "GET /console/reports/attachment2.csv",
            [200, 200, 403, 403, 403, 403, 200, 200, 200],
            Units,
            page(format!("/console/reports/attachment2.csv?month={MONTH}")),
        ),
        col(
            "GET /console/reports/attachment2.csv?unit=500104",
            [200, 403, 403, 403, 403, 403, 403, 403, 200],
            Units,
            page(format!(
                "/console/reports/attachment2.csv?month={MONTH}&unit=500104"
            )),
        ),
        col(
            "GET /console/charts",
            [200, 200, 403, 403, 403, 403, 200, 200, 200],
            Units,
            page("/console/charts"),
        ),
        col(
            "GET /console/charts?unit=500104",
            [200, 403, 403, 403, 403, 403, 403, 403, 200],
            Units,
            page("/console/charts?unit=500104"),
        ),
        col(
            "GET /console/audit",
            [200, 200, 403, 403, 403, 403, 403, 403, 200],
            Accounts,
            page("/console/audit"),
        ),
        col(
            "GET /console/accounts",
            [200, 200, 403, 403, 403, 403, 403, 403, 200],
            Accounts,
            page("/console/accounts"),
        ),
        col(
            "GET /console/settings",
            ALL_200,
            Skip,
            page("/console/settings"),
        ),
        col(
            "GET /console/contacts",
            [200, 200, 403, 403, 403, 403, 200, 200, 200],
            Units,
            page("/console/contacts"),
        ),
        col(
            "GET /console/contacts/500103",
            [200, 200, 403, 403, 403, 403, 200, 200, 403],
            Skip,
            page("/console/contacts/500103"),
        ),
        col(
            "GET /console/contacts/500103/attachment1.xlsx",
            [200, 200, 403, 403, 403, 403, 200, 200, 403],
            Skip,
            page("/console/contacts/500103/attachment1.xlsx"),
        ),
        col(
            "GET /console/documents/500103",
            [200, 200, 403, 403, 403, 403, 200, 200, 403],
            Skip,
            page("/console/documents/500103"),
        ),
        col(
            "GET /console/documents/files/{渝中区 work plan}",
            [200, 200, 403, 403, 403, 403, 200, 200, 403],
            Skip,
            |w, _| Call::Page(format!("/console/documents/files/{}", w.work_plan)),
        ),
        col(
            "GET /console/households/{id}/phone (reveals nothing)",
            [303; 9],
            Skip,
            |w, _| Call::Page(format!("/console/households/{}/phone", w.jintang.household)),
        ),
        // ── /v1 reads (phone token of the same role) ──
        col("GET /v1/me", ALL_200, Skip, api("/v1/me")),
        col("GET /v1/ledger", ALL_200, Units, api("/v1/ledger")),
        col(
            "GET /v1/ledger/units/500103",
            [200, 200, 200, 200, 200, 200, 200, 200, 403],
            Estates,
            api("/v1/ledger/units/500103"),
        ),
        col(
            "GET /v1/ledger/streets/500103001",
            [200, 200, 200, 403, 200, 200, 200, 200, 403],
            Estates,
            api(format!("/v1/ledger/streets/{QXG}")),
        ),
        col(
            "GET /v1/ledger/buildings/{金汤小区 1栋}",
            [200, 200, 200, 403, 200, 200, 200, 200, 403],
            Estates,
            |w, _| Call::ApiGet(format!("/v1/ledger/buildings/{}", w.jintang.building)),
        ),
        col(
            "GET /v1/ledger/buildings/{华一坡花园 1栋}",
            [200, 200, 200, 403, 200, 403, 200, 200, 403],
            Estates,
            |w, _| Call::ApiGet(format!("/v1/ledger/buildings/{}", w.huayipo.building)),
        ),
        col(
            "GET /v1/ledger/buildings/{平安小区 1栋}",
            [200, 403, 403, 403, 403, 403, 403, 403, 200],
            Estates,
            |w, _| Call::ApiGet(format!("/v1/ledger/buildings/{}", w.pingan.building)),
        ),
        col(
            "GET /v1/ledger/export.xlsx",
            ALL_200,
            XlsxList,
            api("/v1/ledger/export.xlsx"),
        ),
        col("GET /v1/conflicts", ALL_200, List, api("/v1/conflicts")),
        col("GET /v1/duplicates", ALL_200, List, api("/v1/duplicates")),
        col(
            "GET /v1/deadlines",
            ALL_200,
            ListUnits,
            api("/v1/deadlines"),
        ),
        col(
            "GET /v1/reports/attachment2?month=2026-06",
            [200, 200, 403, 403, 403, 403, 200, 200, 200],
            Units,
            api(format!("/v1/reports/attachment2?month={MONTH}")),
        ),
        col(
            "GET /v1/reports/attachment2?unit=500103",
            [200, 200, 403, 403, 403, 403, 200, 200, 403],
            Units,
            api(format!("/v1/reports/attachment2?month={MONTH}&unit=500103")),
        ),
        col(
            "GET /v1/photos/{金汤小区 photo}",
            [200, 200, 200, 404, 200, 200, 200, 200, 404],
            Skip,
            |w, _| Call::ApiGet(format!("/v1/photos/{}", w.photo)),
        ),
        col(
            "GET /v1/photos/{金汤小区 photo}/thumbnail",
            [200, 200, 200, 404, 200, 200, 200, 200, 404],
            Skip,
            |w, _| Call::ApiGet(format!("/v1/photos/{}/thumbnail", w.photo)),
        ),
        // ── Console changes (each success takes a fresh target) ──
        col(
            "POST /console/items/{金汤小区 pending}/action close",
            [303, 303, 303, 404, 409, 409, 409, 403, 404],
            Skip,
            |w, n| {
                Call::Form(
                    format!("/console/items/{}/action", nth(&w.jintang.pending, n)),
                    vec![("step", "close".into()), ("back", "/console/queue".into())],
                )
            },
        ),
        col(
            "POST /console/items/{民生大楼 pending}/action close",
            [303, 303, 404, 303, 404, 404, 409, 403, 404],
            Skip,
            |w, n| {
                Call::Form(
                    format!("/console/items/{}/action", nth(&w.minsheng.pending, n)),
                    vec![("step", "close".into()), ("back", "/console/queue".into())],
                )
            },
        ),
        col(
            "POST /console/conflicts/{金汤小区 1栋}/resolve",
            [303, 303, 303, 404, 403, 403, 403, 403, 404],
            Skip,
            |w, n| {
                let h = nth(&w.conflicts, n);
                Call::Form(
                    format!("/console/conflicts/{}/resolve", w.jintang.building),
                    vec![
                        ("conflict", format!("households/{h}/owner_phone")),
                        ("value", "13700000000".into()),
                    ],
                )
            },
        ),
        col(
            "POST /console/duplicates/buildings (金汤小区)",
            [303, 303, 303, 404, 403, 403, 403, 403, 404],
            Skip,
            |w, n| {
                let (s, m) = nth(&w.building_pairs, n);
                Call::Form(
                    "/console/duplicates/buildings".into(),
                    vec![("survivor", s.to_string()), ("merged", m.to_string())],
                )
            },
        ),
        col(
            "POST /console/duplicates/households (金汤小区)",
            [303, 303, 303, 404, 403, 403, 403, 403, 404],
            Skip,
            |w, n| {
                let (s, m) = nth(&w.household_pairs, n);
                Call::Form(
                    "/console/duplicates/households".into(),
                    vec![("survivor", s.to_string()), ("merged", m.to_string())],
                )
            },
        ),
        col(
            "POST /console/households/{金汤小区 h1}/phone (reveal)",
            [200, 200, 200, 403, 403, 403, 403, 403, 403],
            Skip,
            |w, _| {
                Call::Form(
                    format!("/console/households/{}/phone", w.jintang.household),
                    vec![],
                )
            },
        ),
        col(
            "POST /console/reports/freeze 500103",
            [403, 303, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |_, _| {
                Call::Form(
                    "/console/reports/freeze".into(),
                    vec![("unit", "500103".into()), ("month", MONTH.into())],
                )
            },
        ),
        col(
            "POST /console/reports/submit 500103",
            [403, 303, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |_, _| {
                Call::Form(
                    "/console/reports/submit".into(),
                    vec![("unit", "500103".into()), ("month", MONTH.into())],
                )
            },
        ),
        col(
            "POST /console/reports/unfreeze 500103",
            [303, 403, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |_, _| {
                Call::Form(
                    "/console/reports/unfreeze".into(),
                    vec![
                        ("unit", "500103".into()),
                        ("month", MONTH.into()),
                        ("reason", "数据有误，重新填报".into()),
                    ],
                )
            },
        ),
        col(
            "POST /console/settings",
            [303, 403, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |_, _| settings_form(),
        ),
        col(
            "POST /console/accounts (a 七星岗 checker)",
            [303, 303, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |_, n| {
                Call::Form(
                    "/console/accounts".into(),
                    vec![
                        ("name", format!("新核查{n}")),
                        ("role", "street_checker".into()),
                        ("scope_kind", "street".into()),
                        ("scope_code", QXG.into()),
                    ],
                )
            },
        ),
        col(
            "POST /console/accounts (a city account)",
            [303, 403, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |_, n| {
                Call::Form(
                    "/console/accounts".into(),
                    vec![
                        ("name", format!("新市级{n}")),
                        ("role", "city".into()),
                        ("scope_kind", "city".into()),
                    ],
                )
            },
        ),
        col(
            "POST /console/accounts/{华一坡 inspector}/password",
            [303, 303, 403, 403, 403, 403, 403, 403, 404],
            Skip,
            |w, _| {
                Call::Form(
                    format!("/console/accounts/{}/password", w.targets[0].0),
                    vec![("password", "a much longer password 2026".into())],
                )
            },
        ),
        col(
            "POST /console/accounts/{华一坡 inspector}/code",
            [200, 200, 403, 403, 403, 403, 403, 403, 404],
            Skip,
            |w, _| Call::Form(format!("/console/accounts/{}/code", w.targets[0].0), vec![]),
        ),
        col(
            "POST /console/accounts/{华一坡 inspector}/code/withdraw",
            [303, 303, 403, 403, 403, 403, 403, 403, 404],
            Skip,
            |w, n| {
                let t = nth(&w.targets, n);
                Call::Form(
                    format!("/console/accounts/{}/code/withdraw", t.0),
                    vec![("code", t.2)],
                )
            },
        ),
        col(
            "POST /console/devices/{华一坡 inspector's phone}/revoke",
            [303, 303, 403, 403, 403, 403, 403, 403, 404],
            Skip,
            |w, n| {
                Call::Form(
                    format!("/console/devices/{}/revoke", nth(&w.targets, n).1),
                    vec![],
                )
            },
        ),
        col(
            "POST /console/accounts/{华一坡 inspector}/disable",
            [303, 303, 403, 403, 403, 403, 403, 403, 404],
            Skip,
            |w, n| {
                Call::Form(
                    format!("/console/accounts/{}/disable", nth(&w.targets, n).0),
                    vec![],
                )
            },
        ),
        col(
            "POST /console/contacts/500103 (add)",
            [403, 303, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |_, n| {
                Call::Form(
                    "/console/contacts/500103".into(),
                    contact_form(&format!("新联络员{n}")),
                )
            },
        ),
        col(
            "POST /console/contacts/500103/{id} (edit)",
            [403, 303, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |w, _| {
                Call::Form(
                    format!("/console/contacts/500103/{}", w.contacts[0]),
                    contact_form("改后联络员"),
                )
            },
        ),
        col(
            "POST /console/contacts/500103/{id}/phone (reveal)",
            [200, 200, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |w, _| {
                Call::Form(
                    format!("/console/contacts/500103/{}/phone", w.contacts[1]),
                    vec![],
                )
            },
        ),
        col(
            "POST /console/contacts/500103/{id}/remove",
            [403, 303, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |w, n| {
                Call::Form(
                    format!(
                        "/console/contacts/500103/{}/remove",
                        nth(&w.contacts, n + 1)
                    ),
                    vec![],
                )
            },
        ),
        col(
            "POST /console/documents/500103/work-plan",
            [403, 303, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |_, _| Call::Upload("/console/documents/500103/work-plan".into()),
        ),
        col(
            "POST /console/documents/500103/summary",
            [403, 303, 403, 403, 403, 403, 403, 403, 403],
            Skip,
            |_, _| {
                Call::Form(
                    "/console/documents/500103/summary".into(),
                    vec![
                        ("month", MONTH.into()),
                        ("progress", "完成三栋".into()),
                        ("practices", "逐户上门".into()),
                        ("problems", "部分业主拒绝".into()),
                        ("next_steps", "移交执法".into()),
                    ],
                )
            },
        ),
        // ── /v1 changes ──
        col(
            "POST /v1/conflicts/resolve (金汤小区 1栋)",
            [200, 200, 200, 403, 403, 403, 403, 403, 403],
            Skip,
            |w, n| {
                let h = nth(&w.conflicts, n + 3);
                let req = ResolveRequest {
                    doc: w.jintang.building,
                    record: RecordRef::Household(h),
                    resolution: Resolution::Field {
                        key: "owner_phone".into(),
                        value: FieldValue::Text("13600000000".into()),
                    },
                    note: String::new(),
                };
                Call::ApiPost(
                    "/v1/conflicts/resolve".into(),
                    "application/json",
                    serde_json::to_vec(&req).unwrap(),
                )
            },
        ),
        col(
            "POST /v1/reports/attachment2/500104/2026-06/freeze",
            [403, 403, 403, 403, 403, 403, 403, 403, 200],
            Skip,
            |_, _| {
                Call::ApiPost(
                    format!("/v1/reports/attachment2/500104/{MONTH}/freeze"),
                    "application/json",
                    b"{}".to_vec(),
                )
            },
        ),
        col(
            "POST /v1/sync (an empty batch)",
            [403, 403, 200, 200, 200, 200, 200, 403, 403],
            Skip,
            |_, _| {
                let req = SyncRequest {
                    protocol: PROTOCOL_VERSION,
                    cursor: 0,
                    docs: vec![],
                };
                Call::ApiPost(
                    "/v1/sync".into(),
                    SYNC_CONTENT_TYPE,
                    postcard::to_stdvec(&req).unwrap(),
                )
            },
        ),
        // Last: a password reset may end the account's sessions.
        col(
            "POST /console/accounts/{city account}/password",
            [303, 404, 403, 403, 403, 403, 403, 403, 404],
            Skip,
            |w, _| {
                Call::Form(
                    format!("/console/accounts/{}/password", w.actors[0].user.account),
                    vec![("password", "a much longer password 2026".into())],
                )
            },
        ),
    ]
}

fn settings_form() -> Call {
    let s = pengwang_shared::settings::CampaignSettings::for_year(2026);
    let fields = vec![
        ("year", s.year.to_string()),
        (
            "self_remediation_deadline",
            s.self_remediation_deadline.to_string(),
        ),
        ("enforcement_deadline", s.enforcement_deadline.to_string()),
        ("completion_deadline", s.completion_deadline.to_string()),
        ("report_day", s.report_day.to_string()),
        ("period_mode", "report_day".into()),
        ("persuasion_attempts", "3".into()),
        ("min_width_m", s.escape.min_width_m.to_string()),
        ("min_height_m", s.escape.min_height_m.to_string()),
        ("max_sill_m", s.escape.max_sill_m.to_string()),
    ];
    Call::Form("/console/settings".into(), fields)
}

// ── Checks ──

/// Every row of every table a request could change (sessions, sign-in throttling and the region
/// catalog left out), as text.
fn snapshot(app: &TestApp) -> String {
    app.state
        .db
        .with_writer(|c| -> rusqlite::Result<String> {
            let mut stmt = c.prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN
                 ('console_session', 'sign_in_failure', 'reporting_unit', 'district', 'street', 'community')
                 ORDER BY name",
            )?;
            let tables = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = String::new();
            for t in tables {
                let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\""))?;
                let n = stmt.column_count();
                let mut rows = stmt.query([])?;
                let _ = writeln!(out, "# {t}");
                while let Some(r) = rows.next()? {
                    for i in 0..n {
                        let _ = write!(out, "{:?}|", r.get_ref(i)?);
                    }
                    out.push('\n');
                }
            }
            Ok(out)
        })
        .unwrap()
}

/// Every cell of every sheet of an XLSX file, as text.
fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut out = String::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        for row in range.rows() {
            for cell in row {
                let _ = write!(out, "{cell}\t");
            }
            out.push('\n');
        }
    }
    out
}

/// What an allowed answer shows that the caller must not see.
fn leaks(scan: Scan, who: &Who, r: &Response, all: &[Actor]) -> Vec<String> {
    let text = match scan {
        Scan::Skip => return vec![],
        Scan::Xlsx | Scan::XlsxList => xlsx_text(&r.bytes),
        _ => r.text(),
    };
    let mut found: Vec<String> = ESTATES
        .iter()
        .filter(|e| !who.sees.contains(e) && text.contains(*e))
        .map(|e| format!("shows {e}, outside its scope"))
        .collect();
    if matches!(scan, Scan::List | Scan::ListUnits | Scan::XlsxList) {
        found.extend(
            who.sees
                .iter()
                .filter(|e| !text.contains(*e))
                .map(|e| format!("no {e} (inside its scope)")),
        );
    }
    if matches!(scan, Scan::Units | Scan::ListUnits) {
        found.extend(
            who.units_hidden
                .iter()
                .filter(|u| text.contains(*u))
                .map(|u| format!("shows {u}, outside its scope")),
        );
    }
    if scan == Scan::Accounts {
        // The other unit's accounts (by name): 渝中区 for lead104, 大渡口区 for the others.
        let foreign = all.iter().filter(|a| {
            let other_unit =
                |s: &Scope| matches!(s, Scope::Unit { unit } if unit.as_str() == "500104");
            other_unit(&who.scope) != other_unit(&a.who.scope) && who.scope != Scope::City
        });
        found.extend(
            foreign
                .filter(|a| text.contains(a.who.name))
                .map(|a| format!("shows account {}, outside its scope", a.who.name)),
        );
    }
    found
}

#[tokio::test]
async fn every_role_reaches_only_its_scope_on_every_endpoint_and_fire_rescue_changes_nothing() {
    let started = std::time::Instant::now();
    let w = world().await;
    let columns = columns();
    let mut failures: Vec<String> = Vec::new();
    let mut table = String::new();
    let header: Vec<&str> = w.actors.iter().map(|a| a.who.key).collect();
    let _ = writeln!(table, "{:<58} | {}", "endpoint \\ role", header.join(" | "));
    for column in &columns {
        let mut used = 0usize;
        let mut cells = Vec::new();
        for (i, a) in w.actors.iter().enumerate() {
            let call = (column.call)(&w, used);
            let before = call.changes().then(|| snapshot(&w.app));
            let r = call.send(&w.app, a).await;
            let want = column.expect[i];
            let cell = format!("{} {}", column.name, a.who.key);
            if r.status.as_u16() != want {
                let body: String = r.text().chars().take(300).collect();
                failures.push(format!(
                    "{cell}: expected {want}, got {} — {body}",
                    r.status
                ));
            }
            let changed = before.map(|b| b != snapshot(&w.app));
            match changed {
                Some(true) if !r.status.is_success() && !r.status.is_redirection() => {
                    failures.push(format!(
                        "{cell}: refused with {} but the database changed",
                        r.status
                    ));
                }
                // An empty sync batch stores nothing by design.
                Some(false)
                    if (r.status.is_success() || r.status.is_redirection())
                        && !column.name.starts_with("POST /v1/sync") =>
                {
                    failures.push(format!(
                        "{cell}: allowed ({}) but nothing was stored",
                        r.status
                    ));
                }
                _ => {}
            }
            if changed == Some(true) {
                used += 1;
            }
            if r.status.is_success() {
                for leak in leaks(column.scan, &a.who, &r, &w.actors) {
                    failures.push(format!("{cell}: {leak}"));
                }
            }
            if a.who.role == Role::FireRescue && call.method() == "POST" && want != 403 {
                failures.push(format!("{cell}: fire-rescue must be refused every change"));
            }
            let width = a.who.key.chars().count().max(3);
            cells.push(format!("{want:^width$}"));
        }
        let _ = writeln!(table, "{:<58} | {}", column.name, cells.join(" | "));
    }
    println!("Scope matrix (expected status; 200/303 allowed, 403 refused, 404 out of scope as unknown, 409 refused by the lifecycle rules):\n{table}");
    println!(
        "{} cells in {:?}",
        columns.len() * w.actors.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
