#include "testdomain.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/vault.h"
#include "store/pg.h"
#include "store/sqlite.h"
#include "testutil.h"

int ob_test_domain_init(ob_test_domain *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	if (sodium_init() < 0) {
		fprintf(stderr, "ob_test_domain_init: sodium_init failed\n");
		return -1;
	}
	if (ob_test_mkdtemp(t->dir, sizeof(t->dir), name) != 0)
		return -1;
	snprintf(t->db, sizeof(t->db), "%s/onboard.db", t->dir);
	snprintf(t->key, sizeof(t->key), "%s/master.key", t->dir);
	if (ob_test_domain_is_pg() && ob_test_pg_create(&t->pg) != 0) {
		ob_test_remove_tree(t->dir);
		t->dir[0] = '\0';
		return -1;
	}
	return 0;
}

int ob_test_domain_is_pg(void)
{
	return ob_test_pg_enabled();
}

ob_keystore *ob_test_keystore_random(void)
{
	static const char *const kids[] = {"test"};
	uint8_t keys[1][OB_VAULT_KEY_LEN], index_key[OB_VAULT_KEY_LEN];
	randombytes_buf(keys, sizeof(keys));
	randombytes_buf(index_key, sizeof(index_key));
	ob_vault *v = NULL;
	ob_keystore *ks = NULL;
	ob_err err = ob_vault_from_keys(kids, (const uint8_t(*)[OB_VAULT_KEY_LEN])keys, 1,
	                                index_key, &v);
	if (err == OB_OK)
		err = ob_keystore_create(v, &ks); /* takes v, also on failure */
	sodium_memzero(keys, sizeof(keys));
	sodium_memzero(index_key, sizeof(index_key));
	return err == OB_OK ? ks : NULL;
}

ob_err ob_test_domain_open(ob_test_domain *t)
{
	ob_err err;
	if (t->pg.name[0] != '\0') {
		if (t->keys == NULL && t->pg_keys == NULL &&
		    (t->pg_keys = ob_test_keystore_random()) == NULL)
			return OB_ENOMEM;
		err = ob_store_open_pg(&t->store, t->pg.conninfo,
		                       t->keys != NULL ? t->keys : t->pg_keys, 4);
	} else {
		err = t->keys != NULL ? ob_store_open_sqlite_keystore(&t->store, t->db, t->keys)
		                      : ob_store_open_sqlite(&t->store, t->db);
	}
	if (err == OB_OK)
		err = ob_domain_create(&t->d, t->store, t->keys);
	if (err != OB_OK)
		ob_test_domain_close(t);
	return err;
}

void ob_test_domain_close(ob_test_domain *t)
{
	ob_domain_destroy(t->d);
	t->d = NULL;
	ob_store_destroy(t->store);
	t->store = NULL;
}

void ob_test_applications_fini(ob_application *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ob_application_fini(&a[i]);
}

void ob_test_domain_fini(ob_test_domain *t)
{
	ob_test_domain_close(t);
	ob_keystore_destroy(t->keys);
	t->keys = NULL;
	ob_keystore_destroy(t->pg_keys);
	t->pg_keys = NULL;
	if (t->pg.name[0] != '\0')
		ob_test_pg_drop(&t->pg);
	ob_test_remove_tree(t->dir);
	t->dir[0] = '\0';
}
