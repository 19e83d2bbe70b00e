/*
 * Errors on stderr (cli.h): in words for people, or under --json as one JSON
 * object on one line, so that a script reads a refusal as it reads a reply.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

/* "onboard" or "onboard CMD": the start of every message on stderr. */
static void who(const cli *c, char *buf, size_t n)
{
	snprintf(buf, n, "onboard%s%s", c->path != NULL ? " " : "", c->path != NULL ? c->path : "");
}

/* s as a JSON string; bytes that are not UTF-8 (a message may quote what a
 * caller sent) become '?'. NULL when out of memory. */
static json_t *text(const char *s)
{
	json_t *j = json_string(s != NULL ? s : "");
	if (j != NULL || s == NULL)
		return j;
	char *copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/* The field violations of r as [{"field":..., "description":...}]. */
static json_t *violations(const ob_result *r)
{
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && r != NULL && i < r->n_violations; i++)
		json_array_append_new(list,
		                      json_pack("{s:o, s:o}", "field", text(r->violations[i].field),
		                                "description", text(r->violations[i].description)));
	return list;
}

/*
 * One error as a JSON object on one line of stderr: code and message, r's
 * details when there is an r, and flag ("local", "usage") set to true
 * unless NULL. false when out of memory (nothing was printed).
 */
static bool json_error(const char *code, const char *message, const ob_result *r, const char *flag)
{
	json_t *o = json_pack("{s:s, s:o, s:o}", "code", code, "message", text(message),
	                      "field_violations", violations(r));
	if (o != NULL && r != NULL && r->retry_after_ms > 0)
		json_object_set_new(o, "retry_after_ms", json_integer(r->retry_after_ms));
	if (o != NULL && r != NULL && r->request_id != NULL && r->request_id[0] != '\0')
		json_object_set_new(o, "request_id", text(r->request_id));
	if (o != NULL && flag != NULL)
		json_object_set_new(o, flag, json_true());
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (s == NULL)
		return false;
	fprintf(stderr, "%s\n", s);
	free(s);
	return true;
}

void cli_unreachable(const cli *c, const char *message)
{
	if (!c->json || !json_error("UNAVAILABLE", message, NULL, "local"))
		fprintf(stderr, "onboard: %s\n", message);
}

void cli_print_status(const cli *c, const ob_result *r)
{
	if (c->json && json_error(ob_code_name(r->code), r->message, r, r->local ? "local" : NULL))
		return;
	if (r->local) {
		fprintf(stderr, "onboard: %s\n", r->message);
		return;
	}
	fprintf(stderr, "onboard: %s: %s\n", ob_code_name(r->code), r->message);
	for (size_t i = 0; i < r->n_violations; i++)
		fprintf(stderr, "  %s: %s\n", r->violations[i].field, r->violations[i].description);
	if (r->retry_after_ms > 0)
		fprintf(stderr, "  retry after %u ms\n", r->retry_after_ms);
}

int cli_report(const cli *c, int rc, const char *fmt, ...)
{
	char msg[1024], name[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bool usage = rc == OB_EXIT_USAGE;
	if (c->json && json_error(usage ? "INVALID_ARGUMENT" : "UNKNOWN", msg, NULL,
	                          usage ? "usage" : "local"))
		return rc;
	who(c, name, sizeof(name));
	fprintf(stderr, "%s: %s\n", name, msg);
	if (usage)
		fprintf(stderr, "Try '%s --help'.\n", name);
	return rc;
}
