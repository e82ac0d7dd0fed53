// mimalloc (Debian package libmimalloc-dev): linked into the casekb executable, it replaces malloc/free for the
// whole process. The ingest frees on its writer thread what its parse threads allocated; glibc's malloc serialises
// those frees on the parse threads' arena locks (a sixth of the ingest's wall time, measured with perf sched events).
#include <mimalloc.h>
