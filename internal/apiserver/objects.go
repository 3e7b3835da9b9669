package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8sjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

var (
	strictDecoder = k8sjson.NewSerializerWithOptions(k8sjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		k8sjson.SerializerOptions{Strict: true})
	laxDecoder = k8sjson.NewSerializerWithOptions(k8sjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		k8sjson.SerializerOptions{})
	protoDecoder = protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
)

// protobufType is the media type of Kubernetes' protobuf encoding, which
// client-go's typed clients send by default.
const protobufType = "application/vnd.kubernetes.protobuf"

// isProtobuf reports whether a request body is protobuf-encoded.
func isProtobuf(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), protobufType)
}

// decodeRequestObject decodes a request body of the resource's type in the
// body's encoding.
func decodeRequestObject(r *http.Request, res *resource, data []byte) (runtime.Object, error) {
	if isProtobuf(r) && !res.custom {
		gvk := res.gvk()
		obj, _, err := protoDecoder.Decode(data, &gvk, res.newObject())
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", res.kind, res.gvr.Version, res.kind, err))
		}
		obj.GetObjectKind().SetGroupVersionKind(gvk)
		return obj, nil
	}
	return decodeObject(res, data, strictFields(r))
}

// decodeParams decodes an options or action body (DeleteOptions, Binding,
// Eviction, Scale) in JSON or protobuf.
func decodeParams(r *http.Request, data []byte, into runtime.Object) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if isProtobuf(r) {
		_, _, err := protoDecoder.Decode(data, nil, into)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("decoding %T: %v", into, err))
		}
		return nil
	}
	if err := json.Unmarshal(data, into); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("decoding %T: %v", into, err))
	}
	return nil
}

// decodeObject decodes a request body (or stored bytes) into the resource's
// object type. With strict set, unknown and duplicate fields are refused with
// Kubernetes' message; otherwise they are dropped.
func decodeObject(res *resource, data []byte, strict bool) (runtime.Object, error) {
	if res.custom {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the object provided is unrecognized: %v", err))
		}
		if err := checkTypeMeta(res, u.GetAPIVersion(), u.GetKind()); err != nil {
			return nil, err
		}
		u.SetAPIVersion(res.gvr.GroupVersion().String())
		u.SetKind(res.kind)
		return u, nil
	}
	into := res.newObject()
	if into == nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("no type registered for %s", res.gvk()))
	}
	gvk := res.gvk()
	dec := laxDecoder
	if strict {
		dec = strictDecoder
	}
	obj, _, err := dec.Decode(data, &gvk, into)
	if err != nil {
		if runtime.IsStrictDecodingError(err) && obj != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v",
				res.kind, res.gvr.Version, res.kind, err))
		}
		if runtime.IsNotRegisteredError(err) || isMissingKind(err) {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v",
			res.kind, res.gvr.Version, res.kind, err))
	}
	got := obj.GetObjectKind().GroupVersionKind()
	if err := checkTypeMeta(res, got.GroupVersion().String(), got.Kind); err != nil {
		return nil, err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj, nil
}

func isMissingKind(err error) bool {
	return runtime.IsMissingKind(err) || runtime.IsMissingVersion(err)
}

// checkTypeMeta refuses a body whose apiVersion or kind names another resource.
func checkTypeMeta(res *resource, apiVersion, kind string) error {
	want := res.gvr.GroupVersion().String()
	if apiVersion != "" && apiVersion != want {
		return apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", apiVersion, want))
	}
	if kind != "" && kind != res.kind {
		return apierrors.NewBadRequest(fmt.Sprintf("the kind in the data (%s) does not match the expected kind (%s)", kind, res.kind))
	}
	return nil
}

// decodeStored decodes bytes the store holds; they were validated on the way in.
func decodeStored(res *resource, data []byte) (runtime.Object, error) {
	obj, err := decodeObject(res, data, false)
	if err != nil {
		return nil, fmt.Errorf("apiserver: stored %s is corrupt: %w", res.kind, err)
	}
	return obj, nil
}

// encodeObject encodes an object for the store and the wire, with its type
// meta and the given resourceVersion.
func encodeObject(res *resource, obj runtime.Object, rev int64) ([]byte, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	m.SetResourceVersion(strconv.FormatInt(rev, 10))
	obj.GetObjectKind().SetGroupVersionKind(res.gvk())
	return json.Marshal(obj)
}

// accessor returns the object's metadata accessor; every object kin serves has one.
func accessor(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic(fmt.Sprintf("apiserver: object %T has no metadata: %v", obj, err))
	}
	return m
}

// fieldOf returns a top-level field ("spec", "status") of a typed or
// unstructured object, or nil when the object has no such field.
func fieldOf(obj runtime.Object, name string) any {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u.Object[name]
	}
	v := reflect.ValueOf(obj).Elem().FieldByName(exported(name))
	if !v.IsValid() {
		return nil
	}
	return v.Interface()
}

// setFieldFrom copies a top-level field from src to dst (objects of one type).
func setFieldFrom(dst, src runtime.Object, name string) {
	if u, ok := dst.(*unstructured.Unstructured); ok {
		su := src.(*unstructured.Unstructured)
		if v, ok := su.Object[name]; ok {
			u.Object[name] = runtime.DeepCopyJSONValue(v)
		} else {
			delete(u.Object, name)
		}
		return
	}
	dv := reflect.ValueOf(dst).Elem().FieldByName(exported(name))
	sv := reflect.ValueOf(src).Elem().FieldByName(exported(name))
	if dv.IsValid() && sv.IsValid() {
		dv.Set(sv)
	}
}

// hasField reports whether objects of this type have a top-level field.
func hasField(obj runtime.Object, name string) bool {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		_, ok := u.Object[name]
		return ok
	}
	return reflect.ValueOf(obj).Elem().FieldByName(exported(name)).IsValid()
}

func exported(name string) string { return string(name[0]-'a'+'A') + name[1:] }

// objectMetaOnly is the part of stored JSON that list and watch filtering reads.
type objectMetaOnly struct {
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
}
