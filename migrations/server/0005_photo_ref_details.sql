-- 0005: what the ledger shows beside every photo (issue: "taken-at, place and inspector"), from
-- the photo's record in the building document. NULL where the document has no record for it
-- (older documents, or a photo named by an event but never attached).
ALTER TABLE p_photo_ref ADD COLUMN taken_at INTEGER;
ALTER TABLE p_photo_ref ADD COLUMN lat REAL;
ALTER TABLE p_photo_ref ADD COLUMN lng REAL;
ALTER TABLE p_photo_ref ADD COLUMN accuracy_m REAL;
ALTER TABLE p_photo_ref ADD COLUMN by_account TEXT;
