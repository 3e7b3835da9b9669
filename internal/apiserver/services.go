package apiserver

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"kin/internal/ipam"
)

// serviceAllocator gives Services their cluster IPs and node ports at
// create and update time, synchronously, as kube-apiserver's service REST
// storage does, so `kubectl get svc` shows them at once and conflicts are
// refused with Kubernetes' messages.
type serviceAllocator struct {
	ips   *ipam.IPRange
	ports *ipam.PortRange
}

func newServiceAllocator(serviceCIDR, nodePorts string) (*serviceAllocator, error) {
	ips, err := ipam.NewIPRange(serviceCIDR)
	if err != nil {
		return nil, err
	}
	ports, err := ipam.NewPortRange(nodePorts)
	if err != nil {
		return nil, err
	}
	return &serviceAllocator{ips: ips, ports: ports}, nil
}

// wantsNodePorts reports whether a Service of this type gets node ports.
func wantsNodePorts(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

// wantsHealthCheckPort reports whether the Service needs a health check node port.
func wantsHealthCheckPort(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// allocate reserves for owner what svc uses, filling in what it leaves
// unset. On error the caller releases with keepOnly.
func (a *serviceAllocator) allocate(owner string, svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	if svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		if svc.Spec.ClusterIP == "" {
			ip, err := a.ips.AllocateNext(owner)
			if err != nil {
				errs = append(errs, field.InternalError(field.NewPath("spec", "clusterIPs"), fmt.Errorf("failed to allocate a serviceIP: %v", err)))
			} else {
				svc.Spec.ClusterIP = ip.String()
				svc.Spec.ClusterIPs = []string{ip.String()}
			}
		} else {
			ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
			if err == nil {
				err = a.ips.Allocate(owner, ip)
			}
			if err != nil {
				errs = append(errs, field.Invalid(field.NewPath("spec", "clusterIPs"), []string{svc.Spec.ClusterIP},
					fmt.Sprintf("failed to allocate IP %s: %v", svc.Spec.ClusterIP, err)))
			} else if len(svc.Spec.ClusterIPs) == 0 {
				svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
			}
		}
	}
	if wantsNodePorts(svc) {
		byPort := map[int32]int32{} // a port number reuses its node port across protocols
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			path := field.NewPath("spec", "ports").Index(i).Child("nodePort")
			if p.NodePort != 0 {
				if err := a.ports.Allocate(owner, int(p.NodePort)); err != nil {
					errs = append(errs, field.Invalid(path, p.NodePort, err.Error()))
				}
				byPort[p.Port] = p.NodePort
				continue
			}
			if np, ok := byPort[p.Port]; ok {
				p.NodePort = np
				continue
			}
			np, err := a.ports.AllocateNext(owner)
			if err != nil {
				errs = append(errs, field.InternalError(path, fmt.Errorf("failed to allocate a nodePort: %v", err)))
				continue
			}
			p.NodePort = int32(np)
			byPort[p.Port] = p.NodePort
		}
	}
	if wantsHealthCheckPort(svc) {
		path := field.NewPath("spec", "healthCheckNodePort")
		if svc.Spec.HealthCheckNodePort != 0 {
			if err := a.ports.Allocate(owner, int(svc.Spec.HealthCheckNodePort)); err != nil {
				errs = append(errs, field.Invalid(path, svc.Spec.HealthCheckNodePort, err.Error()))
			}
		} else if np, err := a.ports.AllocateNext(owner); err != nil {
			errs = append(errs, field.InternalError(path, fmt.Errorf("failed to allocate a nodePort: %v", err)))
		} else {
			svc.Spec.HealthCheckNodePort = int32(np)
		}
	}
	return errs
}

// keepOnly releases what owner holds beyond what svc uses (nil: everything).
func (a *serviceAllocator) keepOnly(owner string, svc *corev1.Service) {
	var ips []netip.Addr
	var ports []int
	if svc != nil {
		for _, s := range svc.Spec.ClusterIPs {
			if ip, err := netip.ParseAddr(s); err == nil {
				ips = append(ips, ip)
			}
		}
		if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
			ips = append(ips, ip)
		}
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				ports = append(ports, int(p.NodePort))
			}
		}
		if svc.Spec.HealthCheckNodePort != 0 {
			ports = append(ports, int(svc.Spec.HealthCheckNodePort))
		}
	}
	a.ips.Release(owner, ips...)
	a.ports.Release(owner, ports...)
}

// asService returns obj as a Service, or nil for other kinds.
func asService(obj runtime.Object) *corev1.Service {
	svc, _ := obj.(*corev1.Service)
	return svc
}
