/*
 * shared.h: what both stores write the same way and that is not
 * cryptography (seal.h): how an application's categories and a cohort's NAF
 * divisions are kept as text, and the SQL of a filtered list. Not an
 * interface. Pure functions.
 */
#ifndef OB_STORE_SHARED_H
#define OB_STORE_SHARED_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/model.h"

enum {
	/* The categories joined by newlines (which they cannot hold). */
	STORE_CATEGORIES_SIZE = OB_MAX_CATEGORIES * (OB_CATEGORY_MAX + 1) + 1,
	/* A set of NAF divisions as "84,99". */
	STORE_DIVISIONS_SIZE = OB_NAF_DIVISIONS * 3 + 1,
};

void store_categories_join(const ob_application *a, char out[STORE_CATEGORIES_SIZE]);
/* The reverse, into a; text NULL reads as none. */
void store_categories_split(const char *text, ob_application *a);
void store_divisions_format(const ob_naf_divisions *in, char out[STORE_DIVISIONS_SIZE]);
/* The reverse: what can be read of a row changed by hand; NULL reads as none. */
void store_divisions_parse(const char *text, ob_naf_divisions *out);

/* The SQL of a list of applications: select (APP_SELECT), then
 * "WHERE a.seq > ?1" and the condition of each filter of f that is set, in
 * seq order, with the parameters numbered as app_list binds them: ?1 after,
 * ?2 cohort, ?3 size, ?4 departement, ?5 region, ?6 channel, ?7 submitted
 * from, ?8 submitted to, ?9 the limit, ?10 submitted by. Values are never in
 * the text. */
void store_app_list_sql(const char *select, const ob_app_filter *f, char *sql, size_t cap);
/* The same; cohort_in_row (SQLite's, whose schema 7 has no index on the
 * cohort alone): with neither states nor an owner, the cohort is tested in
 * the row, written +a.cohort_id, which keeps SQLite's planner from the
 * (cohort, state) and (cohort, owner) indexes, through which it would sort
 * the whole cohort for one page: the rows come from the table in seq order. */
void store_app_list_sql_rows(const char *select, const ob_app_filter *f, bool cohort_in_row,
                             char *sql, size_t cap);

#endif
