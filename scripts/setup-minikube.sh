#!/usr/bin/env bash
# Prepares a local Minikube cluster for todo-advanced (docs/deploy.md):
#   1. starts Minikube (if it is not running);
#   2. installs Dapr into it with `dapr init -k` (if it is not there): Dapr >= 1.14, whose
#      control plane includes the scheduler that keeps the reminder jobs (Jobs API);
#   3. creates the namespace and the secrets the chart references but never contains:
#      `todo-postgresql` (key password) and `todo-secrets` (TODO_JWT_SECRET, DATABASE_URL),
#      generated once and kept on later runs;
#   4. installs the infrastructure of the chart: Kafka (KRaft) with its topics, the in-cluster
#      PostgreSQL and the Dapr components (release with server.enabled=false; when the server is
#      already deployed, the release keeps its values).
# Idempotent: every step checks first. --dry-run prints the commands without running any.
#
# Environment: NAMESPACE (todo), RELEASE (todo), MINIKUBE_CPUS (4), MINIKUBE_MEMORY (8192 MB),
# KUBERNETES_VERSION (v1.30.0), DAPR_VERSION (1.15.5).
set -euo pipefail
cd "$(dirname "$0")/.."

NAMESPACE=${NAMESPACE:-todo}
RELEASE=${RELEASE:-todo}
MINIKUBE_CPUS=${MINIKUBE_CPUS:-4}
MINIKUBE_MEMORY=${MINIKUBE_MEMORY:-8192}
KUBERNETES_VERSION=${KUBERNETES_VERSION:-v1.30.0}
DAPR_VERSION=${DAPR_VERSION:-1.15.5}
CHART=helm/todo-advanced
DRY_RUN=false

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

# Runs a command, or prints it with --dry-run.
run() {
  if $DRY_RUN; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}
# Is it there? In a dry run nothing is checked: every step is printed.
exists() { if $DRY_RUN; then return 1; fi; "$@" >/dev/null 2>&1; }

if ! $DRY_RUN; then
  for tool in minikube kubectl helm dapr openssl; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool (docs/deploy.md, Prerequisites)" >&2; exit 1; }
  done
fi

echo "== Minikube" >&2
if exists minikube status; then
  echo "Minikube is running" >&2
else
  run minikube start --cpus="$MINIKUBE_CPUS" --memory="$MINIKUBE_MEMORY" \
    --kubernetes-version="$KUBERNETES_VERSION" --addons=metrics-server
fi

echo "== Dapr $DAPR_VERSION (control plane with the scheduler for jobs)" >&2
if exists kubectl -n dapr-system get deployment dapr-operator; then
  echo "Dapr is installed: $(dapr status -k 2>/dev/null | awk 'NR==2 {print $1, $3}')" >&2
else
  run dapr init -k --runtime-version "$DAPR_VERSION" --wait --timeout 600
fi
# The Jobs API needs the scheduler (Dapr >= 1.14): no scheduler, no reminder jobs.
run kubectl -n dapr-system rollout status statefulset/dapr-scheduler-server --timeout=300s

echo "== namespace $NAMESPACE and its secrets" >&2
if ! exists kubectl get namespace "$NAMESPACE"; then
  run kubectl create namespace "$NAMESPACE"
fi
pg_password=""
if exists kubectl -n "$NAMESPACE" get secret todo-postgresql; then
  echo "secret todo-postgresql exists (kept)" >&2
  if ! $DRY_RUN; then
    pg_password=$(kubectl -n "$NAMESPACE" get secret todo-postgresql -o jsonpath='{.data.password}' | base64 -d)
  fi
else
  if $DRY_RUN; then pg_password='<generated>'; else pg_password=$(openssl rand -hex 24); fi
  run kubectl -n "$NAMESPACE" create secret generic todo-postgresql --from-literal=password="$pg_password"
fi
if exists kubectl -n "$NAMESPACE" get secret todo-secrets; then
  echo "secret todo-secrets exists (kept)" >&2
else
  if $DRY_RUN; then jwt='<generated>'; else jwt=$(openssl rand -hex 32); fi
  database_url="postgres://todo:${pg_password}@${RELEASE}-postgresql:5432/todo?sslmode=disable"
  run kubectl -n "$NAMESPACE" create secret generic todo-secrets \
    --from-literal=TODO_JWT_SECRET="$jwt" --from-literal=DATABASE_URL="$database_url"
fi

echo "== Kafka, PostgreSQL and the Dapr components (helm release $RELEASE)" >&2
if exists kubectl -n "$NAMESPACE" get deployment "${RELEASE}-server"; then
  # The server is deployed (scripts/deploy.sh): keep its values, bring the rest up to date.
  run helm upgrade --install "$RELEASE" "$CHART" --namespace "$NAMESPACE" --reset-then-reuse-values \
    --wait --timeout 10m
else
  run helm upgrade --install "$RELEASE" "$CHART" --namespace "$NAMESPACE" \
    -f "$CHART/values-minikube.yaml" --set server.enabled=false --wait --timeout 10m
fi
run kubectl -n "$NAMESPACE" rollout status "statefulset/${RELEASE}-kafka" --timeout=300s
run kubectl -n "$NAMESPACE" rollout status "statefulset/${RELEASE}-postgresql" --timeout=300s
echo "Minikube is ready for scripts/deploy.sh" >&2
