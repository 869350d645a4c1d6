-- lore.db schema version 5: search inside Chinese, Japanese and Korean text. FTS5's unicode61
-- tokenizer (messages_fts) makes a whole run of CJK characters one token, so a word inside a
-- sentence is never found. Messages holding any CJK character are indexed a second time here,
-- by FTS5's trigram tokenizer, which finds any substring of three characters or more (shorter
-- words are looked for in this table's own copy of the text). Other messages are not indexed
-- here: ordinary search and import cost what they did (docs/database.md, "Search").
-- Which messages: those with a character whose UTF-8 lead byte is E3-ED or EF (U+3000-U+DFFF
-- and U+F000-U+FFFF: kana, CJK ideographs, Hangul, CJK compatibility, half-width forms), tested
-- only on text that is not pure ASCII. A GLOB with character classes did the same 20 times
-- slower (docs/database.md, "Search").
CREATE VIRTUAL TABLE messages_cjk USING fts5(
    content,
    tokenize = 'trigram'
);
CREATE TRIGGER messages_cjk_insert AFTER INSERT ON messages
WHEN length(CAST(new.content AS BLOB)) <> length(new.content) AND (instr(CAST(new.content AS BLOB), x'E3') OR instr(CAST(new.content AS BLOB), x'E4') OR instr(CAST(new.content AS BLOB), x'E5') OR instr(CAST(new.content AS BLOB), x'E6') OR instr(CAST(new.content AS BLOB), x'E7') OR instr(CAST(new.content AS BLOB), x'E8') OR instr(CAST(new.content AS BLOB), x'E9') OR instr(CAST(new.content AS BLOB), x'EA') OR instr(CAST(new.content AS BLOB), x'EB') OR instr(CAST(new.content AS BLOB), x'EC') OR instr(CAST(new.content AS BLOB), x'ED') OR instr(CAST(new.content AS BLOB), x'EF')) BEGIN
    INSERT INTO messages_cjk(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_cjk_delete AFTER DELETE ON messages
WHEN length(CAST(old.content AS BLOB)) <> length(old.content) AND (instr(CAST(old.content AS BLOB), x'E3') OR instr(CAST(old.content AS BLOB), x'E4') OR instr(CAST(old.content AS BLOB), x'E5') OR instr(CAST(old.content AS BLOB), x'E6') OR instr(CAST(old.content AS BLOB), x'E7') OR instr(CAST(old.content AS BLOB), x'E8') OR instr(CAST(old.content AS BLOB), x'E9') OR instr(CAST(old.content AS BLOB), x'EA') OR instr(CAST(old.content AS BLOB), x'EB') OR instr(CAST(old.content AS BLOB), x'EC') OR instr(CAST(old.content AS BLOB), x'ED') OR instr(CAST(old.content AS BLOB), x'EF')) BEGIN
    DELETE FROM messages_cjk WHERE rowid = old.id;
END;
CREATE TRIGGER messages_cjk_update AFTER UPDATE OF content ON messages BEGIN
    DELETE FROM messages_cjk WHERE rowid = old.id;
    INSERT INTO messages_cjk(rowid, content)
        SELECT new.id, new.content
        WHERE length(CAST(new.content AS BLOB)) <> length(new.content) AND (instr(CAST(new.content AS BLOB), x'E3') OR instr(CAST(new.content AS BLOB), x'E4') OR instr(CAST(new.content AS BLOB), x'E5') OR instr(CAST(new.content AS BLOB), x'E6') OR instr(CAST(new.content AS BLOB), x'E7') OR instr(CAST(new.content AS BLOB), x'E8') OR instr(CAST(new.content AS BLOB), x'E9') OR instr(CAST(new.content AS BLOB), x'EA') OR instr(CAST(new.content AS BLOB), x'EB') OR instr(CAST(new.content AS BLOB), x'EC') OR instr(CAST(new.content AS BLOB), x'ED') OR instr(CAST(new.content AS BLOB), x'EF'));
END;
INSERT INTO messages_cjk(rowid, content)
    SELECT id, content FROM messages WHERE length(CAST(content AS BLOB)) <> length(content) AND (instr(CAST(content AS BLOB), x'E3') OR instr(CAST(content AS BLOB), x'E4') OR instr(CAST(content AS BLOB), x'E5') OR instr(CAST(content AS BLOB), x'E6') OR instr(CAST(content AS BLOB), x'E7') OR instr(CAST(content AS BLOB), x'E8') OR instr(CAST(content AS BLOB), x'E9') OR instr(CAST(content AS BLOB), x'EA') OR instr(CAST(content AS BLOB), x'EB') OR instr(CAST(content AS BLOB), x'EC') OR instr(CAST(content AS BLOB), x'ED') OR instr(CAST(content AS BLOB), x'EF'));
