package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// running reports whether the pod is Running with every container ready.
func running(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && condition(p, corev1.PodReady) == corev1.ConditionTrue
}

func TestBuiltinImagePodBecomesRunningAndReady(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "web", Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		}}},
	})
	p := h.waitPod("default", "web", "Running and Ready", running)
	if p.Status.PodIP != "10.244.1.2" || len(p.Status.PodIPs) != 1 || p.Status.PodIPs[0].IP != "10.244.1.2" {
		t.Errorf("podIP = %q %v", p.Status.PodIP, p.Status.PodIPs)
	}
	if p.Status.HostIP != "192.168.1.101" || len(p.Status.HostIPs) != 1 {
		t.Errorf("hostIP = %q %v", p.Status.HostIP, p.Status.HostIPs)
	}
	if p.Status.StartTime == nil || p.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("startTime %v qosClass %q", p.Status.StartTime, p.Status.QOSClass)
	}
	var types []string
	for _, c := range p.Status.Conditions {
		types = append(types, string(c.Type))
		if c.Status != corev1.ConditionTrue || c.LastTransitionTime.IsZero() {
			t.Errorf("condition %+v, want True with a transition time", c)
		}
	}
	if got := strings.Join(types, ","); got != "PodReadyToStartContainers,Initialized,Ready,ContainersReady,PodScheduled" {
		t.Errorf("conditions = %s", got)
	}
	cs := containerStatus(p, "web")
	if !cs.Ready || cs.Started == nil || !*cs.Started || cs.State.Running == nil || cs.RestartCount != 0 ||
		!strings.HasPrefix(cs.ContainerID, "kin://") || len(cs.ContainerID) != len("kin://")+64 ||
		cs.Image != "web" || !strings.HasPrefix(cs.ImageID, "web@sha256:") {
		t.Errorf("container status = %+v", cs)
	}
	h.waitEvent(`Pulled: Container image "web" already present on machine`)
	h.waitEvent("Created: Created container: web")
	h.waitEvent("Started: Started container web")

	// The image is reachable on the pod IP from the node and logs to the
	// container log.
	conn, err := h.dialer(context.Background(), "tcp", "10.244.1.2:8080")
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	out, err := h.logs("default", "web", "web", LogOptions{})
	if err != nil || !strings.HasPrefix(out, "listening on :8080 as web\n") {
		t.Errorf("logs = %q, %v", out, err)
	}
	sb := h.sandboxes.get("uid-web")
	if sb == nil || sb.hostname != "web" || sb.file("/etc/hostname") != "web\n" {
		t.Fatalf("sandbox = %+v", sb)
	}
}

func TestCommandContainerRunsAndLogs(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "ubuntu-test"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "ubuntu", Image: "ubuntu:20.04",
			Command: []string{"sh", "-c", "echo hi; sleep 0.1; echo oops >&2; sleep 60"},
		}}},
	})
	h.waitPod("default", "ubuntu-test", "Running", running)
	waitFor(t, "log lines", func() bool {
		out, _ := h.logs("default", "ubuntu-test", "ubuntu", LogOptions{})
		return out == "hi\noops\n"
	})
	out, err := h.logs("default", "ubuntu-test", "ubuntu", LogOptions{TailLines: ptr(int64(1))})
	if err != nil || out != "oops\n" {
		t.Errorf("tail 1 = %q, %v", out, err)
	}
	out, _ = h.logs("default", "ubuntu-test", "ubuntu", LogOptions{Timestamps: true})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "Z hi") || len(lines[0]) != len("2026-11-24T05:39:18.123456789Z hi") {
		t.Errorf("timestamps = %q", out)
	}
	// The stored log is in the CRI format.
	raw, err := os.ReadFile(filepath.Join(h.cfg.StateDir, "pods", "uid-ubuntu-test", "logs", "ubuntu", "0.log"))
	if err != nil || !strings.Contains(string(raw), "Z stdout F hi\n") || !strings.Contains(string(raw), "Z stderr F oops\n") {
		t.Errorf("CRI log = %q, %v", raw, err)
	}
	if _, err := h.logs("default", "ubuntu-test", "ubuntu", LogOptions{Previous: true}); err == nil ||
		err.Error() != `previous terminated container "ubuntu" in pod "ubuntu-test" not found` {
		t.Errorf("previous logs error = %v", err)
	}

	// Follow returns what is written and ends when ctx does.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var b strings.Builder
	if err := h.agent.Logs(ctx, "default", "ubuntu-test", "ubuntu", LogOptions{Follow: true}, &b, func() {}); err != nil || b.String() != "hi\noops\n" {
		t.Errorf("follow = %q, %v", b.String(), err)
	}
}

func TestCrashingContainerGoesToCrashLoopBackOff(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "crash"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "busybox", Command: []string{"sh", "-c", "echo crashing; exit 3"},
		}}},
	})
	p := h.waitPod("default", "crash", "CrashLoopBackOff with restarts", func(p *corev1.Pod) bool {
		cs := containerStatus(p, "app")
		return cs.RestartCount >= 2 && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
	})
	cs := containerStatus(p, "app")
	if !strings.HasPrefix(cs.State.Waiting.Message, "back-off ") ||
		!strings.HasSuffix(cs.State.Waiting.Message, " restarting failed container=app pod=crash_default(uid-crash)") {
		t.Errorf("waiting message = %q", cs.State.Waiting.Message)
	}
	last := cs.LastTerminationState.Terminated
	if last == nil || last.ExitCode != 3 || last.Reason != "Error" || last.StartedAt.IsZero() || last.FinishedAt.IsZero() {
		t.Errorf("last state = %+v", last)
	}
	if p.Status.Phase != corev1.PodRunning || condition(p, corev1.PodReady) != corev1.ConditionFalse {
		t.Errorf("phase %s ready %s", p.Status.Phase, condition(p, corev1.PodReady))
	}
	h.waitEvent("BackOff: Back-off restarting failed container app in pod crash_default(uid-crash)")
	out, err := h.logs("default", "crash", "app", LogOptions{Previous: true})
	if err != nil || out != "crashing\n" {
		t.Errorf("previous logs = %q, %v", out, err)
	}
	// The back-off grows: restarts keep coming, more slowly.
	h.waitPod("default", "crash", "more restarts", func(p *corev1.Pod) bool {
		return containerStatus(p, "app").RestartCount >= 4
	})
}

func TestRestartPolicyNeverAndOnFailure(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "job-ok"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure, Containers: []corev1.Container{{
			Name: "c", Image: "busybox", Command: []string{"sh", "-c", "echo done"},
		}}},
	})
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "job-fail"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "c", Image: "busybox", Command: []string{"false"},
		}}},
	})
	ok := h.waitPod("default", "job-ok", "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	if cs := containerStatus(ok, "c"); cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" || cs.RestartCount != 0 {
		t.Errorf("status = %+v", cs)
	}
	for _, c := range ok.Status.Conditions {
		if c.Type == corev1.PodReady && (c.Status != corev1.ConditionFalse || c.Reason != "PodCompleted") {
			t.Errorf("Ready = %+v", c)
		}
	}
	fail := h.waitPod("default", "job-fail", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if cs := containerStatus(fail, "c"); cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 1 {
		t.Errorf("status = %+v", cs)
	}
	// Finished pods give back their sandbox and address but keep their
	// status and logs.
	waitFor(t, "sandbox removed", func() bool { return h.sandboxes.wasDeleted("uid-job-ok") })
	if !h.network.deletedPod("uid-job-ok") {
		t.Errorf("network of the finished pod was not removed")
	}
	if out, err := h.logs("default", "job-ok", "c", LogOptions{}); err != nil || out != "done\n" {
		t.Errorf("logs of finished pod = %q, %v", out, err)
	}
	if p := h.getPod("default", "job-ok"); p.Status.PodIP == "" {
		t.Errorf("podIP dropped from a finished pod")
	}
}

func TestUnknownImageWithoutCommandWaitsInImagePullBackOff(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "mixed"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "foo", Image: "foo:1"},
			{Name: "web", Image: "web"},
		}},
	})
	want := `image "foo:1" is not built into kin and the container has no command; built-in images: crash, web`
	p := h.waitPod("default", "mixed", "ErrImagePull", func(p *corev1.Pod) bool {
		cs := containerStatus(p, "foo")
		return cs.State.Waiting != nil && cs.State.Waiting.Reason == "ErrImagePull"
	})
	if got := containerStatus(p, "foo").State.Waiting.Message; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	p = h.waitPod("default", "mixed", "ImagePullBackOff and web running", func(p *corev1.Pod) bool {
		cs := containerStatus(p, "foo")
		return cs.State.Waiting != nil && cs.State.Waiting.Reason == "ImagePullBackOff" &&
			containerStatus(p, "web").State.Running != nil
	})
	if got := containerStatus(p, "foo").State.Waiting.Message; got != `Back-off pulling image "foo:1": ErrImagePull: `+want {
		t.Errorf("back-off message = %q", got)
	}
	if p.Status.Phase != corev1.PodPending || p.Status.PodIP == "" {
		t.Errorf("phase %s podIP %q", p.Status.Phase, p.Status.PodIP)
	}
	h.waitEvent(`Failed: Failed to pull image "foo:1": ` + want)
	h.waitEvent("Failed: Error: ErrImagePull")
	h.waitEvent("Failed: Error: ImagePullBackOff")
	if _, err := h.logs("default", "mixed", "foo", LogOptions{}); err == nil ||
		err.Error() != `container "foo" in pod "mixed" is waiting to start: trying and failing to pull image` {
		t.Errorf("logs error = %v", err)
	}
}

func TestReadinessProbeFlipsReady(t *testing.T) {
	h := newHarness(t)
	img := newWebImage(500)
	h.images["flaky"] = img
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "ready"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "flaky", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}},
				PeriodSeconds: 1, FailureThreshold: 1,
			},
		}}},
	})
	p := h.waitPod("default", "ready", "Running but not ready", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && containerStatus(p, "web").State.Running != nil
	})
	h.waitEvent("Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 500")
	p = h.getPod("default", "ready")
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && (c.Status != corev1.ConditionFalse || c.Reason != "ContainersNotReady" ||
			c.Message != "containers with unready status: [web]") {
			t.Errorf("Ready = %+v", c)
		}
	}
	img.status.Store(200)
	h.waitPod("default", "ready", "Ready", running)
	img.status.Store(503)
	h.waitPod("default", "ready", "not Ready again", func(p *corev1.Pod) bool {
		return condition(p, corev1.PodReady) == corev1.ConditionFalse && !containerStatus(p, "web").Ready
	})
	if cs := containerStatus(h.getPod("default", "ready"), "web"); cs.RestartCount != 0 {
		t.Errorf("readiness failures restarted the container: %+v", cs)
	}
}

func TestLivenessFailureRestartsContainer(t *testing.T) {
	h := newHarness(t)
	img := newWebImage(500)
	h.images["sick"] = img
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "live"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "sick",
			LivenessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
				PeriodSeconds: 1, FailureThreshold: 2,
			},
		}}},
	})
	p := h.waitPod("default", "live", "a restart", func(p *corev1.Pod) bool {
		return containerStatus(p, "web").RestartCount >= 1
	})
	h.waitEvent("Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500")
	h.waitEvent("Killing: Container web failed liveness probe, will be restarted")
	if last := containerStatus(p, "web").LastTerminationState.Terminated; last == nil {
		t.Errorf("no last state after a liveness restart: %+v", containerStatus(p, "web"))
	}
	// Once healthy it stays up.
	img.status.Store(200)
	p = h.waitPod("default", "live", "running", running)
	n := containerStatus(p, "web").RestartCount
	time.Sleep(500 * time.Millisecond)
	if got := containerStatus(h.getPod("default", "live"), "web").RestartCount; got > n+1 {
		t.Errorf("restarts kept growing while healthy: %d -> %d", n, got)
	}
}

func TestExecAndTCPProbes(t *testing.T) {
	h := newHarness(t)
	flag := filepath.Join(t.TempDir(), "healthy")
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "probes"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{
				Name: "sh", Image: "busybox", Command: []string{"sleep", "60"},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", flag}}},
					PeriodSeconds: 1, FailureThreshold: 1,
				},
			},
			{
				Name: "web", Image: "web",
				StartupProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 1, FailureThreshold: 30,
				},
			},
		}},
	})
	p := h.waitPod("default", "probes", "web started", func(p *corev1.Pod) bool {
		cs := containerStatus(p, "web")
		return cs.Started != nil && *cs.Started && cs.Ready
	})
	if containerStatus(p, "sh").Ready {
		t.Errorf("sh ready before its file exists")
	}
	h.waitEvent("Unhealthy: Readiness probe failed: cat: " + flag)
	if err := os.WriteFile(flag, []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.waitPod("default", "probes", "Ready", running)
}

func TestDeletionRunsPreStopStopsContainersAndDeletesPod(t *testing.T) {
	h := newHarness(t)
	marker := filepath.Join(t.TempDir(), "prestop")
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "bye"},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr(int64(30)),
			Containers: []corev1.Container{
				{
					Name: "app", Image: "busybox", Command: []string{"sleep", "600"},
					Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
						Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "echo $HOSTNAME > " + marker}},
					}},
				},
				// This one ignores SIGTERM and needs SIGKILL after the grace period.
				{Name: "stubborn", Image: "busybox", Command: []string{"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"}},
				{Name: "web", Image: "web"},
			},
		},
	})
	p := h.waitPod("default", "bye", "Running", running)
	pids := readPIDs(t, filepath.Join(h.cfg.StateDir, "pods", "uid-bye", "pids"))
	if len(pids) != 2 {
		t.Fatalf("pid files = %v", pids)
	}
	// Deleting with a grace period of 1s (10 ticks of the test clock): the
	// API server sets deletionTimestamp; the agent does the rest.
	now := metav1.Now()
	p.DeletionTimestamp = &now
	p.DeletionGracePeriodSeconds = ptr(int64(10))
	start := time.Now()
	if _, err := h.client.CoreV1().Pods("default").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod deleted", func() bool { return h.getPod("default", "bye") == nil })
	took := time.Since(start)
	if took > 5*time.Second {
		t.Errorf("deletion took %v, grace period was 1s", took)
	}
	b, err := os.ReadFile(marker)
	if err != nil || string(b) != "bye\n" {
		t.Errorf("preStop marker = %q, %v", b, err)
	}
	for _, pid := range pids {
		if procStartTime(pid) != "" {
			t.Errorf("process %d still running", pid)
		}
	}
	if !h.sandboxes.wasDeleted("uid-bye") || !h.network.deletedPod("uid-bye") {
		t.Errorf("sandbox or network left behind")
	}
	h.waitEvent("Killing: Stopping container app")
	h.waitEvent("Killing: Stopping container stubborn")
	waitFor(t, "pod directory removed", func() bool {
		_, err := os.Stat(filepath.Join(h.cfg.StateDir, "pods", "uid-bye"))
		return os.IsNotExist(err)
	})
}

// readPIDs reads the pid files of a pod.
func readPIDs(t *testing.T, dir string) []int {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var pids []int
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var pid int
		var start string
		if _, err := fmt.Sscan(string(b), &pid, &start); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestInitContainersRunInOrderFirst(t *testing.T) {
	h := newHarness(t)
	out := filepath.Join(t.TempDir(), "order")
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "init"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{
				{Name: "one", Image: "busybox", Command: []string{"sh", "-c", "sleep 0.2; echo one >> " + out}},
				{Name: "two", Image: "busybox", Command: []string{"sh", "-c", "echo two >> " + out}},
			},
			Containers: []corev1.Container{
				{Name: "main", Image: "busybox", Command: []string{"sh", "-c", "echo main >> " + out + "; sleep 60"}},
			},
		},
	})
	p := h.waitPod("default", "init", "Running", running)
	// Running means the main process started; its first line may still be on its way.
	var b []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, _ = os.ReadFile(out); strings.Contains(string(b), "main") {
			break
		}
	}
	if string(b) != "one\ntwo\nmain\n" {
		t.Errorf("order = %q", b)
	}
	for _, name := range []string{"one", "two"} {
		cs := containerStatus(p, name)
		if cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" || !cs.Ready {
			t.Errorf("init container %s = %+v", name, cs)
		}
	}
	if condition(p, corev1.PodInitialized) != corev1.ConditionTrue {
		t.Errorf("Initialized = %s", condition(p, corev1.PodInitialized))
	}
}

func TestEnvDownwardAPIAndConfigMap(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.client.CoreV1().ConfigMaps("lab").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "lab"},
		Data:       map[string]string{"greeting": "hello", "MODE": "fast"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.1", Ports: []corev1.ServicePort{{Name: "https", Port: 443}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	field := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "env", Namespace: "lab", Labels: map[string]string{"app": "env"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "busybox", WorkingDir: "/tmp",
			Command: []string{"sh", "-c", "env | sort; echo cwd=$(pwd); echo $(MESSAGE); echo END; sleep 60"},
			EnvFrom: []corev1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
			Env: []corev1.EnvVar{
				{Name: "POD_NAME", ValueFrom: field("metadata.name")},
				{Name: "POD_NAMESPACE", ValueFrom: field("metadata.namespace")},
				{Name: "POD_IP", ValueFrom: field("status.podIP")},
				{Name: "NODE_NAME", ValueFrom: field("spec.nodeName")},
				{Name: "HOST_IP", ValueFrom: field("status.hostIP")},
				{Name: "APP", ValueFrom: field("metadata.labels['app']")},
				{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "greeting"}}},
				{Name: "MESSAGE", Value: "$(GREETING) from $(POD_NAME) at $(POD_IP) $(UNDEFINED) $$(ESCAPED)"},
			},
		}}},
	})
	h.waitPod("lab", "env", "Running", running)
	var out string
	waitFor(t, "env output", func() bool {
		out, _ = h.logs("lab", "env", "c", LogOptions{})
		return strings.HasSuffix(out, "END\n")
	})
	for _, want := range []string{
		"POD_NAME=env\n", "POD_NAMESPACE=lab\n", "POD_IP=10.244.1.2\n", "NODE_NAME=w1-k8s\n",
		"HOST_IP=192.168.1.101\n", "APP=env\n", "GREETING=hello\n", "CM_MODE=fast\n", "CM_greeting=hello\n",
		"HOSTNAME=env\n", "KUBERNETES_SERVICE_HOST=10.96.0.1\n", "KUBERNETES_SERVICE_PORT=443\n",
		"KUBERNETES_SERVICE_PORT_HTTPS=443\n", "KUBERNETES_PORT=tcp://10.96.0.1:443\n",
		"KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1\n",
		"MESSAGE=hello from env at 10.244.1.2 $(UNDEFINED) $(ESCAPED)\n",
		"cwd=/tmp\n",
		"hello from env at 10.244.1.2 $(UNDEFINED) $(ESCAPED)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A missing ConfigMap key keeps the container in CreateContainerConfigError.
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "badenv", Namespace: "lab"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "busybox", Command: []string{"sleep", "60"},
			Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "mode"}}}},
		}}},
	})
	h.waitPod("lab", "badenv", "CreateContainerConfigError", func(p *corev1.Pod) bool {
		w := containerStatus(p, "c").State.Waiting
		return w != nil && w.Reason == "CreateContainerConfigError" && w.Message == "couldn't find key mode in ConfigMap lab/cfg"
	})
}

func TestResolvConfAndHostsInSandbox(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "ubuntu-test"},
		Spec: corev1.PodSpec{
			DNSConfig:   &corev1.PodDNSConfig{Nameservers: []string{"8.8.8.8"}},
			HostAliases: []corev1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo.local", "bar.local"}}},
			Containers:  []corev1.Container{{Name: "ubuntu", Image: "ubuntu:20.04", Command: []string{"sleep", "60"}}},
		},
	})
	h.waitPod("default", "ubuntu-test", "Running", running)
	sb := h.sandboxes.get("uid-ubuntu-test")
	wantResolv := "search default.svc.cluster.local svc.cluster.local cluster.local\n" +
		"nameserver 10.96.0.10\n" +
		"nameserver 8.8.8.8\n" +
		"options ndots:5\n"
	if got := sb.file("/etc/resolv.conf"); got != wantResolv {
		t.Errorf("resolv.conf =\n%s\nwant\n%s", got, wantResolv)
	}
	wantHosts := "# Kubernetes-managed hosts file.\n" +
		"127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"fe00::0\tip6-mcastprefix\n" +
		"fe00::1\tip6-allnodes\n" +
		"fe00::2\tip6-allrouters\n" +
		"10.244.1.2\tubuntu-test\n" +
		"\n# Entries added by HostAliases.\n" +
		"10.1.2.3\tfoo.local\tbar.local\n"
	if got := sb.file("/etc/hosts"); got != wantHosts {
		t.Errorf("hosts =\n%s\nwant\n%s", got, wantHosts)
	}
}

func TestEmptyDirMountedOnlyOverExistingPaths(t *testing.T) {
	h := newHarness(t)
	existing := t.TempDir()
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "vols"},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{{Name: "cache-volume", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			Containers: []corev1.Container{{
				Name: "c", Image: "busybox", Command: []string{"sleep", "60"},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "cache-volume", MountPath: existing},
					{Name: "cache-volume", MountPath: "/kin-test-does-not-exist/cache"},
				},
			}},
		},
	})
	h.waitPod("default", "vols", "Running", running)
	sb := h.sandboxes.get("uid-vols")
	sb.mu.Lock()
	mounts := sb.mounts
	sb.mu.Unlock()
	dir := filepath.Join(h.cfg.StateDir, "pods", "uid-vols", "volumes", "cache-volume")
	if len(mounts) != 1 || strings.Join(mounts[0], " ") != "mount --bind "+dir+" "+existing {
		t.Errorf("mounts = %q", mounts)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir = %v, %v", fi, err)
	}
	if _, err := os.Stat("/kin-test-does-not-exist"); !os.IsNotExist(err) {
		t.Errorf("a directory was created on the machine's root filesystem")
	}
	h.waitEvent(`FailedMount: volume "cache-volume" is not mounted at /kin-test-does-not-exist/cache`)
}

func TestAgentRestartKeepsIPsAndCleansUp(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "keep"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "c", Image: "busybox", Command: []string{"sleep", "60"}},
			{Name: "web", Image: "web"},
		}},
	})
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "gone"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox", Command: []string{"sleep", "60"}}}},
	})
	p := h.waitPod("default", "keep", "Running", running)
	h.waitPod("default", "gone", "Running", running)
	ip := p.Status.PodIP
	oldPIDs := readPIDs(t, filepath.Join(h.cfg.StateDir, "pods", "uid-keep", "pids"))

	// The node fails: containers stop, pods stay. Meanwhile one pod is
	// force-deleted from the API.
	h.agent.Stop(context.Background())
	for _, pid := range oldPIDs {
		if procStartTime(pid) != "" {
			t.Errorf("process %d survived Stop", pid)
		}
	}
	if err := h.client.CoreV1().Pods("default").Delete(context.Background(), "gone", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.start()
	p = h.waitPod("default", "keep", "Running after restart", func(p *corev1.Pod) bool {
		return running(p) && containerStatus(p, "c").RestartCount == 1
	})
	if p.Status.PodIP != ip {
		t.Errorf("pod IP changed across restart: %s -> %s", ip, p.Status.PodIP)
	}
	last := containerStatus(p, "c").LastTerminationState.Terminated
	if last == nil || last.ExitCode != 255 || last.Reason != "Unknown" {
		t.Errorf("last state after restart = %+v", last)
	}
	h.network.mu.Lock()
	restored := strings.Join(h.network.restored, ",")
	h.network.mu.Unlock()
	if !strings.Contains(restored, "keep="+ip) || strings.Contains(restored, "gone=") {
		t.Errorf("restored = %s", restored)
	}
	if !h.sandboxes.wasDeleted("uid-gone") || !h.network.deletedPod("uid-gone") {
		t.Errorf("the sandbox or network of the deleted pod was not removed")
	}
	out, err := h.logs("default", "keep", "web", LogOptions{Previous: true})
	if err != nil || !strings.HasPrefix(out, "listening on :8080") {
		t.Errorf("previous log after restart = %q, %v", out, err)
	}
}

func TestActiveDeadlineAndFallbackMessage(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "deadline"},
		Spec: corev1.PodSpec{ActiveDeadlineSeconds: ptr(int64(3)), Containers: []corev1.Container{{
			Name: "c", Image: "busybox", Command: []string{"sleep", "60"},
		}}},
	})
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "why"},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "c", Image: "busybox", Command: []string{"sh", "-c", "echo because; exit 2"},
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		}}},
	})
	p := h.waitPod("default", "deadline", "DeadlineExceeded", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodFailed && containerStatus(p, "c").State.Terminated != nil
	})
	if p.Status.Reason != "DeadlineExceeded" || p.Status.Message != "Pod was active on the node longer than the specified deadline" {
		t.Errorf("reason %q message %q", p.Status.Reason, p.Status.Message)
	}
	p = h.waitPod("default", "why", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if term := containerStatus(p, "c").State.Terminated; term == nil || term.Message != "because\n" || term.ExitCode != 2 {
		t.Errorf("terminated = %+v", term)
	}
}

func TestHostNetworkPodUsesNodeIP(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hostnet"},
		Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{
			Name: "c", Image: "busybox", Command: []string{"sleep", "60"},
		}}},
	})
	p := h.waitPod("default", "hostnet", "Running", running)
	if p.Status.PodIP != "192.168.1.101" {
		t.Errorf("podIP = %s, want the node IP", p.Status.PodIP)
	}
	h.network.mu.Lock()
	_, added := h.network.ips["uid-hostnet"]
	h.network.mu.Unlock()
	if added {
		t.Errorf("a host-network pod got a pod network address")
	}
	sb := h.sandboxes.get("uid-hostnet")
	if !strings.Contains(sb.file("/etc/hosts"), "192.168.1.101\tw1-k8s\n") ||
		sb.file("/etc/resolv.conf") != "search lan\nnameserver 192.168.1.1\noptions edns0\n" {
		t.Errorf("hosts %q resolv.conf %q", sb.file("/etc/hosts"), sb.file("/etc/resolv.conf"))
	}
}

func TestSameAgentRunsAgainAfterStop(t *testing.T) {
	h := newHarness(t)
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "again"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web"}}},
	})
	h.waitPod("default", "again", "Running", running)
	h.agent.Stop(context.Background())
	h.stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.agent.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	h.waitPod("default", "again", "Running again", func(p *corev1.Pod) bool {
		return running(p) && containerStatus(p, "web").RestartCount == 1
	})
	out, err := h.logs("default", "again", "web", LogOptions{})
	if err != nil || !strings.HasPrefix(out, "listening on") {
		t.Errorf("logs after restart = %q, %v", out, err)
	}
}
