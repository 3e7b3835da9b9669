package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// setupSandbox creates the pod's sandbox and network; w.mu is held.
func (w *podWorker) setupSandbox(ctx context.Context, pod *corev1.Pod) error {
	a := w.a
	hostname, domain := podHostname(pod, a.cfg.ClusterDomain)
	resolv, err := a.resolvConf(pod, func(reason, msg string) {
		w.podEvent(pod, corev1.EventTypeWarning, reason, msg)
	})
	if err != nil {
		return err
	}
	uts := hostname
	if pod.Spec.SetHostnameAsFQDN != nil && *pod.Spec.SetHostnameAsFQDN && domain != "" {
		uts = hostname + "." + domain
	}
	hostNet := pod.Spec.HostNetwork
	hosts := func(ip string) []byte {
		if hostNet {
			return hostNetworkHostsFile(a.cfg.NodeIP.String(), a.cfg.NodeName, pod.Spec.HostAliases)
		}
		var ips []string
		if ip != "" {
			ips = []string{ip}
		}
		return managedHostsFile(ips, hostname, domain, pod.Spec.HostAliases)
	}
	spec := SandboxSpec{
		ID: string(pod.UID), Hostname: uts, HostNetwork: hostNet,
		Files: map[string][]byte{
			"/etc/resolv.conf": resolv,
			"/etc/hostname":    []byte(uts + "\n"),
			"/etc/hosts":       hosts(w.podIP),
		},
	}
	sb, err := a.cfg.Sandboxes.Create(ctx, spec)
	if err != nil {
		return fmt.Errorf("creating sandbox: %w", err)
	}
	ip := a.cfg.NodeIP.String()
	if !hostNet {
		got, err := a.cfg.Network.AddPod(ctx, pod, sb.NetNSPath())
		if err != nil {
			return fmt.Errorf("setting up pod network: %w", err)
		}
		ip = got.String()
	}
	if ip != w.podIP {
		spec.Files["/etc/hosts"] = hosts(ip)
		if _, err := a.cfg.Sandboxes.Create(ctx, spec); err != nil {
			return fmt.Errorf("writing /etc/hosts: %w", err)
		}
	}
	w.sandbox, w.podIP, w.netReady, w.torndown = sb, ip, true, false
	w.saveMeta(pod)
	return nil
}

// savedPod is what a pod's directory remembers of it, so that a restarted
// agent can release the network of a pod deleted meanwhile.
type savedPod struct {
	Namespace   string    `json:"namespace"`
	Name        string    `json:"name"`
	UID         types.UID `json:"uid"`
	PodIP       string    `json:"podIP"`
	HostNetwork bool      `json:"hostNetwork,omitempty"`
}

// saveMeta writes the pod's savedPod.
func (w *podWorker) saveMeta(pod *corev1.Pod) {
	b, _ := json.Marshal(savedPod{pod.Namespace, pod.Name, pod.UID, w.podIP, pod.Spec.HostNetwork})
	if err := os.MkdirAll(w.dir(), 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(w.dir(), "pod.json"), b, 0o644)
	}
}

// loadSavedPod reads a pod directory's savedPod as a minimal Pod.
func loadSavedPod(dir string, uid string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: types.UID(uid)}}
	b, err := os.ReadFile(filepath.Join(dir, "pod.json"))
	if err != nil {
		return pod
	}
	var s savedPod
	if json.Unmarshal(b, &s) != nil {
		return pod
	}
	pod.Namespace, pod.Name = s.Namespace, s.Name
	pod.Spec.HostNetwork = s.HostNetwork
	if ip := net.ParseIP(s.PodIP); ip != nil {
		pod.Status.PodIP = s.PodIP
		pod.Status.PodIPs = []corev1.PodIP{{IP: s.PodIP}}
	}
	return pod
}

// teardown removes the pod's network and sandbox; the pod's directory
// (logs, volumes) stays.
func (w *podWorker) teardown(ctx context.Context, pod *corev1.Pod) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.torndown {
		return nil
	}
	if pod == nil {
		pod = loadSavedPod(w.dir(), string(w.uid))
	}
	if !pod.Spec.HostNetwork {
		p := pod.DeepCopy()
		if w.podIP != "" {
			p.Status.PodIP = w.podIP
			p.Status.PodIPs = []corev1.PodIP{{IP: w.podIP}}
		}
		if err := w.a.cfg.Network.DelPod(ctx, p); err != nil {
			return fmt.Errorf("removing pod network: %w", err)
		}
	}
	if err := w.a.cfg.Sandboxes.Delete(ctx, string(w.uid)); err != nil {
		return fmt.Errorf("removing sandbox: %w", err)
	}
	w.torndown, w.netReady, w.volumesReady, w.sandbox = true, false, false, nil
	w.mounted = map[string]bool{}
	return nil
}
