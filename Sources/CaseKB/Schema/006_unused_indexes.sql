-- Indexes no casekb query reads, dropped: each cost an index insert per row on every ingest (≈ 95k rows per 18k
-- messages). Stack frames and provenance spans are read by case (through stacks and provenance_case); a message's
-- Message-ID is looked up through message_keys, never messages.message_id. Ad-hoc SQL over these columns still
-- works, by a scan.
DROP INDEX IF EXISTS stack_frames_symbol;
DROP INDEX IF EXISTS provenance_fact;
DROP INDEX IF EXISTS messages_message_id;
