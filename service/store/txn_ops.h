/*
 * txn_ops.h: the operations of the port's table (domain/store.h,
 * ob_store_ops) that work on a transaction, as each store declares them: its
 * private header defines STORE_FN(name) to its prefixed name and includes
 * this file, so that the SQLite store declares sq_cohort_get and the
 * PostgreSQL one pg_cohort_get from one list, which follows the port's.
 * Their contracts are the port's; each store's ops table points at them.
 * No include guard: included once by each store's private header.
 */

/* Cohorts and their counters */
ob_err STORE_FN(cohort_get)(ob_txn *t, const char *id, ob_cohort *out);
ob_err STORE_FN(cohort_list)(ob_txn *t, ob_cohort *out, size_t max, size_t *n);
ob_err STORE_FN(cohort_insert)(ob_txn *t, const ob_cohort *c);
ob_err STORE_FN(cohort_set_capacity)(ob_txn *t, const char *id, uint32_t capacity);
ob_err STORE_FN(counter_add)(ob_txn *t, const char *cohort, const char *key, int64_t delta);
ob_err STORE_FN(counters_add)(ob_txn *t, const char *cohort, const ob_counter *d, size_t n);
ob_err STORE_FN(counter_get)(ob_txn *t, const char *cohort, const char *key, int64_t *out);
ob_err STORE_FN(counter_list)(ob_txn *t, const char *cohort, const char *prefix, ob_counter **out,
                              size_t *n);

/* Advisors */
ob_err STORE_FN(advisors_create)(ob_txn *t, const char *cohort, uint32_t pool);
ob_err STORE_FN(advisor_insert)(ob_txn *t, ob_advisor *a);
ob_err STORE_FN(advisor_get)(ob_txn *t, const char *cohort, uint32_t number, ob_advisor *out);
ob_err STORE_FN(advisor_update)(ob_txn *t, const ob_advisor *a);
ob_err STORE_FN(advisor_list)(ob_txn *t, const char *cohort, ob_advisor **out, size_t *n);
ob_err STORE_FN(advisor_pick)(ob_txn *t, const char *cohort, const char *region,
                              const char *language, uint32_t except, uint32_t *advisor);
ob_err STORE_FN(advisor_add)(ob_txn *t, const char *cohort, uint32_t advisor, int delta);

/* Webinar sessions and bookings */
ob_err STORE_FN(webinar_booked)(ob_txn *t, const char *cohort, int64_t session_ms, ob_topic topic,
                                uint32_t *booked);
ob_err STORE_FN(webinar_add)(ob_txn *t, const char *cohort, int64_t session_ms, ob_topic topic,
                             int delta);
ob_err STORE_FN(booking_get)(ob_txn *t, int64_t app_seq, ob_booking *out);
ob_err STORE_FN(booking_put)(ob_txn *t, int64_t app_seq, const char *cohort, const ob_booking *b);
ob_err STORE_FN(booking_delete)(ob_txn *t, int64_t app_seq);

/* Applications */
ob_err STORE_FN(app_insert)(ob_txn *t, ob_application *a);
ob_err STORE_FN(app_update)(ob_txn *t, const ob_application *a);
ob_err STORE_FN(app_get)(ob_txn *t, const char *id, const char *owner, ob_application *out);
ob_err STORE_FN(app_get_by_siren)(ob_txn *t, const char *cohort, const char *siren,
                                  const char *owner, ob_application *out);
ob_err STORE_FN(app_first_waitlisted)(ob_txn *t, const char *cohort, ob_application *out);
ob_err STORE_FN(app_waitlist_position)(ob_txn *t, const ob_application *a, uint32_t *out);
ob_err STORE_FN(waitlist_leave)(ob_txn *t, const char *cohort, int64_t ticket);
ob_err STORE_FN(app_list)(ob_txn *t, const ob_app_filter *f, int64_t after_seq, size_t limit,
                          ob_application **out, size_t *n);
ob_err STORE_FN(benefits_of_siren)(ob_txn *t, const char *siren, ob_granted **out, size_t *n);

/* History, contacts and their keys */
ob_err STORE_FN(history_append)(ob_txn *t, int64_t app_seq, const ob_state_change *c);
ob_err STORE_FN(history_load)(ob_txn *t, ob_application *a);
ob_err STORE_FN(contact_erase)(ob_txn *t, int64_t app_seq, const char *actor, int64_t now_ms);
ob_err STORE_FN(apps_by_email)(ob_txn *t, const uint8_t index[OB_STORE_INDEX_LEN],
                               ob_application **out, size_t *n);
ob_err STORE_FN(rewrap_batch)(ob_txn *t, int64_t after_seq, size_t limit, size_t *rewrapped,
                              size_t *failed, int64_t *last_seq);

/* Idempotency records and the audit trail */
ob_err STORE_FN(idem_get)(ob_txn *t, const char *key, uint8_t hash[32], uint8_t **reply,
                          size_t *reply_len);
ob_err STORE_FN(idem_put)(ob_txn *t, const char *key, const uint8_t hash[32], const uint8_t *reply,
                          size_t reply_len, int64_t now_ms, const ob_application *a);
ob_err STORE_FN(idem_purge)(ob_txn *t, int64_t before_ms, unsigned limit);
ob_err STORE_FN(audit_append)(ob_txn *t, const ob_audit_event *e);
ob_err STORE_FN(audit_list)(ob_txn *t, int64_t after_seq, size_t limit, ob_audit_event **out,
                            size_t *n);
