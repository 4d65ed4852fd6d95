{{/* Checks across values that values.schema.json cannot express. */}}
{{- define "copilot-proxy.validate" -}}
{{- if eq (int .Values.operator.metricsPort) (int .Values.operator.healthPort) -}}
{{- fail (printf "operator.metricsPort and operator.healthPort must differ (both are %d)" (int .Values.operator.metricsPort)) -}}
{{- end -}}
{{- if and .Values.example.enabled .Values.watchNamespaces .Values.example.namespace (not (has .Values.example.namespace .Values.watchNamespaces)) -}}
{{- fail (printf "example.namespace %q is not one of watchNamespaces: the operator would never serve it" .Values.example.namespace) -}}
{{- end -}}
{{- with .Values.authService.github -}}
{{- if or .host .apiUrl -}}
{{- fail "authService.github.host and apiUrl moved to github.hosts, a list every component reads: e.g. --set 'github.hosts[0].name=github.com,github.hosts[1].name=acme.ghe.com' (apiUrl per host when it is not https://api.<name>)" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.networkPolicy.enabled .Values.serviceMonitor.enabled (not .Values.networkPolicy.metricsIngressFrom) -}}
{{- fail "serviceMonitor.enabled with networkPolicy.enabled needs networkPolicy.metricsIngressFrom: the peers of your Prometheus (e.g. its namespace), or it cannot scrape" -}}
{{- end -}}
{{- end -}}
