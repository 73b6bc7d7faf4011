{{/* Names, labels and shared fragments (the `helm create` / bitnami conventions). */}}

{{- define "todo-app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-<chart>, or the release name alone when it already contains the chart name. */}}
{{- define "todo-app.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "todo-app.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of one component's resources: todo-app-backend. Call with (dict "ctx" $ "component" "backend"). */}}
{{- define "todo-app.componentName" -}}
{{- printf "%s-%s" (include "todo-app.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "todo-app.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "todo-app.labels" -}}
helm.sh/chart: {{ include "todo-app.chart" . }}
{{ include "todo-app.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: todo-app
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector of one component: name + instance + component. */}}
{{- define "todo-app.componentSelectorLabels" -}}
{{ include "todo-app.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "todo-app.componentLabels" -}}
{{ include "todo-app.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "todo-app.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-app.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* registry/repository:tag or @digest. Call with (dict "ctx" $ "image" .Values.backend.image). */}}
{{- define "todo-app.image" -}}
{{- $registry := .ctx.Values.image.registry | trimSuffix "/" }}
{{- $repo := ternary .image.repository (printf "%s/%s" $registry .image.repository) (empty $registry) }}
{{- if .image.digest }}
{{- printf "%s@%s" $repo .image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (.image.tag | default .ctx.Values.image.tag | default .ctx.Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "todo-app.daprConfigName" -}}
{{- default (printf "%s-dapr" (include "todo-app.fullname" .)) .Values.dapr.configuration.name }}
{{- end }}

{{- define "todo-app.resiliencyName" -}}
{{- default (printf "%s-resiliency" (include "todo-app.fullname" .)) .Values.dapr.resiliency.name }}
{{- end }}

{{/* Pod security context with the component's numeric user. Call with (dict "ctx" $ "uid" 65532). */}}
{{- define "todo-app.podSecurityContext" -}}
{{- $psc := deepCopy .ctx.Values.podSecurityContext }}
{{- $_ := set $psc "runAsUser" (int .uid) }}
{{- $_ := set $psc "runAsGroup" (int .uid) }}
{{- $_ := set $psc "fsGroup" (int .uid) }}
{{- toYaml $psc }}
{{- end }}

{{- define "todo-app.containerSecurityContext" -}}
{{- $csc := deepCopy .ctx.Values.containerSecurityContext }}
{{- $_ := set $csc "runAsNonRoot" true }}
{{- $_ := set $csc "runAsUser" (int .uid) }}
{{- $_ := set $csc "runAsGroup" (int .uid) }}
{{- toYaml $csc }}
{{- end }}

{{/* The HTTP probes of a component. Call with (dict "probes" .Values.backend.probes "live" path "ready" path). */}}
{{- define "todo-app.probes" -}}
{{- with .probes.startup }}
{{- if .enabled }}
startupProbe:
  httpGet: {path: {{ $.live }}, port: http}
  {{- toYaml (omit . "enabled") | nindent 2 }}
{{- end }}
{{- end }}
{{- with .probes.liveness }}
{{- if .enabled }}
livenessProbe:
  httpGet: {path: {{ $.live }}, port: http}
  {{- toYaml (omit . "enabled") | nindent 2 }}
{{- end }}
{{- end }}
{{- with .probes.readiness }}
{{- if .enabled }}
readinessProbe:
  httpGet: {path: {{ $.ready }}, port: http}
  {{- toYaml (omit . "enabled") | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Secret env shared by the backend and the migration Job: never a literal value. */}}
{{- define "todo-app.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.keys.databaseUrl }}}
- name: DIRECT_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.secrets.name }}, key: {{ .Values.secrets.keys.directUrl }}, optional: true}
{{- end }}

{{/* Dapr sidecar annotations. Call with (dict "ctx" $ "appId" id "port" port "healthPath" path). */}}
{{- define "todo-app.daprAnnotations" -}}
{{- $d := .ctx.Values.dapr -}}
dapr.io/enabled: "true"
dapr.io/app-id: {{ .appId | quote }}
dapr.io/app-port: {{ .port | quote }}
dapr.io/app-protocol: "http"
dapr.io/config: {{ include "todo-app.daprConfigName" .ctx | quote }}
dapr.io/log-level: {{ $d.logLevel | quote }}
dapr.io/log-as-json: "true"
dapr.io/enable-api-logging: {{ $d.enableApiLogging | quote }}
dapr.io/enable-app-health-check: "true"
dapr.io/app-health-check-path: {{ .healthPath | quote }}
dapr.io/graceful-shutdown-seconds: {{ $d.gracefulShutdownSeconds | quote }}
dapr.io/block-shutdown-duration: {{ $d.blockShutdownDuration | quote }}
dapr.io/sidecar-cpu-request: {{ $d.sidecar.cpuRequest | quote }}
dapr.io/sidecar-memory-request: {{ $d.sidecar.memoryRequest | quote }}
dapr.io/sidecar-cpu-limit: {{ $d.sidecar.cpuLimit | quote }}
dapr.io/sidecar-memory-limit: {{ $d.sidecar.memoryLimit | quote }}
dapr.io/sidecar-seccomp-profile-type: "RuntimeDefault"
{{- with $d.apiTokenSecret }}
dapr.io/api-token-secret: {{ . | quote }}
{{- end }}
dapr.io/app-token-secret: {{ include "todo-app.appTokenSecretName" .ctx | quote }}
{{- end }}

{{/* The Secret (key `token`) with APP_API_TOKEN: the operator's, else the chart's own (app-token-secret.yaml). */}}
{{- define "todo-app.appTokenSecretName" -}}
{{- default (printf "%s-app-token" (include "todo-app.fullname" .)) .Values.dapr.appTokenSecret }}
{{- end }}

{{- define "todo-app.metricsAnnotations" -}}
{{- if .ctx.Values.metrics.scrapeAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: {{ .ctx.Values.metrics.path | quote }}
{{- end }}
{{- end }}

{{/* Soft spreading of a component's replicas over nodes (3 nodes on the seed DOKS pool). */}}
{{- define "todo-app.spread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "todo-app.componentSelectorLabels" . | nindent 8 }}
{{- end }}
