package apiserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"kin/internal/store"
)

// FuzzRequestBodies sends arbitrary bodies to every write path: the server
// must answer with a Kubernetes status (never 5xx, never a crash).
func FuzzRequestBodies(f *testing.F) {
	st, err := store.Open(filepath.Join(f.TempDir(), "store.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	srv, err := New(Config{Store: st})
	if err != nil {
		f.Fatal(err)
	}
	do := func(method, path, ctype string, body []byte) int {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	do("POST", "/api/v1/namespaces", "application/json", []byte(`{"metadata":{"name":"default"}}`))
	do("POST", "/api/v1/namespaces/default/configmaps", "application/json", []byte(`{"metadata":{"name":"c"}}`))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`))
	f.Add([]byte(`{"metadata":{"name":"x"},"spec":{"ports":[{"port":70000}]}}`))
	f.Add([]byte(`[{"op":"add","path":"/data/a","value":"b"}]`))
	f.Add([]byte("\x00\xff{"))
	f.Add([]byte(`k8s` + "\x00\x0a\x02"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cases := []struct{ method, path, ctype string }{
			{"POST", "/api/v1/namespaces/default/pods", "application/json"},
			{"POST", "/api/v1/namespaces/default/services", "application/json"},
			{"POST", "/apis/apps/v1/namespaces/default/deployments", "application/vnd.kubernetes.protobuf"},
			{"POST", "/apis/metallb.io/v1beta1/namespaces/default/ipaddresspools", "application/json"},
			{"PUT", "/api/v1/namespaces/default/configmaps/c", "application/json"},
			{"PATCH", "/api/v1/namespaces/default/configmaps/c", "application/json-patch+json"},
			{"PATCH", "/api/v1/namespaces/default/configmaps/c", "application/merge-patch+json"},
			{"PATCH", "/api/v1/namespaces/default/configmaps/c", "application/strategic-merge-patch+json"},
			{"DELETE", "/api/v1/namespaces/default/configmaps/nope", "application/json"},
			{"POST", "/api/v1/namespaces/default/pods/p/binding", "application/json"},
		}
		for _, c := range cases {
			if code := do(c.method, c.path, c.ctype, body); code >= 500 {
				t.Fatalf("%s %s with %q: status %d", c.method, c.path, body, code)
			}
		}
	})
}

func TestOversizedBodyIs413(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, _ := New(Config{Store: st, MaxBodyBytes: 1024})
	req := httptest.NewRequest("POST", "/api/v1/namespaces", bytes.NewReader(make([]byte, 4096)))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
}

func TestAnonymousIs401(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, _ := New(Config{Store: st, Token: "secret"})
	for _, auth := range []string{"", "Bearer wrong", "Basic c2VjcmV0"} {
		req := httptest.NewRequest("GET", "/api/v1/namespaces", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("auth %q: status %d, want 401", auth, rec.Code)
		}
	}
	pub := httptest.NewRequest("GET", "/version", nil)
	rec0 := httptest.NewRecorder()
	srv.ServeHTTP(rec0, pub)
	if rec0.Code != http.StatusOK {
		t.Fatalf("anonymous /version: status %d, want 200 as kube-apiserver", rec0.Code)
	}
	req := httptest.NewRequest("GET", "/api/v1/namespaces", nil)
	req.Header.Set("Authorization", "Bearer secret")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("with token: status %d", rec.Code)
	}
}
