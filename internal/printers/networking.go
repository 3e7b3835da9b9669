package printers

import (
	"fmt"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// networkingPrinters returns the printers of the networking.k8s.io API group.
func networkingPrinters() map[string]Printer {
	return map[string]Printer{
		"ingresses": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Class", Type: "string", Description: "The name of the IngressClass resource that should be used for additional configuration"},
				{Name: "Hosts", Type: "string", Description: "Hosts that incoming requests are matched against before the ingress rule"},
				{Name: "Address", Type: "string", Description: "Address is a list containing ingress points for the load-balancer"},
				{Name: "Ports", Type: "string", Description: "Ports of TLS configurations that open"},
				ageColumn,
			},
			Row: typed(ingressRow),
		},
		"ingressclasses": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Controller", Type: "string", Description: "Controller that is responsible for handling this class"},
				{Name: "Parameters", Type: "string", Description: "A reference to a resource with additional parameters"},
				ageColumn,
			},
			Row: typed(ingressClassRow),
		},
		"networkpolicies": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Pod-Selector", Type: "string", Description: networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]},
				ageColumn,
			},
			Row: typed(func(np *networkingv1.NetworkPolicy, now time.Time) []interface{} {
				return []interface{}{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), age(np.CreationTimestamp, now)}
			}),
		},
	}
}

// ingressRow computes an ingress's cells: CLASS ("<none>" when unset), HOSTS
// (at most three, "*" for none), ADDRESS (the load balancer's IPs or
// hostnames) and PORTS ("80", or "80, 443" with TLS).
func ingressRow(ing *networkingv1.Ingress, now time.Time) []interface{} {
	class := "<none>"
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	var addresses []string
	for _, in := range ing.Status.LoadBalancer.Ingress {
		addresses = append(addresses, firstNonEmpty(in.IP, in.Hostname))
	}
	ports := "80"
	if len(ing.Spec.TLS) != 0 {
		ports = "80, 443"
	}
	return []interface{}{
		ing.Name,
		class,
		ingressHosts(ing.Spec.Rules),
		strings.Join(sortedUnique(addresses), ","),
		ports,
		age(ing.CreationTimestamp, now),
	}
}

// ingressHosts is the HOSTS cell: the rules' hosts, at most three followed by
// "+ N more..." (N counts rules), "*" when no rule names a host.
func ingressHosts(rules []networkingv1.IngressRule) string {
	var list []string
	more := false
	for _, rule := range rules {
		if len(list) == maxListed {
			more = true
		}
		if !more && rule.Host != "" {
			list = append(list, rule.Host)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, len(rules)-maxListed)
	}
	return ret
}

// ingressClassRow computes an ingress class's cells; the default class's name
// carries " (default)".
func ingressClassRow(ic *networkingv1.IngressClass, now time.Time) []interface{} {
	name := ic.Name
	if ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" {
		name += " (default)"
	}
	parameters := "<none>"
	if p := ic.Spec.Parameters; p != nil {
		parameters = p.Kind
		if p.APIGroup != nil {
			parameters += "." + *p.APIGroup
		}
		parameters += "/" + p.Name
	}
	return []interface{}{name, ic.Spec.Controller, parameters, age(ic.CreationTimestamp, now)}
}
