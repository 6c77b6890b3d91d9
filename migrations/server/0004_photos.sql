-- 0004: photos (DESIGN §8). The bytes live on disk, content-addressed under `photo_dir`
-- (ab/cd/<hash>.jpg and <hash>.thumb.jpg); a row here is written only after its file is durable,
-- so a row always means "stored". `p_photo_ref` is a projection: which events of which items
-- reference which photo, for scope checks on download and the ledger's "photo missing".
-- `event_id` is the event naming the photo, or `item:<item id>` for a photo attached to the item
-- that no event names (a notice served, a signed pledge).

CREATE TABLE photo (
    hash        TEXT PRIMARY KEY,          -- SHA-256 of the JPEG bytes, 64 lowercase hex digits
    bytes       INTEGER NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    thumb_bytes INTEGER,                   -- NULL until the thumbnail has arrived
    device_id   TEXT NOT NULL,             -- the device whose upload stored it first
    received_at INTEGER NOT NULL
) STRICT;

-- Key columns first, so `ORDER BY 1, 2` lists rows in one total order.
CREATE TABLE p_photo_ref (
    event_id    TEXT NOT NULL,
    hash        TEXT NOT NULL,
    building_id TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('before', 'after', 'enforcement', 'document', 'other')),
    device_id   TEXT,                      -- the event's device; NULL when recorded on the server
    at          INTEGER NOT NULL,          -- the event's time
    PRIMARY KEY (event_id, hash)
) STRICT;
CREATE INDEX p_photo_ref_by_hash ON p_photo_ref (hash);
CREATE INDEX p_photo_ref_by_item ON p_photo_ref (item_id);
CREATE INDEX p_photo_ref_by_building ON p_photo_ref (building_id);

-- Existing databases: derive the references from the projected events (their `photos` column is
-- a comma-separated list), with the same role rule as `PhotoRole::of_step` (pengwang-shared), so the ledger
-- flags missing photos without waiting for a rebuild.
INSERT OR IGNORE INTO p_photo_ref (event_id, hash, building_id, item_id, role, device_id, at)
WITH RECURSIVE split (event_id, building_id, item_id, to_state, device_id, at, hash, rest) AS (
    SELECT id, building_id, item_id, to_state, device_id, at, '', photos || ','
    FROM p_event WHERE photos <> ''
    UNION ALL
    SELECT event_id, building_id, item_id, to_state, device_id, at,
           substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
    FROM split WHERE rest <> ''
)
SELECT event_id, hash, building_id, item_id,
       CASE to_state WHEN 'identified' THEN 'before' WHEN 'pending_verify' THEN 'after'
                     WHEN 'enforced_removed' THEN 'enforcement' ELSE 'other' END,
       device_id, at
FROM split WHERE hash <> '';
