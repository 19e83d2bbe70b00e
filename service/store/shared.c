/*
 * What both stores write the same way (shared.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/shared.h"

void store_categories_join(const ob_application *a, char out[STORE_CATEGORIES_SIZE])
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t k = 0; k < a->n_categories; k++)
		off += (size_t)snprintf(out + off, STORE_CATEGORIES_SIZE - off, "%s%s",
		                        k > 0 ? "\n" : "", a->categories[k]);
}

void store_categories_split(const char *cats, ob_application *a)
{
	a->n_categories = 0;
	while (cats != NULL && *cats != '\0' && a->n_categories < OB_MAX_CATEGORIES) {
		size_t len = strcspn(cats, "\n");
		snprintf(a->categories[a->n_categories++], OB_CATEGORY_MAX + 1, "%.*s", (int)len,
		         cats);
		cats += len + (cats[len] == '\n');
	}
}

void store_divisions_format(const ob_naf_divisions *in, char out[STORE_DIVISIONS_SIZE])
{
	size_t len = 0;
	out[0] = '\0';
	for (unsigned d = 0; d < OB_NAF_DIVISIONS; d++)
		if (ob_naf_divisions_has(in, d))
			len += (size_t)snprintf(out + len, STORE_DIVISIONS_SIZE - len, "%s%02u",
			                        len > 0 ? "," : "", d);
}

void store_divisions_parse(const char *p, ob_naf_divisions *out)
{
	memset(out, 0, sizeof(*out));
	while (p != NULL && *p != '\0') {
		char *end;
		unsigned long d = strtoul(p, &end, 10);
		if (end == p)
			break; /* a row changed by hand: what could be read */
		if (d < OB_NAF_DIVISIONS)
			ob_naf_divisions_add(out, (unsigned)d);
		p = *end == ',' ? end + 1 : end;
	}
}

void store_app_list_sql(const char *select, const ob_app_filter *f, char *sql, size_t cap)
{
	store_app_list_sql_rows(select, f, false, sql, cap);
}

void store_app_list_sql_rows(const char *select, const ob_app_filter *f, bool cohort_in_row,
                             char *sql, size_t cap)
{
	int len = 0;
#define ADD(...) (len += snprintf(sql + len, len < (int)cap ? cap - (size_t)len : 0, __VA_ARGS__))
	ADD("%sWHERE a.seq > ?1", select);
	if (f->cohort_id != NULL)
		ADD(cohort_in_row && f->states == 0 && f->submitted_by == NULL
		            ? " AND +a.cohort_id = ?2"
		            : " AND a.cohort_id = ?2");
	if (f->states != 0) {
		ADD(" AND a.state IN (");
		const char *sep = "";
		for (int st = 0; st < OB_STATE_COUNT; st++)
			if (f->states & (1u << st)) {
				ADD("%s%d", sep, st);
				sep = ",";
			}
		ADD(")");
	}
	if (f->size != OB_SIZE_UNSPECIFIED)
		ADD(" AND a.size = ?3");
	if (f->departement != NULL)
		ADD(" AND a.departement = ?4");
	if (f->region != NULL)
		ADD(" AND a.region = ?5");
	if (f->channel != OB_CHANNEL_UNSPECIFIED)
		ADD(" AND a.channel = ?6");
	if (f->submitted_from_ms != 0)
		ADD(" AND a.submitted_at >= ?7");
	if (f->submitted_to_ms != 0)
		ADD(" AND a.submitted_at < ?8");
	if (f->submitted_by != NULL)
		ADD(" AND a.submitted_by = ?10");
	ADD(" ORDER BY a.seq LIMIT ?9");
#undef ADD
}
