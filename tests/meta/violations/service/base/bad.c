/* Not built: a fixture for layers.sh (see ../domain/bad.h). */
#include "domain/model.h"
