//! A realistic city slice made the way the real one is: inspectors' phones record buildings,
//! households and hazards in real streets and communities, mostly offline, and sync over HTTP;
//! street checkers verify, refuse and void; enforcement teams remove; some phones edit the same
//! items while offline, and some record the same building twice.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use pengwang_core::{Device, EventRequest};
use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::{devices, AppState};
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::event::{EventDetail, EventKind};
use pengwang_shared::id::{BuildingId, ItemId};
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{Street, UnitCode};
use pengwang_shared::role::{Location, Role, Scope};
use pengwang_shared::time::{FakeClock, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::field::{notify, photo, step, submit_removed, text};

pub struct Plan {
    pub buildings_per_street: usize,
}

/// Units and the number of streets simulated in each: 渝中区, 江北区, 两江新区, 沙坪坝区.
const UNITS: [(&str, usize); 4] = [("500103", 2), ("500105", 2), ("500157", 2), ("500106", 1)];
const ESTATES: [&str; 8] = [
    "阳光花园",
    "金科世界城",
    "龙湖春森彼岸",
    "融创白象街",
    "保利山语",
    "华宇锦绣花城",
    "中海国际社区",
    "万科金域华府",
];

#[derive(Default)]
pub struct Summary {
    pub units: usize,
    pub streets: usize,
    pub devices: usize,
    pub buildings: usize,
    pub households: usize,
    pub items: usize,
    /// Changes the server received from the phones.
    pub changes: i64,
    pub tokens: Vec<(String, String)>,
    pub addr: String,
}

struct Phone {
    device: Device,
    clock: Arc<FakeClock>,
    _account: AccountInfo,
}

async fn phone(
    state: &AppState,
    url: &str,
    dir: &std::path::Path,
    name: &str,
    role: Role,
    scope: Scope,
) -> anyhow::Result<(Phone, String)> {
    let now = state.now();
    let account = state.db.with_writer(|c| {
        accounts::create_account(
            c,
            NewAccount {
                name: name.into(),
                role,
                scope,
                password: None,
            },
            now,
        )
    })?;
    let code = state
        .db
        .with_writer(|c| devices::issue_code(c, account.id, 7, now))?;
    let clock = Arc::new(FakeClock::at(Timestamp::parse_local("2026-03-02 09:00")?));
    let device = Device::open(&dir.join(format!("{}.sqlite3", account.id)), clock.clone())?;
    device.enroll(url, &code, &format!("{name}的手机")).await?;
    // A console token for the same account, printed for curl.
    let console = state
        .db
        .with_writer(|c| devices::issue_code(c, account.id, 7, now))?;
    let enrolled = state
        .db
        .with_writer(|c| devices::enroll(c, &console, "console", now))?;
    Ok((
        Phone {
            device,
            clock,
            _account: account,
        },
        enrolled.token,
    ))
}

pub async fn run(state: &AppState, addr: SocketAddr, plan: &Plan) -> anyhow::Result<Summary> {
    let url = format!("http://{addr}");
    let dir = tempfile::tempdir()?;
    let mut rng = StdRng::seed_from_u64(2026);
    let mut sum = Summary {
        addr: url.clone(),
        ..Summary::default()
    };
    let (_city, token) = phone(state, &url, dir.path(), "市专班", Role::City, Scope::City).await?;
    sum.tokens.push(("city 市专班".into(), token));
    for (unit, n_streets) in UNITS {
        let unit = UnitCode::parse(unit)?;
        let streets: Vec<Street> = state
            .catalog
            .streets_of(&unit)
            .take(n_streets)
            .cloned()
            .collect();
        let (lead, token) = phone(
            state,
            &url,
            dir.path(),
            &format!("{unit}牵头部门"),
            Role::UnitLead,
            Scope::Unit { unit: unit.clone() },
        )
        .await?;
        sum.tokens.push((format!("unit lead {unit}"), token));
        let (officer, _) = phone(
            state,
            &url,
            dir.path(),
            &format!("{unit}执法队"),
            Role::Enforcement,
            Scope::Unit { unit: unit.clone() },
        )
        .await?;
        for street in &streets {
            simulate_street(
                state,
                &url,
                dir.path(),
                street,
                &officer,
                plan,
                &mut rng,
                &mut sum,
            )
            .await?;
            sum.streets += 1;
        }
        officer.device.sync().await?;
        drop(lead);
        sum.units += 1;
        sum.devices += 2;
    }
    sum.devices += 1;
    sum.changes = state
        .db
        .with_writer(|c| c.query_row("SELECT COUNT(*) FROM change_meta", [], |r| r.get(0)))?;
    Ok(sum)
}

#[allow(clippy::too_many_arguments)]
async fn simulate_street(
    state: &AppState,
    url: &str,
    dir: &std::path::Path,
    street: &Street,
    officer: &Phone,
    plan: &Plan,
    rng: &mut StdRng,
    sum: &mut Summary,
) -> anyhow::Result<()> {
    let scope = Scope::Street {
        street: street.code.clone(),
    };
    let (a, _) = phone(
        state,
        url,
        dir,
        &format!("{}网格员甲", street.name),
        Role::CommunityInspector,
        scope.clone(),
    )
    .await?;
    let (b, _) = phone(
        state,
        url,
        dir,
        &format!("{}网格员乙", street.name),
        Role::CommunityInspector,
        scope.clone(),
    )
    .await?;
    let (checker, token) = phone(
        state,
        url,
        dir,
        &format!("{}核查员", street.name),
        Role::StreetChecker,
        scope,
    )
    .await?;
    sum.tokens
        .push((format!("street checker {}", street.name), token));
    sum.devices += 3;
    let communities: Vec<_> = state
        .catalog
        .communities_of(&street.code)
        .take(4)
        .cloned()
        .collect();
    let mut made: Vec<(BuildingId, Vec<ItemId>)> = Vec::new();
    for k in 0..plan.buildings_per_street {
        let community = &communities[k % communities.len()];
        let loc = Location {
            unit: street.unit.clone(),
            street: street.code.clone(),
            community: community.code.clone(),
            estate: ESTATES[k % ESTATES.len()].into(),
        };
        let inspector = if k % 2 == 0 { &a } else { &b };
        inspector.clock.set(Timestamp(
            Timestamp::parse_local("2026-03-02 09:00")?.0 + (k as i64) * 86_400 / 2,
        ));
        let (bid, items) = survey_building(inspector, &loc, k, rng, sum)?;
        made.push((bid, items));
        if k % 5 == 4 {
            a.device.sync().await?; // phones come back into signal now and then
            b.device.sync().await?;
        }
    }
    // A duplicate: b records again the first building a recorded (same estate, same number).
    let dup = Location {
        unit: street.unit.clone(),
        street: street.code.clone(),
        community: communities[0].code.clone(),
        estate: ESTATES[0].into(),
    };
    b.device.create_building(
        dup,
        &[
            ("number", text("1栋")),
            ("use", text("residential")),
            ("floors", FieldValue::Int(18)),
        ],
    )?;
    sum.buildings += 1;
    a.device.sync().await?;
    b.device.sync().await?;
    checker.device.sync().await?;
    for (bid, items) in &made {
        for item in items {
            progress(&a, &b, &checker, officer, *bid, *item, rng).await?;
        }
    }
    // Two phones edit the same item offline: a conflict for the supervisor.
    if let Some((bid, items)) = made.get(1) {
        if let Some(item) = items.first() {
            a.device
                .set_field(
                    *bid,
                    RecordRef::Item(*item),
                    "area_m2",
                    FieldValue::Real(2.4),
                )
                .ok();
            b.device
                .set_field(
                    *bid,
                    RecordRef::Item(*item),
                    "area_m2",
                    FieldValue::Real(3.1),
                )
                .ok();
        }
    }
    for p in [&a, &b, &checker, officer, &a, &b] {
        p.device.sync().await?;
    }
    Ok(())
}

fn survey_building(
    p: &Phone,
    loc: &Location,
    k: usize,
    rng: &mut StdRng,
    sum: &mut Summary,
) -> anyhow::Result<(BuildingId, Vec<ItemId>)> {
    // Every sixth building is a multi-storey block: recorded, but kept out of the high-rise table.
    let floors: i64 = if k % 6 == 5 {
        rng.gen_range(5..9)
    } else {
        rng.gen_range(12..34)
    };
    let number = format!("{}栋", k / ESTATES.len() + 1);
    let bid = p.device.create_building(
        loc.clone(),
        &[
            ("number", text(&number)),
            ("use", text("residential")),
            ("floors", FieldValue::Int(floors)),
            ("units", FieldValue::Int(2)),
            ("address", text(&format!("{}{}", loc.estate, number))),
        ],
    )?;
    sum.buildings += 1;
    let mut items = Vec::new();
    let households = rng.gen_range(8..22);
    for n in 0..households {
        let floor = rng.gen_range(2..floors);
        let room = format!("{}-{floor}{:02}", n % 2 + 1, n / 2 + 1);
        let hid = p.device.add_household(
            bid,
            &[
                ("unit", text(&format!("{}", n % 2 + 1))),
                ("floor", FieldValue::Int(floor)),
                ("room", text(&room)),
                ("survey_result", text("hazard")),
                ("owner_name", text("张三")),
                ("owner_phone", text("13812341234")),
            ],
        )?;
        sum.households += 1;
        let both = rng.gen_bool(0.2);
        let first = if rng.gen_bool(0.55) {
            Category::Awning
        } else {
            Category::Net
        };
        let cats: &[Category] = if both {
            &[Category::Awning, Category::Net]
        } else {
            std::slice::from_ref(&first)
        };
        for c in cats {
            let fields = match c {
                Category::Awning => vec![
                    ("material", text("sandwich_foam")),
                    ("fire_grade", text("B2")),
                    ("position", text("window")),
                ],
                Category::Net => vec![
                    ("protrusion_cm", FieldValue::Real(35.0)),
                    ("position", text("window")),
                ],
            };
            items.push(p.device.add_item(
                bid,
                *c,
                Some(hid),
                &fields,
                vec![photo(rng.gen())],
                "",
            )?);
            sum.items += 1;
        }
    }
    Ok((bid, items))
}

/// Moves one item along a realistic path, dated across the campaign's months.
async fn progress(
    a: &Phone,
    b: &Phone,
    checker: &Phone,
    officer: &Phone,
    bid: BuildingId,
    item: ItemId,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let roll: f64 = rng.gen();
    let day = |m: u32, d: u32| {
        Timestamp::parse_local(&format!("2026-{m:02}-{d:02} 10:00")).expect("date")
    };
    let month = rng.gen_range(4..12);
    let d = rng.gen_range(1..28);
    let ins = if rng.gen_bool(0.5) { a } else { b };
    ins.clock.set(day(month.min(10), d));
    let _ = ins.device.sync().await;
    if roll < 0.06 {
        checker.clock.set(day(month, d));
        checker.device.sync().await?;
        step(&checker.device, bid, item, EventKind::Void, "重复登记")?;
        checker.device.sync().await?;
        return Ok(());
    }
    if roll < 0.15 {
        return Ok(()); // still only identified
    }
    notify(&ins.device, bid, item)?;
    if roll < 0.30 {
        ins.device.sync().await?;
        return Ok(());
    }
    if roll < 0.40 {
        notify(&ins.device, bid, item)?;
        ins.device.sync().await?;
        checker.device.sync().await?;
        checker.clock.set(day(month.min(9), d));
        step(
            &checker.device,
            bid,
            item,
            EventKind::Refuse,
            "业主拒不整改",
        )?;
        if rng.gen_bool(0.3) {
            checker.device.sync().await?;
            return Ok(()); // refused, not yet handed to enforcement
        }
        step(
            &checker.device,
            bid,
            item,
            EventKind::Transfer,
            "两次劝导无果，移交执法",
        )?;
        checker.device.sync().await?;
        if rng.gen_bool(0.7) {
            officer.device.sync().await?;
            officer.clock.set(day(month.min(10) + 1, d));
            let detail = EventDetail {
                document_no: Some(format!("执〔2026〕{}号", rng.gen_range(100..999))),
                ..Default::default()
            };
            officer.device.record_event(
                bid,
                item,
                EventRequest {
                    kind: EventKind::Enforce,
                    to: None,
                    note: String::new(),
                    photos: vec![photo(rng.gen())],
                    detail,
                },
            )?;
            officer.device.sync().await?;
            if rng.gen_bool(0.3) {
                return Ok(()); // removed, awaiting the street's check
            }
            checker.device.sync().await?;
            checker.clock.set(day(month.min(10) + 1, d.min(27) + 1));
            step(&checker.device, bid, item, EventKind::Close, "")?;
            checker.device.sync().await?;
        }
        return Ok(());
    }
    if roll < 0.48 {
        let detail = EventDetail {
            deadline: Some("2026-06-30".into()),
            ..Default::default()
        };
        ins.device.record_event(
            bid,
            item,
            EventRequest {
                kind: EventKind::StartSelfRectify,
                to: None,
                note: String::new(),
                photos: vec![],
                detail,
            },
        )?;
        ins.device.sync().await?;
        return Ok(());
    }
    ins.clock.set(day(month.min(11), d));
    submit_removed(&ins.device, bid, item, rng.gen())?;
    ins.device.sync().await?;
    if roll < 0.60 {
        return Ok(()); // awaiting verification
    }
    checker.device.sync().await?;
    checker.clock.set(day(month.min(11), d.min(27) + 1));
    step(&checker.device, bid, item, EventKind::Close, "")?;
    if roll > 0.96 {
        checker.clock.set(day(11, 20));
        step(
            &checker.device,
            bid,
            item,
            EventKind::Reopen,
            "雨棚重新搭建",
        )?;
    }
    checker.device.sync().await?;
    Ok(())
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "demo data: {} units, {} streets, {} phones, {} buildings, {} households, {} hazard items, {} changes synced", self.units, self.streets, self.devices, self.buildings, self.households, self.items, self.changes)?;
        writeln!(
            f,
            "\nLook at it (tokens are bearer tokens of console devices):"
        )?;
        let city = self.tokens.first().map(|t| t.1.as_str()).unwrap_or("");
        let h = "-H 'pengwang-protocol: 1'";
        writeln!(
            f,
            "  export TOKEN={city}   # {}",
            self.tokens.first().map(|t| t.0.as_str()).unwrap_or("")
        )?;
        writeln!(
            f,
            "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" {}/v1/ledger | head -c 2000",
            self.addr
        )?;
        writeln!(f, "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" '{}/v1/reports/attachment2?month=2026-11'", self.addr)?;
        writeln!(f, "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" '{}/v1/reports/attachment2?month=2026-11&format=csv' > 附件2.csv", self.addr)?;
        writeln!(
            f,
            "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" {}/v1/conflicts",
            self.addr
        )?;
        writeln!(
            f,
            "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" {}/v1/duplicates",
            self.addr
        )?;
        writeln!(f, "Other accounts:")?;
        for (who, token) in self.tokens.iter().skip(1) {
            writeln!(f, "  {who}: {token}")?;
        }
        write!(f, "Serving until Ctrl-C.")
    }
}
