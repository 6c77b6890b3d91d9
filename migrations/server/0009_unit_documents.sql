-- 0009: what each reporting unit hands in besides 附件2 (DESIGN §6): the contact sheet (附件1,
-- due 03-15), the work plan (an uploaded file, due 03-25) and the monthly summary (due on the
-- report day of each month).
--
-- Nothing here is overwritten: an edited contact row is a new row that replaces the old one
-- (`replaced_by`), a removed one keeps its row (`removed_at`), a new work plan or summary is a
-- new version; the newest is current.

-- 附件1 rows. `phone` is personal data: masked in every list and export.
CREATE TABLE unit_contact (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_code    TEXT NOT NULL,
    category     TEXT NOT NULL,          -- 类别: 政府分管领导, 牵头部门负责人, 联络员 …
    name         TEXT NOT NULL,          -- 姓名
    organization TEXT NOT NULL,          -- 单位及职务
    phone        TEXT NOT NULL,          -- 手机号码
    note         TEXT NOT NULL,          -- 备注
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    removed_at   INTEGER,
    removed_by   TEXT,
    replaced_by  INTEGER REFERENCES unit_contact (id)
) STRICT;
CREATE INDEX unit_contact_by_unit ON unit_contact (unit_code, removed_at);

-- Uploaded files (the work plan). The bytes live under the documents directory, named by
-- their SHA-256; the row holds what the uploader called the file.
CREATE TABLE unit_file (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_code    TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('work_plan')),
    file_name    TEXT NOT NULL,
    extension    TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    uploaded_at  INTEGER NOT NULL,
    uploaded_by  TEXT NOT NULL
) STRICT;
CREATE INDEX unit_file_by_unit ON unit_file (unit_code, kind, id);

-- 月度工作总结, one version per save; `month` is 'YYYY-MM'.
CREATE TABLE unit_summary (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_code    TEXT NOT NULL,
    month        TEXT NOT NULL,
    progress     TEXT NOT NULL,          -- 完成情况
    practices    TEXT NOT NULL,          -- 经验做法
    problems     TEXT NOT NULL,          -- 存在问题
    next_steps   TEXT NOT NULL,          -- 下一步工作打算
    saved_at     INTEGER NOT NULL,
    saved_by     TEXT NOT NULL
) STRICT;
CREATE INDEX unit_summary_by_unit ON unit_summary (unit_code, month, id);

-- The reporting unit an audit row concerns, when it concerns one (a contact, a summary, a
-- revealed phone), so the unit's lead sees it in the audit view. NULL for older rows and for
-- rows about accounts, which the view places by the account's scope.
ALTER TABLE audit ADD COLUMN unit_code TEXT;
CREATE INDEX audit_by_unit ON audit (unit_code, at);
