#!/usr/bin/env bash
# Supply-chain check of the dependency tree with cargo-deny (deny.toml at the repo root):
# licenses, bans (duplicates warn), sources (crates.io only), and known advisories (RustSec) when
# the advisory database is on this machine.
#
#   scripts/supply-chain.sh install   build cargo-deny into $TODO_CACHE/cargo-deny unless it is there
#                                     (once per machine; ~5 minutes on 2 cores, cold)
#   scripts/supply-chain.sh [check]   install if needed, then run the checks
#
# The RustSec advisory database is a git repository on GitHub, and no package registry (crates.io,
# PyPI, npm, Debian) ships a copy of it. The check tries to fetch it once per run (30 s at most)
# into $TODO_CACHE/advisory-db; where that works once, later runs check advisories offline against
# the cached copy even when the fetch fails. Where it never worked (a machine that reaches only the
# package registries, like this project's CI) the advisory check is skipped, and this script says
# so on its output; the other checks still run and still fail the script.
# A copy made elsewhere (`cargo deny fetch db` with the same deny.toml, or a checkout of the
# advisory-db repository placed at $TODO_CACHE/advisory-db/advisory-db-*) is used as it is; one
# whose last fetch is older than 90 days fails the check (cargo-deny's maximum-db-staleness): an
# advisory check against a stale database would pass for the wrong reason.
# TODO_CACHE defaults to ~/.cache/todo.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${TODO_CACHE:-$HOME/.cache/todo}
export TODO_CACHE=$CACHE # deny.toml's advisories.db-path reads it
ROOT="$CACHE/cargo-deny"
BIN="$ROOT/bin/cargo-deny"
VERSION=0.20.2
DB="$CACHE/advisory-db"

log() { echo "supply-chain.sh: $*" >&2; }

install() {
    if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
        return 0
    fi
    log "building cargo-deny $VERSION into $ROOT (once per machine; about 5 minutes on 2 cores)"
    mkdir -p "$ROOT"
    local start=$SECONDS
    # --locked: the versions cargo-deny was released and tested with.
    cargo install --locked cargo-deny --version "$VERSION" --root "$ROOT" >&2
    log "cargo-deny built in $((SECONDS - start)) s"
}

deny() { "$BIN" deny "$@"; }

# A cached database is a directory under $DB holding RUSTSEC-*.md advisories.
have_db() {
    [[ -d "$DB" ]] && find "$DB" -maxdepth 4 -name 'RUSTSEC-*.md' -print -quit 2>/dev/null | grep -q .
}

check() {
    install
    local start=$SECONDS status=0
    echo "supply-chain: licenses, bans, sources (deny.toml)"
    # --hide-inclusion-graph: a duplicate-version warning is one paragraph, not a tree per crate.
    deny check --show-stats --hide-inclusion-graph licenses bans sources || status=1
    mkdir -p "$DB"
    # Refresh (or make) the cached copy; a failure here only means "use what is cached". Where
    # GitHub cannot be reached this fails within a second or two (no name resolution).
    if timeout 30 "$BIN" deny fetch db >"$CACHE/advisory-db.fetch.log" 2>&1; then
        log "advisory database fetched into $DB"
    elif have_db; then
        log "advisory database could not be refreshed; using the cached copy in $DB"
    fi
    if have_db; then
        echo "supply-chain: advisories: checked offline against the cached RustSec database in $DB"
        # --offline: no fetch of the database (nor of crates: the check above fetched what
        # cargo metadata needs).
        deny --offline check --show-stats --hide-inclusion-graph advisories || status=1
    else
        echo "supply-chain: advisories: SKIPPED - the RustSec advisory database (a git repository on" \
            "GitHub) cannot be fetched from this machine and no package registry ships a copy;" \
            "a copy placed under $DB is used offline. Fetch error:" \
            "$(grep -m1 -E 'fatal|error' "$CACHE/advisory-db.fetch.log" 2>/dev/null | tail -c 200 || true)"
    fi
    echo "supply-chain: done in $((SECONDS - start)) s ($([[ $status -eq 0 ]] && echo ok || echo FAILED))"
    return $status
}

case "${1:-check}" in
install) install ;;
check) check ;;
*)
    echo "usage: scripts/supply-chain.sh [install|check]" >&2
    exit 2
    ;;
esac
