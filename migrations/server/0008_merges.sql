-- 0008: duplicate merges (DESIGN §7). A supervisor merges a building recorded twice, or a
-- household recorded twice, by linking the merged-away record to the survivor. Documents are
-- never copied into each other, so phones still editing the merged-away document lose nothing;
-- the link lives here and the projections follow it:
--   * `p_building.merged_into` names the survivor (the ledger and duplicate lists skip merged
--     buildings), and 附件2 counts the merged-away building's items under the survivor;
--   * `p_item.household_id` of an item of a merged-away household names the surviving household,
--     so ledgers and 附件2 count that household once, with all its items.
-- `p_item.doc_household_id` keeps the household id as the document says.
-- The triggers re-apply the links whenever a document is re-projected or projections are rebuilt.

CREATE TABLE building_merge (
    merged_id   TEXT PRIMARY KEY,              -- the building (document) merged away
    survivor_id TEXT NOT NULL,
    by_account  TEXT NOT NULL,
    at          INTEGER NOT NULL,
    note        TEXT NOT NULL
) STRICT;
CREATE INDEX building_merge_by_survivor ON building_merge (survivor_id);

CREATE TABLE household_merge (
    merged_id   TEXT PRIMARY KEY,              -- the household merged away
    survivor_id TEXT NOT NULL,
    by_account  TEXT NOT NULL,
    at          INTEGER NOT NULL,
    note        TEXT NOT NULL
) STRICT;
CREATE INDEX household_merge_by_survivor ON household_merge (survivor_id);

ALTER TABLE p_item ADD COLUMN doc_household_id TEXT;

CREATE TRIGGER p_building_merge_link AFTER INSERT ON p_building
WHEN EXISTS (SELECT 1 FROM building_merge WHERE merged_id = NEW.id)
BEGIN
    UPDATE p_building SET merged_into = (SELECT survivor_id FROM building_merge WHERE merged_id = NEW.id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER p_item_household_merge_link AFTER INSERT ON p_item
WHEN NEW.household_id IS NOT NULL
BEGIN
    UPDATE p_item SET doc_household_id = NEW.household_id,
        household_id = COALESCE((SELECT survivor_id FROM household_merge WHERE merged_id = NEW.household_id), NEW.household_id)
    WHERE id = NEW.id;
END;

-- Items already projected.
UPDATE p_item SET doc_household_id = household_id WHERE household_id IS NOT NULL;
