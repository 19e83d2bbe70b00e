/* Not built: a fixture for layers.sh (see ../domain/bad.h). */
#include "store/sqlite.h"
