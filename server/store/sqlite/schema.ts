/**
 * Schema of the sqlite engine, versioned with `PRAGMA user_version`: migration N brings the
 * database from version N-1 to N. Append new migrations; never edit one that has shipped.
 *
 * Times are epoch milliseconds. Ids are AUTOINCREMENT so that an id is never reused after a
 * delete: a session or a journal reader holding an old mailbox id must not land in a new mailbox.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the initial schema.
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    quota_bytes INTEGER NOT NULL DEFAULT 0,
    used_bytes INTEGER NOT NULL DEFAULT 0,
    -- last UIDVALIDITY handed out to one of the user's mailboxes (see allocateUidValidity)
    last_uid_validity INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE addresses (
    address TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('primary', 'alias', 'catchall'))
  ) WITHOUT ROWID;
  CREATE INDEX addresses_user ON addresses(user_id);

  CREATE TABLE app_passwords (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  );
  CREATE INDEX app_passwords_user ON app_passwords(user_id);

  CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    special_use TEXT,
    subscribed INTEGER NOT NULL DEFAULT 1,
    selectable INTEGER NOT NULL DEFAULT 1,
    uid_validity INTEGER NOT NULL,
    uid_next INTEGER NOT NULL DEFAULT 1,
    highest_modseq INTEGER NOT NULL DEFAULT 1,
    -- highest UID already claimed as \\Recent by a session
    recent_mark INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_id, path)
  );

  -- One row per distinct body. The data column is last so that reading the small columns never
  -- touches the body's overflow pages. A rowid table, not WITHOUT ROWID: its rows are large.
  CREATE TABLE blobs (
    hash TEXT PRIMARY KEY,
    refcount INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mime_index TEXT,
    data BLOB NOT NULL
  );

  -- No foreign key to blobs: the reference count is the link, and an FK would need an extra index
  -- on blob_hash just to check deletes.
  CREATE TABLE messages (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    flags TEXT NOT NULL,
    seen INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    internal_date INTEGER NOT NULL,
    size INTEGER NOT NULL,
    blob_hash TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) WITHOUT ROWID;
  CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
  CREATE INDEX messages_deleted ON messages(mailbox_id, uid) WHERE deleted = 1;

  -- Keywords ever used in a mailbox, keyed case-insensitively; the first spelling is kept.
  CREATE TABLE mailbox_keywords (
    mailbox_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    keyword TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    mailbox_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    uid INTEGER,
    modseq INTEGER,
    flags TEXT,
    path TEXT,
    old_path TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX journal_at ON journal(at);
  `,
  // 2: connection rules (server/hooks), and counters that other processes poll.
  `
  CREATE TABLE connection_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 1-based and contiguous; rewritten on insert, delete and move (the list is short)
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    -- JSON arrays of canonical CIDR texts and of protocol names
    cidrs TEXT NOT NULL DEFAULT '[]',
    limit_value INTEGER,
    window_seconds INTEGER,
    protocols TEXT NOT NULL DEFAULT '[]',
    enabled INTEGER NOT NULL DEFAULT 1,
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- Named counters bumped inside the transaction of the change they stand for (rules_version).
  CREATE TABLE versions (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO versions (name, value) VALUES ('rules', 0);
  `,
  // 3: leases shared by every process on this database (the POP3 maildrop lock).
  `
  CREATE TABLE leases (
    key TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 4: subscriptions as a list of names of their own (RFC 3501 6.3.6): they outlive DELETE and
  // RENAME. mailboxes.subscribed stays, kept equal to "the mailbox's path is in this list".
  `
  CREATE TABLE subscriptions (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    PRIMARY KEY (user_id, path)
  ) WITHOUT ROWID;
  INSERT INTO subscriptions (user_id, path) SELECT user_id, path FROM mailboxes WHERE subscribed = 1;
  `,
  // 5: the outbound queue (server/store/outbound.ts): a message's bytes once, a state per recipient.
  `
  CREATE TABLE outbound_messages (
    id TEXT PRIMARY KEY,
    user_id INTEGER,
    sender TEXT NOT NULL,
    raw BLOB NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    lease_holder TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE TABLE outbound_recipients (
    message_id TEXT NOT NULL REFERENCES outbound_messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    address TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error TEXT,
    warned INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, address)
  ) WITHOUT ROWID;
  CREATE INDEX outbound_recipients_due ON outbound_recipients(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
  `,
  // 6: the spam filter (server/store/spam.ts): per-user allow/block lists, greylisting triplets.
  `
  CREATE TABLE spam_lists (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    pattern TEXT NOT NULL,
    list TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, pattern)
  ) WITHOUT ROWID;
  CREATE TABLE greylist (
    triplet TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX greylist_expiry ON greylist(expires_at);
  `,
  // 7: RFC 3461 parameters of a submission: RET and ENVID per message, NOTIFY (comma list) and ORCPT
  // per recipient; NULL where the client gave none.
  `
  ALTER TABLE outbound_messages ADD COLUMN dsn_ret TEXT;
  ALTER TABLE outbound_messages ADD COLUMN dsn_envid TEXT;
  ALTER TABLE outbound_recipients ADD COLUMN notify TEXT;
  ALTER TABLE outbound_recipients ADD COLUMN orcpt TEXT;
  `,
  // 8: "save a copy to Sent" per account, for mail clients that do not upload one (off by default).
  `
  ALTER TABLE users ADD COLUMN save_sent INTEGER NOT NULL DEFAULT 0;
  `,
  // 9: the delivery history (server/store/history.ts): per local calendar day, messages stored
  // here, sent on, deferred and bounced.
  `
  CREATE TABLE delivery_days (
    day TEXT PRIMARY KEY,
    local INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    deferred INTEGER NOT NULL DEFAULT 0,
    bounced INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  `,
  // 10: the MTA-STS policy cache (server/store/mta-sts.ts): the policy as JSON, until it expires.
  `
  CREATE TABLE mta_sts_policies (
    domain TEXT PRIMARY KEY,
    policy TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 11: STATUS counters per mailbox (messages, unseen, bytes), kept by triggers in the same
  // transaction as the change, so STATUS and SELECT read one row instead of counting messages. The
  // triggers see every write path (append, flags, copy, move, expunge, import) without each having
  // to remember them.
  `
  ALTER TABLE mailboxes ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE mailboxes ADD COLUMN unseen_count INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE mailboxes ADD COLUMN byte_count INTEGER NOT NULL DEFAULT 0;
  UPDATE mailboxes SET
    message_count = (SELECT count(*) FROM messages WHERE mailbox_id = mailboxes.id),
    unseen_count = (SELECT count(*) FROM messages WHERE mailbox_id = mailboxes.id AND seen = 0),
    byte_count = (SELECT coalesce(sum(size), 0) FROM messages WHERE mailbox_id = mailboxes.id);
  CREATE TRIGGER messages_counted_insert AFTER INSERT ON messages BEGIN
    UPDATE mailboxes SET message_count = message_count + 1, unseen_count = unseen_count + (NEW.seen = 0),
      byte_count = byte_count + NEW.size
    WHERE id = NEW.mailbox_id;
  END;
  CREATE TRIGGER messages_counted_delete AFTER DELETE ON messages BEGIN
    UPDATE mailboxes SET message_count = message_count - 1, unseen_count = unseen_count - (OLD.seen = 0),
      byte_count = byte_count - OLD.size
    WHERE id = OLD.mailbox_id;
  END;
  CREATE TRIGGER messages_counted_update AFTER UPDATE OF mailbox_id, seen, size ON messages
  WHEN OLD.mailbox_id <> NEW.mailbox_id OR OLD.seen <> NEW.seen OR OLD.size <> NEW.size BEGIN
    UPDATE mailboxes SET message_count = message_count - 1, unseen_count = unseen_count - (OLD.seen = 0),
      byte_count = byte_count - OLD.size
    WHERE id = OLD.mailbox_id;
    UPDATE mailboxes SET message_count = message_count + 1, unseen_count = unseen_count + (NEW.seen = 0),
      byte_count = byte_count + NEW.size
    WHERE id = NEW.mailbox_id;
  END;
  `,
  // 12: expunged UIDs with the MODSEQ of their expunge, for QRESYNC (RFC 7162 VANISHED), kept as
  // long as the mailbox. A mailbox remembers every expunge above its expunged_floor: mailboxes that
  // existed before this table start at their current HIGHESTMODSEQ (their older expunges were not
  // recorded), new ones at 0.
  `
  CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) WITHOUT ROWID;
  CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);
  ALTER TABLE mailboxes ADD COLUMN expunged_floor INTEGER NOT NULL DEFAULT 0;
  UPDATE mailboxes SET expunged_floor = highest_modseq;
  `,
  // 13: domains as records of their own (server/store/sqlite/domains.ts), made from the domains of
  // existing users, aliases and catch-alls so that nothing stops working. The catch-all stays the
  // `*@domain` address row.
  `
  CREATE TABLE domains (
    name TEXT PRIMARY KEY,
    dkim INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO domains (name, dkim, created_at)
    SELECT DISTINCT lower(substr(address, instr(address, '@') + 1)), 1, CAST(unixepoch('subsec') * 1000 AS INTEGER)
    FROM addresses WHERE instr(address, '@') > 0 AND instr(address, '@') < length(address);
  `,
  // 14: a \Deleted counter beside the others, so that STATUS (DELETED) reads one row too; the
  // counting triggers of migration 11 are replaced by ones that keep it.
  `
  ALTER TABLE mailboxes ADD COLUMN deleted_count INTEGER NOT NULL DEFAULT 0;
  UPDATE mailboxes SET
    deleted_count = (SELECT count(*) FROM messages WHERE mailbox_id = mailboxes.id AND deleted = 1);
  DROP TRIGGER IF EXISTS messages_counted_insert;
  DROP TRIGGER IF EXISTS messages_counted_delete;
  DROP TRIGGER IF EXISTS messages_counted_update;
  CREATE TRIGGER messages_counted_insert AFTER INSERT ON messages BEGIN
    UPDATE mailboxes SET message_count = message_count + 1, unseen_count = unseen_count + (NEW.seen = 0),
      deleted_count = deleted_count + (NEW.deleted = 1), byte_count = byte_count + NEW.size
    WHERE id = NEW.mailbox_id;
  END;
  CREATE TRIGGER messages_counted_delete AFTER DELETE ON messages BEGIN
    UPDATE mailboxes SET message_count = message_count - 1, unseen_count = unseen_count - (OLD.seen = 0),
      deleted_count = deleted_count - (OLD.deleted = 1), byte_count = byte_count - OLD.size
    WHERE id = OLD.mailbox_id;
  END;
  CREATE TRIGGER messages_counted_update AFTER UPDATE OF mailbox_id, seen, deleted, size ON messages
  WHEN OLD.mailbox_id <> NEW.mailbox_id OR OLD.seen <> NEW.seen OR OLD.deleted <> NEW.deleted
    OR OLD.size <> NEW.size BEGIN
    UPDATE mailboxes SET message_count = message_count - 1, unseen_count = unseen_count - (OLD.seen = 0),
      deleted_count = deleted_count - (OLD.deleted = 1), byte_count = byte_count - OLD.size
    WHERE id = OLD.mailbox_id;
    UPDATE mailboxes SET message_count = message_count + 1, unseen_count = unseen_count + (NEW.seen = 0),
      deleted_count = deleted_count + (NEW.deleted = 1), byte_count = byte_count + NEW.size
    WHERE id = NEW.mailbox_id;
  END;
  `,
  // 15: METADATA entries (RFC 5464, server/store/sqlite/metadata.ts), per mailbox id (0: the
  // user's server entries), so that they follow a rename.
  `
  CREATE TABLE metadata (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mailbox_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (user_id, mailbox_id, name)
  ) WITHOUT ROWID;
  CREATE INDEX metadata_mailbox ON metadata(mailbox_id);
  `,
  // 16: the save date of each message (RFC 8514 SAVEDATE): when it was added to its mailbox, in
  // ms. Messages stored before have none (NULL; IMAP answers SAVEDATE NIL for them).
  `
  ALTER TABLE messages ADD COLUMN saved_at INTEGER;
  `,
  // 17: Sieve scripts per user (at most one active) and the Sieve memory: vacation replies sent and
  // duplicate ids seen, with their expiry (server/store/sieve.ts).
  `
  CREATE TABLE sieve_scripts (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, name)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX sieve_scripts_active ON sieve_scripts(user_id) WHERE active = 1;
  CREATE TABLE sieve_memory (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX sieve_memory_expiry ON sieve_memory(expires_at);
  `,
  // 18: where an import from another IMAP server stands (server/store/sqlite/import-progress.ts):
  // per user, source account and source folder, its UIDVALIDITY and the highest UID imported.
  `
  CREATE TABLE import_progress (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    folder TEXT NOT NULL,
    uid_validity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL,
    PRIMARY KEY (user_id, source, folder)
  ) WITHOUT ROWID;
  `,
  // 19: whether IMAP UIDONLY (RFC 9586) is offered to the user: NULL follows the server's default.
  `
  ALTER TABLE users ADD COLUMN uid_only INTEGER;
  `,
  // 20: the URLAUTH key of each mailbox (RFC 4467, server/store/sqlite/urlauth.ts): 32 random
  // bytes made on first use, NULL until then and again after RESETKEY or DELETE.
  `
  ALTER TABLE mailboxes ADD COLUMN urlauth_key BLOB;
  `,
  // 21: the RFC 8970 preview of each body, computed when it is stored; NULL for bodies stored
  // before, which get theirs at the first FETCH PREVIEW (server/store/sqlite/blobs.ts).
  `
  ALTER TABLE blobs ADD COLUMN preview TEXT;
  `,
  // 22: thread ids (RFC 8474 THREADID, server/store/thread-ids.ts): each message's thread, and per
  // user the thread each key (a message id, a base subject) was linked to. The messages stored
  // before get theirs from BACKFILLS[22] in the same transaction.
  `
  ALTER TABLE messages ADD COLUMN thread_id TEXT;
  CREATE TABLE thread_links (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
  ) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
