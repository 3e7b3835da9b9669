package apiserver

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func svcSpec(name, typ, clusterIP string, nodePort int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceType(typ), ClusterIP: clusterIP, Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: nodePort}},
		},
	}
}

func TestServiceAllocation(t *testing.T) {
	dir := t.TempDir()
	ts := startTestServer(t, dir)
	ctx := context.Background()
	svcs := ts.client.CoreV1().Services("default")

	a, err := svcs.Create(ctx, svcSpec("a", "ClusterIP", "", 0), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := netip.ParseAddr(a.Spec.ClusterIP)
	if err != nil || !netip.MustParsePrefix("10.96.0.0/12").Contains(ip) || len(a.Spec.ClusterIPs) != 1 {
		t.Fatalf("cluster IP %q not allocated from 10.96.0.0/12 (%v)", a.Spec.ClusterIP, a.Spec.ClusterIPs)
	}
	if _, err := svcs.Create(ctx, svcSpec("b", "ClusterIP", "10.96.0.50", 0), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = svcs.Create(ctx, svcSpec("c", "ClusterIP", "10.96.0.50", 0), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "failed to allocate IP 10.96.0.50: provided IP is already allocated") {
		t.Fatalf("taken IP: %v", err)
	}
	_, err = svcs.Create(ctx, svcSpec("d", "ClusterIP", "10.200.0.5", 0), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "is not in the valid range. The range of valid IPs is 10.96.0.0/12") {
		t.Fatalf("out of range IP: %v", err)
	}

	np, err := svcs.Create(ctx, svcSpec("np", "NodePort", "", 30007), metav1.CreateOptions{})
	if err != nil || np.Spec.Ports[0].NodePort != 30007 {
		t.Fatalf("requested node port: %v %+v", err, np)
	}
	_, err = svcs.Create(ctx, svcSpec("np2", "NodePort", "", 30007), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.ports[0].nodePort: Invalid value: 30007: provided port is already allocated") {
		t.Fatalf("taken node port: %v", err)
	}
	_, err = svcs.Create(ctx, svcSpec("np3", "NodePort", "", 80), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "The range of valid ports is 30000-32767") {
		t.Fatalf("node port out of range: %v", err)
	}
	lb, err := svcs.Create(ctx, svcSpec("lb", "LoadBalancer", "", 0), metav1.CreateOptions{})
	if err != nil || lb.Spec.Ports[0].NodePort < 30000 || lb.Spec.Ports[0].NodePort > 32767 {
		t.Fatalf("load balancer node port: %v %+v", err, lb.Spec.Ports)
	}

	// Changing the type to ClusterIP releases the node port.
	np.Spec.Type = corev1.ServiceTypeClusterIP
	np.Spec.Ports[0].NodePort = 0
	if _, err := svcs.Update(ctx, np, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Create(ctx, svcSpec("np2", "NodePort", "", 30007), metav1.CreateOptions{}); err != nil {
		t.Fatalf("node port not released by the type change: %v", err)
	}
	// Deleting releases the cluster IP.
	if err := svcs.Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Create(ctx, svcSpec("c", "ClusterIP", "10.96.0.50", 0), metav1.CreateOptions{}); err != nil {
		t.Fatalf("cluster IP not released by delete: %v", err)
	}

	// Allocations survive a restart of the server.
	ts.stop()
	ts2 := startTestServer(t, dir)
	_, err = ts2.client.CoreV1().Services("default").Create(ctx, svcSpec("e", "NodePort", "10.96.0.50", 0), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("allocation lost across restart: %v", err)
	}
}
