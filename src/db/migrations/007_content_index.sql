-- lore.db schema 008: the content index (docs/links.md, "The content index"). For every message
-- that writes code (a writing tool call, a shell heredoc into a file, Aider's SEARCH/REPLACE
-- blocks), the 64-bit hashes of the lines it wrote, normalised, so that `lore blame` and
-- `lore link --auto` find the sessions that wrote a line whatever commit carries it now.
--
-- The tables are lore's own (`_lore_`): derived from `messages`, not versioned, not part of the
-- state hash, never touched by plans. Triggers keep them in step with every writer (import,
-- sync, delete, revert): an inserted message that may write is queued in
-- _lore_content_pending, and lore hashes the queue (in Rust: JSON decoding, patches, heredocs)
-- at the end of each write and when it opens the store. A deleted message takes its rows with
-- it. The queue below backfills the messages already stored.
CREATE TABLE _lore_content_lines (
    hash       INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (hash, message_id)
) WITHOUT ROWID;
CREATE INDEX _lore_content_lines_message ON _lore_content_lines(message_id);
CREATE TABLE _lore_content_pending (message_id INTEGER PRIMARY KEY);

CREATE TRIGGER _lore_content_insert AFTER INSERT ON messages
WHEN new.kind = 'tool_use' OR (new.kind = 'text' AND new.role = 'assistant'
                               AND instr(new.content, '>>>>>>> REPLACE') > 0) BEGIN
    INSERT OR IGNORE INTO _lore_content_pending(message_id) VALUES (new.id);
END;
CREATE TRIGGER _lore_content_delete AFTER DELETE ON messages BEGIN
    DELETE FROM _lore_content_lines WHERE message_id = old.id;
    DELETE FROM _lore_content_pending WHERE message_id = old.id;
END;
CREATE TRIGGER _lore_content_update AFTER UPDATE OF content, kind, role, tool_name ON messages BEGIN
    DELETE FROM _lore_content_lines WHERE message_id = old.id;
    INSERT OR IGNORE INTO _lore_content_pending(message_id) VALUES (new.id);
END;

INSERT INTO _lore_content_pending(message_id)
    SELECT id FROM messages
     WHERE kind = 'tool_use'
        OR (kind = 'text' AND role = 'assistant' AND instr(content, '>>>>>>> REPLACE') > 0);
