/* Not built: a fixture for layers.sh (see ../domain/bad.h). */
#include "rpc/status.h"
#include "domain/store.h" /* allowed: the adapter implements the domain's port */
#include <sqlite3.h>      /* allowed */
