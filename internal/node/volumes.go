package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// errUnsupportedVolume marks volume types kin does not provide.
var errUnsupportedVolume = errors.New("volume type not supported by kin")

// setupVolumes prepares the pod's volumes in its directory and bind-mounts
// them inside the sandbox's mount namespace; w.mu is held. A volume whose
// source is missing (a ConfigMap not created yet) keeps the pod in
// ContainerCreating and is retried.
//
// The containers of a pod share one mount namespace, so a volume mounted
// for one container is visible to all at that path. A mount path that does
// not exist on the machine is skipped with a FailedMount event: kin never
// creates directories on the machine's root filesystem.
func (w *podWorker) setupVolumes(ctx context.Context, pod *corev1.Pod) error {
	if w.volumes == nil {
		w.volumes = map[string]string{}
	}
	for _, v := range pod.Spec.Volumes {
		if _, ok := w.volumes[v.Name]; ok {
			continue
		}
		path, err := w.prepareVolume(ctx, pod, v)
		if errors.Is(err, errUnsupportedVolume) {
			w.podEvent(pod, corev1.EventTypeWarning, "FailedMount",
				fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", v.Name, err))
			w.volumes[v.Name] = ""
			continue
		}
		if err != nil {
			w.podEvent(pod, corev1.EventTypeWarning, "FailedMount",
				fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", v.Name, err))
			return err
		}
		w.volumes[v.Name] = path
	}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			for _, m := range c.VolumeMounts {
				src := w.volumes[m.Name]
				if src == "" {
					continue
				}
				if m.SubPath != "" {
					src = filepath.Join(src, filepath.Clean("/"+m.SubPath))
					if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
						_ = os.MkdirAll(src, 0o777)
					}
				}
				w.mount(ctx, pod, m.Name, src, m.MountPath, m.ReadOnly)
			}
		}
	}
	w.volumesReady = true
	return nil
}

// mount bind-mounts src over target inside the sandbox, once per target.
func (w *podWorker) mount(ctx context.Context, pod *corev1.Pod, volume, src, target string, readOnly bool) {
	if w.mounted[target] {
		return
	}
	w.mounted[target] = true
	srcInfo, err := os.Stat(src)
	if err != nil {
		return
	}
	dstInfo, err := os.Stat(target)
	if err != nil || srcInfo.IsDir() != dstInfo.IsDir() {
		w.podEvent(pod, corev1.EventTypeWarning, "FailedMount", fmt.Sprintf(
			"volume %q is not mounted at %s: kin mounts volumes only over paths that already exist on the machine", volume, target))
		return
	}
	if out, err := w.sandbox.Command(ctx, "mount", "--bind", src, target).CombinedOutput(); err != nil {
		w.podEvent(pod, corev1.EventTypeWarning, "FailedMount", fmt.Sprintf(
			"MountVolume.SetUp failed for volume %q : mount %s: %v: %s", volume, target, err, strings.TrimSpace(string(out))))
		return
	}
	if readOnly {
		if out, err := w.sandbox.Command(ctx, "mount", "-o", "remount,bind,ro", target).CombinedOutput(); err != nil {
			w.a.log.Error(err, "Remounting read-only", "pod", pod.Namespace+"/"+pod.Name, "path", target, "output", string(out))
		}
	}
}

// prepareVolume makes a volume's content on the machine and returns its
// path.
func (w *podWorker) prepareVolume(ctx context.Context, pod *corev1.Pod, v corev1.Volume) (string, error) {
	dir := filepath.Join(w.dir(), "volumes", v.Name)
	switch {
	case v.EmptyDir != nil:
		return dir, makeDir(dir, 0o777)
	case v.HostPath != nil:
		// Each kin node has its own "host" directory tree under its state
		// directory; the machine's own paths are never exposed.
		p := filepath.Join(w.a.cfg.StateDir, "hostpath", filepath.Clean("/"+v.HostPath.Path))
		if t := v.HostPath.Type; t != nil && (*t == corev1.HostPathFileOrCreate || *t == corev1.HostPathFile) {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return "", err
			}
			return p, f.Close()
		}
		return p, makeDir(p, 0o755)
	case v.ConfigMap != nil:
		files, err := w.configMapFiles(ctx, pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional)
		if err != nil {
			return "", err
		}
		return dir, writeVolumeFiles(dir, files, mode(v.ConfigMap.DefaultMode, 0o644))
	case v.Secret != nil:
		files, err := w.secretFiles(ctx, pod.Namespace, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional)
		if err != nil {
			return "", err
		}
		return dir, writeVolumeFiles(dir, files, mode(v.Secret.DefaultMode, 0o644))
	case v.DownwardAPI != nil:
		files, err := w.downwardFiles(pod, v.DownwardAPI.Items)
		if err != nil {
			return "", err
		}
		return dir, writeVolumeFiles(dir, files, mode(v.DownwardAPI.DefaultMode, 0o644))
	case v.Projected != nil:
		files := map[string][]byte{}
		for _, src := range v.Projected.Sources {
			var part map[string][]byte
			var err error
			switch {
			case src.ConfigMap != nil:
				part, err = w.configMapFiles(ctx, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional)
			case src.Secret != nil:
				part, err = w.secretFiles(ctx, pod.Namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional)
			case src.DownwardAPI != nil:
				part, err = w.downwardFiles(pod, src.DownwardAPI.Items)
			}
			if err != nil {
				return "", err
			}
			for k, b := range part {
				files[k] = b
			}
		}
		return dir, writeVolumeFiles(dir, files, mode(v.Projected.DefaultMode, 0o644))
	}
	return "", errUnsupportedVolume
}

// configMapFiles are the files of a ConfigMap volume.
func (w *podWorker) configMapFiles(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool) (map[string][]byte, error) {
	cm, err := w.a.cfg.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("configmap %q not found", name)
	}
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return project(data, items, "configmap references non-existent config key")
}

// secretFiles are the files of a Secret volume.
func (w *podWorker) secretFiles(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool) (map[string][]byte, error) {
	s, err := w.a.cfg.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("secret %q not found", name)
	}
	if err != nil {
		return nil, err
	}
	return project(s.Data, items, "references non-existent secret key")
}

// project maps keys to file paths: every key, or only the listed items.
func project(data map[string][]byte, items []corev1.KeyToPath, missing string) (map[string][]byte, error) {
	if len(items) == 0 {
		return data, nil
	}
	out := map[string][]byte{}
	for _, it := range items {
		b, ok := data[it.Key]
		if !ok {
			return nil, fmt.Errorf("%s: %s", missing, it.Key)
		}
		out[it.Path] = b
	}
	return out, nil
}

// downwardFiles are the files of a downward API volume.
func (w *podWorker) downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = w.fieldRefValue(pod, it.FieldRef.FieldPath)
		case it.ResourceFieldRef != nil:
			c := &corev1.Container{}
			for i := range pod.Spec.Containers {
				if pod.Spec.Containers[i].Name == it.ResourceFieldRef.ContainerName {
					c = &pod.Spec.Containers[i]
				}
			}
			v, err = w.resourceFieldValue(pod, c, it.ResourceFieldRef)
		}
		if err != nil {
			return nil, err
		}
		out[it.Path] = []byte(v)
	}
	return out, nil
}

// writeVolumeFiles writes files (relative paths) under dir.
func writeVolumeFiles(dir string, files map[string][]byte, perm os.FileMode) error {
	if err := makeDir(dir, 0o755); err != nil {
		return err
	}
	for rel, b := range files {
		p := filepath.Join(dir, filepath.Clean("/"+rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, perm); err != nil {
			return err
		}
		if err := os.Chmod(p, perm); err != nil {
			return err
		}
	}
	return nil
}

// makeDir creates a directory with exactly perm, whatever the umask.
func makeDir(dir string, perm os.FileMode) error {
	if err := os.MkdirAll(dir, perm); err != nil {
		return err
	}
	return os.Chmod(dir, perm)
}

// mode is a volume's defaultMode or def.
func mode(m *int32, def os.FileMode) os.FileMode {
	if m == nil {
		return def
	}
	return os.FileMode(*m) & os.ModePerm
}
