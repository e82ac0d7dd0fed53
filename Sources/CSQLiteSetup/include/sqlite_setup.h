// Process-wide SQLite settings that must be made before SQLite initialises (sqlite3_config is variadic, which Swift
// cannot call, hence this C function).
#ifndef CASEKB_SQLITE_SETUP_H
#define CASEKB_SQLITE_SETUP_H

/// casekb's process-wide SQLite settings:
/// - memory statistics off (SQLITE_CONFIG_MEMSTATUS): with them on, every allocation and free inside SQLite takes one
///   global mutex, shared by the ingest's writer and its reader threads; casekb never reads those statistics;
/// - statement journals kept in memory (SQLITE_CONFIG_STMTJRNL_SPILL -1): a multi-row INSERT inside a transaction
///   journals the pages it changes; past 64 KiB SQLite spilled that journal to a temporary file, and an 18k-message
///   ingest wrote ~92,000 pages to such files (strace). The journal is emptied after each statement, so it stays small.
/// Returns SQLITE_OK, or SQLITE_MISUSE when SQLite was already initialised (the settings then stay as they were).
int casekb_sqlite_configure(void);

/// Whether SQLite keeps memory statistics: 1 while it counts allocations, 0 when they are off.
int casekb_sqlite_memory_statistics_enabled(void);

#endif
