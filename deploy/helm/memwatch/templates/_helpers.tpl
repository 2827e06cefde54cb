{{/* Names and labels. */}}
{{- define "memwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "memwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "memwatch.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "memwatch.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "memwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "memwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "memwatch.labels" -}}
{{ include "memwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "memwatch.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The daemon's configuration: the values' config plus what the chart decides. */}}
{{- define "memwatch.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $_ := set $config "Listen" (printf "0.0.0.0:%d" (int .Values.port)) }}
{{- $_ := set $config "StateDirectory" "/var/lib/memwatch" }}
{{- if .Values.authSecret }}
{{- $auth := deepCopy (default (dict) $config.Auth) }}
{{- $_ := set $auth "TokenFile" "/var/run/secrets/memwatch/token" }}
{{- $_ := set $config "Auth" $auth }}
{{- end }}
{{- if and (eq .Values.mode "daemonset") .Values.hostCgroups }}
{{- $sampling := deepCopy (default (dict) $config.Sampling) }}
{{- $_ := set $sampling "HostCgroupRoot" "/host/sys/fs/cgroup" }}
{{- $_ := set $config "Sampling" $sampling }}
{{- end }}
{{- toPrettyJson $config }}
{{- end }}

{{/* SYS_PTRACE reads other users' smaps and is what ptrace needs; DAC_READ_SEARCH reads environ and mem. */}}
{{- define "memwatch.capabilities" -}}
drop: ["ALL"]
{{- $add := list }}
{{- if or .Values.readOtherProcesses .Values.introspection.enabled }}
{{- $add = concat $add (list "SYS_PTRACE" "DAC_READ_SEARCH") }}
{{- end }}
{{- if (.Values.attribution).enabled }}
{{- $add = append $add "PERFMON" }}
{{- end }}
{{- if $add }}
add: {{ toJson $add }}
{{- end }}
{{- end }}
