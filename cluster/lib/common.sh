# Shared helpers for the cluster/ scripts. Sourced, never run.
# Everything here works on a fresh Debian machine as root and on a developer box with sudo.

FF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '\033[1m[fluxforge]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[fluxforge] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Debian packages FluxForge needs at build and run time:
#   redis-server, redis-tools  Redis 7 (server, redis-cli, redis-benchmark)
#   libhiredis-dev             the RESP reader/formatter the Redis client is built on
#   libssl-dev                 TLS for swift-nio-ssl consumers
#   curl                       the demo and health checks in cluster/up
#   openssl                    the tests check certificates `fluxforge ca` issues with it
#   prometheus                 promtool checks deploy/prometheus; the tests scrape a cluster with the server
#   chromium                   DashboardTests loads the router's /ui in it, headless, over DevTools
FF_APT_PACKAGES=(redis-server redis-tools libhiredis-dev libssl-dev curl openssl prometheus chromium)

# Installs whatever of FF_APT_PACKAGES is missing; runs apt-get update at most once.
ensure_packages() {
    local missing=()
    for pkg in "${FF_APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "system packages present: ${FF_APT_PACKAGES[*]}"
        return 0
    fi
    log "installing missing packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
    command -v swift >/dev/null || die "swift is not on PATH (FluxForge needs Swift 6.3)"
}

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    # 10000–19999: below the kernel's ephemeral range (a port there can be the local end of some
    # client connection, which nothing listens on yet a server then cannot bind) and below the
    # ports the Swift test harness hands out (20000 up to that range).
    local port
    for _ in $(seq 1 200); do
        port=$(( 10000 + RANDOM % 10000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free loopback port found"
}

# start_redis PORT DIR [extra redis-server args...]: starts a private redis-server bound to
# 127.0.0.1 in the background, waits (bounded) until it answers PING, and prints its pid.
start_redis() {
    local port=$1 dir=$2
    shift 2
    mkdir -p "$dir"
    # Hashes with values up to 1 KiB stay listpacks: a finished task's record (with its packed
    # timeline) then takes about 700 bytes instead of 1.5 KB (docs/redis-schema.md).
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize no --hash-max-listpack-value 1024 \
        --logfile "$dir/redis.log" --save '' "$@" >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do
        if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
            echo "$pid"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/redis.log" >&2 2>/dev/null
    die "redis-server did not come up on 127.0.0.1:$port"
}

# wait_http URL SECONDS: polls URL until it answers 2xx (bounded); returns non-zero on timeout.
wait_http() {
    local url=$1 seconds=${2:-30}
    for _ in $(seq 1 $(( seconds * 10 ))); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# json_field NAME: reads JSON on stdin and prints the string value of the first "NAME" key.
json_field() {
    sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" | head -1 || true
}

# shard_api_port I: shard-I's API port (7400, 7402, ...); its agent port is one more.
shard_api_port() { echo $(( 7398 + 2 * $1 )); }
# shard_ops_port I: shard-I's plain health/metrics port (7500, 7501, ...).
shard_ops_port() { echo $(( 7499 + $1 )); }

# start_shard RUN_DIR BIN REDIS_URL ADMIN_TOKEN I: starts shard-I in the background with its log
# in RUN_DIR/logs and its pid in RUN_DIR/pids (where cluster/up's stop and kill-shard find it).
start_shard() {
    local run=$1 bin=$2 redis_url=$3 admin_token=$4 i=$5
    local api_port
    api_port=$(shard_api_port "$i")
    # With a cluster CA (cluster/up without --insecure-dev), the shard signs enrolling agents'
    # certificates and serves agent sessions and API calls (relayed by the router) over mutual
    # TLS; probes use the plain ops port (health, readiness, metrics).
    local ca=()
    [ -f "$run/ca/ca.key" ] && ca=(--ca "$run/ca")
    if [ -f "$run/ca/shard.crt" ] && [ ! -f "$run/insecure-dev" ]; then
        ca+=(--agent-tls-cert "$run/ca/shard.crt" --agent-tls-key "$run/ca/shard.key" --agent-client-ca "$run/ca/ca.crt" --api-mtls)
    else
        ca+=(--insecure-dev)
    fi
    FLUXFORGE_ADMIN_TOKEN="$admin_token" "$bin" shard --id "shard-$i" --redis "$redis_url" \
        --api-port "$api_port" --agent-port $(( api_port + 1 )) --ops-port "$(shard_ops_port "$i")" ${ca[@]+"${ca[@]}"} >>"$run/logs/shard-$i.log" 2>&1 &
    echo $! > "$run/pids/shard-$i.pid"
}

# load_cluster_env: reads what cluster/up wrote about the running cluster, or dies.
load_cluster_env() {
    FF_RUN="$FF_ROOT/cluster/.run"
    [ -f "$FF_RUN/cluster.env" ] || die "no running cluster (start one with cluster/up)"
    # shellcheck disable=SC1091
    source "$FF_RUN/cluster.env"
}

# owned_slots: how many of the 256 slots the router sees owned right now.
owned_slots() {
    curl -fsS "${FF_API:-http://127.0.0.1:7300}/readyz" 2>/dev/null | json_field ownedSlots || true
}
