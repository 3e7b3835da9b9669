package apiserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/utils/exec"

	"kin/internal/store"
)

// shoutExecutor writes its arguments and the upper-cased stdin to stdout,
// "err" to stderr, and exits with the code of its first argument.
type shoutExecutor struct{}

func (shoutExecutor) Exec(ctx context.Context, ns, pod, container string, cmd []string, s ExecStreams) (int, error) {
	if cmd[0] == "missing" {
		return 0, fmt.Errorf("exec: %q: executable file not found in $PATH", cmd[0])
	}
	fmt.Fprintf(s.Stdout, "%s/%s/%s %s\n", ns, pod, container, strings.Join(cmd, " "))
	if s.Stdin != nil {
		data, _ := io.ReadAll(s.Stdin)
		s.Stdout.Write(bytes.ToUpper(data))
	}
	if s.Stderr != nil {
		io.WriteString(s.Stderr, "err\n")
	}
	var code int
	fmt.Sscan(cmd[0], &code)
	return code, nil
}

func TestPodExecOverWebSocket(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv, _ := New(Config{Store: st, Listener: ln, Exec: shoutExecutor{}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Run(ctx)
	cfg := &rest.Config{Host: "http://" + ln.Addr().String()}
	client := kubernetes.NewForConfigOrDie(cfg)
	client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	client.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}, metav1.CreateOptions{})

	run := func(cmd ...string) (string, string, error) {
		req := client.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name("p").SubResource("exec").
			VersionedParams(&corev1.PodExecOptions{Container: "c", Command: cmd, Stdin: true, Stdout: true, Stderr: true}, scheme.ParameterCodec)
		ex, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("hello"), Stdout: &out, Stderr: &errOut})
		return out.String(), errOut.String(), err
	}
	out, errOut, err := run("0", "a")
	if err != nil || out != "default/p/c 0 a\nHELLO" || errOut != "err\n" {
		t.Fatalf("exec: err=%v stdout=%q stderr=%q", err, out, errOut)
	}
	_, _, err = run("3")
	var exitErr exec.ExitError
	if !errorsAs(err, &exitErr) || exitErr.ExitStatus() != 3 {
		t.Fatalf("exit code: %v", err)
	}
	_, _, err = run("missing")
	if err == nil || !strings.Contains(err.Error(), "executable file not found") {
		t.Fatalf("missing command: %v", err)
	}
}

func errorsAs(err error, target *exec.ExitError) bool {
	if e, ok := err.(exec.ExitError); ok {
		*target = e
		return true
	}
	return false
}
