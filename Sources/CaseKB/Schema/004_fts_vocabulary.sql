-- Document counts per indexed token, read by search to report the total of a one-word query without visiting every
-- match (a word like 蓝屏 is in most messages: counting its 60,000 rows costs more than the rest of the search).
CREATE VIRTUAL TABLE message_fts_vocab USING fts5vocab(message_fts, 'row');
