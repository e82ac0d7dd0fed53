#include "sqlite_setup.h"
#include <sqlite3.h>

int casekb_sqlite_configure(void) {
    int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
}

int casekb_sqlite_memory_statistics_enabled(void) {
    // with statistics off, SQLite counts no allocations: the highest allocation count seen stays 0
    // after any statement has run
    int current = 0, highest = 0;
    sqlite3_status(SQLITE_STATUS_MALLOC_COUNT, &current, &highest, 0);
    return highest > 0 ? 1 : 0;
}
