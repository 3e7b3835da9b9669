package validation

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// podWithVolume returns a pod with one volume called data.
func podWithVolume(source corev1.VolumeSource) *corev1.Pod {
	return newPod(func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: source}}
	})
}

func TestVolumeDefaults(t *testing.T) {
	p := podWithVolume(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}},
	}}})
	p.Spec.Volumes = append(p.Spec.Volumes,
		corev1.Volume{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
	)
	checkErrors(t, create(p), nil)
	proj := p.Spec.Volumes[0].Projected
	if proj.DefaultMode == nil || *proj.DefaultMode != 0644 || *proj.Sources[0].ServiceAccountToken.ExpirationSeconds != 3600 ||
		proj.Sources[1].DownwardAPI.Items[0].FieldRef.APIVersion != "v1" {
		t.Errorf("projected defaults: %+v", proj)
	}
	if m := p.Spec.Volumes[1].ConfigMap.DefaultMode; m == nil || *m != 0644 {
		t.Errorf("configMap defaultMode = %v, want 0644", m)
	}
	if ht := p.Spec.Volumes[2].HostPath.Type; ht == nil || *ht != corev1.HostPathUnset {
		t.Errorf("hostPath type = %v, want empty", ht)
	}
}

func TestVolumeValidation(t *testing.T) {
	bad := int32(01000)
	tests := []struct {
		name string
		pod  *corev1.Pod
		want []string
	}{
		{"secret without name", podWithVolume(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}}),
			[]string{"spec.volumes[0].secret.secretName: Required value"}},
		// As in Kubernetes, an invalid volume is left out of the volumes
		// mounts are checked against.
		{"mount of an invalid volume", func() *corev1.Pod {
			p := podWithVolume(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}})
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
			return p
		}(), []string{
			"spec.volumes[0].secret.secretName: Required value",
			`spec.containers[0].volumeMounts[0].name: Not found: "data"`,
		}},
		{"secret mode too big", podWithVolume(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: &bad}}),
			[]string{"spec.volumes[0].secret.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive"}},
		{"configMap item escaping the volume", podWithVolume(corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
			Items:                []corev1.KeyToPath{{Key: "a", Path: "../a"}, {Key: "", Path: "/abs"}},
		}}), []string{
			`spec.volumes[0].configMap.items[0].path: Invalid value: "../a": must not contain '..'`,
			"spec.volumes[0].configMap.items[1].key: Required value",
			`spec.volumes[0].configMap.items[1].path: Invalid value: "/abs": must be a relative path`,
		}},
		{"hostPath without path", podWithVolume(corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{}}),
			[]string{"spec.volumes[0].hostPath.path: Required value"}},
		{"hostPath with bad type", podWithVolume(corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x", Type: ptrTo(corev1.HostPathType("Dir"))}}),
			[]string{`spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"`}},
		{"negative emptyDir size", podWithVolume(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptrTo(resource.MustParse("-1Gi"))}}),
			[]string{"spec.volumes[0].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity"}},
		{"claim without name", podWithVolume(corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{}}),
			[]string{"spec.volumes[0].persistentVolumeClaim.claimName: Required value"}},
		{"two downward API sources", podWithVolume(corev1.VolumeSource{
			ConfigMap:   &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}},
			DownwardAPI: &corev1.DownwardAPIVolumeSource{},
		}), []string{"spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type"}},
		{"downward API file without source", podWithVolume(corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{{Path: "x"}}}}),
			[]string{"spec.volumes[0].downwardAPI: Required value: one of fieldRef and resourceFieldRef is required"}},
		{"downward API resource without container", podWithVolume(corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{{
			Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}}}}),
			[]string{"spec.volumes[0].downwardAPI.resourceFieldRef.containerName: Required value"}},
		{"projected source with two kinds", podWithVolume(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
			Secret:    &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}},
			ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}},
		}}}}), []string{"spec.volumes[0].projected.sources[0]: Forbidden: may not specify more than 1 volume type per source"}},
		{"short token expiry", podWithVolume(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
			ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptrTo(int64(60))},
		}}}}), []string{"spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"}},
		{"volume name not a label", newPod(func(p *corev1.Pod) { p.Spec.Volumes = []corev1.Volume{{Name: "Data"}} }),
			[]string{`spec.volumes[0].name: Invalid value: "Data": ` + dns1123LabelMsg}},
		{"subPath escaping", newPod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/d", SubPath: "../etc"}}
		}), []string{`spec.containers[0].volumeMounts.subPath: Invalid value: "../etc": must not contain '..'`}},
		{"duplicate mount path", newPod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a"}, {Name: "b"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "a", MountPath: "/d"}, {Name: "b", MountPath: "/d"}}
		}), []string{`spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/d": must be unique`}},
		{"bidirectional propagation unprivileged", newPod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "a", MountPath: "/d", MountPropagation: ptrTo(corev1.MountPropagationBidirectional)}}
		}), []string{"spec.containers[0].volumeMounts.mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers"}},
		{"block device from emptyDir", newPod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a"}}
			p.Spec.Containers[0].VolumeDevices = []corev1.VolumeDevice{{Name: "a", DevicePath: "/dev/xvda"}}
		}), []string{`spec.containers[0].volumeDevices[0].name: Invalid value: "a": can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.pod), tc.want)
		})
	}
}

// ptrTo returns a pointer to v.
func ptrTo[T any](v T) *T {
	return &v
}
