-- lore.db schema version 1: sessions, their messages, links, tags, annotations, full-text index.
-- Timestamps are Unix milliseconds (UTC).

CREATE TABLE sessions (
    id                 TEXT PRIMARY KEY NOT NULL,
    tool               TEXT NOT NULL,
    tool_version       TEXT,
    model              TEXT,
    title              TEXT,
    started_at         INTEGER,
    updated_at         INTEGER,
    ended_at           INTEGER,
    cwd                TEXT,
    git_branch         TEXT,
    machine_id         TEXT NOT NULL,
    message_count      INTEGER NOT NULL DEFAULT 0,
    source_path        TEXT,
    source_fingerprint TEXT
);
CREATE INDEX sessions_updated ON sessions(updated_at);
CREATE INDEX sessions_cwd ON sessions(cwd);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,
    role       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    content    TEXT NOT NULL,
    timestamp  INTEGER,
    tool_name  TEXT,
    UNIQUE (session_id, ordinal)
);

CREATE TABLE links (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    commit_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    confidence REAL NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, commit_id)
);
CREATE INDEX links_commit ON links(commit_id);

CREATE TABLE tags (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (session_id, tag)
);

CREATE TABLE annotations (
    id         INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Full-text index over message text, kept in step with `messages` by triggers, so every
-- writer (import, delete, a revert) keeps it right without knowing it exists.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
