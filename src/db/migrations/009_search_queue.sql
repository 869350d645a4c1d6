-- lore.db schema 9: the search indexes are filled once per write, not once per statement
-- (docs/database.md, "Search").
--
-- Until schema 8 a trigger put every inserted message into messages_fts (and messages_cjk) at
-- once. FTS5 writes what it holds in memory to disk whenever a statement opens a savepoint, and
-- every multi-row INSERT does: an import wrote one small index segment per session and then
-- spent its time merging them (a fifth of an import's time on 2,000 sessions).
--
-- Now an inserted message is queued in _lore_search_pending (lore's own, not versioned), and
-- lore moves the queue into both indexes with one statement each (src/db/search_drain.sql) at
-- the end of every write, before it commits, and when it opens the database (for a queue left
-- by a writer that does not know it: `lore revert` or `lore apply` on lore.db). A deleted or
-- changed message leaves the indexes at once if it was indexed, and the queue if it was not (a
-- message inserted and deleted in one transaction never reaches the index).
CREATE TABLE _lore_search_pending (message_id INTEGER PRIMARY KEY);

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_cjk_insert;
DROP TRIGGER messages_cjk_delete;
DROP TRIGGER messages_cjk_update;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO _lore_search_pending(message_id) VALUES (new.id);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content
         WHERE NOT EXISTS (SELECT 1 FROM _lore_search_pending WHERE message_id = old.id);
    DELETE FROM messages_cjk WHERE rowid = old.id;
    DELETE FROM _lore_search_pending WHERE message_id = old.id;
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content
         WHERE NOT EXISTS (SELECT 1 FROM _lore_search_pending WHERE message_id = old.id);
    DELETE FROM messages_cjk WHERE rowid = old.id;
    DELETE FROM _lore_search_pending WHERE message_id = old.id;
    INSERT OR IGNORE INTO _lore_search_pending(message_id) VALUES (new.id);
END;
