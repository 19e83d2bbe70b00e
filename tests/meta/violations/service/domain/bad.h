/* Not built: a fixture for layers.sh, whose test expects each violation below to be caught
 * (11 in this tree), and the includes marked "allowed" to pass. */
#include "store/sqlite.h"
#include "../rpc/dispatch.h"
#include "auth/auth.h"
#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>
#include "onboard/v1/rpc.pb-c.h"
#include <sqlite3.h>
#include "domain/store.h" /* allowed: the port is the domain's */
#include "base/time.h"    /* allowed */
