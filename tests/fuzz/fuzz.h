/*
 * fuzz.h: what every fuzz target shares with the others.
 *
 * Each target defines LLVMFuzzerTestOneInput; libFuzzer calls it, and so does replay.c's
 * main() in the fuzz_NAME_replay build (meson.build). A broken invariant ends the run
 * with fuzz_die(), so that libFuzzer keeps the input and replay names it.
 */
#ifndef OB_FUZZ_H
#define OB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "PROGRAM: why" on stderr, then abort(). */
_Noreturn void fuzz_die(const char *why);

#endif
