package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

const webManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:stable
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  greeting: hello
`

// client returns a client-go clientset for the cluster.
func (c *cluster) client() *kubernetes.Clientset {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(c.stateDir, c.name, "kubeconfig"))
	if err != nil {
		c.t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// expectOut runs kubectl and checks that it succeeded (or failed, when
// wantFail) and that every pattern matches its output.
func expectOut(t *testing.T, k kubectl, stdin string, wantFail bool, args []string, patterns ...string) string {
	t.Helper()
	out, err := k.run(stdin, args...)
	if wantFail && err == nil {
		t.Fatalf("kubectl %s: want failure, got success:\n%s", strings.Join(args, " "), out)
	}
	if !wantFail && err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, p := range patterns {
		if !regexp.MustCompile("(?m)" + p).MatchString(out) {
			t.Fatalf("kubectl %s: output does not match %q:\n%s", strings.Join(args, " "), p, out)
		}
	}
	return out
}

func TestKubectlEverydayVerbs(t *testing.T) {
	c := newCluster(t)
	for _, k := range c.kubectls() {
		t.Run(k.name, func(t *testing.T) {
			ns := k.name
			expectOut(t, k, "", false, []string{"create", "namespace", ns}, `namespace/`+ns+` created`)
			n := func(args ...string) []string { return append([]string{"-n", ns}, args...) }

			expectOut(t, k, webManifest, false, n("apply", "-f", "-"),
				`^deployment.apps/web created$`, `^service/web created$`, `^configmap/cfg created$`)
			expectOut(t, k, webManifest, false, n("apply", "-f", "-"), `^deployment.apps/web unchanged$`)
			expectOut(t, k, "", false, n("get", "deploy", "-o", "wide"),
				`^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$`,
				`^web\s+\d/2\s+\d\s+\d\s+\S+\s+nginx\s+nginx:stable\s+app=web$`)
			expectOut(t, k, "", false, n("get", "svc", "web"),
				`^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$`, `^web\s+ClusterIP\s+`)
			expectOut(t, k, "", false, n("get", "cm", "cfg", "-o", "yaml"), `^kind: ConfigMap$`, `^  greeting: hello$`)
			js := expectOut(t, k, "", false, n("get", "deploy", "web", "-o", "json"))
			var d struct {
				Spec struct {
					Replicas int `json:"replicas"`
				} `json:"spec"`
			}
			if err := json.Unmarshal([]byte(js), &d); err != nil || d.Spec.Replicas != 2 {
				t.Fatalf("-o json: %v %s", err, js)
			}
			expectOut(t, k, "", false, n("describe", "deploy", "web"),
				`^Name:\s+web$`, `^Namespace:\s+`+ns+`$`, `^Replicas:\s+2 desired`, `^StrategyType:\s+RollingUpdate$`)

			expectOut(t, k, "", false, n("scale", "deploy", "web", "--replicas=3"), `^deployment.apps/web scaled$`)
			expectOut(t, k, "", false, n("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"), `^3$`)
			expectOut(t, k, "", false, n("rollout", "status", "deploy/web", "--timeout=60s"), `deployment "web" successfully rolled out`)
			expectOut(t, k, "", false, n("rollout", "restart", "deploy/web"), `^deployment.apps/web restarted$`)
			expectOut(t, k, "", false, n("rollout", "status", "deploy/web", "--timeout=60s"), `deployment "web" successfully rolled out`)
			expectOut(t, k, "", false, n("get", "rs", "-l", "app=web"), `^web-[a-z0-9]+\s+0\s+0\s+0\s+`, `^web-[a-z0-9]+\s+3\s+3\s+3\s+`)

			expectOut(t, k, "", false, n("patch", "deploy", "web", "-p", `{"metadata":{"labels":{"tier":"front"}}}`), `^deployment.apps/web patched$`)
			expectOut(t, k, "", false, n("label", "cm", "cfg", "color=blue"), `^configmap/cfg labeled$`)
			expectOut(t, k, "", false, n("annotate", "cm", "cfg", "note=hi"), `^configmap/cfg annotated$`)
			expectOut(t, k, "", false, n("get", "cm", "cfg", "--show-labels"), `^cfg\s+1\s+\S+\s+color=blue$`)
			expectOut(t, k, "", false, n("get", "deploy", "-l", "tier=front", "-o", "name"), `^deployment.apps/web$`)

			bad := "apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n  - port: 70000\n    targetPort: 80\n"
			expectOut(t, k, bad, true, n("apply", "-f", "-"),
				`The Service "bad" is invalid: spec.ports\[0\].port: Invalid value: 70000: must be between 1 and 65535, inclusive`)
			expectOut(t, k, "", true, n("get", "svc", "bad"), `services "bad" not found`)
			unknown := "apiVersion: foo.io/v1\nkind: Bar\nmetadata:\n  name: x\n"
			expectOut(t, k, unknown, true, n("apply", "-f", "-"), `no matches for kind "Bar" in version "foo.io/v1"`)

			expectOut(t, k, webManifest, false, n("delete", "-f", "-"),
				`^deployment.apps "web" deleted`, `^service "web" deleted`, `^configmap "cfg" deleted`)
			expectOut(t, k, "", false, n("get", "deploy,svc"), `^No resources found in `+ns+` namespace.$`)
		})
	}
}

// TestInformerAcrossDaemonRestart kills the daemon with SIGKILL and resumes
// the cluster: acknowledged writes survive and a client-go informer started
// before the crash sees writes made after it.
func TestInformerAcrossDaemonRestart(t *testing.T) {
	c := newCluster(t)
	client := c.client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace("default"))
	inf := f.Core().V1().ConfigMaps().Informer()
	seen := make(chan string, 100)
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) { seen <- obj.(*corev1.ConfigMap).Name }})
	f.Start(ctx.Done())
	cache.WaitForCacheSync(ctx.Done(), inf.HasSynced)

	if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before-crash"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSeen(t, seen, "before-crash")

	pidData, err := os.ReadFile(filepath.Join(c.stateDir, c.name, "daemon.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidData)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if out, err := c.kin("up"); err != nil {
		t.Fatalf("kin up after SIGKILL: %v\n%s", err, out)
	}
	if _, err := client.CoreV1().ConfigMaps("default").Get(ctx, "before-crash", metav1.GetOptions{}); err != nil {
		t.Fatalf("acknowledged write lost across SIGKILL: %v", err)
	}
	if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after-restart"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSeen(t, seen, "after-restart")
}

func waitSeen(t *testing.T, seen chan string, name string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case got := <-seen:
			if got == name {
				return
			}
		case <-deadline:
			t.Fatalf("informer never saw %q", name)
		}
	}
}
