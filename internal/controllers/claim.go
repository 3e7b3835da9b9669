package controllers

import (
	"context"
	"encoding/json"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// object is a typed API object: metadata plus runtime type information.
type object interface {
	metav1.Object
	runtime.Object
}

// claimPlan is the pure half of Kubernetes' ControllerRefManager: given an
// owner and candidate objects in its namespace, which ones it already
// controls, which orphans it should adopt and which of its objects it should
// release because their labels no longer match its selector.
type claimPlan[T metav1.Object] struct {
	owned   []T
	adopt   []T
	release []T
}

// planClaims classifies objs for owner with selector.
func planClaims[T metav1.Object](owner metav1.Object, selector labels.Selector, objs []T) claimPlan[T] {
	var p claimPlan[T]
	ownerDeleting := owner.GetDeletionTimestamp() != nil
	for _, o := range objs {
		matches := selector.Matches(labels.Set(o.GetLabels()))
		if ref := metav1.GetControllerOfNoCopy(o); ref != nil {
			if ref.UID != owner.GetUID() {
				continue // Someone else's.
			}
			switch {
			case matches:
				p.owned = append(p.owned, o)
			case ownerDeleting:
				// An owner on its way out neither keeps nor releases.
			default:
				p.release = append(p.release, o)
			}
			continue
		}
		if ownerDeleting || !matches || o.GetDeletionTimestamp() != nil {
			continue
		}
		p.adopt = append(p.adopt, o)
	}
	return p
}

// patchFunc applies a strategic merge patch to the named object and returns
// the result.
type patchFunc[T metav1.Object] func(ctx context.Context, namespace, name string, data []byte) (T, error)

// claim applies planClaims: it adopts orphans (after recheck confirms from
// the API server that the owner still exists and is not being deleted) and
// releases non-matching objects, both with strategic merge patches of
// metadata.ownerReferences as Kubernetes does. It returns the objects the
// owner controls afterwards.
func claim[T metav1.Object](ctx context.Context, owner metav1.Object, ownerKind schema.GroupVersionKind,
	selector labels.Selector, objs []T, patch patchFunc[T], recheck func(context.Context) error) ([]T, error) {
	p := planClaims(owner, selector, objs)
	claimed := p.owned
	var errs []error
	if len(p.adopt) > 0 {
		if err := recheck(ctx); err != nil {
			errs = append(errs, err)
		} else {
			for _, o := range p.adopt {
				adopted, err := patch(ctx, o.GetNamespace(), o.GetName(), adoptPatch(owner, ownerKind, o.GetUID()))
				switch {
				case apierrors.IsNotFound(err):
				case err != nil:
					errs = append(errs, errorf("adopt %s/%s: %w", o.GetNamespace(), o.GetName(), err))
				default:
					claimed = append(claimed, adopted)
				}
			}
		}
	}
	for _, o := range p.release {
		_, err := patch(ctx, o.GetNamespace(), o.GetName(), removeOwnerRefPatch(o.GetUID(), owner.GetUID()))
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
			errs = append(errs, errorf("release %s/%s: %w", o.GetNamespace(), o.GetName(), err))
		}
	}
	return claimed, errors.Join(errs...)
}

// recheckOwner returns the check claim runs before adopting: a live read of
// the owner must show the same UID and no deletion timestamp.
func recheckOwner(owner metav1.Object, get func(ctx context.Context) (metav1.Object, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := get(ctx)
		if err != nil {
			return errorf("recheck %s/%s before adopting: %w", owner.GetNamespace(), owner.GetName(), err)
		}
		if fresh.GetUID() != owner.GetUID() {
			return errorf("original %s/%s is gone: got uid %s, wanted %s", owner.GetNamespace(), owner.GetName(), fresh.GetUID(), owner.GetUID())
		}
		if fresh.GetDeletionTimestamp() != nil {
			return errorf("%s/%s has just been deleted at %s", owner.GetNamespace(), owner.GetName(), fresh.GetDeletionTimestamp())
		}
		return nil
	}
}

// patchMeta is the metadata part of the ownerReferences patches.
type patchMeta struct {
	OwnerReferences []any     `json:"ownerReferences"`
	UID             types.UID `json:"uid,omitempty"`
}

// adoptPatch is the strategic merge patch that adds a controller reference
// to owner; the object's UID makes it fail if the object was replaced.
func adoptPatch(owner metav1.Object, ownerKind schema.GroupVersionKind, objUID types.UID) []byte {
	ref := metav1.NewControllerRef(owner, ownerKind)
	data, _ := json.Marshal(map[string]patchMeta{"metadata": {OwnerReferences: []any{ref}, UID: objUID}})
	return data
}

// removeOwnerRefPatch is the strategic merge patch that deletes the owner
// references with the given owner UIDs.
func removeOwnerRefPatch(objUID types.UID, ownerUIDs ...types.UID) []byte {
	refs := make([]any, 0, len(ownerUIDs))
	for _, u := range ownerUIDs {
		refs = append(refs, map[string]any{"$patch": "delete", "uid": u})
	}
	data, _ := json.Marshal(map[string]patchMeta{"metadata": {OwnerReferences: refs, UID: objUID}})
	return data
}
