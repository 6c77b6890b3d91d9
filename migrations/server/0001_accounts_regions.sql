-- 0001: the region hierarchy (seeded from data/regions/ on first start), accounts, enrollment
-- codes, devices, the audit trail and the campaign settings.
--
-- Migrations are append-only: never edit this file once released; add 0002_… instead.
-- Times are Unix seconds (INTEGER); dates a person types are 'YYYY-MM-DD' text.

-- 填报单位: every 区县, plus the 管委会 units that report apart from their host district.
CREATE TABLE reporting_unit (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('district', 'committee')),
    valid_from TEXT,
    valid_to   TEXT
) STRICT;

-- 区县 (GB/T 2260).
CREATE TABLE district (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
) STRICT;

-- 街道/乡镇. `unit_code` is the editable street → reporting-unit mapping: a street keeps its
-- district but may report under a 管委会 (e.g. 礼嘉街道 under 两江新区).
CREATE TABLE street (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    district_code TEXT NOT NULL REFERENCES district (code),
    unit_code     TEXT NOT NULL REFERENCES reporting_unit (code)
) STRICT;
CREATE INDEX street_by_unit ON street (unit_code);

-- 社区/村.
CREATE TABLE community (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    street_code TEXT NOT NULL REFERENCES street (code)
) STRICT;
CREATE INDEX community_by_street ON community (street_code);

-- A person with a role and a scope. `scope_json` is `pengwang_shared::role::Scope` as JSON.
-- `password_hash` is an argon2 PHC string, NULL for phone-only accounts.
CREATE TABLE account (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope_json    TEXT NOT NULL,
    password_hash TEXT,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
) STRICT;

-- Devices (an app install) that enroll using a one-time code issued for an account.
CREATE TABLE device (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES account (id),
    name         TEXT NOT NULL,
    -- SHA-256 of the bearer token; the token itself is never stored.
    token_hash   BLOB NOT NULL UNIQUE,
    enrolled_at  INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_seen_at INTEGER
) STRICT;
CREATE INDEX device_by_account ON device (account_id);

CREATE TABLE enrollment_code (
    code       TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    device_id  TEXT REFERENCES device (id)
) STRICT;
CREATE INDEX enrollment_code_by_account ON enrollment_code (account_id);

-- Who did what. `account_id` is NULL for operator commands run on the server itself.
-- Never holds tokens, enrollment codes, names or phone numbers: ids and codes of regions only.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    account_id TEXT,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_by_at ON audit (at);

-- `pengwang_shared::settings::CampaignSettings` as JSON; one row at most. When absent, the
-- defaults for the current year apply.
CREATE TABLE campaign_settings (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL
) STRICT;
