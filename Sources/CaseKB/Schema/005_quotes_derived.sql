-- Quoted text and signature are no longer stored: they are split again from the stored body (with the line an HTML
-- quote marker pointed at, kept in quote_start_line) when a case is shown. The ingest splits the stored, redacted
-- body the same way, so new_text and the parts shown always agree. The body was stored about twice over before.
ALTER TABLE messages ADD COLUMN quote_start_line INTEGER;
ALTER TABLE messages DROP COLUMN quoted_text;
ALTER TABLE messages DROP COLUMN signature;
