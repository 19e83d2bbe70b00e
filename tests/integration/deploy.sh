#!/usr/bin/env bash
# deploy.sh: what operators are given in deploy/, checked as far as this machine can without
# systemd running or a container engine:
#  - the systemd unit meson made: `systemd-analyze security --offline` rates it 2.5 or better
#    (the test fails above, and fails when systemd-analyze is missing: tools/install-deps.sh
#    installs it); `systemd-analyze verify` finds nothing; Type=notify with a watchdog,
#    ExecReload sending SIGHUP, the hardening the issue asks for; a restart policy that stops a
#    crash loop (the start limit) and gives up at once on a wrong option (exit status 2); its
#    socket is the onboard CLI's default; its variables are onboardd's;
#  - the EnvironmentFile example names every option of onboardd, nothing else, and onboardd
#    serves with its values (paths moved into a temporary directory);
#  - the container: the Containerfile's shape (Debian 12, a user of its own, volumes for data
#    and keys, a health check), compose.yaml and prometheus.yml parse as YAML and agree with
#    each other and with onboardd's options.
#
# Environment (meson test sets it): ONBOARDD, ONBOARD_CLI, DEPLOY_UNIT (the unit meson made),
# DEPLOY_ENV_EXAMPLE (the example meson made), DEPLOY_DIR (deploy/ in the source tree).
set -uo pipefail

for v in ONBOARDD ONBOARD_CLI DEPLOY_UNIT DEPLOY_ENV_EXAMPLE DEPLOY_DIR; do
	[ -n "${!v:-}" ] || { echo "FAIL: \$$v is not set (meson test sets it)" >&2; exit 1; }
done
. "$(dirname "$0")/lib.sh"
lib_init ob-deploy
unit=$DEPLOY_UNIT
example=$DEPLOY_ENV_EXAMPLE
container=$DEPLOY_DIR/container

# The variables of onboardd's options, from its --help (one per option, under it).
"$ONBOARDD" --help >"$dir/help" || die "onboardd --help failed"
grep -oE '^ +\$ONBOARDD_[A-Z_]+$' "$dir/help" | tr -d ' $' | sort >"$dir/options"
[ "$(wc -l <"$dir/options")" -ge 25 ] || die "onboardd --help names too few variables"

# is_option NAME WHERE: NAME is a variable of onboardd.
is_option() {
	checks=$((checks + 1))
	grep -qxF -- "$1" "$dir/options" || fail "$2: $1 is no option of onboardd"
}

# ---- the unit's security rating ----------------------------------------------------------
checks=$((checks + 1))
if ! command -v systemd-analyze >/dev/null; then
	fail "systemd-analyze is missing: tools/install-deps.sh installs the systemd package"
else
	systemd-analyze security --offline=true "$unit" >"$dir/security" 2>&1
	rating=$(sed -nE 's/^→ Overall exposure level for [^:]*: ([0-9]+\.[0-9]+) .*/\1/p' "$dir/security")
	if [ -z "$rating" ]; then
		fail "systemd-analyze security gave no rating: $(cat "$dir/security")"
	elif awk -v r="$rating" 'BEGIN { exit !(r > 2.5) }'; then
		fail "systemd-analyze security rates the unit $rating, above 2.5:"
		grep '✗' "$dir/security" >&2
	else
		echo "ok: systemd-analyze security rates the unit $rating (2.5 or better)"
	fi
fi

# ---- what the unit must say --------------------------------------------------------------
# directive LINE: the unit has this line, exactly.
directive() {
	checks=$((checks + 1))
	grep -qxF -- "$1" "$unit" || fail "the unit has no line '$1'"
}
directive "Type=notify"
directive "NotifyAccess=main"
directive 'ExecReload=/bin/kill -HUP $MAINPID'
directive "CapabilityBoundingSet="
directive "ProtectProc=invisible"
directive "SystemCallFilter=@system-service"
directive "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"
directive "NoNewPrivileges=yes"
directive "User=onboard"
checks=$((checks + 1))
grep -qE '^WatchdogSec=[1-9][0-9]*s$' "$unit" || fail "the unit has no WatchdogSec="
checks=$((checks + 1))
grep -qE '^LimitNOFILE=[1-9][0-9]+$' "$unit" || fail "the unit has no LimitNOFILE="
checks=$((checks + 1))
grep -qxE 'EnvironmentFile=-/etc/onboard/onboardd\.env' "$unit" || fail "the unit reads no EnvironmentFile"
checks=$((checks + 1))
grep -qE '^ExecStart=/.*/onboardd$' "$unit" || fail "ExecStart: $(grep ExecStart "$unit")"
# The keyring and the master key file, and every variable an option of onboardd.
sed -nE 's/^Environment=([A-Z_]+)=.*/\1/p' "$unit" >"$dir/unit-vars"
for v in ONBOARDD_KEYRING ONBOARDD_MASTER_KEY ONBOARDD_LISTEN ONBOARDD_DB; do
	checks=$((checks + 1))
	grep -qxF "$v" "$dir/unit-vars" || fail "the unit does not set $v"
done
while read -r v; do is_option "$v" "the unit"; done <"$dir/unit-vars"

# The unit's socket is the CLI's default: `onboard --help` names the unit's socket.
unit_socket=$(sed -nE 's/^Environment=ONBOARDD_LISTEN=(ipc:\/\/[^ ]+)$/\1/p' "$unit")
"$ONBOARD_CLI" --help >"$dir/cli-help" 2>&1
cli_socket=$(tr -d '\n' <"$dir/cli-help" | tr -s ' ' | sed -nE "s/.*the systemd unit's, (ipc:\/\/[^)]+)\).*/\1/p")
checks=$((checks + 1))
[ -n "$unit_socket" ] && [ "$unit_socket" = "$cli_socket" ] ||
	fail "the unit listens on '$unit_socket', the CLI's default system socket is '$cli_socket'"

# ---- systemd-analyze verify, and the restart policy ----------------------------------------
# verify wants ExecStart's program to exist: a copy of the unit runs the onboardd under test.
# Any output is a finding (an unknown key, a key in the wrong section, a bad value).
sed -E "s|^ExecStart=.*|ExecStart=$ONBOARDD|" "$unit" >"$dir/onboardd.service"
checks=$((checks + 1))
if ! systemd-analyze verify "$dir/onboardd.service" >"$dir/verify" 2>&1 || [ -s "$dir/verify" ]; then
	fail "systemd-analyze verify: $(cat "$dir/verify")"
else
	echo "ok: systemd-analyze verify finds nothing to say"
fi

# unit_usec KEY: the unit's KEY= (a time span) in microseconds, through systemd's own parser.
unit_usec() {
	local v
	v=$(sed -nE "s/^$1=(.+)$/\1/p" "$unit")
	[ -n "$v" ] && systemd-analyze timespan "$v" 2>/dev/null | sed -nE 's/^ *μs: ([0-9]+)$/\1/p'
}
directive "Restart=on-failure"
directive "RestartPreventExitStatus=2"
interval=$(unit_usec StartLimitIntervalSec)
restart=$(unit_usec RestartSec)
burst=$(sed -nE 's/^StartLimitBurst=([0-9]+)$/\1/p' "$unit")
checks=$((checks + 1))
if [ -z "$interval" ] || [ -z "$restart" ] || [ -z "$burst" ]; then
	fail "the unit lacks StartLimitIntervalSec=, StartLimitBurst= or RestartSec="
# A crash loop (each start failing at once) makes burst starts in (burst - 1) x RestartSec:
# within the interval, so that it trips the limit; and restarts are not so quick that a
# passing fault has no time to clear (10 s or more apart).
elif [ $(((burst - 1) * restart)) -ge "$interval" ]; then
	fail "a crash loop never trips the start limit: $burst starts take $(((burst - 1) * restart / 1000000)) s, the interval is $((interval / 1000000)) s"
elif [ "$restart" -lt 10000000 ] || [ "$burst" -lt 3 ]; then
	fail "RestartSec= under 10 s or StartLimitBurst= under 3: a passing fault gets no time"
else
	echo "ok: a crash loop stops at its start number $burst, $(((burst - 1) * restart / 1000000)) s after the first (limit: $((interval / 1000000)) s)"
fi
# The status RestartPreventExitStatus= names is onboardd's for a wrong option.
run "a wrong option exits 2" 2 "$ONBOARDD" --no-such-option || true

# ---- the EnvironmentFile example ---------------------------------------------------------
sed -nE 's/^#?(ONBOARDD_[A-Z_]+)=.*/\1/p' "$example" | sort -u >"$dir/example-vars"
while read -r v; do is_option "$v" "the example"; done <"$dir/example-vars"
while read -r v; do
	checks=$((checks + 1))
	grep -qxF "$v" "$dir/example-vars" || fail "the example does not show $v"
done <"$dir/options"

# onboardd serves with the example's values, its paths moved here and without TLS (which
# needs certificates) and --now (a rehearsal's).
mkdir -m 700 "$dir/state"
: >"$dir/state/keyring"
head -c 32 /dev/urandom | base64 >"$dir/state/token-secret"
chmod 600 "$dir/state/token-secret"
url="ipc://$dir/state/onboardd.sock"
env_args=()
while IFS= read -r line; do
	line=${line#\#}
	name=${line%%=*}
	value=${line#*=}
	case $name in
	# The HTTP face's URL would need a free port and, for https, the TLS files: http.sh
	# tests it; its caps are still applied.
	ONBOARDD_TLS_* | ONBOARDD_NOW | ONBOARDD_HTTP) continue ;;
	ONBOARDD_LISTEN) value=$url ;;
	ONBOARDD_DB) value=$dir/state/onboard.db ;;
	ONBOARDD_MASTER_KEY) value=$dir/state/master.key ;;
	ONBOARDD_KEYRING) value=$dir/state/keyring ;;
	ONBOARDD_TOKEN_SECRET) value=$dir/state/token-secret ;;
	esac
	env_args+=("$name=$value")
done < <(grep -E '^#?ONBOARDD_[A-Z_]+=' "$example")
log=$dir/example.log
env "${env_args[@]}" "$ONBOARDD" >"$log" 2>&1 </dev/null &
pid=$!
lib_pids+=("$pid")
checks=$((checks + 1))
if wait_for_line "$log" '"onboardd .* serving"' "$pid"; then
	run "health, configured by the example" 0 "$ONBOARD_CLI" -s "$url" health || true
	expect_clean_stop
else
	fail "onboardd does not serve with the example's values: $(cat "$log")"
fi

# ---- the container -----------------------------------------------------------------------
cf=$container/Containerfile
for want in '^FROM debian:12 AS build$' '^FROM debian:12-slim$' '^USER onboard$' \
	'^VOLUME \["/var/lib/onboard", "/var/lib/onboard-keys"\]$' '^HEALTHCHECK ' \
	'CMD \["/usr/local/bin/onboard", "--timeout", "4s", "health"\]$' \
	'^ENTRYPOINT \["/usr/local/bin/onboardd"\]$'; do
	checks=$((checks + 1))
	grep -qE -- "$want" "$cf" || fail "the Containerfile has no line matching /$want/"
done
# Its variables are onboardd's (ONBOARD_SERVER is the CLI's, for the health check).
for v in $(grep -oE 'ONBOARDD_[A-Z_]+=' "$cf" | tr -d '=' | sort -u); do
	is_option "$v" "the Containerfile"
done

# compose.yaml and compose.pg.yaml: valid YAML whose onboardd containers build from the
# Containerfile and set only onboardd's options; one script, a function a file.
cat >"$dir/compose_check.py" <<'PY'
import os, sys, yaml
from urllib.parse import urlsplit


def load(compose_path, options_path):
    """The compose file's services, its folder and onboardd's options."""
    compose = yaml.safe_load(open(compose_path))
    options = set(open(options_path).read().split())
    return compose["services"], os.path.dirname(compose_path), options


def check_onboardd(n, s, here, options, problems):
    """What every onboardd container of either file must do."""
    build = s.get("build", {})
    if not os.path.isfile(os.path.join(here, build.get("context", "?"), build.get("dockerfile", "?"))):
        problems.append(n + "'s build does not name the Containerfile")
    # The HTTP face's variables (ONBOARDD_HTTP*) come with issue 12's part 1, built apart.
    for name in s.get("environment", {}):
        if name.startswith("ONBOARDD_") and name not in options and not name.startswith("ONBOARDD_HTTP"):
            problems.append("%s: %s is no option of onboardd" % (n, name))


def compose(problems, compose_path, prom_path, options_path):
    """compose.yaml and prometheus.yml agree with each other and with onboardd."""
    services, here, options = load(compose_path, options_path)
    prom = yaml.safe_load(open(prom_path))
    ob = services["onboardd"]
    check_onboardd("onboardd", ob, here, options, problems)
    targets = set(ob.get("volumes", []))
    for want in ("/var/lib/onboard", "/var/lib/onboard-keys"):
        if not any(v.split(":")[1] == want for v in targets):
            problems.append("onboardd has no volume at " + want)
    http = ob["environment"].get("ONBOARDD_HTTP", "")

    pr = services["prometheus"]
    mounts = [v.split(":") for v in pr["volumes"]]
    config = [m for m in mounts if m[1] == "/etc/prometheus/prometheus.yml"]
    if not config or os.path.realpath(os.path.join(here, config[0][0])) != os.path.realpath(prom_path):
        problems.append("prometheus does not mount prometheus.yml")
    if "onboardd" not in pr.get("depends_on", []):
        problems.append("prometheus does not depend on onboardd")

    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    job = jobs.get("onboardd")
    if job is None:
        problems.append("prometheus.yml has no onboardd job")
    else:
        target = job["static_configs"][0]["targets"][0]
        host, port = target.rsplit(":", 1)
        if host != "onboardd" or not http.endswith(":" + port):
            problems.append("prometheus scrapes %s, onboardd's HTTP face is %s" % (target, http))
        if job.get("metrics_path", "/metrics") != "/metrics":
            problems.append("prometheus does not scrape /metrics")


def compose_pg(problems, compose_path, env_example, options_path):
    """compose.pg.yaml: PostgreSQL and two onboardd on it, which share one database and one
    key file made by `migrate` before them, keep the password out of the URL, and publish
    distinct ports."""
    services, here, options = load(compose_path, options_path)
    pg = services["postgres"]
    if not str(pg["image"]).startswith("postgres:15"):
        problems.append("postgres is not PostgreSQL 15: " + str(pg["image"]))
    if "test" not in pg.get("healthcheck", {}):
        problems.append("postgres has no health check for the others to wait on")
    pg_env = pg.get("environment", {})
    example = dict(l.split("=", 1) for l in open(env_example).read().splitlines()
                   if l and not l.startswith("#"))
    for want in ("POSTGRES_PASSWORD", "PGPASSWORD"):
        if want not in example:
            problems.append("pg.env.example does not set " + want)

    onboardds = {n: s for n, s in services.items() if n == "migrate" or n.startswith("onboardd-")}
    if len([n for n in onboardds if n.startswith("onboardd-")]) != 2:
        problems.append("there are not two onboardd instances")
    keys, ports, dbs = set(), [], set()
    for n, s in onboardds.items():
        check_onboardd(n, s, here, options, problems)
        env = s.get("environment", {})
        url = urlsplit(env.get("ONBOARDD_DB", ""))
        if url.scheme != "postgresql" or url.hostname != "postgres" or url.password:
            problems.append(n + ": ONBOARDD_DB is not a password-less URL of the service postgres")
        if url.username != pg_env.get("POSTGRES_USER") or url.path.lstrip("/") != pg_env.get("POSTGRES_DB"):
            problems.append(n + ": ONBOARDD_DB names another role or database than postgres makes")
        dbs.add(env.get("ONBOARDD_DB"))
        keys.add(env.get("ONBOARDD_MASTER_KEY"))
        if not any(v.split(":")[1] == os.path.dirname(env.get("ONBOARDD_MASTER_KEY", "/x/y"))
                   for v in s.get("volumes", [])):
            problems.append(n + " does not mount the volume of the key file")
        if "pg.env" not in (s.get("env_file") if isinstance(s.get("env_file"), list) else [s.get("env_file")]):
            problems.append(n + " does not read the password from pg.env")
        deps = s.get("depends_on", {})
        if deps.get("postgres", {}).get("condition") != "service_healthy":
            problems.append(n + " does not wait for postgres to be healthy")
        if n == "migrate":
            if s.get("command") != ["migrate"] or s.get("restart") != "no":
                problems.append("migrate does not run `onboardd migrate` once")
            continue
        if deps.get("migrate", {}).get("condition") != "service_completed_successfully":
            problems.append(n + " does not wait for migrate")
        if "tcp://" not in env.get("ONBOARDD_LISTEN", "") or not env.get("ONBOARDD_HTTP"):
            problems.append(n + " does not listen on tcp:// and HTTP")
        ports += [p.rsplit(":", 2)[1] for p in s.get("ports", [])]
    if len(keys) != 1 or None in keys:
        problems.append("the onboardd containers do not share one master key file: %s" % keys)
    if len(dbs) != 1:
        problems.append("the onboardd containers do not share one database")
    if len(ports) != len(set(ports)) or len(ports) < 4:
        problems.append("the instances' host ports are not four distinct ones: %s" % ports)


# compose_check.py FUNCTION ARGS...: prints each problem, exits 1 when there is one.
problems = []
{"compose": compose, "compose-pg": compose_pg}[sys.argv[1]](problems, *sys.argv[2:])
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY

checks=$((checks + 1))
if ! python3 "$dir/compose_check.py" compose "$container/compose.yaml" \
	"$container/prometheus.yml" "$dir/options" >"$dir/compose.out" 2>&1; then
	fail "compose.yaml / prometheus.yml: $(cat "$dir/compose.out")"
else
	echo "ok: compose.yaml and prometheus.yml parse and agree"
fi

checks=$((checks + 1))
if ! python3 "$dir/compose_check.py" compose-pg "$container/compose.pg.yaml" \
	"$container/pg.env.example" "$dir/options" >"$dir/compose-pg.out" 2>&1; then
	fail "compose.pg.yaml: $(cat "$dir/compose-pg.out")"
else
	echo "ok: compose.pg.yaml parses: PostgreSQL and two onboardd sharing one database and key file"
fi

finish deploy
