/* Not built: a fixture for layers.sh (see ../domain/bad.h). */
#include "domain/calendar.h"
#include "base/time.h" /* allowed */
