{{/* Name prefix of every object: the release name unless overridden. */}}
{{- define "copilot-proxy.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "copilot-proxy.operatorName" -}}
{{- printf "%s-operator" (include "copilot-proxy.fullname" .) -}}
{{- end -}}

{{- define "copilot-proxy.authName" -}}
{{- printf "%s-auth" (include "copilot-proxy.fullname" .) -}}
{{- end -}}

{{/* The Host names the login service answers to: its Service's names, then authService.allowedHosts. */}}
{{- define "copilot-proxy.authHosts" -}}
{{- $svc := include "copilot-proxy.authName" . -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) -}}
{{- concat $names .Values.authService.allowedHosts | join "," -}}
{{- end -}}

{{- define "copilot-proxy.operatorServiceAccount" -}}
{{- default (include "copilot-proxy.operatorName" .) .Values.operator.serviceAccount.name -}}
{{- end -}}

{{- define "copilot-proxy.authServiceAccount" -}}
{{- default (include "copilot-proxy.authName" .) .Values.authService.serviceAccount.name -}}
{{- end -}}

{{/* The image reference, also handed to the operator for the proxy pods. */}}
{{- define "copilot-proxy.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The MCP image, handed to the operator for the MCP server pods. */}}
{{- define "copilot-proxy.mcpImage" -}}
{{- if .Values.mcpImage.digest -}}
{{- printf "%s@%s" .Values.mcpImage.repository .Values.mcpImage.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.mcpImage.repository (default .Chart.AppVersion .Values.mcpImage.tag) -}}
{{- end -}}
{{- end -}}

{{- define "copilot-proxy.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: copilot-proxy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels; call with (dict "ctx" $ "component" "operator"). */}}
{{- define "copilot-proxy.selector" -}}
app.kubernetes.io/name: copilot-proxy
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "copilot-proxy.componentLabels" -}}
{{ include "copilot-proxy.labels" .ctx }}
{{ include "copilot-proxy.selector" . }}
{{- end -}}

{{/* Where the CopilotProxy examples and NOTES point. */}}
{{- define "copilot-proxy.proxyNamespace" -}}
{{- .Values.example.namespace | default (first .Values.watchNamespaces) | default .Release.Namespace -}}
{{- end -}}

{{- define "copilot-proxy.loginHint" -}}
{{- if .Values.operator.loginHint -}}
{{- .Values.operator.loginHint -}}
{{- else if .Values.authService.enabled -}}
{{- printf "Sign in to GitHub: kubectl -n %s port-forward svc/%s %d:%d, then open http://localhost:%d/github" .Release.Namespace (include "copilot-proxy.authName" .) (int .Values.authService.port) (int .Values.authService.port) (int .Values.authService.port) -}}
{{- else -}}
{{- print "Store a GitHub OAuth token under the key access-token of the CopilotProxy's token Secret (spec.tokenSecret.name, default <name>-github-token)" -}}
{{- end -}}
{{- end -}}

{{/* COPILOT_PROXY_GITHUB_HOSTS: the allowed GitHub hosts, for the operator and the login service. */}}
{{- define "copilot-proxy.githubHosts" -}}
{{- .Values.github.hosts | toJson -}}
{{- end -}}

{{/* COPILOT_PROXY_NETWORK_POLICY: the NetworkPolicy the operator makes for every proxy;
the metrics scrapers (metricsIngressFrom) reach its port too while serviceMonitor.proxies is on. */}}
{{- define "copilot-proxy.proxyNetworkPolicy" -}}
{{- $np := .Values.networkPolicy -}}
{{- if $np.enabled -}}
{{- $scrapers := ternary $np.metricsIngressFrom (list) .Values.serviceMonitor.proxies -}}
{{- dict "ingressFrom" $np.proxyIngressFrom "metricsFrom" $scrapers | toJson -}}
{{- else -}}
{{- dict "enabled" false | toJson -}}
{{- end -}}
{{- end -}}

{{/* Security context of every container the chart runs. */}}
{{- define "copilot-proxy.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "copilot-proxy.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}
