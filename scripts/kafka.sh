#!/usr/bin/env bash
# A real Kafka-protocol broker for tests and local runs: tansu (Apache-2.0, Kafka API compatible),
# built once from crates.io into a cache outside the clone (../shared/setup/README.md, "Kafka").
#
#   scripts/kafka.sh install   build tansu into $TODO_CACHE/tansu unless it is there (~13 min cold)
#   scripts/kafka.sh start     install if needed, start a broker on a free loopback port (memory
#                              storage), wait until it answers, print its address (host:port)
#   scripts/kafka.sh stop      stop the broker this script started
#   scripts/kafka.sh status    print the running broker's address, or exit 1
#
# The broker's pid and address are kept in $TODO_CACHE/kafka-run/; its log is there too.
# TODO_CACHE defaults to ~/.cache/todo. The memory engine keeps nothing across a restart.
set -euo pipefail

CACHE=${TODO_CACHE:-$HOME/.cache/todo}
ROOT="$CACHE/tansu"
BIN="$ROOT/bin/tansu"
RUN="$CACHE/kafka-run"
VERSION=0.6.0

log() { echo "kafka.sh: $*" >&2; }

install() {
    if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
        return 0
    fi
    log "building tansu $VERSION into $ROOT (once per machine; about 13 minutes on 2 cores)"
    mkdir -p "$ROOT"
    # --locked: newer dependency versions break the build; dynostore: the memory engine.
    cargo install --locked tansu --version "$VERSION" --features dynostore --root "$ROOT" >&2
}

running() { # the recorded broker is alive (and the pid was not reused by another program)
    [[ -f "$RUN/pid" ]] || return 1
    local pid
    pid=$(cat "$RUN/pid")
    kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$BIN broker"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

answers() { # host port
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

start() {
    if running; then
        cat "$RUN/addr"
        return 0
    fi
    install
    mkdir -p "$RUN"
    local port
    port=$(free_port)
    setsid "$BIN" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine memory://tansu/ \
        >"$RUN/broker.log" 2>&1 </dev/null &
    echo $! >"$RUN/pid"
    echo "127.0.0.1:$port" >"$RUN/addr"
    for _ in $(seq 1 100); do
        if answers 127.0.0.1 "$port"; then
            echo "127.0.0.1:$port"
            return 0
        fi
        if ! running; then
            break
        fi
        sleep 0.1
    done
    log "the broker did not answer on 127.0.0.1:$port; its log:"
    tail -n 20 "$RUN/broker.log" >&2 || true
    stop
    exit 1
}

stop() {
    if running; then
        local pid
        pid=$(cat "$RUN/pid")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/pid" "$RUN/addr"
}

status() {
    if running; then
        cat "$RUN/addr"
    else
        exit 1
    fi
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: scripts/kafka.sh install|start|stop|status" >&2
    exit 2
    ;;
esac
