-- lore.db schema version 2: sub-agent parents, the file index that makes re-import cheap, and
-- tombstones so that a deleted session stays deleted.

ALTER TABLE sessions ADD COLUMN parent_id TEXT;

-- Every transcript file lore has looked at, with the fingerprint it had then. An unchanged file
-- (same fingerprint) is skipped without being opened.
CREATE TABLE sources (
    path        TEXT PRIMARY KEY NOT NULL,
    fingerprint TEXT NOT NULL,
    tool        TEXT,
    outcome     TEXT NOT NULL,
    checked_at  INTEGER NOT NULL
);

-- `lore delete` leaves one of these: import never brings the session back, and sync carries
-- the deletion to other machines.
CREATE TABLE tombstones (
    session_id TEXT PRIMARY KEY NOT NULL,
    deleted_at INTEGER NOT NULL
);
