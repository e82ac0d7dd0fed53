// Process-wide SQLite settings that must be made before SQLite initialises (sqlite3_config is variadic, which Swift
// cannot call, hence this C function).
#ifndef CASEKB_SQLITE_SETUP_H
#define CASEKB_SQLITE_SETUP_H

/// Turn off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS). With them on, every allocation and free inside
/// SQLite takes one global mutex, shared by the ingest's writer and its reader threads. casekb never reads those
/// statistics. Returns SQLITE_OK, or SQLITE_MISUSE when SQLite was already initialised (the setting then stays as it was).
int casekb_sqlite_disable_memory_statistics(void);

/// Whether SQLite keeps memory statistics: 1 while it counts allocations, 0 when they are off.
int casekb_sqlite_memory_statistics_enabled(void);

#endif
