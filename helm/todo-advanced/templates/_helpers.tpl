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
