/*
 * Counters kept in memory for a batch of writes (group commit), written
 * once before the batch commits.
 *
 * Every write moves a dozen counters (seats, waitlist, size, region, ...):
 * as rows, that was a quarter of a Submit's cost on the writer thread. In
 * a batch, a write's deltas go to a table in memory instead; reads of a
 * counter inside the batch see the row plus the deltas; the deltas of a
 * write that fails are dropped with its savepoint, those of the writes that
 * succeed are flushed as rows before COMMIT (sq_deltas_flush), in the same
 * transaction: what is durable is exactly what was before.
 *
 * Only the writer thread touches it, under write_mu.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_impl.h"

static uint64_t hash_of(const char *cohort, const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const char *p = cohort; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h;
}

/* The slot of (cohort, key), or the empty slot where it would go. */
static sq_delta *slot_of(sq_deltas *d, const char *cohort, const char *key, uint64_t h)
{
	for (size_t i = h & (SQ_DELTAS_CAP - 1);; i = (i + 1) & (SQ_DELTAS_CAP - 1)) {
		sq_delta *e = &d->slots[i];
		if (!e->used ||
		    (e->hash == h && strcmp(e->key, key) == 0 && strcmp(e->cohort, cohort) == 0))
			return e;
	}
}

bool sq_deltas_add(sq_deltas *d, const char *cohort, const char *key, int64_t delta)
{
	if (strlen(cohort) >= sizeof(d->slots->cohort) || strlen(key) >= sizeof(d->slots->key))
		return false;
	uint64_t h = hash_of(cohort, key);
	sq_delta *e = slot_of(d, cohort, key, h);
	if (!e->used) {
		/* Full enough, or this write touches too much: the caller writes
		 * the row itself (in the write's savepoint, so still correct). */
		if (d->n_used >= SQ_DELTAS_CAP / 2 || d->n_touched == SQ_DELTAS_TOUCHED)
			return false;
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->hash = h;
		memcpy(e->cohort, cohort, strlen(cohort) + 1);
		memcpy(e->key, key, strlen(key) + 1);
		d->used[d->n_used++] = (uint16_t)(e - d->slots);
	}
	if (!e->touched) {
		if (d->n_touched == SQ_DELTAS_TOUCHED)
			return false;
		e->touched = true;
		d->touched[d->n_touched++] = (uint16_t)(e - d->slots);
	}
	e->write += delta;
	return true;
}

int64_t sq_deltas_get(const sq_deltas *d, const char *cohort, const char *key)
{
	uint64_t h = hash_of(cohort, key);
	const sq_delta *e = slot_of((sq_deltas *)d, cohort, key, h);
	return e->used ? e->batch + e->write : 0;
}

void sq_deltas_end_write(sq_deltas *d, bool keep)
{
	for (size_t i = 0; i < d->n_touched; i++) {
		sq_delta *e = &d->slots[d->touched[i]];
		if (keep)
			e->batch += e->write;
		e->write = 0;
		e->touched = false;
	}
	d->n_touched = 0;
}

ob_err sq_deltas_merge(const sq_deltas *d, const char *cohort, const char *prefix,
                       ob_counter **list, size_t *n)
{
	size_t plen = strlen(prefix), rows = *n;
	for (size_t i = 0; i < d->n_used; i++) {
		const sq_delta *e = &d->slots[d->used[i]];
		int64_t v = e->batch + e->write;
		if (v == 0 || strcmp(e->cohort, cohort) != 0 || strncmp(e->key, prefix, plen) != 0)
			continue;
		size_t k = 0; /* the keys of the table are unique: only rows can hold it */
		while (k < rows && strcmp((*list)[k].key, e->key) != 0)
			k++;
		if (k < rows) {
			(*list)[k].count += v;
			continue;
		}
		/* A counter the rows lack: rare (a key the batch created). */
		ob_counter *grown = realloc(*list, (*n + 1) * sizeof(**list));
		if (grown == NULL)
			return OB_ENOMEM;
		*list = grown;
		snprintf(grown[*n].key, sizeof(grown[*n].key), "%s", e->key);
		grown[(*n)++].count = v;
	}
	return OB_OK;
}

ob_err sq_deltas_flush(sq_txn *t, sq_deltas *d)
{
	ob_err err = OB_OK;
	ob_counter rows[OB_MAX_COUNTER_BATCH];
	/* Row by row of the table in order of first use, one statement for up
	 * to OB_MAX_COUNTER_BATCH counters of one cohort. */
	for (size_t i = 0; err == OB_OK && i < d->n_used;) {
		const char *cohort = d->slots[d->used[i]].cohort;
		size_t n = 0;
		for (; i < d->n_used && n < OB_MAX_COUNTER_BATCH; i++) {
			sq_delta *e = &d->slots[d->used[i]];
			if (strcmp(e->cohort, cohort) != 0)
				break;
			if (e->batch == 0)
				continue;
			memcpy(rows[n].key, e->key,
			       sizeof(e->key) < sizeof(rows[n].key) ? sizeof(e->key)
			                                            : sizeof(rows[n].key));
			rows[n].count = e->batch;
			n++;
		}
		if (n > 0)
			err = sq_counters_write(t, cohort, rows, n);
	}
	sq_deltas_clear(d);
	return err;
}

void sq_deltas_clear(sq_deltas *d)
{
	for (size_t i = 0; i < d->n_used; i++)
		d->slots[d->used[i]].used = false;
	d->n_used = 0;
	d->n_touched = 0;
}
