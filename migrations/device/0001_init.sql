-- 0001: the phone's store. One building document per row of `doc`, kept as a snapshot plus the
-- change chunks appended since (one chunk per user action or applied sync reply), the sync state
-- shared with the server per document, and the outbox of documents with changes to send.
--
-- Migrations are append-only: never edit this file once released; add 0002_… instead.
-- Times are Unix seconds (INTEGER).

-- Device identity and sync bookkeeping: device_id, token, server_url, account (JSON),
-- settings (JSON), cursor.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- `snapshot` is an automerge `save()`, NULL until the first compaction.
CREATE TABLE doc (
    doc_id     TEXT PRIMARY KEY,
    snapshot   BLOB,
    updated_at INTEGER NOT NULL
) STRICT;

-- Changes saved after the snapshot, in order. Loading is `load(snapshot ++ chunks…)`.
CREATE TABLE doc_chunk (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES doc (doc_id),
    data   BLOB NOT NULL
) STRICT;
CREATE INDEX doc_chunk_by_doc ON doc_chunk (doc_id, id);

-- automerge `sync::State::encode()` (the heads both sides have) for the server, per document.
CREATE TABLE sync_state (
    doc_id TEXT PRIMARY KEY REFERENCES doc (doc_id),
    state  BLOB NOT NULL
) STRICT;

-- Documents with local changes the server may not have. `seq` goes up with every local change,
-- so a sync only clears a row that did not change while its request was in flight.
CREATE TABLE outbox (
    doc_id     TEXT PRIMARY KEY REFERENCES doc (doc_id),
    seq        INTEGER NOT NULL,
    queued_at  INTEGER NOT NULL,
    last_error TEXT
) STRICT;
