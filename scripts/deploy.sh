#!/usr/bin/env bash
# Builds todo-server into Minikube and deploys it with the chart (docs/deploy.md):
#   1. builds the image into Minikube's container runtime (`minikube image build`), tagged with a
#      hash of the sources, so an unchanged tree is not rebuilt and not rolled out again;
#   2. helm upgrade --install with values-minikube.yaml and that tag, waiting for the rollout;
#   3. smoke test: mints a token in the pod, creates a task through the Service and finds its
#      task-created event on the task-events topic in Kafka.
# Run scripts/setup-minikube.sh first. Idempotent. --dry-run prints the commands without running
# any.
#
# Environment: NAMESPACE (todo), RELEASE (todo), IMAGE_TAG (default: dev-<hash of the sources>),
# LOCAL_PORT (18080, for the smoke test's port-forward), SKIP_SMOKE (false).
set -euo pipefail
cd "$(dirname "$0")/.."

NAMESPACE=${NAMESPACE:-todo}
RELEASE=${RELEASE:-todo}
LOCAL_PORT=${LOCAL_PORT:-18080}
SKIP_SMOKE=${SKIP_SMOKE:-false}
CHART=helm/todo-advanced
IMAGE=todo-server
DRY_RUN=false

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

run() {
  if $DRY_RUN; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}

if ! $DRY_RUN; then
  for tool in minikube kubectl helm curl sha256sum; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool (docs/deploy.md, Prerequisites)" >&2; exit 1; }
  done
fi

# The tag: a hash of what goes into the image (the build context, see .dockerignore).
if [[ -z "${IMAGE_TAG:-}" ]]; then
  IMAGE_TAG="dev-$(find Dockerfile Cargo.toml Cargo.lock migrations todo-core todo-events todo-server \
    -type f -not -path '*/target/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
fi
echo "== image $IMAGE:$IMAGE_TAG" >&2
if ! $DRY_RUN && minikube image ls 2>/dev/null | grep -q "$IMAGE:$IMAGE_TAG\$"; then
  echo "already built into Minikube" >&2
else
  run minikube image build -t "$IMAGE:$IMAGE_TAG" .
fi

echo "== helm upgrade --install $RELEASE" >&2
run helm upgrade --install "$RELEASE" "$CHART" --namespace "$NAMESPACE" \
  -f "$CHART/values-minikube.yaml" --set server.enabled=true --set-string image.tag="$IMAGE_TAG" \
  --wait --timeout 10m
run kubectl -n "$NAMESPACE" rollout status "deployment/${RELEASE}-server" --timeout=300s

if [[ "$SKIP_SMOKE" == true ]]; then exit 0; fi
echo "== smoke test: create a task, see its event on task-events" >&2
title="smoke $(date -u +%Y%m%dT%H%M%SZ)-$$"
if $DRY_RUN; then
  run kubectl -n "$NAMESPACE" exec "deployment/${RELEASE}-server" -c todo-server -- \
    /usr/local/bin/todo-server token --user smoke --ttl 10m
  run kubectl -n "$NAMESPACE" port-forward "svc/${RELEASE}-server" "$LOCAL_PORT:80"
  run curl -fsS -X POST -H 'Authorization: Bearer <token>' -H 'content-type: application/json' \
    -d "{\"title\":\"$title\"}" "http://127.0.0.1:$LOCAL_PORT/api/v1/smoke/tasks"
  run kubectl -n "$NAMESPACE" exec "${RELEASE}-kafka-0" -- /opt/kafka/bin/kafka-console-consumer.sh \
    --bootstrap-server localhost:9092 --topic task-events --from-beginning --timeout-ms 30000
  exit 0
fi
token=$(kubectl -n "$NAMESPACE" exec "deployment/${RELEASE}-server" -c todo-server -- \
  /usr/local/bin/todo-server token --user smoke --ttl 10m)
kubectl -n "$NAMESPACE" port-forward "svc/${RELEASE}-server" "$LOCAL_PORT:80" >/dev/null 2>&1 &
pf=$!
trap 'kill "$pf" 2>/dev/null || true' EXIT
for _ in $(seq 1 30); do
  curl -fsS "http://127.0.0.1:$LOCAL_PORT/healthz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS -X POST -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d "{\"title\":\"$title\"}" "http://127.0.0.1:$LOCAL_PORT/api/v1/smoke/tasks" >/dev/null
echo "created task \"$title\"" >&2
if kubectl -n "$NAMESPACE" exec "${RELEASE}-kafka-0" -- /opt/kafka/bin/kafka-console-consumer.sh \
  --bootstrap-server localhost:9092 --topic task-events --from-beginning --timeout-ms 30000 2>/dev/null \
  | grep -qF "$title"; then
  echo "smoke test passed: the task-created event is on task-events" >&2
else
  echo "smoke test failed: no event for \"$title\" on task-events within 30 s" >&2
  exit 1
fi
