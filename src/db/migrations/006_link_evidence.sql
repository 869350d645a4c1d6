-- lore.db schema version 6: why a link exists. `evidence` is a JSON object written by lore's
-- link code (docs/links.md, "Evidence"): the files of the commit the session wrote or edited,
-- how many of the commit's added lines its tool calls produced, whether the user linked it,
-- whether the transcript names the commit. NULL for links made before this version, and for
-- links that came by sync (the session record does not carry it yet).
ALTER TABLE links ADD COLUMN evidence TEXT;

-- Codex's session_meta.git.commit_hash is the commit a session started from, not one it made;
-- lore used to import it as a link of kind 'import' (the only import links Codex sessions
-- had). Those links are taken back, as `lore unlink` does, so that the removal reaches the
-- teammates who have them too.
UPDATE links SET kind = 'removed', confidence = 0
 WHERE kind = 'import' AND session_id IN (SELECT id FROM sessions WHERE tool = 'codex');
