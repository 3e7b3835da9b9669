package printers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// discoveryPrinters returns the printers of the discovery.k8s.io API group.
func discoveryPrinters() map[string]Printer {
	sliceDoc := discoveryv1.EndpointSlice{}.SwaggerDoc()
	return map[string]Printer{
		"endpointslices": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "AddressType", Type: "string", Description: sliceDoc["addressType"]},
				{Name: "Ports", Type: "string", Description: sliceDoc["ports"]},
				{Name: "Endpoints", Type: "string", Description: sliceDoc["endpoints"]},
				ageColumn,
			},
			Row: typed(func(s *discoveryv1.EndpointSlice, now time.Time) []interface{} {
				return []interface{}{s.Name, string(s.AddressType), slicePorts(s.Ports), sliceEndpoints(s.Endpoints), age(s.CreationTimestamp, now)}
			}),
		},
	}
}

// slicePorts is an endpoint slice's PORTS cell: port numbers (the name for a
// port without number, "*" for neither), at most three.
func slicePorts(ports []discoveryv1.EndpointPort) string {
	list := make([]string, 0, len(ports))
	for _, p := range ports {
		switch {
		case p.Port != nil:
			list = append(list, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			list = append(list, *p.Name)
		default:
			list = append(list, "*")
		}
	}
	return listWithMore(list)
}

// sliceEndpoints is an endpoint slice's ENDPOINTS cell: the endpoints'
// addresses, at most three.
func sliceEndpoints(endpoints []discoveryv1.Endpoint) string {
	var list []string
	for _, e := range endpoints {
		list = append(list, e.Addresses...)
	}
	return listWithMore(list)
}

// listWithMore joins the first three items of list with "," and adds
// "+ N more..." for the rest; an empty list is "<unset>".
func listWithMore(list []string) string {
	if len(list) > maxListed {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:maxListed], ","), len(list)-maxListed)
	}
	if len(list) == 0 {
		return "<unset>"
	}
	return strings.Join(list, ",")
}
