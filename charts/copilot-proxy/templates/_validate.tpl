{{/* Checks across values that values.schema.json cannot express. */}}
{{- define "copilot-proxy.validate" -}}
{{- if eq (int .Values.operator.metricsPort) (int .Values.operator.healthPort) -}}
{{- fail (printf "operator.metricsPort and operator.healthPort must differ (both are %d)" (int .Values.operator.metricsPort)) -}}
{{- end -}}
{{- if and .Values.example.enabled .Values.watchNamespaces .Values.example.namespace (not (has .Values.example.namespace .Values.watchNamespaces)) -}}
{{- fail (printf "example.namespace %q is not one of watchNamespaces: the operator would never serve it" .Values.example.namespace) -}}
{{- end -}}
{{- end -}}
