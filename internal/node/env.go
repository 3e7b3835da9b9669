package node

import (
	"context"
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// containerEnv resolves a container's environment as the kubelet does:
// envFrom first, then env in order ($(VAR) references expanded against the
// variables so far and the service variables; valueFrom resolved through
// the downward API and the API), then the service variables nobody
// overrode.
func (w *podWorker) containerEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]corev1.EnvVar, error) {
	a := w.a
	serviceEnv := w.serviceEnv(pod)
	var (
		order      []string
		values     = map[string]string{}
		configMaps = map[string]*corev1.ConfigMap{}
		secrets    = map[string]*corev1.Secret{}
	)
	set := func(k, v string) {
		if _, ok := values[k]; !ok {
			order = append(order, k)
		}
		values[k] = v
	}
	getConfigMap := func(name string) (*corev1.ConfigMap, error) {
		if cm, ok := configMaps[name]; ok {
			return cm, nil
		}
		cm, err := a.cfg.Client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("configmap %q not found", name)
			}
			return nil, err
		}
		configMaps[name] = cm
		return cm, nil
	}
	getSecret := func(name string) (*corev1.Secret, error) {
		if s, ok := secrets[name]; ok {
			return s, nil
		}
		s, err := a.cfg.Client.CoreV1().Secrets(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("secret %q not found", name)
			}
			return nil, err
		}
		secrets[name] = s
		return s, nil
	}
	isOptional := func(p *bool) bool { return p != nil && *p }

	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, err := getConfigMap(from.ConfigMapRef.Name)
			if err != nil {
				if isOptional(from.ConfigMapRef.Optional) {
					continue
				}
				return nil, err
			}
			for _, k := range sortedKeys(cm.Data) {
				set(from.Prefix+k, cm.Data[k])
			}
		case from.SecretRef != nil:
			s, err := getSecret(from.SecretRef.Name)
			if err != nil {
				if isOptional(from.SecretRef.Optional) {
					continue
				}
				return nil, err
			}
			for _, k := range sortedKeys(s.Data) {
				set(from.Prefix+k, string(s.Data[k]))
			}
		}
	}
	for _, e := range c.Env {
		val := e.Value
		switch {
		case val != "":
			val = expand(val, values, serviceEnv)
		case e.ValueFrom == nil:
		case e.ValueFrom.FieldRef != nil:
			v, err := w.fieldRefValue(pod, e.ValueFrom.FieldRef.FieldPath)
			if err != nil {
				return nil, err
			}
			val = v
		case e.ValueFrom.ResourceFieldRef != nil:
			v, err := w.resourceFieldValue(pod, c, e.ValueFrom.ResourceFieldRef)
			if err != nil {
				return nil, err
			}
			val = v
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm, err := getConfigMap(ref.Name)
			if err != nil {
				if isOptional(ref.Optional) {
					continue
				}
				return nil, err
			}
			v, ok := cm.Data[ref.Key]
			if !ok {
				if isOptional(ref.Optional) {
					continue
				}
				return nil, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
			}
			val = v
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s, err := getSecret(ref.Name)
			if err != nil {
				if isOptional(ref.Optional) {
					continue
				}
				return nil, err
			}
			v, ok := s.Data[ref.Key]
			if !ok {
				if isOptional(ref.Optional) {
					continue
				}
				return nil, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
			}
			val = string(v)
		}
		set(e.Name, val)
	}
	out := make([]corev1.EnvVar, 0, len(order)+len(serviceEnv))
	for _, k := range order {
		out = append(out, corev1.EnvVar{Name: k, Value: values[k]})
	}
	for _, k := range sortedKeys(serviceEnv) {
		if _, ok := values[k]; !ok {
			out = append(out, corev1.EnvVar{Name: k, Value: serviceEnv[k]})
		}
	}
	return out, nil
}

// fieldRefValue resolves a downward API field of the pod.
func (w *podWorker) fieldRefValue(pod *corev1.Pod, path string) (string, error) {
	if k, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return w.a.cfg.NodeIP.String(), nil
	case "status.podIP", "status.podIPs":
		return w.podIP, nil
	case "spec.terminationGracePeriodSeconds":
		if t := pod.Spec.TerminationGracePeriodSeconds; t != nil {
			return strconv.FormatInt(*t, 10), nil
		}
		return strconv.FormatInt(corev1.DefaultTerminationGracePeriodSeconds, 10), nil
	}
	return "", fmt.Errorf("unsupported fieldPath: %s", path)
}

// subscript parses "prefix['key']".
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

// formatMap formats labels or annotations as the downward API does:
// key="value" lines, sorted.
func formatMap(m map[string]string) string {
	var lines []string
	for _, k := range sortedKeys(m) {
		lines = append(lines, k+"="+strconv.Quote(m[k]))
	}
	return strings.Join(lines, "\n")
}

// resourceFieldValue resolves a container resource for the downward API;
// an unset limit is the node's allocatable amount, as the kubelet does.
func (w *podWorker) resourceFieldValue(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	target := c
	if ref.ContainerName != "" {
		target = nil
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == ref.ContainerName {
				target = &pod.Spec.Containers[i]
			}
		}
		if target == nil {
			return "", fmt.Errorf("container %s not found", ref.ContainerName)
		}
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("unsupported container resource: %s", ref.Resource)
	}
	rn := corev1.ResourceName(name)
	var q resource.Quantity
	var found bool
	switch kind {
	case "limits":
		q, found = target.Resources.Limits[rn]
	case "requests":
		q, found = target.Resources.Requests[rn]
	default:
		return "", fmt.Errorf("unsupported container resource: %s", ref.Resource)
	}
	if !found {
		q, found = w.allocatable(rn)
		if kind == "requests" {
			q, found = resource.Quantity{}, true
		}
	}
	if !found {
		return "", fmt.Errorf("unsupported container resource: %s", ref.Resource)
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if rn == corev1.ResourceCPU {
		return strconv.FormatInt(int64(math.Ceil(float64(q.MilliValue())/float64(divisor.MilliValue()))), 10), nil
	}
	return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10), nil
}

// allocatable is the node's allocatable amount of a resource.
func (w *podWorker) allocatable(name corev1.ResourceName) (resource.Quantity, bool) {
	info := readMachineInfo(w.a.cfg.NodeName, w.a.cfg.StateDir)
	switch name {
	case corev1.ResourceCPU:
		return *resource.NewQuantity(int64(info.cpus), resource.DecimalSI), true
	case corev1.ResourceMemory:
		return *resource.NewQuantity(info.memoryBytes-min(evictionMemory, info.memoryBytes), resource.BinarySI), true
	case corev1.ResourceEphemeralStorage:
		return *resource.NewQuantity(info.diskBytes-info.diskBytes/10, resource.BinarySI), true
	}
	return resource.Quantity{}, false
}

// serviceEnv is the services' environment variables a pod sees: the
// kubernetes service of the default namespace always, and the services of
// the pod's namespace unless enableServiceLinks is false.
func (w *podWorker) serviceEnv(pod *corev1.Pod) map[string]string {
	out := map[string]string{}
	if w.rs.services == nil {
		return out
	}
	services, err := w.rs.services.List(labels.Everything())
	if err != nil {
		return out
	}
	links := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	chosen := map[string]*corev1.Service{}
	for _, s := range services {
		if s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		switch {
		case s.Namespace == metav1.NamespaceDefault && s.Name == "kubernetes":
			if _, ok := chosen[s.Name]; !ok {
				chosen[s.Name] = s
			}
		case s.Namespace == pod.Namespace && links:
			chosen[s.Name] = s
		}
	}
	for _, s := range chosen {
		for _, e := range serviceEnvVars(s) {
			out[e.Name] = e.Value
		}
	}
	return out
}

// serviceEnvVars are one service's variables: {SVC}_SERVICE_HOST,
// {SVC}_SERVICE_PORT[_NAME] and Docker link style {SVC}_PORT* variables.
func serviceEnvVars(s *corev1.Service) []corev1.EnvVar {
	if len(s.Spec.Ports) == 0 {
		return nil
	}
	prefix := strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
	ip := s.Spec.ClusterIP
	out := []corev1.EnvVar{
		{Name: prefix + "_SERVICE_HOST", Value: ip},
		{Name: prefix + "_SERVICE_PORT", Value: strconv.Itoa(int(s.Spec.Ports[0].Port))},
	}
	for _, p := range s.Spec.Ports {
		if p.Name != "" {
			out = append(out, corev1.EnvVar{
				Name:  prefix + "_SERVICE_PORT_" + strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_")),
				Value: strconv.Itoa(int(p.Port)),
			})
		}
	}
	for i, p := range s.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		lower := strings.ToLower(proto)
		url := fmt.Sprintf("%s://%s", lower, net.JoinHostPort(ip, strconv.Itoa(int(p.Port))))
		if i == 0 {
			out = append(out, corev1.EnvVar{Name: prefix + "_PORT", Value: url})
		}
		pp := fmt.Sprintf("%s_PORT_%d_%s", prefix, p.Port, strings.ToUpper(proto))
		out = append(out,
			corev1.EnvVar{Name: pp, Value: url},
			corev1.EnvVar{Name: pp + "_PROTO", Value: lower},
			corev1.EnvVar{Name: pp + "_PORT", Value: strconv.Itoa(int(p.Port))},
			corev1.EnvVar{Name: pp + "_ADDR", Value: ip},
		)
	}
	return out
}

// expand replaces $(VAR) references as Kubernetes does: a defined variable
// becomes its value, an undefined one stays as written, and $$ is a literal
// $.
func expand(in string, maps ...map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		if in[i] != '$' || i+1 >= len(in) {
			b.WriteByte(in[i])
			continue
		}
		switch next := in[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(in[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := in[i+2 : i+2+end]
			b.WriteString(lookup(name, maps))
			i += 2 + end
		default:
			b.WriteByte('$')
			b.WriteByte(next)
			i++
		}
	}
	return b.String()
}

// lookup finds a variable in maps, or writes the reference back.
func lookup(name string, maps []map[string]string) string {
	for _, m := range maps {
		if v, ok := m[name]; ok {
			return v
		}
	}
	return "$(" + name + ")"
}

// expandCommand is the argv of a command container: command then args,
// each expanded against the container's environment.
func expandCommand(command, args []string, env map[string]string) []string {
	argv := make([]string, 0, len(command)+len(args))
	for _, s := range command {
		argv = append(argv, expand(s, env))
	}
	return append(argv, expandArgs(args, env)...)
}

// expandArgs expands a container's args.
func expandArgs(args []string, env map[string]string) []string {
	if args == nil {
		return nil
	}
	out := make([]string, len(args))
	for i, s := range args {
		out[i] = expand(s, env)
	}
	return out
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
