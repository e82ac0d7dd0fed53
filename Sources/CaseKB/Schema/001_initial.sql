-- casekb knowledge base, version 1.
-- Applied once, in a transaction, by the migrator (GRDB DatabaseMigrator) when a database is opened.

-- Files ingested, with what they held: re-ingesting an unchanged file is skipped by (path, size, hash).
CREATE TABLE source_files (
    id            INTEGER PRIMARY KEY,
    path          TEXT NOT NULL UNIQUE,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    format        TEXT,
    messages      INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    ingested_at   TEXT NOT NULL
);

-- A support case: the messages of one thread or of several threads sharing a case number.
CREATE TABLE cases (
    id                  INTEGER PRIMARY KEY,
    key                 TEXT NOT NULL UNIQUE,
    subject             TEXT NOT NULL,
    normalized_subject  TEXT NOT NULL,
    first_sent          INTEGER,          -- milliseconds since 1970, UTC
    last_sent           INTEGER,
    message_count       INTEGER NOT NULL DEFAULT 0,
    dirty               INTEGER NOT NULL DEFAULT 1,   -- facts to be rebuilt (set with the messages, cleared by the rebuild)
    updated_at          TEXT NOT NULL
);
CREATE INDEX cases_dirty ON cases(dirty) WHERE dirty = 1;
CREATE INDEX cases_last_sent ON cases(last_sent);

CREATE TABLE case_ids (
    case_id  INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    value    TEXT NOT NULL,
    PRIMARY KEY (case_id, value)
);
CREATE INDEX case_ids_value ON case_ids(value);

-- One mail. dedup_key (Message-ID, else sender + time + text) keeps a message delivered twice from being stored twice.
CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    case_id           INTEGER NOT NULL REFERENCES cases(id),
    source_file_id    INTEGER NOT NULL REFERENCES source_files(id),
    source_index      INTEGER NOT NULL,
    byte_offset       INTEGER NOT NULL,
    dedup_key         TEXT NOT NULL UNIQUE,
    message_id        TEXT,
    in_reply_to       TEXT,
    refs              TEXT NOT NULL DEFAULT '[]',  -- JSON array of References ids
    position          INTEGER NOT NULL DEFAULT 0,   -- 1-based index in the case, by time
    from_name         TEXT,
    from_address      TEXT,
    sent              INTEGER,
    subject           TEXT NOT NULL,
    body              TEXT NOT NULL,
    new_text          TEXT NOT NULL,
    quoted_text       TEXT NOT NULL,
    signature         TEXT NOT NULL,
    is_forwarded_copy INTEGER NOT NULL DEFAULT 0,
    facts             TEXT NOT NULL                 -- the message's extracted facts (JSON), merged per case
);
CREATE INDEX messages_case ON messages(case_id, position);
CREATE INDEX messages_source ON messages(source_file_id);
CREATE INDEX messages_sent ON messages(sent);
CREATE INDEX messages_message_id ON messages(message_id);

-- Keys that thread messages into cases (case:, mid:, conv:, subj: and subjroot:); linking = 0 keys are owned, not followed.
CREATE TABLE message_keys (
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    linking     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX message_keys_key ON message_keys(key);
CREATE INDEX message_keys_message ON message_keys(message_id);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    message_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    filename      TEXT,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    text          TEXT
);
CREATE INDEX attachments_message ON attachments(message_id);

-- Facts per case, rebuilt whenever the case's messages change.
CREATE TABLE bugchecks (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    code          TEXT NOT NULL,          -- 0x000000D1
    name          TEXT,
    args          TEXT NOT NULL,          -- JSON array of 0x… strings
    arg_meanings  TEXT NOT NULL,          -- JSON array
    written_as    TEXT NOT NULL,
    role          TEXT NOT NULL,          -- crash | mention
    messages      TEXT NOT NULL           -- JSON array of positions
);
CREATE INDEX bugchecks_code ON bugchecks(code, case_id);
CREATE INDEX bugchecks_case ON bugchecks(case_id);

CREATE TABLE stacks (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    command       TEXT NOT NULL,
    frames        TEXT NOT NULL,          -- JSON array of module!function+0xoff
    inline_frames TEXT NOT NULL,          -- JSON array of indexes
    messages      TEXT NOT NULL
);
CREATE INDEX stacks_case ON stacks(case_id);

CREATE TABLE stack_frames (
    stack_id   INTEGER NOT NULL REFERENCES stacks(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    module     TEXT,
    function   TEXT,
    offset     INTEGER,
    address    TEXT,
    is_inline  INTEGER NOT NULL,
    PRIMARY KEY (stack_id, position)
);
CREATE INDEX stack_frames_symbol ON stack_frames(module, function);

CREATE TABLE pool_tags (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    owner     TEXT,
    suspect   INTEGER NOT NULL,
    blocks    TEXT NOT NULL,          -- JSON
    messages  TEXT NOT NULL
);
CREATE INDEX pool_tags_tag ON pool_tags(tag, case_id);
CREATE INDEX pool_tags_case ON pool_tags(case_id);

CREATE TABLE modules (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,      -- lower case, aliases folded (ntoskrnl → nt)
    image         TEXT,
    path          TEXT,
    timestamp     TEXT,
    checksum      TEXT,
    image_size    TEXT,
    file_version  TEXT,
    origins       TEXT NOT NULL,      -- JSON
    third_party   INTEGER NOT NULL,
    messages      TEXT NOT NULL
);
CREATE INDEX modules_name ON modules(name_key, case_id);
CREATE INDEX modules_case ON modules(case_id);

CREATE TABLE culprits (
    case_id   INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    rank      INTEGER NOT NULL,
    module    TEXT NOT NULL,
    name_key  TEXT NOT NULL,
    score     REAL NOT NULL,
    evidence  TEXT NOT NULL,          -- JSON
    PRIMARY KEY (case_id, rank)
);
CREATE INDEX culprits_name ON culprits(name_key, case_id);

CREATE TABLE recommendations (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,       -- the message's position in its case
    action    TEXT NOT NULL,
    target    TEXT,
    text      TEXT NOT NULL
);
CREATE INDEX recommendations_action ON recommendations(action, case_id);
CREATE INDEX recommendations_case ON recommendations(case_id);

CREATE TABLE entities (
    id        INTEGER PRIMARY KEY,
    case_id   INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,          -- kb | error_code | os_version | machine_model | ndis_filter | analyze_field
    value     TEXT NOT NULL,
    key       TEXT
);
CREATE INDEX entities_value ON entities(kind, value);
CREATE INDEX entities_case ON entities(case_id);

-- Where each fact came from: the message, the text field and the span (Unicode scalar offsets).
CREATE TABLE provenance (
    case_id     INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    fact_table  TEXT NOT NULL,
    fact_id     INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    field       TEXT NOT NULL,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL
);
CREATE INDEX provenance_fact ON provenance(fact_table, fact_id);
CREATE INDEX provenance_case ON provenance(case_id);

-- Full-text index over subject, new text and attachment text. Contentless: the text lives in messages; the indexed
-- form has CJK runs split into characters and overlapping bigrams and WinDbg addresses removed (see Store/SearchText.swift).
CREATE VIRTUAL TABLE message_fts USING fts5(subject, body, attachments, content='', tokenize='unicode61 remove_diacritics 2');
-- rank = bm25 with the subject weighted 5x and attachments 0.5x, so ORDER BY rank stays inside FTS5
INSERT INTO message_fts(message_fts, rank) VALUES ('rank', 'bm25(5.0, 1.0, 0.5)');
