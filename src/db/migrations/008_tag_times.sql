-- lore.db schema 8: tag times and tag removals, so that `lore tag --remove` travels through
-- sync (docs/store-format.md, "The session record"; docs/links.md, "Tags and annotations").
-- `added_at` is when the tag was put on (Unix ms; NULL for tags from before this version);
-- `removed_at`, when set, makes the row a tag's tombstone: the tag is off the session, and
-- the removal wins over any addition made before it, here or on a teammate's machine. Readers
-- of a session's tags take only the rows whose removed_at IS NULL.
ALTER TABLE tags ADD COLUMN added_at INTEGER;
ALTER TABLE tags ADD COLUMN removed_at INTEGER;
