//! Real building documents for server tests: written with the shared document schema (as a phone
//! would), stored like a synced change and projected, so console steps, merges and deadlines run
//! on the same rows a sync produces.
#![allow(dead_code, clippy::unwrap_used)]

use automerge::transaction::CommitOptions;
use automerge::{AutoCommit, Automerge};
use pengwang_server::{campaign, documents, projection, AppState};
use pengwang_shared::document::{self, FieldValue};
use pengwang_shared::event::{Event, EventDetail, EventKind};
use pengwang_shared::household::NoticeMethod;
use pengwang_shared::id::{AccountId, BuildingId, EventId, HouseholdId, ItemId, PhotoHash};
use pengwang_shared::item::{Category, RemediationMethod};
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
use pengwang_shared::role::{Location, Role};
use pengwang_shared::time::Timestamp;

/// 渝中区 / 七星岗街道 / 华一坡社区.
pub const STREET: &str = "500103001";
pub const COMMUNITY: &str = "500103001003";
/// 渝中区 / 解放碑街道 / 民生路社区.
pub const OTHER_STREET: &str = "500103003";
pub const OTHER_COMMUNITY: &str = "500103003013";

pub fn t(local: &str) -> Timestamp {
    Timestamp::parse_local(local).unwrap()
}

/// A fixed UUID named by a short tag (`b1` → `…000000006231`).
pub fn uuid(tag: &str) -> uuid::Uuid {
    let hex: String = tag.bytes().map(|b| format!("{b:02x}")).collect();
    uuid::Uuid::parse_str(&format!("00000000-0000-0000-0000-{hex:0>12}")).unwrap()
}

/// A photo hash named by a tag.
pub fn photo(tag: &str) -> PhotoHash {
    let hex: String = tag.bytes().map(|b| format!("{b:02x}")).collect();
    PhotoHash::parse(&format!("{hex:0>64}")).unwrap()
}

pub fn location(street: &str, community: &str, estate: &str) -> Location {
    Location {
        unit: UnitCode::parse(&street[..6]).unwrap(),
        street: StreetCode::parse(street).unwrap(),
        community: CommunityCode::parse(community).unwrap(),
        estate: estate.into(),
    }
}

/// Who wrote the events: an inspector who records and submits, a street checker who closes.
#[derive(Clone, Copy)]
pub struct Crew {
    pub inspector: AccountId,
    pub street: AccountId,
}

impl Crew {
    pub fn new() -> Self {
        Crew {
            inspector: AccountId(uuid("insp")),
            street: AccountId(uuid("chk")),
        }
    }
}

/// One building document under construction.
pub struct BuildingDraft {
    pub id: BuildingId,
    pub location: Location,
    pub doc: AutoCommit,
    pub crew: Crew,
}

impl BuildingDraft {
    /// A high-rise residential building (30 floors).
    pub fn new(tag: &str, location: Location, number: &str, crew: Crew) -> Self {
        let id = BuildingId(uuid(tag));
        let mut doc = AutoCommit::new();
        let fields = [
            ("number", FieldValue::Text(number.into())),
            (
                "address",
                FieldValue::Text(format!("{}{number}", location.estate)),
            ),
            ("use", FieldValue::Text("residential".into())),
            ("floors", FieldValue::Int(30)),
        ];
        document::create_building(&mut doc, id, &location, crew.inspector, &fields).unwrap();
        BuildingDraft {
            id,
            location,
            doc,
            crew,
        }
    }

    pub fn household(&mut self, tag: &str, unit: &str, room: &str) -> HouseholdId {
        let id = HouseholdId(uuid(tag));
        let fields = [
            ("unit", FieldValue::Text(unit.into())),
            ("room", FieldValue::Text(room.into())),
            ("owner_name", FieldValue::Text("张三".into())),
        ];
        document::add_household(&mut self.doc, id, self.crew.inspector, &fields).unwrap();
        id
    }

    /// An item created at `at` with a before photo (`<tag>-before`).
    pub fn item(
        &mut self,
        tag: &str,
        category: Category,
        household: Option<HouseholdId>,
        at: &str,
    ) -> ItemId {
        let id = ItemId(uuid(tag));
        let create = self.event(EventKind::Create, at, Role::CommunityInspector, vec![]);
        let create = Event {
            photos: vec![photo(&format!("{tag}-b"))],
            ..create
        };
        document::add_item(&mut self.doc, id, category, household, &[], &create).unwrap();
        id
    }

    fn event(&self, kind: EventKind, at: &str, role: Role, prev: Vec<EventId>) -> Event {
        let by = if role.is_street() {
            self.crew.street
        } else {
            self.crew.inspector
        };
        Event {
            id: EventId::new(),
            kind,
            to: None,
            at: t(at),
            by,
            role,
            device: None,
            note: String::new(),
            photos: vec![],
            prev,
            detail: EventDetail::default(),
        }
    }

    fn heads(&self, item: ItemId) -> Vec<EventId> {
        let b = document::read(&self.doc).unwrap();
        pengwang_shared::lifecycle::head_events(&b.items[&item].events)
    }

    fn append(&mut self, item: ItemId, e: Event) {
        document::append_event(&mut self.doc, item, &e).unwrap();
    }

    /// A notice served by the inspector.
    pub fn notify(&mut self, item: ItemId, at: &str) {
        let mut e = self.event(
            EventKind::Notify,
            at,
            Role::CommunityInspector,
            self.heads(item),
        );
        e.detail.notice_method = Some(NoticeMethod::InPerson);
        self.append(item, e);
    }

    /// The owner removed it; the inspector submits with an after photo (`<item>-a`).
    pub fn submit(&mut self, item: ItemId, at: &str) {
        let mut e = self.event(
            EventKind::Submit,
            at,
            Role::CommunityInspector,
            self.heads(item),
        );
        e.detail.method = Some(RemediationMethod::Removed);
        e.photos = vec![photo(&format!("{}-a", &item.0.simple().to_string()[20..]))];
        self.append(item, e);
    }

    /// A step by the street checker (close, refuse, transfer …) with a note.
    pub fn street_step(&mut self, item: ItemId, kind: EventKind, at: &str) {
        let mut e = self.event(kind, at, Role::StreetChecker, self.heads(item));
        e.note = "街道意见".into();
        self.append(item, e);
    }

    /// Commits and stores the document as a synced change, then projects it.
    pub fn store(mut self, state: &AppState) -> Automerge {
        self.doc
            .commit_with(CommitOptions::default().with_time(t("2026-03-01 09:00").0));
        let doc = self.doc.document().clone();
        let now = state.now();
        state
            .db
            .with_writer(|c| {
                let settings = campaign::load(c, now).unwrap();
                let tx = c.transaction().unwrap();
                documents::append(&tx, self.id, &doc, &[], &self.location, None, now.0).unwrap();
                projection::project(&tx, &doc, &settings, now.0).unwrap();
                tx.commit()
            })
            .unwrap();
        doc
    }
}
