#include "defaults.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

char *ob_default_server_url(char *out, size_t n)
{
	const char *env = getenv("ONBOARD_SERVER");
	const char *run = getenv("XDG_RUNTIME_DIR");
	if (env != NULL && env[0] != '\0')
		snprintf(out, n, "%s", env);
	else if (run != NULL && run[0] == '/')
		snprintf(out, n, "ipc://%s/onboard/onboardd.sock", run);
	else
		snprintf(out, n, "ipc:///tmp/onboard-%u/onboardd.sock", (unsigned)getuid());
	return out;
}
