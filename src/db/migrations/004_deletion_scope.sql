-- lore.db schema version 4: whose a deletion is. `lore delete` hides a session on this machine
-- only ('here': the shared store keeps it, and sync never brings it back here); `lore delete
-- --everywhere`, and a deletion that arrived by sync, reach the team ('everywhere'). Deletions
-- made before this version travelled with the next sync, so they stay 'everywhere'.
ALTER TABLE tombstones ADD COLUMN scope TEXT NOT NULL DEFAULT 'everywhere'
    CHECK (scope IN ('here', 'everywhere'));
