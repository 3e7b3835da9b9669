package validation

import (
	"net"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	unversionedvalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits on the size of an EndpointSlice.
const (
	maxSliceAddresses = 100
	maxSlicePorts     = 20000
	maxSliceEndpoints = 1000
	maxZoneHints      = 8
	maxNodeHints      = 8
)

// supportedAddressTypes is the sorted list of EndpointSlice address types.
var supportedAddressTypes = []discoveryv1.AddressType{discoveryv1.AddressTypeFQDN, discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}

// defaultEndpointSlice applies the discovery/v1 defaults: ports get an empty
// name and the TCP protocol.
func defaultEndpointSlice(es *discoveryv1.EndpointSlice) {
	for i := range es.Ports {
		p := &es.Ports[i]
		if p.Name == nil {
			name := ""
			p.Name = &name
		}
		if p.Protocol == nil {
			protocol := corev1.ProtocolTCP
			p.Protocol = &protocol
		}
	}
}

// prepareEndpointSliceUpdate bumps the generation when anything but the
// metadata, or the labels, changed.
func prepareEndpointSliceUpdate(es, old *discoveryv1.EndpointSlice) {
	a, b := *es, *old
	a.ObjectMeta, b.ObjectMeta = metav1.ObjectMeta{}, metav1.ObjectMeta{}
	if !equality.Semantic.DeepEqual(a, b) || !equality.Semantic.DeepEqual(es.Labels, old.Labels) {
		es.Generation = old.Generation + 1
	}
}

// validateEndpointSlice validates an EndpointSlice (ValidateEndpointSlice).
func validateEndpointSlice(es *discoveryv1.EndpointSlice) field.ErrorList {
	allErrs := validateObjectMeta(&es.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, metaPath)
	switch es.AddressType {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
	case "":
		allErrs = append(allErrs, field.Required(field.NewPath("addressType"), ""))
	default:
		allErrs = append(allErrs, field.NotSupported(field.NewPath("addressType"), es.AddressType, supportedAddressTypes))
	}
	allErrs = append(allErrs, validateSliceEndpoints(es.Endpoints, es.AddressType, field.NewPath("endpoints"))...)
	return append(allErrs, validateSlicePorts(es.Ports, field.NewPath("ports"))...)
}

// validateEndpointSliceUpdate validates an update of an EndpointSlice; the
// address type is immutable.
func validateEndpointSliceUpdate(es, old *discoveryv1.EndpointSlice) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&es.ObjectMeta, &old.ObjectMeta, metaPath)
	allErrs = append(allErrs, validateEndpointSlice(es)...)
	return append(allErrs, validateImmutable(es.AddressType, old.AddressType, field.NewPath("addressType"))...)
}

// validateSliceEndpoints checks the endpoints of an EndpointSlice.
func validateSliceEndpoints(endpoints []discoveryv1.Endpoint, addrType discoveryv1.AddressType, fldPath *field.Path) field.ErrorList {
	if len(endpoints) > maxSliceEndpoints {
		return field.ErrorList{field.TooMany(fldPath, len(endpoints), maxSliceEndpoints)}
	}
	var allErrs field.ErrorList
	for i, ep := range endpoints {
		p := fldPath.Index(i)
		addrPath := p.Child("addresses")
		if len(ep.Addresses) == 0 {
			allErrs = append(allErrs, field.Required(addrPath, "must contain at least 1 address"))
		} else if len(ep.Addresses) > maxSliceAddresses {
			allErrs = append(allErrs, field.TooMany(addrPath, len(ep.Addresses), maxSliceAddresses))
		}
		for j, addr := range ep.Addresses {
			ap := addrPath.Index(j)
			switch addrType {
			case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
				errs := utilvalidation.IsValidIPForLegacyField(ap, addr, true, nil)
				if len(errs) == 0 {
					isV4 := net.ParseIP(addr).To4() != nil
					if addrType == discoveryv1.AddressTypeIPv4 && !isV4 {
						errs = append(errs, field.Invalid(ap, addr, "must be an IPv4 address"))
					}
					if addrType == discoveryv1.AddressTypeIPv6 && isV4 {
						errs = append(errs, field.Invalid(ap, addr, "must be an IPv6 address"))
					}
				}
				allErrs = append(allErrs, errs...)
				allErrs = append(allErrs, validateNonSpecialIP(addr, ap)...)
			case discoveryv1.AddressTypeFQDN:
				allErrs = append(allErrs, utilvalidation.IsFullyQualifiedDomainName(ap, addr)...)
			}
		}
		if ep.NodeName != nil {
			allErrs = append(allErrs, validateName(apimachineryvalidation.NameIsDNSSubdomain, *ep.NodeName, p.Child("nodeName"))...)
		}
		topologyPath := p.Child("deprecatedTopology")
		if len(ep.DeprecatedTopology) > 16 {
			allErrs = append(allErrs, field.TooMany(topologyPath, len(ep.DeprecatedTopology), 16))
		}
		allErrs = append(allErrs, unversionedvalidation.ValidateLabels(ep.DeprecatedTopology, topologyPath)...)
		if ep.Hostname != nil {
			allErrs = append(allErrs, validateDNS1123Label(*ep.Hostname, p.Child("hostname"))...)
		}
		if ep.Hints != nil {
			allErrs = append(allErrs, validateEndpointHints(ep.Hints, p.Child("hints"))...)
		}
	}
	return allErrs
}

// validateEndpointHints checks zone and node hints.
func validateEndpointHints(h *discoveryv1.EndpointHints, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	zonesPath := fldPath.Child("forZones")
	if len(h.ForZones) > maxZoneHints {
		return field.ErrorList{field.TooMany(zonesPath, len(h.ForZones), maxZoneHints)}
	}
	zones := map[string]bool{}
	for i, z := range h.ForZones {
		p := zonesPath.Index(i).Child("name")
		if zones[z.Name] {
			allErrs = append(allErrs, field.Duplicate(p, z.Name))
		}
		zones[z.Name] = true
		for _, msg := range utilvalidation.IsValidLabelValue(z.Name) {
			allErrs = append(allErrs, field.Invalid(p, z.Name, msg))
		}
	}
	nodesPath := fldPath.Child("forNodes")
	if len(h.ForNodes) > maxNodeHints {
		return append(allErrs, field.TooMany(nodesPath, len(h.ForNodes), maxNodeHints))
	}
	nodes := map[string]bool{}
	for i, n := range h.ForNodes {
		p := nodesPath.Index(i).Child("name")
		if nodes[n.Name] {
			allErrs = append(allErrs, field.Duplicate(p, n.Name))
		}
		nodes[n.Name] = true
		allErrs = append(allErrs, validateName(apimachineryvalidation.NameIsDNSSubdomain, n.Name, p)...)
	}
	return allErrs
}

// validateSlicePorts checks the ports of an EndpointSlice.
func validateSlicePorts(ports []discoveryv1.EndpointPort, fldPath *field.Path) field.ErrorList {
	if len(ports) > maxSlicePorts {
		return field.ErrorList{field.TooMany(fldPath, len(ports), maxSlicePorts)}
	}
	var allErrs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		p := fldPath.Index(i)
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		if name != "" {
			allErrs = append(allErrs, validateDNS1123Label(name, p.Child("name"))...)
		}
		if names[name] {
			allErrs = append(allErrs, field.Duplicate(p.Child("name"), port.Name))
		} else {
			names[name] = true
		}
		if port.Protocol == nil {
			allErrs = append(allErrs, field.Required(p.Child("protocol"), ""))
		} else if !isSupportedProtocol(*port.Protocol) {
			allErrs = append(allErrs, field.NotSupported(p.Child("protocol"), *port.Protocol, supportedPortProtocols))
		}
		if port.Port != nil {
			for _, msg := range utilvalidation.IsValidPortNum(int(*port.Port)) {
				allErrs = append(allErrs, field.Invalid(p.Child("port"), *port.Port, msg))
			}
		}
		if port.AppProtocol != nil {
			allErrs = append(allErrs, validateQualifiedName(*port.AppProtocol, p.Child("appProtocol"))...)
		}
	}
	return allErrs
}
