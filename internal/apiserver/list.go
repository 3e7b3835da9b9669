package apiserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"kin/internal/printers"
	"kin/internal/store"
)

// selector is a request's label and field selectors.
type selector struct {
	labels labels.Selector
	fields fields.Selector
}

func parseSelectors(r *http.Request) (*selector, error) {
	q := r.URL.Query()
	sel := &selector{labels: labels.Everything(), fields: fields.Everything()}
	if v := q.Get("labelSelector"); v != "" {
		ls, err := labels.Parse(v)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
		sel.labels = ls
	}
	if v := q.Get("fieldSelector"); v != "" {
		fs, err := fields.ParseSelector(v)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid field selector: %v", err))
		}
		sel.fields = fs
	}
	return sel, nil
}

func (sel *selector) empty() bool { return sel.labels.Empty() && sel.fields.Empty() }

// matches evaluates the selectors on a stored object's JSON. Field selectors
// work on any dotted path of the object (metadata.name, spec.nodeName, ...).
func (sel *selector) matches(raw []byte) bool {
	if sel.empty() {
		return true
	}
	if !sel.labels.Empty() {
		var om objectMetaOnly
		if json.Unmarshal(raw, &om) != nil || !sel.labels.Matches(labels.Set(om.Metadata.Labels)) {
			return false
		}
	}
	if !sel.fields.Empty() {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			return false
		}
		set := fields.Set{}
		for _, req := range sel.fields.Requirements() {
			set[req.Field] = lookupPath(m, req.Field)
		}
		if !sel.fields.Matches(set) {
			return false
		}
	}
	return true
}

// lookupPath renders the value at a dotted path as a field selector sees it.
func lookupPath(m map[string]any, path string) string {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[part]
	}
	switch v := cur.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// continueToken is the opaque "continue" value of a paged list.
type continueToken struct {
	Rev   int64  `json:"rv"`
	Start string `json:"start"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	sel, err := parseSelectors(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	items, rev := s.store.List(info.res.listPrefix(info.namespace))
	start := ""
	if c := q.Get("continue"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		var tok continueToken
		if err != nil || json.Unmarshal(raw, &tok) != nil {
			writeError(w, apierrors.NewBadRequest("continue key is not valid"))
			return
		}
		start = tok.Start
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	var picked []store.Object
	next := ""
	for _, it := range items {
		if start != "" && it.Key <= start {
			continue
		}
		if !sel.matches(it.Value) {
			continue
		}
		if limit > 0 && len(picked) == limit {
			tok, _ := json.Marshal(continueToken{Rev: rev, Start: picked[len(picked)-1].Key})
			next = base64.RawURLEncoding.EncodeToString(tok)
			break
		}
		picked = append(picked, it)
	}
	listMeta := metav1.ListMeta{ResourceVersion: strconv.FormatInt(rev, 10), Continue: next}
	switch wantAs(r) {
	case "Table":
		s.writeTable(w, r, info, picked, listMeta)
		return
	case "PartialObjectMetadataList":
		s.writePartialList(w, info, picked, listMeta)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(`{"kind":`)
	writeJSONString(&buf, info.res.kind+"List")
	buf.WriteString(`,"apiVersion":`)
	writeJSONString(&buf, info.res.gvr.GroupVersion().String())
	meta, _ := json.Marshal(listMeta)
	buf.WriteString(`,"metadata":`)
	buf.Write(meta)
	buf.WriteString(`,"items":[`)
	for i, it := range picked {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(it.Value)
	}
	buf.WriteString("]}")
	writeRaw(w, http.StatusOK, buf.Bytes())
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}

// wantAs returns the "as" parameter of the preferred Accept entry kin can
// serve: "Table", "PartialObjectMetadata", "PartialObjectMetadataList" or "".
func wantAs(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		params := strings.Split(part, ";")
		mediaType := strings.TrimSpace(params[0])
		if mediaType != "application/json" && mediaType != "*/*" {
			continue
		}
		as, group := "", ""
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			switch k {
			case "as":
				as = v
			case "g":
				group = v
			}
		}
		if as == "" {
			return ""
		}
		if group == "meta.k8s.io" && (as == "Table" || as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") {
			return as
		}
	}
	return ""
}

// decodeAll decodes stored objects for printing.
func decodeAll(info *requestInfo, items []store.Object) ([]runtime.Object, error) {
	objs := make([]runtime.Object, 0, len(items))
	for _, it := range items {
		obj, err := decodeStored(info.res, it.Value)
		if err != nil {
			return nil, err
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// tableFor builds a server-side table; includeObject chooses what each row carries.
func (s *Server) tableFor(r *http.Request, info *requestInfo, items []store.Object) (*metav1.Table, error) {
	objs, err := decodeAll(info, items)
	if err != nil {
		return nil, err
	}
	table, err := printers.Table(info.res.groupResource(), objs, time.Now())
	if err != nil {
		return nil, err
	}
	switch metav1.IncludeObjectPolicy(r.URL.Query().Get("includeObject")) {
	case metav1.IncludeNone:
		for i := range table.Rows {
			table.Rows[i].Object = runtime.RawExtension{}
		}
	case metav1.IncludeObject:
		for i := range table.Rows {
			table.Rows[i].Object = runtime.RawExtension{Raw: items[i].Value}
		}
	}
	table.Kind, table.APIVersion = "Table", "meta.k8s.io/v1"
	return table, nil
}

func (s *Server) writeTable(w http.ResponseWriter, r *http.Request, info *requestInfo, items []store.Object, lm metav1.ListMeta) {
	table, err := s.tableFor(r, info, items)
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	table.ListMeta = lm
	writeJSON(w, http.StatusOK, table)
}

// partialMetadata returns the PartialObjectMetadata view of a stored object.
func partialMetadata(raw []byte) (*metav1.PartialObjectMetadata, error) {
	p := &metav1.PartialObjectMetadata{}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, err
	}
	p.Kind, p.APIVersion = "PartialObjectMetadata", "meta.k8s.io/v1"
	return p, nil
}

func (s *Server) writePartialList(w http.ResponseWriter, info *requestInfo, items []store.Object, lm metav1.ListMeta) {
	list := &metav1.PartialObjectMetadataList{
		TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1"},
		ListMeta: lm,
	}
	for _, it := range items {
		p, err := partialMetadata(it.Value)
		if err != nil {
			writeError(w, apierrors.NewInternalError(err))
			return
		}
		list.Items = append(list.Items, *p)
	}
	writeJSON(w, http.StatusOK, list)
}
