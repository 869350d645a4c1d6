-- The search queue (schema 9) into the search indexes, in rowid order (FTS5 appends rowids
-- in order cheaply), then emptied. The CJK test is schema 5's. Run by src/db/search_queue.rs.
INSERT INTO messages_fts(rowid, content)
    SELECT m.id, m.content FROM _lore_search_pending p JOIN messages m ON m.id = p.message_id
     ORDER BY p.message_id;
INSERT INTO messages_cjk(rowid, content)
    SELECT m.id, m.content FROM _lore_search_pending p JOIN messages m ON m.id = p.message_id
     WHERE length(CAST(m.content AS BLOB)) <> length(m.content) AND (instr(CAST(m.content AS BLOB), x'E3') OR instr(CAST(m.content AS BLOB), x'E4') OR instr(CAST(m.content AS BLOB), x'E5') OR instr(CAST(m.content AS BLOB), x'E6') OR instr(CAST(m.content AS BLOB), x'E7') OR instr(CAST(m.content AS BLOB), x'E8') OR instr(CAST(m.content AS BLOB), x'E9') OR instr(CAST(m.content AS BLOB), x'EA') OR instr(CAST(m.content AS BLOB), x'EB') OR instr(CAST(m.content AS BLOB), x'EC') OR instr(CAST(m.content AS BLOB), x'ED') OR instr(CAST(m.content AS BLOB), x'EF'))
     ORDER BY p.message_id;
DELETE FROM _lore_search_pending;
