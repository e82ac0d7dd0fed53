-- Per-message facts are no longer stored as JSON: extraction runs at tens of MB/s, so a case's facts are
-- re-extracted from its messages' new text and attachment text when the case is rebuilt or shown. Encoding and
-- decoding the JSON cost more than extracting again.
ALTER TABLE messages DROP COLUMN facts;
