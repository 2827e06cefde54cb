{{/*
The MemWatch container, for the daemonset and for a pod with shareProcessNamespace: true (sidecar mode). A chart
that depends on this one can write, under its pod's containers:
  {{- include "memwatch.container" (dict "Values" .Values.memwatch "Chart" .Subcharts.memwatch.Chart "Release" .Release) | nindent 8 }}
and add the volumes of "memwatch.volumes".
*/}}
{{- define "memwatch.container" -}}
- name: memwatch
  image: {{ include "memwatch.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["run", "--config", "/etc/memwatch/memwatch.json"]
  ports:
    - name: http-metrics
      containerPort: {{ .Values.port }}
      protocol: TCP
  env:
    - name: DOTNET_gcServer
      value: "0"
    - name: DOTNET_EnableDiagnostics
      value: "0"
    {{- if eq .Values.mode "sidecar" }}
    # Every process the sidecar sees is its pod's (shareProcessNamespace): the downward API names the pod.
    - name: MEMWATCH_Kubernetes__PodName
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: MEMWATCH_Kubernetes__PodNamespace
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    {{- else if .Values.kubernetesApi.enabled }}
    # The pods of this node are named through the API (templates/rbac.yaml).
    - name: MEMWATCH_Kubernetes__NodeName
      valueFrom:
        fieldRef:
          fieldPath: spec.nodeName
    {{- end }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: http-metrics
    initialDelaySeconds: 10
    periodSeconds: 20
    timeoutSeconds: 5
    failureThreshold: 3
  readinessProbe:
    httpGet:
      path: /readyz
      port: http-metrics
    periodSeconds: 10
    timeoutSeconds: 5
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- if and (eq .Values.mode "sidecar") (not (kindIs "invalid" .Values.sidecar.runAsUser)) }}
    runAsUser: {{ .Values.sidecar.runAsUser }}
    runAsNonRoot: true
    {{- else }}
    # Root, so that the added capabilities are effective (Kubernetes grants no ambient capabilities to other users).
    runAsUser: 0
    runAsNonRoot: false
    {{- end }}
    privileged: false
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    seccompProfile:
      type: RuntimeDefault
    capabilities:
      {{- include "memwatch.capabilities" . | nindent 6 }}
  volumeMounts:
    - name: memwatch-config
      mountPath: /etc/memwatch
      readOnly: true
    {{- if .Values.authSecret }}
    - name: memwatch-auth
      mountPath: /var/run/secrets/memwatch
      readOnly: true
    {{- end }}
    - name: memwatch-state
      mountPath: /var/lib/memwatch
    - name: memwatch-tmp
      mountPath: /tmp
    {{- if and (eq .Values.mode "daemonset") .Values.hostCgroups }}
    - name: host-cgroup
      mountPath: /host/sys/fs/cgroup
      readOnly: true
      mountPropagation: HostToContainer
    {{- end }}
{{- end }}

{{- define "memwatch.volumes" -}}
- name: memwatch-config
  configMap:
    name: {{ include "memwatch.fullname" . }}
{{- if .Values.authSecret }}
- name: memwatch-auth
  secret:
    secretName: {{ .Values.authSecret }}
    defaultMode: 0400
{{- end }}
- name: memwatch-state
  {{- if eq .Values.state.type "hostPath" }}
  hostPath:
    path: {{ .Values.state.hostPath }}
    type: DirectoryOrCreate
  {{- else if eq .Values.state.type "existingClaim" }}
  persistentVolumeClaim:
    claimName: {{ required "set state.existingClaim to the name of a PersistentVolumeClaim" .Values.state.existingClaim }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .Values.state.sizeLimit }}
  {{- end }}
- name: memwatch-tmp
  emptyDir:
    medium: Memory
    sizeLimit: 16Mi
{{- if and (eq .Values.mode "daemonset") .Values.hostCgroups }}
- name: host-cgroup
  hostPath:
    path: /sys/fs/cgroup
    type: Directory
{{- end }}
{{- end }}
