/*
 * test_peer_key.c: which connections count as one peer for
 * --max-connections-per-peer (service/rpc/conn.c). An IPv6 host is given a
 * whole /64 and can dial from any address in it, so the /64 is the peer; an
 * IPv4 address is one peer, whether it comes plain or v4-mapped.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/server_impl.h"

static nng_sockaddr v6(const char *text)
{
	nng_sockaddr sa;
	memset(&sa, 0, sizeof(sa));
	sa.s_in6.sa_family = NNG_AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, text, sa.s_in6.sa_addr), 1);
	return sa;
}

static nng_sockaddr v4(const char *text)
{
	nng_sockaddr sa;
	memset(&sa, 0, sizeof(sa));
	sa.s_in.sa_family = NNG_AF_INET;
	assert_int_equal(inet_pton(AF_INET, text, &sa.s_in.sa_addr), 1);
	return sa;
}

/* Whether x and y count as one peer: the same key. */
static bool one_peer(nng_sockaddr x, nng_sockaddr y)
{
	uint8_t a[16], b[16];
	assert_true(ob_peer_key(&x, a));
	assert_true(ob_peer_key(&y, b));
	return memcmp(a, b, sizeof(a)) == 0;
}

static void test_ipv6_same_64_is_one_peer(void **state)
{
	(void)state;
	assert_true(one_peer(v6("2001:db8:1:2::1"), v6("2001:db8:1:2:ffff:1234:5678:9abc")));
}

static void test_ipv6_other_64_is_another_peer(void **state)
{
	(void)state;
	assert_false(one_peer(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1")));
}

static void test_ipv4_each_address_is_a_peer(void **state)
{
	(void)state;
	assert_false(one_peer(v4("192.0.2.1"), v4("192.0.2.2")));
	/* plain and v4-mapped: the same host */
	assert_true(one_peer(v4("192.0.2.1"), v6("::ffff:192.0.2.1")));
	/* not cut to a /64 */
	assert_true(one_peer(v4("192.0.2.2"), v6("::ffff:192.0.2.2")));
	assert_false(one_peer(v4("192.0.2.1"), v6("::ffff:192.0.2.2")));
}

static void test_ipc_is_no_ip_peer(void **state)
{
	(void)state;
	nng_sockaddr sa;
	memset(&sa, 0, sizeof(sa));
	sa.s_ipc.sa_family = NNG_AF_IPC;
	uint8_t k[16];
	assert_false(ob_peer_key(&sa, k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ipv6_same_64_is_one_peer),
	        cmocka_unit_test(test_ipv6_other_64_is_another_peer),
	        cmocka_unit_test(test_ipv4_each_address_is_a_peer),
	        cmocka_unit_test(test_ipc_is_no_ip_peer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
