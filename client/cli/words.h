/*
 * words.h: the words people type and read for the contract's enums.
 *
 * The words come from protobuf-c's enum descriptors: a value's name without
 * the enum's prefix (protobuf's style: APPLICATION_STATE_ for
 * ApplicationState), lower-cased, '_' written '-':
 * APPLICATION_STATE_UNDER_REVIEW is "under-review". A word list may add words
 * of its own: a shorter word for a value, which is then the one shown
 * ("webshop" for CHANNEL_OWN_WEBSHOP, "fraud" for
 * REJECTION_REASON_FRAUD_SUSPECTED), the derived word staying accepted; or,
 * without an enum, the whole vocabulary (keygen's roles).
 *
 * Reading ignores case and takes '_' for '-', so that the contract's short
 * names ("UNDER_REVIEW") are accepted too; the full names
 * ("APPLICATION_STATE_SUBMITTED") and the value 0 (UNSPECIFIED) are not.
 * Nothing here allocates; the lists are read-only and may be shared by
 * threads.
 */
#ifndef OB_CLI_WORDS_H
#define OB_CLI_WORDS_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

typedef struct cli_word {
	const char *word;
	int value;
} cli_word;

typedef struct cli_words {
	/* The enum the words are derived from; NULL for a plain vocabulary. */
	const ProtobufCEnumDescriptor *desc;
	/* Words of our own, ending with {NULL, 0}; the first one given for a
	 * value is the one shown. NULL: none. */
	const cli_word *own;
} cli_words;

/* Longest word, with its NUL. */
enum { CLI_WORD_MAX = 64 };

extern const cli_words cli_states;   /* onboard.v1.ApplicationState */
extern const cli_words cli_sizes;    /* onboard.v1.SizeCategory */
extern const cli_words cli_channels; /* onboard.v1.Channel */
extern const cli_words cli_actions;  /* onboard.v1.ReviewAction */
extern const cli_words cli_reasons;  /* onboard.v1.RejectionReason */
extern const cli_words
        cli_legal_forms;           /* onboard.v1.LegalForm; "micro" for the micro-entrepreneur */
extern const cli_words cli_topics; /* onboard.v1.WebinarTopic */
extern const cli_words cli_roles;  /* keygen's --role: applicant, partner, reviewer, admin, ads */
extern const cli_words cli_bools;  /* true/false, yes/no, oui/non, 1/0, x... (1 or 0) */

/* Finds s among the words; true with its value in *out. */
bool cli_word_value(const cli_words *w, const char *s, int *out);

/* The word shown for value v, written into buf (CLI_WORD_MAX bytes), or
 * "unspecified" for 0 and values the enum does not have. Returns buf. */
const char *cli_word_of(const cli_words *w, int v, char buf[CLI_WORD_MAX]);

/*
 * The words one may type, one per value (the shown one), in the enum's order:
 * calls each(word, ctx) for each. Used for messages, help and completion.
 */
void cli_words_each(const cli_words *w, void (*each)(const char *word, void *ctx), void *ctx);

/* "a, b or c": the words of cli_words_each, into buf (n bytes, cut if
 * need be). Returns buf. */
const char *cli_word_list(const cli_words *w, char *buf, size_t n);

/*
 * The contract's short name of value v, as the server writes it in texts and
 * counters: "UNDER_REVIEW", "OWN_WEBSHOP", "TPE"; "UNSPECIFIED" for a value
 * the enum does not have. Points into the descriptor.
 */
const char *cli_value_name(const ProtobufCEnumDescriptor *d, int v);

/* The value whose short name is name ("UNDER_REVIEW"), or -1. */
int cli_value_of_name(const ProtobufCEnumDescriptor *d, const char *name);

#endif
