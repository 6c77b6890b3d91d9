-- 0002: the phone's photo store (DESIGN §8). One row per ingested photo, content-addressed by
-- the SHA-256 of the stored JPEG. A row attached to an item is written in the same transaction
-- as the document change that attaches it.
--
-- `state`: pending (nothing known to have arrived) → uploaded (the server took the photo, the
-- thumbnail is still to go) → confirmed (the server reported having both). A photo is never
-- deleted before it is confirmed.

CREATE TABLE photo (
    hash         TEXT PRIMARY KEY,
    jpeg         BLOB NOT NULL,
    thumbnail    BLOB NOT NULL,
    -- `pengwang_core::photo::PhotoMeta` as JSON: size, dimensions, taken-at, GPS, original size.
    meta_json    TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'uploaded', 'confirmed')),
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER
) STRICT;
CREATE INDEX photo_unconfirmed ON photo (created_at, hash) WHERE state <> 'confirmed';
