-- 0002: building documents (snapshot + change chunks), the change feed, per-device sync state,
-- change metadata for the audit trail, and the relational projections that ledgers and reports
-- read. Projections are derived: `pengwang-server rebuild-projections` recreates them from `doc`.

CREATE TABLE doc (
    doc_id         TEXT PRIMARY KEY,           -- the building id
    unit_code      TEXT NOT NULL,
    street_code    TEXT NOT NULL,
    community_code TEXT NOT NULL,
    estate_norm    TEXT NOT NULL,              -- normalised 小区 name, for estate scopes
    snapshot       BLOB,                       -- automerge save(), NULL until first compaction
    heads          BLOB NOT NULL,              -- concatenated 32-byte change hashes
    chunk_count    INTEGER NOT NULL DEFAULT 0,
    chunk_bytes    INTEGER NOT NULL DEFAULT 0,
    feed_seq       INTEGER NOT NULL,           -- last change-feed position touching this doc
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX doc_by_feed ON doc (feed_seq);

-- Raw changes appended after the snapshot. `seq` is also the change-feed position
-- (AUTOINCREMENT never reuses a number, even after compaction deletes rows).
CREATE TABLE doc_chunk (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id      TEXT NOT NULL REFERENCES doc (doc_id),
    data        BLOB NOT NULL,
    device_id   TEXT,
    received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX doc_chunk_by_doc ON doc_chunk (doc_id, seq);

CREATE TABLE change_meta (
    doc_id      TEXT NOT NULL,
    hash        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    message     TEXT,
    device_id   TEXT,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (doc_id, hash)
) STRICT;

-- automerge sync::State::encode() (the shared heads) per (device, document).
CREATE TABLE sync_state (
    device_id  TEXT NOT NULL,
    doc_id     TEXT NOT NULL,
    state      BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, doc_id)
) STRICT;

CREATE TABLE p_building (
    id                 TEXT PRIMARY KEY,
    unit_code          TEXT NOT NULL,
    district_code      TEXT NOT NULL,
    street_code        TEXT NOT NULL,
    community_code     TEXT NOT NULL,
    estate             TEXT NOT NULL,
    estate_norm        TEXT NOT NULL,
    number             TEXT NOT NULL,
    number_norm        TEXT NOT NULL,
    address            TEXT NOT NULL,
    building_use       TEXT,
    height_m           REAL,
    floors             INTEGER,
    high_rise          INTEGER NOT NULL,
    needs_height_check INTEGER NOT NULL,
    survey_status      TEXT,
    merged_into        TEXT,
    fields_json        TEXT NOT NULL
) STRICT;
CREATE INDEX p_building_by_place ON p_building (unit_code, street_code, community_code);
CREATE INDEX p_building_dup ON p_building (unit_code, estate_norm, number_norm);

CREATE TABLE p_household (
    id            TEXT PRIMARY KEY,
    building_id   TEXT NOT NULL,
    unit_code     TEXT NOT NULL,
    street_code   TEXT NOT NULL,
    stair_unit    TEXT NOT NULL,          -- 单元
    floor         INTEGER,
    room          TEXT NOT NULL,
    room_norm     TEXT NOT NULL,
    survey_result TEXT,
    deleted       INTEGER NOT NULL,
    fields_json   TEXT NOT NULL           -- holds personal data: mask on every output
) STRICT;
CREATE INDEX p_household_by_building ON p_household (building_id);

CREATE TABLE p_item (
    id               TEXT PRIMARY KEY,
    building_id      TEXT NOT NULL,
    household_id     TEXT,
    unit_code        TEXT NOT NULL,
    street_code      TEXT NOT NULL,
    community_code   TEXT NOT NULL,
    category         TEXT NOT NULL,
    state            TEXT,
    completed_at     INTEGER,
    found_at         INTEGER,
    high_rise        INTEGER NOT NULL,
    persuasion_count INTEGER NOT NULL,
    forked           INTEGER NOT NULL,
    invalid_events   INTEGER NOT NULL,
    deleted          INTEGER NOT NULL,
    fields_json      TEXT NOT NULL
) STRICT;
CREATE INDEX p_item_by_building ON p_item (building_id);
CREATE INDEX p_item_report ON p_item (unit_code, household_id);

CREATE TABLE p_event (
    id             TEXT PRIMARY KEY,
    item_id        TEXT NOT NULL,
    building_id    TEXT NOT NULL,
    kind           TEXT NOT NULL,
    to_state       TEXT,
    at             INTEGER NOT NULL,
    by_account     TEXT NOT NULL,
    role           TEXT NOT NULL,
    device_id      TEXT,
    note           TEXT NOT NULL,
    photos         TEXT NOT NULL,
    prev           TEXT NOT NULL,
    invalid_reason TEXT
) STRICT;
CREATE INDEX p_event_by_item ON p_event (item_id);
CREATE INDEX p_event_by_building ON p_event (building_id);

-- Open conflicts: field, deleted (tombstone) and fork. `key` is stable per conflict.
CREATE TABLE p_conflict (
    doc_id      TEXT NOT NULL,
    key         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('field', 'deleted', 'fork')),
    record      TEXT NOT NULL,
    detail_json TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    PRIMARY KEY (doc_id, key)
) STRICT;
