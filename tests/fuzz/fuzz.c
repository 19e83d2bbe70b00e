/* fuzz.c: fuzz.h's helpers, linked into every target. */
#define _GNU_SOURCE /* program_invocation_short_name */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

void fuzz_die(const char *why)
{
	/* The program's name says which target: fuzz_NAME, or fuzz_NAME_replay. */
	fprintf(stderr, "%s: %s\n", program_invocation_short_name, why);
	abort();
}
