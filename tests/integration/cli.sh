#!/usr/bin/env bash
# cli.sh: the onboard CLI against a real onboardd, checked the way a user or a
# script sees it: what it prints and its exit status (0 OK, 1 local error,
# 2 usage, 64 + status code).
#
# Needs ONBOARDD and ONBOARD_CLI (meson test sets both). Starts its own
# onboardd in a private temporary directory and stops it on exit.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
lib_init_ipc ob-cli

onboardd_start "$url" --no-access-log --db "$dir/onboard.db"

# health: SERVING, exit 0; with --json, the proto3 JSON mapping.
if run "health" 0 ob health; then
	[ "$out" = "SERVING" ] || fail "health: printed '$out', expected SERVING"
fi
if run "health --json" 0 ob --json health; then
	expect "health --json" '"status"' "$out"
	expect "health --json" '"SERVING"' "$out"
fi
# A service the server does not know: an answer, but not SERVING.
if run "health of an unknown service" 78 ob health onboard.v1.Nope; then
	expect "health of an unknown service" "SERVICE_UNKNOWN" "$out"
fi

# methods: every method, including the programme's own.
if run "methods" 0 ob methods; then
	expect "methods" "/onboard.v1.Onboarding/SubmitApplication" "$out"
	expect "methods" "/onboard.v1.Health/Check" "$out"
	expect "methods" "/onboard.v1.Reflection/ListServices" "$out"
fi

# describe: the contract from the server's reflection, as .proto source (grpcurl describe).
if run "describe" 0 ob describe; then
	for s in Health Reflection Onboarding Admin Auth; do
		expect "describe lists $s" "onboard.v1.$s is a service:" "$out"
	done
fi
if run "describe a service" 0 ob describe onboard.v1.Onboarding; then
	expect "describe a service" "rpc GetCohort ( .onboard.v1.GetCohortRequest ) returns ( .onboard.v1.CohortStanding ) {" "$out"
	expect "describe a read" "option idempotency_level = NO_SIDE_EFFECTS;" "$out"
fi
if run "describe a method by its path" 0 ob describe /onboard.v1.Onboarding/SubmitApplication; then
	expect "describe a method" "onboard.v1.Onboarding.SubmitApplication is a method:" "$out"
fi
if run "describe a message" 0 ob describe onboard.v1.Address; then
	expect "describe a message" "string postal_code = 2;" "$out"
fi
if run "describe an enum" 0 ob describe .onboard.v1.Channel; then
	expect "describe an enum" "CHANNEL_BOTH = 3;" "$out"
fi
if run "describe a nested enum" 0 ob describe onboard.v1.HealthCheckResponse.ServingStatus; then
	expect "describe a nested enum" "SERVICE_UNKNOWN = 3;" "$out"
fi
if run "describe an unknown symbol" 1 ob describe onboard.v1.Nope; then
	expect "describe an unknown symbol" "no symbol 'onboard.v1.Nope'" "$err"
fi

# call: an unknown method is UNIMPLEMENTED (64 + 12), said on stderr.
if run "call of an unknown method" 76 ob call /onboard.v1.Onboarding/NoSuchMethod '{}'; then
	expect "call of an unknown method" "UNIMPLEMENTED" "$err"
fi
if run "call Health/Check" 0 ob call /onboard.v1.Health/Check '{"service":""}'; then
	expect "call Health/Check" '"status"' "$out"
fi
# The request from stdin and from a file.
if run "call from stdin" 0 ob call /onboard.v1.Health/Check - <<<'{"service": ""}'; then
	expect "call from stdin" '"status"' "$out"
fi
echo '{}' >"$dir/req.json"
if run "call from @FILE" 0 ob call /onboard.v1.Health/Check "@$dir/req.json"; then
	expect "call from @FILE" '"status"' "$out"
fi
# request-id metadata with -H; a malformed one is refused by the server.
run "call with -H request-id" 0 ob -H request-id=cli-1 call /onboard.v1.Health/Check '{}' || true
run "call with a bad request-id" 67 ob -H 'request-id=has space' health || true

# Requests that are not valid JSON for the method: usage errors, nothing sent.
if run "call with bad JSON" 2 ob call /onboard.v1.Health/Check '{"service":'; then
	[ -n "$err" ] || fail "call with bad JSON: no message on stderr"
fi
run "call with an unknown field" 2 ob call /onboard.v1.Health/Check '{"nope": 1}' || true
run "call with a wrong type" 2 ob call /onboard.v1.Health/Check '{"service": 5}' || true
run "call without a method" 2 ob call || true
run "unknown command" 2 ob no-such-command || true
run "unknown global option" 2 "$ONBOARD_CLI" --no-such-option health || true

# --help everywhere: the global one, and every command it lists.
if run "--help" 0 "$ONBOARD_CLI" --help; then
	commands=$(printf '%s\n' "$out" | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && $1 != "Commands:" { print $1 }')
	[ -n "$commands" ] || fail "--help lists no commands"
	for cmd in $commands; do
		if run "$cmd --help" 0 "$ONBOARD_CLI" "$cmd" --help; then
			expect "$cmd --help" "Usage: onboard $cmd" "$out"
		fi
	done
fi

# Nothing listens there: a local error (1) with a message naming the place.
nowhere="ipc://$dir/nobody.sock"
if run "server where nothing listens" 1 "$ONBOARD_CLI" --server "$nowhere" --timeout 2s health; then
	expect "server where nothing listens" "nobody.sock" "$err"
fi

# SIGTERM: a clean drain, exit status 0.
expect_clean_stop

finish "cli"
