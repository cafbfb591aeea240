{{/* Names and labels shared by every template. */}}

{{- define "portico.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portico.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "portico.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portico.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "portico.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "portico.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: portico
{{- end -}}

{{- define "portico.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "portico.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "portico.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "portico.awsEnabled" -}}
{{- if or .Values.providers.awsAlb.enabled .Values.providers.awsLattice.enabled -}}true{{- end -}}
{{- end -}}

{{/* The cluster id tags cloud resources and appears in the IAM policy: a cloud provider needs it set. */}}
{{- define "portico.clusterId" -}}
{{- if include "portico.awsEnabled" . -}}
{{- required "clusterId is required with an AWS provider: it must equal the Terraform module's cluster_id" .Values.clusterId -}}
{{- else -}}
{{- default .Release.Name .Values.clusterId -}}
{{- end -}}
{{- end -}}
