-- 0003: when each item's current state began (from the fold), so a past month's 附件2 counts as
-- "awaiting verification" only items that were already waiting at that month's cut-off.
ALTER TABLE p_item ADD COLUMN state_since INTEGER;
