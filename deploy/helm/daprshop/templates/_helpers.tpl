{{- define "daprshop.image" -}}
{{- $reg := .root.Values.image.registry -}}
{{- if $reg }}{{ $reg }}/{{ end }}daprshop/{{ .name }}:{{ .root.Values.image.tag }}
{{- end -}}
