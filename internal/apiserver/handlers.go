package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"

	"kin/internal/store"
	"kin/internal/validation"
)

// errNoop marks an update that changes nothing: nothing is written and the
// stored object is returned, as Kubernetes does.
var errNoop = errors.New("no-op update")

// errDeleteNow marks an update after which the object must go away (its
// deletion was pending on finalizers and the last one was removed).
var errDeleteNow = errors.New("delete after update")

// errRetry asks the caller to read the object again and retry.
var errRetry = errors.New("object changed, retry")

func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		switch {
		case info.watch || q.Get("watch") == "true" || q.Get("watch") == "1":
			s.watch(w, r, info)
		case info.name == "":
			s.list(w, r, info)
		case info.subresource == "scale" && info.res.scale:
			s.getScale(w, info)
		case info.subresource == "log" && info.res.gvr.Resource == "pods":
			s.podLogs(w, r, info)
		case info.subresource == "exec" && info.res.gvr.Resource == "pods":
			s.podExec(w, r, info)
		case info.subresource == "" || info.subresource == "status" && info.res.status:
			s.get(w, r, info)
		default:
			writeError(w, apierrors.NewNotFound(info.res.groupResource(), info.name+"/"+info.subresource))
		}
	case http.MethodPost:
		switch {
		case info.name == "":
			s.create(w, r, info)
		case info.res.gvr.Resource == "pods" && info.subresource == "binding":
			s.bindPod(w, r, info)
		case info.res.gvr.Resource == "pods" && info.subresource == "eviction":
			s.evictPod(w, r, info)
		case info.res.gvr.Resource == "pods" && info.subresource == "exec":
			s.podExec(w, r, info)
		default:
			writeError(w, apierrors.NewMethodNotSupported(info.res.groupResource(), "create"))
		}
	case http.MethodPut:
		if info.name == "" {
			writeError(w, apierrors.NewMethodNotSupported(info.res.groupResource(), "update"))
			return
		}
		s.update(w, r, info)
	case http.MethodPatch:
		if info.name == "" {
			writeError(w, apierrors.NewMethodNotSupported(info.res.groupResource(), "patch"))
			return
		}
		s.patch(w, r, info)
	case http.MethodDelete:
		if info.name == "" {
			s.deleteCollection(w, r, info)
			return
		}
		s.delete(w, r, info)
	default:
		writeError(w, apierrors.NewMethodNotSupported(info.res.groupResource(), r.Method))
	}
}

// readBody reads a request body, refusing oversized ones with 413.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("reading request body: %v", err))
	}
	if int64(len(data)) > s.maxBody {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", s.maxBody))
	}
	return data, nil
}

// strictFields reports whether unknown fields must be refused (fieldValidation=Strict).
func strictFields(r *http.Request) bool {
	return r.URL.Query().Get("fieldValidation") == "Strict"
}

func dryRun(r *http.Request) bool { return len(r.URL.Query()["dryRun"]) > 0 }

func (s *Server) get(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	obj, err := s.store.Get(info.res.key(info.namespace, info.name))
	if err != nil {
		writeError(w, s.storeError(info, err))
		return
	}
	switch wantAs(r) {
	case "Table":
		s.writeTable(w, r, info, []store.Object{obj}, metav1.ListMeta{ResourceVersion: strconv.FormatInt(obj.Rev, 10)})
	case "PartialObjectMetadata":
		p, err := partialMetadata(obj.Value)
		if err != nil {
			writeError(w, apierrors.NewInternalError(err))
			return
		}
		writeJSON(w, http.StatusOK, p)
	default:
		writeRaw(w, http.StatusOK, obj.Value)
	}
}

// storeError turns a store error into the API error clients expect.
func (s *Server) storeError(info *requestInfo, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierrors.NewNotFound(info.res.groupResource(), info.name)
	case errors.Is(err, store.ErrExists):
		return apierrors.NewAlreadyExists(info.res.groupResource(), info.name)
	case errors.Is(err, store.ErrCompacted):
		return apierrors.NewResourceExpired(err.Error())
	}
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return err
	}
	s.log.Error("store failure", "resource", info.res.gvr.Resource, "name", info.name, "err", err)
	return apierrors.NewInternalError(err)
}

// checkNamespace refuses writes into a missing or terminating namespace,
// as Kubernetes' NamespaceLifecycle admission does.
func (s *Server) checkNamespace(ns string) error {
	if ns == "" {
		return nil
	}
	nsRes, _ := s.reg.lookup("", "v1", "namespaces")
	obj, err := s.store.Get(nsRes.key("", ns))
	if errors.Is(err, store.ErrNotFound) {
		return apierrors.NewNotFound(nsRes.groupResource(), ns)
	}
	if err != nil {
		return err
	}
	var n struct {
		Metadata struct {
			DeletionTimestamp *metav1.Time `json:"deletionTimestamp"`
		} `json:"metadata"`
	}
	if json.Unmarshal(obj.Value, &n) == nil && n.Metadata.DeletionTimestamp != nil {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, ns,
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	}
	return nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	body, err := s.readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	obj, err := decodeRequestObject(r, info.res, body)
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := s.createObject(info, obj, dryRun(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeRaw(w, http.StatusCreated, out)
}

// createObject runs the create pipeline: namespace checks, server-set
// metadata, defaulting, validation and the store write. It returns the
// stored bytes.
func (s *Server) createObject(info *requestInfo, obj runtime.Object, dry bool) ([]byte, error) {
	res := info.res
	m := accessor(obj)
	if res.namespaced {
		if m.GetNamespace() == "" {
			m.SetNamespace(info.namespace)
		} else if info.namespace != "" && m.GetNamespace() != info.namespace {
			return nil, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
	} else {
		m.SetNamespace("")
	}
	if err := s.checkNamespace(m.GetNamespace()); err != nil {
		return nil, err
	}
	prepareForCreate(res, obj)
	validation.Default(obj)
	validation.PrepareForCreate(obj)
	generated := m.GetName() == "" && m.GetGenerateName() != ""
	for attempt := 0; ; attempt++ {
		if generated {
			m.SetName(m.GetGenerateName() + utilrand.String(5))
		}
		if errs := validation.ValidateCreate(obj); len(errs) > 0 {
			return nil, apierrors.NewInvalid(res.gvk().GroupKind(), m.GetName(), errs)
		}
		key := res.key(m.GetNamespace(), m.GetName())
		svc := asService(obj)
		if svc != nil {
			if _, err := s.store.Get(key); err == nil {
				// Allocating for a name that exists would take the existing Service's values.
				return nil, apierrors.NewAlreadyExists(res.groupResource(), m.GetName())
			}
			if errs := s.services.allocate(key, svc); len(errs) > 0 {
				s.services.keepOnly(key, nil)
				return nil, apierrors.NewInvalid(res.gvk().GroupKind(), m.GetName(), errs)
			}
		}
		if dry {
			if svc != nil {
				s.services.keepOnly(key, nil)
			}
			return encodeObject(res, obj, s.store.Rev())
		}
		stored, err := s.store.Create(key, func(rev int64) ([]byte, error) {
			return encodeObject(res, obj, rev)
		})
		if err != nil && svc != nil {
			s.services.keepOnly(key, nil)
		}
		if errors.Is(err, store.ErrExists) && generated && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, s.storeError(&requestInfo{res: res, name: m.GetName()}, err)
		}
		return stored.Value, nil
	}
}

// prepareForCreate sets the metadata the server owns; the kind-specific
// parts (status resets, generation, finalizers) are validation.PrepareForCreate.
func prepareForCreate(res *resource, obj runtime.Object) {
	m := accessor(obj)
	m.SetUID(uuid.NewUUID())
	m.SetCreationTimestamp(metav1.Now())
	m.SetResourceVersion("")
	m.SetManagedFields(nil)
	m.SetGeneration(0)
	if ns, ok := obj.(*corev1.Namespace); ok {
		setNamespaceNameLabel(ns)
	}
	if res.custom && res.status {
		clearStatus(obj)
	}
}

// setNamespaceNameLabel keeps the kubernetes.io/metadata.name label that
// Kubernetes puts on every namespace (selectors in network policies use it).
func setNamespaceNameLabel(ns *corev1.Namespace) {
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

// clearStatus empties an object's status field.
func clearStatus(obj runtime.Object) {
	empty := obj.DeepCopyObject()
	if u, ok := empty.(interface{ UnstructuredContent() map[string]any }); ok {
		delete(u.UnstructuredContent(), "status")
		setFieldFrom(obj, empty, "status")
		return
	}
	fresh := reflectNew(obj)
	setFieldFrom(obj, fresh, "status")
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	body, err := s.readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if info.subresource == "scale" && info.res.scale {
		s.updateScale(w, r, info, body)
		return
	}
	if !s.subresourceWritable(info) {
		writeError(w, apierrors.NewNotFound(info.res.groupResource(), info.name+"/"+info.subresource))
		return
	}
	obj, err := decodeRequestObject(r, info.res, body)
	if err != nil {
		writeError(w, err)
		return
	}
	m := accessor(obj)
	if m.GetName() != info.name {
		writeError(w, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), info.name)))
		return
	}
	if info.res.namespaced && m.GetNamespace() != "" && m.GetNamespace() != info.namespace {
		writeError(w, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request"))
		return
	}
	out, created, err := s.updateObject(info, func(old runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	}, dryRun(r))
	if errors.Is(err, store.ErrNotFound) && info.res.allowCreateOnUpdate && info.subresource == "" {
		out, err = s.createObject(info, obj, dryRun(r))
		created = true
	}
	if err != nil {
		writeError(w, s.storeError(info, err))
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeRaw(w, code, out)
}

func (s *Server) subresourceWritable(info *requestInfo) bool {
	switch info.subresource {
	case "":
		return true
	case "status":
		return info.res.status
	case "finalize":
		return info.res.gvr.Resource == "namespaces"
	}
	return false
}

// updateObject is the update pipeline shared by PUT and PATCH: mutate
// computes the new object from the stored one; the server then keeps what
// clients may not change, defaults, validates and writes, retrying nothing
// (conflicts go back to the client as 409). created is never true here; the
// caller handles create-on-update.
func (s *Server) updateObject(info *requestInfo, mutate func(old runtime.Object) (runtime.Object, error), dry bool) (out []byte, created bool, err error) {
	res := info.res
	key := res.key(info.namespace, info.name)
	var result []byte
	// oldSvc and newSvc track a Service's allocations across the write.
	var oldSvc, newSvc *corev1.Service
	stored, err := s.store.Update(key, func(cur store.Object, newRev int64) ([]byte, error) {
		old, err := decodeStored(res, cur.Value)
		if err != nil {
			return nil, err
		}
		obj, err := mutate(old.DeepCopyObject())
		if err != nil {
			return nil, err
		}
		m := accessor(obj)
		if rv := m.GetResourceVersion(); rv != "" && rv != accessor(old).GetResourceVersion() {
			return nil, apierrors.NewConflict(res.groupResource(), info.name,
				errors.New("the object has been modified; please apply your changes to the latest version and try again"))
		}
		obj = prepareForUpdate(res, info.subresource, obj, old)
		validation.Default(obj)
		if info.subresource == "" {
			validation.PrepareForUpdate(obj, old)
		}
		// A binding is the one way to set a pod's node, which pod updates may not change.
		if errs := validation.ValidateUpdate(obj, old); len(errs) > 0 && info.subresource != "binding" {
			return nil, apierrors.NewInvalid(res.gvk().GroupKind(), info.name, errs)
		}
		if shouldDeleteNow(obj) {
			return nil, errDeleteNow
		}
		if svc := asService(obj); svc != nil {
			oldSvc, newSvc = asService(old), svc
			if errs := s.services.allocate(key, svc); len(errs) > 0 {
				return nil, apierrors.NewInvalid(res.gvk().GroupKind(), info.name, errs)
			}
		}
		// An update that changes nothing writes nothing.
		accessor(obj).SetResourceVersion(accessor(old).GetResourceVersion())
		obj.GetObjectKind().SetGroupVersionKind(res.gvk())
		if apiequality.Semantic.DeepEqual(obj, old) {
			result = cur.Value
			return nil, errNoop
		}
		if dry {
			result, err = encodeObject(res, obj, newRev)
			if err != nil {
				return nil, err
			}
			return nil, errNoop
		}
		return encodeObject(res, obj, newRev)
	})
	if oldSvc != nil {
		if err == nil && !dry {
			s.services.keepOnly(key, newSvc)
		} else {
			s.services.keepOnly(key, oldSvc)
		}
	}
	switch {
	case errors.Is(err, errNoop):
		return result, false, nil
	case errors.Is(err, errDeleteNow):
		out, err := s.deleteNow(info, 0)
		return out, false, err
	case err != nil:
		return nil, false, err
	}
	return stored.Value, false, nil
}

// prepareForUpdate keeps what a client may not change through a
// subresource: /status writes keep the stored spec (metadata such as
// annotations may change, as kube-apiserver's status strategies allow) and
// namespaces/finalize changes only spec.finalizers. The main resource's
// rules (status, generation, immutable metadata) are
// validation.PrepareForUpdate's.
func prepareForUpdate(res *resource, sub string, obj, old runtime.Object) runtime.Object {
	switch sub {
	case "status":
		if hasField(old, "spec") {
			setFieldFrom(obj, old, "spec")
		}
		keepServerMetadata(obj, old)
		return obj
	case "finalize":
		next := old.DeepCopyObject()
		setFieldFrom(next, obj, "spec")
		accessor(next).SetResourceVersion(accessor(obj).GetResourceVersion())
		return next
	}
	if ns, ok := obj.(*corev1.Namespace); ok {
		setNamespaceNameLabel(ns)
	}
	if res.custom && res.status {
		setFieldFrom(obj, old, "status")
	}
	accessor(obj).SetManagedFields(accessor(old).GetManagedFields())
	return obj
}

// keepServerMetadata copies the metadata only the server sets from old.
func keepServerMetadata(obj, old runtime.Object) {
	m, om := accessor(obj), accessor(old)
	m.SetUID(om.GetUID())
	m.SetNamespace(om.GetNamespace())
	m.SetCreationTimestamp(om.GetCreationTimestamp())
	m.SetDeletionTimestamp(om.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
	m.SetGeneration(om.GetGeneration())
	m.SetManagedFields(om.GetManagedFields())
}

// shouldDeleteNow reports whether an object whose deletion was pending may go
// now: no finalizers left and no grace period still running.
func shouldDeleteNow(obj runtime.Object) bool {
	m := accessor(obj)
	if m.GetDeletionTimestamp() == nil || len(m.GetFinalizers()) > 0 {
		return false
	}
	if ns, ok := obj.(*corev1.Namespace); ok && len(ns.Spec.Finalizers) > 0 {
		return false
	}
	g := m.GetDeletionGracePeriodSeconds()
	return g == nil || *g == 0
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	opts := metav1.DeleteOptions{}
	body, err := s.readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := decodeParams(r, body, &opts); err != nil {
		writeError(w, err)
		return
	}
	if err := deleteOptionsFromQuery(r, &opts); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.deleteObject(info, &opts, dryRun(r))
	if err != nil {
		writeError(w, s.storeError(info, err))
		return
	}
	writeRaw(w, http.StatusOK, out)
}

func deleteOptionsFromQuery(r *http.Request, opts *metav1.DeleteOptions) error {
	q := r.URL.Query()
	if v := q.Get("gracePeriodSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return apierrors.NewBadRequest(fmt.Sprintf("invalid gracePeriodSeconds %q", v))
		}
		opts.GracePeriodSeconds = &n
	}
	if v := q.Get("propagationPolicy"); v != "" {
		p := metav1.DeletionPropagation(v)
		opts.PropagationPolicy = &p
	}
	if v := q.Get("orphanDependents"); v != "" && opts.PropagationPolicy == nil {
		p := metav1.DeletePropagationBackground
		if v == "true" {
			p = metav1.DeletePropagationOrphan
		}
		opts.PropagationPolicy = &p
	}
	return nil
}

// deleteObject deletes an object at once, or marks it for deletion when
// finalizers, a propagation policy or a pod's grace period must run first.
func (s *Server) deleteObject(info *requestInfo, opts *metav1.DeleteOptions, dry bool) ([]byte, error) {
	res := info.res
	key := res.key(info.namespace, info.name)
	for attempt := 0; attempt < 10; attempt++ {
		cur, err := s.store.Get(key)
		if err != nil {
			return nil, err
		}
		old, err := decodeStored(res, cur.Value)
		if err != nil {
			return nil, err
		}
		om := accessor(old)
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != om.GetUID() {
				return nil, apierrors.NewConflict(res.groupResource(), info.name,
					fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, om.GetUID()))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != om.GetResourceVersion() {
				return nil, apierrors.NewConflict(res.groupResource(), info.name,
					fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, om.GetResourceVersion()))
			}
		}
		next := old.DeepCopyObject()
		pending := markForDeletion(next, opts)
		if !pending {
			if dry {
				return cur.Value, nil
			}
			out, err := s.deleteIfUnchanged(info, cur.Rev, 0)
			if errors.Is(err, errRetry) {
				continue
			}
			return out, err
		}
		if dry || apiequality.Semantic.DeepEqual(next, old) {
			return cur.Value, nil
		}
		stored, err := s.store.Update(key, func(now store.Object, newRev int64) ([]byte, error) {
			if now.Rev != cur.Rev {
				return nil, errRetry
			}
			return encodeObject(res, next, newRev)
		})
		if errors.Is(err, errRetry) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return stored.Value, nil
	}
	return nil, apierrors.NewConflict(res.groupResource(), info.name, errors.New("the object kept changing during deletion"))
}

// markForDeletion applies a delete request to obj and reports whether the
// object must stay (marked with a deletionTimestamp) instead of going now.
func markForDeletion(obj runtime.Object, opts *metav1.DeleteOptions) bool {
	m := accessor(obj)
	finalizers := m.GetFinalizers()
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case metav1.DeletePropagationOrphan:
			finalizers = addString(finalizers, metav1.FinalizerOrphanDependents)
		case metav1.DeletePropagationForeground:
			finalizers = addString(finalizers, metav1.FinalizerDeleteDependents)
		}
		// A finalizer only makes sense while the object still has to wait.
		if m.GetDeletionTimestamp() == nil || len(m.GetFinalizers()) > 0 {
			m.SetFinalizers(finalizers)
		}
	}
	grace := int64(0)
	if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName != "" && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
		grace = 30
		if pod.Spec.TerminationGracePeriodSeconds != nil {
			grace = *pod.Spec.TerminationGracePeriodSeconds
		}
		if opts.GracePeriodSeconds != nil {
			grace = *opts.GracePeriodSeconds
		}
		if grace < 0 {
			grace = 0
		}
	}
	ns, isNS := obj.(*corev1.Namespace)
	waitNS := isNS && len(ns.Spec.Finalizers) > 0
	if len(m.GetFinalizers()) == 0 && grace == 0 && !waitNS {
		return false
	}
	if isNS {
		ns.Status.Phase = corev1.NamespaceTerminating
	}
	now := time.Now()
	if m.GetDeletionTimestamp() == nil {
		ts := metav1.NewTime(now.Add(time.Duration(grace) * time.Second))
		m.SetDeletionTimestamp(&ts)
		m.SetDeletionGracePeriodSeconds(&grace)
	} else if g := m.GetDeletionGracePeriodSeconds(); g != nil && grace < *g {
		// A shorter grace period replaces a longer one, as kubectl delete --grace-period does.
		ts := metav1.NewTime(now.Add(time.Duration(grace) * time.Second))
		m.SetDeletionTimestamp(&ts)
		m.SetDeletionGracePeriodSeconds(&grace)
		if grace == 0 && len(m.GetFinalizers()) == 0 {
			return false
		}
	}
	return true
}

func addString(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// deleteNow removes an object whatever its revision.
func (s *Server) deleteNow(info *requestInfo, _ int64) ([]byte, error) {
	return s.deleteIfUnchanged(info, 0, 0)
}

// deleteIfUnchanged removes an object if its revision is still rev (0: any).
// The DELETED event carries the object with the deletion's revision.
func (s *Server) deleteIfUnchanged(info *requestInfo, rev int64, _ int64) ([]byte, error) {
	res := info.res
	stored, err := s.store.Delete(res.key(info.namespace, info.name), func(cur store.Object, newRev int64) ([]byte, error) {
		if rev != 0 && cur.Rev != rev {
			return nil, errRetry
		}
		obj, err := decodeStored(res, cur.Value)
		if err != nil {
			return nil, err
		}
		return encodeObject(res, obj, newRev)
	})
	if err != nil {
		return nil, err
	}
	if res.gvr.Resource == "services" && res.gvr.Group == "" {
		s.services.keepOnly(res.key(info.namespace, info.name), nil)
	}
	return stored.Value, nil
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	sel, err := parseSelectors(r)
	if err != nil {
		writeError(w, err)
		return
	}
	opts := metav1.DeleteOptions{}
	if err := deleteOptionsFromQuery(r, &opts); err != nil {
		writeError(w, err)
		return
	}
	items, _ := s.store.List(info.res.listPrefix(info.namespace))
	for _, it := range items {
		if !sel.matches(it.Value) {
			continue
		}
		var om objectMetaOnly
		json.Unmarshal(it.Value, &om)
		one := &requestInfo{res: info.res, namespace: om.Metadata.Namespace, name: om.Metadata.Name}
		if _, err := s.deleteObject(one, &opts, dryRun(r)); err != nil && !errors.Is(err, store.ErrNotFound) {
			writeError(w, s.storeError(one, err))
			return
		}
	}
	writeJSON(w, http.StatusOK, successStatus(nil))
}

// bindPod assigns a pod to a node (pods/binding), refusing a pod already bound.
func (s *Server) bindPod(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	body, err := s.readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var b corev1.Binding
	if err := decodeParams(r, body, &b); err != nil {
		writeError(w, err)
		return
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" || b.Target.Name == "" {
		writeError(w, apierrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, info.name, nil))
		return
	}
	bindInfo := *info
	bindInfo.subresource = "binding"
	_, _, err = s.updateObject(&bindInfo, func(old runtime.Object) (runtime.Object, error) {
		pod := old.(*corev1.Pod)
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(info.res.groupResource(), info.name, errors.New("pod is being deleted, cannot be assigned to a host"))
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(info.res.groupResource(), info.name,
				fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
		}
		if b.UID != "" && b.UID != pod.UID {
			return nil, apierrors.NewConflict(info.res.groupResource(), info.name, errors.New("precondition failed: UID does not match"))
		}
		pod.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		setPodCondition(pod, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue})
		pod.ResourceVersion = ""
		return pod, nil
	}, dryRun(r))
	if err != nil {
		writeError(w, s.storeError(info, err))
		return
	}
	writeJSON(w, http.StatusCreated, successStatus(nil))
}

// setPodCondition adds or replaces a condition, keeping transition times stable.
func setPodCondition(pod *corev1.Pod, c corev1.PodCondition) {
	now := metav1.Now()
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == c.Type {
			if pod.Status.Conditions[i].Status != c.Status {
				c.LastTransitionTime = now
			} else {
				c.LastTransitionTime = pod.Status.Conditions[i].LastTransitionTime
			}
			pod.Status.Conditions[i] = c
			return
		}
	}
	c.LastTransitionTime = now
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}

// evictPod deletes a pod through the eviction subresource (kubectl drain).
func (s *Server) evictPod(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	body, err := s.readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var ev policyv1.Eviction
	if err := decodeParams(r, body, &ev); err != nil {
		writeError(w, err)
		return
	}
	opts := ev.DeleteOptions
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	if _, err := s.deleteObject(info, opts, dryRun(r)); err != nil {
		writeError(w, s.storeError(info, err))
		return
	}
	writeJSON(w, http.StatusCreated, successStatus(nil))
}

// reflectNew returns a zero object of obj's type.
func reflectNew(obj runtime.Object) runtime.Object {
	return reflect.New(reflect.TypeOf(obj).Elem()).Interface().(runtime.Object)
}

// podLogs serves pods/log through the configured log source.
func (s *Server) podLogs(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	cur, err := s.store.Get(info.res.key(info.namespace, info.name))
	if err != nil {
		writeError(w, s.storeError(info, err))
		return
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(cur.Value, pod); err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	q := r.URL.Query()
	container := q.Get("container")
	if container == "" {
		if len(pod.Spec.Containers) != 1 {
			names := []string{}
			for _, c := range pod.Spec.Containers {
				names = append(names, c.Name)
			}
			writeError(w, apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, strings.Join(names, " "))))
			return
		}
		container = pod.Spec.Containers[0].Name
	}
	if s.cfg.Logs == nil || pod.Spec.NodeName == "" {
		writeError(w, apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start: ContainerCreating", container, pod.Name)))
		return
	}
	opts := LogOptions{Follow: q.Get("follow") == "true", Previous: q.Get("previous") == "true", Timestamps: q.Get("timestamps") == "true"}
	if v := q.Get("tailLines"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			opts.TailLines = &n
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	fw := &flushWriter{w: w}
	if err := s.cfg.Logs.PodLogs(r.Context(), info.namespace, info.name, container, opts, fw); err != nil {
		if !fw.wrote {
			writeError(w, apierrors.NewBadRequest(err.Error()))
		}
	}
}

type flushWriter struct {
	w     http.ResponseWriter
	wrote bool
}

func (f *flushWriter) Write(p []byte) (int, error) { f.wrote = true; return f.w.Write(p) }
func (f *flushWriter) Flush() {
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
}
