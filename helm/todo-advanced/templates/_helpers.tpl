{{/* Names and labels shared by the templates. */}}

{{- define "todo.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The server's resources: <release>-server (todo-server for the release "todo"). */}}
{{- define "todo.server.fullname" -}}
{{- printf "%s-server" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "todo.kafka.fullname" -}}
{{- printf "%s-kafka" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "todo.postgresql.fullname" -}}
{{- printf "%s-postgresql" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "todo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: todo
{{- end -}}

{{/* Selector labels of one component ("server", "kafka", "postgresql"). */}}
{{- define "todo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The Kafka bootstrap servers: the in-cluster StatefulSet's Service, else kafka.external.brokers. */}}
{{- define "todo.kafka.brokers" -}}
{{- if .Values.kafka.enabled -}}
{{- printf "%s:%d" (include "todo.kafka.fullname" .) (int .Values.kafka.port) -}}
{{- else -}}
{{- required "kafka.external.brokers is required when kafka.enabled is false" .Values.kafka.external.brokers -}}
{{- end -}}
{{- end -}}

{{/* Replication factor of the topics: at most the number of in-cluster brokers. */}}
{{- define "todo.kafka.replication" -}}
{{- if .Values.kafka.enabled -}}
{{- min (int .Values.kafka.replicas) (int .Values.kafka.topics.replication) -}}
{{- else -}}
{{- int .Values.kafka.topics.replication -}}
{{- end -}}
{{- end -}}

{{/* The image reference: repository@digest when a digest is given, else repository:tag. */}}
{{- define "todo.image" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end -}}
{{- end -}}

{{/* The server's image: the tag defaults to the chart's appVersion. */}}
{{- define "todo.server.image" -}}
{{- $img := dict "repository" .Values.image.repository "digest" .Values.image.digest "tag" (default .Chart.AppVersion .Values.image.tag) -}}
{{- include "todo.image" $img -}}
{{- end -}}

{{- define "todo.server.serviceAccountName" -}}
{{- include "todo.server.fullname" . -}}
{{- end -}}

{{/* The restricted container securityContext every container of the chart runs with. */}}
{{- define "todo.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
The Secrets (key `token`) of the two Dapr tokens (docs/deploy.md, "Trust between the sidecar and
the app"): the one the operator names, else the chart's own (templates/server/dapr-tokens.yaml).
APP_API_TOKEN: sent by the sidecar on its calls to the app; DAPR_API_TOKEN: by the app to the
sidecar.
*/}}
{{- define "todo.server.appTokenSecret" -}}
{{- default (printf "%s-app-token" (include "todo.server.fullname" .)) .Values.dapr.appTokenSecret -}}
{{- end -}}

{{- define "todo.server.apiTokenSecret" -}}
{{- default (printf "%s-api-token" (include "todo.server.fullname" .)) .Values.dapr.apiTokenSecret -}}
{{- end -}}

{{/*
The token of the chart's Secret .name in .namespace: .value when the operator gives one, else the
token already in that Secret (read back with `lookup`, so an upgrade keeps it), else a new random
one (an install; also every `helm template`, where `lookup` sees no cluster).
*/}}
{{- define "todo.token" -}}
{{- if .value -}}
{{- .value -}}
{{- else -}}
{{- $token := "" -}}
{{- $existing := lookup "v1" "Secret" .namespace .name -}}
{{- if $existing -}}
{{- if $existing.data -}}
{{- $token = index $existing.data "token" | default "" | b64dec -}}
{{- end -}}
{{- end -}}
{{- default (randAlphaNum 48) $token -}}
{{- end -}}
{{- end -}}
