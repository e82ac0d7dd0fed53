-- casekb knowledge base, version 2: crash signatures and similar-case links.

-- The lookup index: each case's signature terms (kind: exact | core | blame | pool | frame | edge | family).
-- position orders frames (0 = the first relevant frame) for position-aware scoring.
CREATE TABLE signature_terms (
    case_id   INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    term      TEXT NOT NULL,
    position  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (case_id, kind, term)
) WITHOUT ROWID;
CREATE INDEX signature_terms_term ON signature_terms(kind, term);

-- Settings of the knowledge base, e.g. the version of the signature rules the stored terms were computed with.
CREATE TABLE kb_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Each case linked to its most similar earlier cases, with the confidence and the reasons (JSON).
CREATE TABLE case_links (
    case_id         INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    linked_case_id  INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    score           REAL NOT NULL,
    confidence      TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    PRIMARY KEY (case_id, linked_case_id)
);
CREATE INDEX case_links_linked ON case_links(linked_case_id);
