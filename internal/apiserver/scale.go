package apiserver

import (
	"encoding/json"
	"errors"
	"net/http"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	appsv1 "k8s.io/api/apps/v1"
)

var emptyGR = schema.GroupResource{}

// scaleOf builds the autoscaling/v1 Scale view of a deployment or replica set.
func scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	var replicas, current int32
	var sel *metav1.LabelSelector
	switch o := obj.(type) {
	case *appsv1.Deployment:
		if o.Spec.Replicas != nil {
			replicas = *o.Spec.Replicas
		}
		current, sel = o.Status.Replicas, o.Spec.Selector
	case *appsv1.ReplicaSet:
		if o.Spec.Replicas != nil {
			replicas = *o.Spec.Replicas
		}
		current, sel = o.Status.Replicas, o.Spec.Selector
	default:
		return nil, errors.New("apiserver: no scale subresource")
	}
	selector := ""
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil {
		selector = s.String()
	}
	m := accessor(obj)
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp(),
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: replicas},
		Status: autoscalingv1.ScaleStatus{Replicas: current, Selector: selector},
	}, nil
}

func setReplicas(obj runtime.Object, n int32) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec.Replicas = &n
	case *appsv1.ReplicaSet:
		o.Spec.Replicas = &n
	}
}

func (s *Server) getScale(w http.ResponseWriter, info *requestInfo) {
	cur, err := s.store.Get(info.res.key(info.namespace, info.name))
	if err != nil {
		writeError(w, s.storeError(info, err))
		return
	}
	obj, err := decodeStored(info.res, cur.Value)
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	sc, err := scaleOf(obj)
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	writeJSON(w, http.StatusOK, sc)
}

func (s *Server) updateScale(w http.ResponseWriter, r *http.Request, info *requestInfo, body []byte) {
	var want autoscalingv1.Scale
	if err := decodeParams(r, body, &want); err != nil {
		writeError(w, err)
		return
	}
	s.writeScale(w, r, info, func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error) { return &want, nil })
}

func (s *Server) patchScale(w http.ResponseWriter, r *http.Request, info *requestInfo, pt types.PatchType, body []byte) {
	s.writeScale(w, r, info, func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
		data, _ := json.Marshal(cur)
		patched, err := applyPatch(pt, data, body, cur)
		if err != nil {
			return nil, err
		}
		var next autoscalingv1.Scale
		if err := json.Unmarshal(patched, &next); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		if !patchSetsResourceVersion(body) {
			next.ResourceVersion = ""
		}
		return &next, nil
	})
}

// writeScale sets the parent's replicas from a new Scale computed from the current one.
func (s *Server) writeScale(w http.ResponseWriter, r *http.Request, info *requestInfo, next func(*autoscalingv1.Scale) (*autoscalingv1.Scale, error)) {
	scaleInfo := &requestInfo{res: info.res, namespace: info.namespace, name: info.name}
	out, _, err := s.updateObject(scaleInfo, func(old runtime.Object) (runtime.Object, error) {
		cur, err := scaleOf(old)
		if err != nil {
			return nil, err
		}
		want, err := next(cur)
		if err != nil {
			return nil, err
		}
		if want.Spec.Replicas < 0 {
			return nil, apierrors.NewInvalid(schema.GroupKind{Group: "autoscaling", Kind: "Scale"}, info.name, field.ErrorList{
				field.Invalid(field.NewPath("spec", "replicas"), want.Spec.Replicas, "must be greater than or equal to 0"),
			})
		}
		if want.ResourceVersion != "" && want.ResourceVersion != cur.ResourceVersion {
			return nil, apierrors.NewConflict(info.res.groupResource(), info.name,
				errors.New("the object has been modified; please apply your changes to the latest version and try again"))
		}
		setReplicas(old, want.Spec.Replicas)
		accessor(old).SetResourceVersion("")
		return old, nil
	}, dryRun(r))
	if err != nil {
		writeError(w, s.storeError(info, err))
		return
	}
	obj, err := decodeStored(info.res, out)
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	sc, _ := scaleOf(obj)
	writeJSON(w, http.StatusOK, sc)
}
