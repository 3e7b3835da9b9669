package apiserver

import (
	"strings"

	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
	"net/http"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// openAPICache holds the OpenAPI v3 documents, built once: they only depend
// on the resource table. The documents describe operations and their
// parameters (kubectl reads the PATCH parameters to learn that the server
// validates fields itself) but not object schemas, so kubectl computes
// strategic merge patches from its built-in types.
type openAPICache struct {
	once sync.Once
	reg  *registry
	docs map[string][]byte // by "api/v1", "apis/apps/v1"
	root []byte
}

func newOpenAPICache(reg *registry) *openAPICache { return &openAPICache{reg: reg} }

func (c *openAPICache) build() {
	c.docs = map[string][]byte{}
	gvs := map[schema.GroupVersion]bool{}
	for _, r := range c.reg.byGVR {
		gvs[r.gvr.GroupVersion()] = true
	}
	paths := map[string]any{}
	for gv := range gvs {
		doc := c.document(gv)
		data, _ := json.Marshal(doc)
		prefix := pathPrefix(gv)
		c.docs[prefix] = data
		sum := sha512.Sum512(data)
		paths[prefix] = map[string]string{"serverRelativeURL": "/openapi/v3/" + prefix + "?hash=" + hex.EncodeToString(sum[:])[:64]}
	}
	c.root, _ = json.Marshal(map[string]any{"paths": paths})
}

func (c *openAPICache) document(gv schema.GroupVersion) map[string]any {
	queryParam := func(name string) map[string]any {
		return map[string]any{"name": name, "in": "query", "schema": map[string]string{"type": "string"}, "uniqueItems": true}
	}
	paths := map[string]any{}
	for _, r := range c.reg.inGroupVersion(gv.Group, gv.Version) {
		base := "/" + pathPrefix(gv) + "/"
		if r.namespaced {
			base += "namespaces/{namespace}/"
		}
		gvk := map[string]string{"group": gv.Group, "version": gv.Version, "kind": r.kind}
		bodyTypes := map[string]any{
			"application/json-patch+json":  map[string]any{"schema": map[string]string{"type": "object"}},
			"application/merge-patch+json": map[string]any{"schema": map[string]string{"type": "object"}},
		}
		item := map[string]any{
			"get":    map[string]any{"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "get"},
			"put":    map[string]any{"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "put", "parameters": []any{queryParam("dryRun"), queryParam("fieldManager"), queryParam("fieldValidation")}},
			"delete": map[string]any{"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "delete"},
			"patch": map[string]any{
				"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch",
				"parameters":  []any{queryParam("dryRun"), queryParam("fieldManager"), queryParam("fieldValidation"), queryParam("force")},
				"requestBody": map[string]any{"content": bodyTypes},
			},
		}
		paths[base+r.gvr.Resource+"/{name}"] = item
		paths[base+r.gvr.Resource] = map[string]any{
			"get":  map[string]any{"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "list"},
			"post": map[string]any{"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "post", "parameters": []any{queryParam("dryRun"), queryParam("fieldManager"), queryParam("fieldValidation")}},
		}
	}
	return map[string]any{
		"openapi":    "3.0.0",
		"info":       map[string]string{"title": "Kubernetes", "version": Version},
		"paths":      paths,
		"components": map[string]any{"schemas": map[string]any{}},
	}
}

// serveOpenAPIV2 answers /openapi/v2 with an empty Swagger 2.0 document in
// the protobuf form kubectl asks for. kubectl falls back to it for kinds the
// v3 documents do not list, and an empty schema lets the server decide, so an
// unknown kind gets kubectl's usual "no matches for kind" error.
func (s *Server) serveOpenAPIV2(w http.ResponseWriter, r *http.Request) {
	doc := &openapi_v2.Document{
		Swagger:     "2.0",
		Info:        &openapi_v2.Info{Title: "Kubernetes", Version: Version},
		Paths:       &openapi_v2.Paths{},
		Definitions: &openapi_v2.Definitions{},
	}
	if strings.Contains(r.Header.Get("Accept"), "protobuf") {
		data, err := proto.Marshal(doc)
		if err != nil {
			writeError(w, apierrors.NewInternalError(err))
			return
		}
		w.Header().Set("Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
		w.Write(data)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"swagger": "2.0", "info": map[string]string{"title": "Kubernetes", "version": Version},
		"paths": map[string]any{}, "definitions": map[string]any{},
	})
}

// serveOpenAPI answers /openapi/v3 and /openapi/v3/{prefix}.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request, prefix string) {
	c := s.openapi
	c.once.Do(c.build)
	if prefix == "" {
		writeRaw(w, http.StatusOK, c.root)
		return
	}
	doc, ok := c.docs[prefix]
	if !ok {
		writeError(w, apierrors.NewNotFound(schema.GroupResource{}, prefix))
		return
	}
	w.Header().Set("Cache-Control", "public, immutable")
	writeRaw(w, http.StatusOK, doc)
}
