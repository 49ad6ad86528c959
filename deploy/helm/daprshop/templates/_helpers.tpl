{{/* The image of a service: <registry>/<repository>/<service>:<tag>. */}}
{{- define "daprshop.image" -}}
{{- $reg := .root.Values.image.registry -}}
{{- if $reg }}{{ $reg }}/{{ end }}{{ .root.Values.image.repository }}/{{ .name }}:{{ .root.Values.image.tag }}
{{- end -}}

{{/* Labels of everything the chart creates. */}}
{{- define "daprshop.labels" -}}
app.kubernetes.io/part-of: daprshop
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* Selector labels of one service's pods. */}}
{{- define "daprshop.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* A service's settings: the defaults with its own values over them. */}}
{{- define "daprshop.service" -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.defaults) (deepCopy .svc)) -}}
{{- end -}}

{{/*
The component files of the chosen profile: components/*.yaml with the
profile's files of the same name over them, less the local-only ones.
Returns a YAML map of file name -> path under files/.
*/}}
{{- define "daprshop.componentFiles" -}}
{{- $profile := .Values.profile -}}
{{- if not (hasKey .Values.profiles $profile) -}}
{{- fail (printf "profile %q is not one of %s" $profile (keys .Values.profiles | sortAlpha | join ", ")) -}}
{{- end -}}
{{- $files := dict -}}
{{- range $path, $_ := .Files.Glob "files/components/*.yaml" -}}
{{- $_ := set $files (base $path) $path -}}
{{- end -}}
{{- with index .Values.profiles $profile -}}
{{- range $path, $_ := $.Files.Glob (printf "files/components/profiles/%s/*.yaml" .) -}}
{{- $_ := set $files (base $path) $path -}}
{{- end -}}
{{- end -}}
{{- range .Values.localOnlyFiles -}}
{{- $_ := unset $files . -}}
{{- end -}}
{{- toYaml $files -}}
{{- end -}}

{{/* Fails when a secretKeyRef names a secret that values.secrets does not list. */}}
{{- define "daprshop.checkSecret" -}}
{{- if not (has .name .root.Values.secrets) -}}
{{- fail (printf "secret %q is referenced (%s) but not listed in values.secrets" .name .where) -}}
{{- end -}}
{{- end -}}
