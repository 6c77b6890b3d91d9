-- 0007: 附件2 per reporting unit and month (DESIGN §6): the unit lead freezes, then submits; the
-- city may unfreeze for resubmission. A frozen table is a snapshot: its row, and per category the
-- households counted completed at the cut-off (the base the next month is counted against).
CREATE TABLE report_submission (
    unit_code       TEXT NOT NULL,
    month           TEXT NOT NULL,                 -- 'YYYY-MM'
    status          TEXT NOT NULL CHECK (status IN ('open', 'frozen', 'submitted')),
    period_start    INTEGER NOT NULL,
    period_end      INTEGER NOT NULL,              -- the cut-off (exclusive)
    row_json        TEXT,                          -- pengwang_shared::report::ReportRow; NULL when open
    frozen_at       INTEGER,
    frozen_by       TEXT,
    submitted_at    INTEGER,
    submitted_by    TEXT,
    unfrozen_at     INTEGER,                       -- the last unfreeze, kept after refreezing
    unfrozen_by     TEXT,
    unfreeze_reason TEXT,
    PRIMARY KEY (unit_code, month)
) STRICT;

CREATE TABLE report_frozen_household (
    unit_code    TEXT NOT NULL,
    month        TEXT NOT NULL,
    category     TEXT NOT NULL,                    -- awning | net
    household_id TEXT NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (unit_code, month, category, household_id)
) STRICT, WITHOUT ROWID;
