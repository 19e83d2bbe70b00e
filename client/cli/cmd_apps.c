/*
 * The programme's commands: submit, get, list, review, withdraw, cohort,
 * import, export.
 */
#include "cli.h"

const cli_command cli_app_commands[] = {
        {NULL, NULL, NULL},
};
