-- lore.db schema version 3: the identity of each message within its tool's transcript (a Claude
-- Code line's uuid, a Codex item's place in its rollout, a Gemini record id, an Aider block), so
-- that a session read from several copies of its transcript holds the union of their messages
-- and a shorter or older copy never removes one (docs/importers.md, "Merge, never replace").
-- A message without a row here (written by sync, or by a lore before version 3) is matched by
-- its content instead.
CREATE TABLE message_keys (
    message_id INTEGER PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL,
    key        TEXT NOT NULL
);
CREATE UNIQUE INDEX message_keys_by_session ON message_keys(session_id, key);
