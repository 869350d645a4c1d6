-- lore.db schema version 5: why a link exists. `evidence` is a JSON object written by lore's
-- link code (docs/links.md, "Evidence"): the files of the commit the session wrote or edited,
-- how many of the commit's added lines its tool calls produced, whether the user linked it,
-- whether the transcript names the commit. NULL for links made before this version, and for
-- links that came by sync (the session record does not carry it yet).
ALTER TABLE links ADD COLUMN evidence TEXT;
