package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestResolveFenceposts(t *testing.T) {
	i, p := intstr.FromInt32, intstr.FromString
	tests := []struct {
		surge, unavail intstr.IntOrString
		desired        int32
		wantS, wantU   int32
	}{
		{p("25%"), p("25%"), 4, 1, 1},
		{p("25%"), p("25%"), 10, 3, 2}, // 2.5: surge rounds up, unavailable down.
		{p("25%"), p("25%"), 3, 1, 0},
		{p("25%"), p("25%"), 1, 1, 0},
		{i(0), i(0), 3, 0, 1}, // Both zero: unavailable becomes 1.
		{p("0%"), p("10%"), 3, 0, 1},
		{i(2), i(1), 5, 2, 1},
		{p("50%"), i(0), 5, 3, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s of %d", tt.surge.String(), tt.unavail.String(), tt.desired), func(t *testing.T) {
			s, u := resolveFenceposts(&tt.surge, &tt.unavail, tt.desired)
			if s != tt.wantS || u != tt.wantU {
				t.Fatalf("got surge %d unavailable %d, want %d %d", s, u, tt.wantS, tt.wantU)
			}
		})
	}
}

func TestComputeHash(t *testing.T) {
	tmpl := &v1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: v1.PodSpec{Containers: []v1.Container{{Name: "c", Image: "nginx"}}}}
	h1 := computeHash(tmpl, nil)
	if h1 != computeHash(tmpl.DeepCopy(), nil) {
		t.Fatal("hash is not deterministic")
	}
	if strings.Trim(h1, "bcdfghjklmnpqrstvwxz2456789") != "" {
		t.Fatalf("hash %q uses characters outside rand.SafeEncodeString's alphabet", h1)
	}
	other := tmpl.DeepCopy()
	other.Spec.Containers[0].Image = "nginx:2"
	if computeHash(other, nil) == h1 {
		t.Fatal("different templates hash alike")
	}
	if computeHash(tmpl, ptrTo[int32](1)) == h1 {
		t.Fatal("collision count does not change the hash")
	}
}

func TestReplicaSetProportion(t *testing.T) {
	d := defaultDeployment(&appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptrTo[int32](15)}})
	rs := func(replicas int32, maxReplicas string) *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{maxReplicasAnnotation: maxReplicas}},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptrTo(replicas)}}
	}
	// Deployment grew from 10 (max 13) to 15 (max 19): an RS with 8 of
	// the old 13 gets round(8*19/13) - 8 = 4 more, capped by what is left.
	tests := []struct {
		rs           *appsv1.ReplicaSet
		toAdd, added int32
		want         int32
	}{
		{rs(8, "13"), 6, 0, 4},
		{rs(5, "13"), 6, 4, 2},
		{rs(0, "13"), 6, 0, 0},
		{rs(8, "13"), 6, 6, 0},
	}
	for i, tt := range tests {
		if got := replicaSetProportion(tt.rs, d, tt.toAdd, tt.added); got != tt.want {
			t.Errorf("case %d: proportion = %d, want %d", i, got, tt.want)
		}
	}
}

// newTestDeployment returns a Deployment selecting app=<name>.
func newTestDeployment(name string, replicas int32, strategy appsv1.DeploymentStrategy) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptrTo(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: strategy,
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c", Image: "nginx:1"}}},
			},
		},
	}
}

// rollingUpdate returns a RollingUpdate strategy.
func rollingUpdate(surge, unavailable intstr.IntOrString) appsv1.DeploymentStrategy {
	return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}}
}

// rolloutStatus is kubectl rollout status' check for Deployments.
func rolloutStatus(d *appsv1.Deployment) (string, bool) {
	if d.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...", false
	}
	if c := getDeploymentCondition(d.Status, appsv1.DeploymentProgressing); c != nil && c.Reason == reasonTimedOut {
		return "deployment exceeded its progress deadline", false
	}
	switch {
	case d.Spec.Replicas != nil && d.Status.UpdatedReplicas < *d.Spec.Replicas:
		return fmt.Sprintf("%d out of %d new replicas have been updated...", d.Status.UpdatedReplicas, *d.Spec.Replicas), false
	case d.Status.Replicas > d.Status.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas are pending termination...", d.Status.Replicas-d.Status.UpdatedReplicas), false
	case d.Status.AvailableReplicas < d.Status.UpdatedReplicas:
		return fmt.Sprintf("%d of %d updated replicas are available...", d.Status.AvailableReplicas, d.Status.UpdatedReplicas), false
	}
	return fmt.Sprintf("deployment %q successfully rolled out", d.Name), true
}

// deploymentHarness runs the Deployment and ReplicaSet controllers.
func deploymentHarness(t *testing.T, d *appsv1.Deployment) *harness {
	h := newHarness(t, d)
	h.start(NewDeploymentController(h.api, h.factory, h.events), NewReplicaSetController(h.api, h.factory, h.events))
	return h
}

// getDeployment reads a Deployment from the API.
func (h *harness) getDeployment(name string) *appsv1.Deployment {
	h.t.Helper()
	d, err := h.api.AppsV1().Deployments("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatalf("get deployment: %v", err)
	}
	return d
}

// updateDeployment applies mutate to the Deployment, as kubectl would.
func (h *harness) updateDeployment(name string, mutate func(*appsv1.Deployment)) {
	h.t.Helper()
	d := h.getDeployment(name)
	mutate(d)
	if _, err := h.api.AppsV1().Deployments("default").Update(context.Background(), d, metav1.UpdateOptions{}); err != nil {
		h.t.Fatalf("update deployment: %v", err)
	}
}

// waitRolledOut drives pods to ready until kubectl rollout status would
// report success, checking limits on every step.
func (h *harness) waitRolledOut(name string, check func()) *appsv1.Deployment {
	h.t.Helper()
	var d *appsv1.Deployment
	h.eventually("rollout of "+name, func() (bool, string) {
		if check != nil {
			check()
		}
		h.setPodsReady("default", nil)
		d = h.getDeployment(name)
		msg, ok := rolloutStatus(d)
		return ok, msg + fmt.Sprintf(" status=%+v", d.Status)
	})
	return d
}

// rsSummary describes ReplicaSets as name=replicas(rev) sorted by name.
func rsSummary(rss []appsv1.ReplicaSet) string {
	var parts []string
	for _, rs := range rss {
		parts = append(parts, fmt.Sprintf("%s=%d(rev %s)", rs.Name, replicasOf(&rs), rs.Annotations[revisionAnnotation]))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func TestDeploymentCreatesReplicaSetAndPods(t *testing.T) {
	h := deploymentHarness(t, newTestDeployment("web", 3, appsv1.DeploymentStrategy{}))
	d := h.waitRolledOut("web", nil)

	rss := h.replicaSets("default")
	if len(rss) != 1 {
		t.Fatalf("replicasets: %s, want one", rsSummary(rss))
	}
	rs := rss[0]
	hash := computeHash(&d.Spec.Template, nil)
	if rs.Name != "web-"+hash {
		t.Errorf("replicaset name %q, want web-%s", rs.Name, hash)
	}
	if rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
		t.Errorf("pod-template-hash missing: selector %v template %v labels %v", rs.Spec.Selector.MatchLabels, rs.Spec.Template.Labels, rs.Labels)
	}
	if ref := metav1.GetControllerOf(&rs); ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" {
		t.Errorf("replicaset owner = %+v", rs.OwnerReferences)
	}
	want := map[string]string{revisionAnnotation: "1", desiredReplicasAnnotation: "3", maxReplicasAnnotation: "4"}
	for k, v := range want {
		if rs.Annotations[k] != v {
			t.Errorf("replicaset annotation %s = %q, want %q", k, rs.Annotations[k], v)
		}
	}
	if d.Annotations[revisionAnnotation] != "1" {
		t.Errorf("deployment revision = %q, want 1", d.Annotations[revisionAnnotation])
	}
	if n := len(activeOwned(h.pods("default"), &rs)); n != 3 {
		t.Errorf("%d pods, want 3", n)
	}
	s := d.Status
	if s.Replicas != 3 || s.UpdatedReplicas != 3 || s.ReadyReplicas != 3 || s.AvailableReplicas != 3 || s.UnavailableReplicas != 0 {
		t.Errorf("status = %+v", s)
	}
	if c := getDeploymentCondition(s, appsv1.DeploymentAvailable); c == nil || c.Status != v1.ConditionTrue || c.Reason != reasonMinAvailable {
		t.Errorf("Available condition = %+v", c)
	}
	if c := getDeploymentCondition(s, appsv1.DeploymentProgressing); c == nil || c.Status != v1.ConditionTrue || c.Reason != reasonNewRSAvailable ||
		c.Message != fmt.Sprintf("ReplicaSet %q has successfully progressed.", rs.Name) {
		t.Errorf("Progressing condition = %+v", c)
	}
	if len(h.events.matching("ScalingReplicaSet Scaled up replica set "+rs.Name+" from 0 to 3")) == 0 {
		t.Errorf("no ScalingReplicaSet event; events: %v", h.events.matching(""))
	}
}

func TestDeploymentScalesWithoutRollout(t *testing.T) {
	h := deploymentHarness(t, newTestDeployment("web", 3, appsv1.DeploymentStrategy{}))
	h.waitRolledOut("web", nil)
	rsName := h.replicaSets("default")[0].Name

	h.updateDeployment("web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptrTo[int32](5) })
	d := h.waitRolledOut("web", nil)
	rss := h.replicaSets("default")
	if len(rss) != 1 || rss[0].Name != rsName || replicasOf(&rss[0]) != 5 {
		t.Fatalf("after scale up: %s, want only %s=5", rsSummary(rss), rsName)
	}
	if rss[0].Annotations[desiredReplicasAnnotation] != "5" || d.Annotations[revisionAnnotation] != "1" {
		t.Errorf("annotations after scaling: rs %v deployment %v", rss[0].Annotations, d.Annotations)
	}
	if len(h.events.matching("Scaled up replica set "+rsName+" from 3 to 5")) == 0 {
		t.Errorf("no scale event; events: %v", h.events.matching(""))
	}

	h.updateDeployment("web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptrTo[int32](2) })
	h.waitRolledOut("web", nil)
	h.eventually("2 pods", func() (bool, string) {
		n := len(activeOwned(h.pods("default"), &rss[0]))
		return n == 2, fmt.Sprintf("%d pods", n)
	})
}

func TestDeploymentRollingUpdateRespectsSurgeAndUnavailable(t *testing.T) {
	tests := []struct {
		name            string
		surge, unavail  intstr.IntOrString
		replicas        int32
		maxTotal, minUp int32
	}{
		{"surge 1 unavailable 0", intstr.FromInt32(1), intstr.FromInt32(0), 3, 4, 3},
		{"surge 0 unavailable 1", intstr.FromInt32(0), intstr.FromInt32(1), 3, 3, 2},
		{"25% of 4", intstr.FromString("25%"), intstr.FromString("25%"), 4, 5, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := deploymentHarness(t, newTestDeployment("web", tt.replicas, rollingUpdate(tt.surge, tt.unavail)))
			h.waitRolledOut("web", nil)
			h.updateDeployment("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })

			maxSeen := int32(0)
			check := func() {
				var total int32
				for _, rs := range h.replicaSets("default") {
					total += replicasOf(&rs)
				}
				maxSeen = max(maxSeen, total)
				if total > tt.maxTotal {
					t.Errorf("replicasets sum to %d > %d: %s", total, tt.maxTotal, rsSummary(h.replicaSets("default")))
				}
				ready := int32(0)
				for _, p := range h.pods("default") {
					if p.DeletionTimestamp == nil && isPodReady(&p) {
						ready++
					}
				}
				if ready < tt.minUp {
					t.Errorf("%d ready pods < %d", ready, tt.minUp)
				}
			}
			d := h.waitRolledOut("web", check)
			rss := h.replicaSets("default")
			if len(rss) != 2 {
				t.Fatalf("replicasets %s, want old and new", rsSummary(rss))
			}
			newName := "web-" + computeHash(&d.Spec.Template, nil)
			for _, rs := range rss {
				want := int32(0)
				if rs.Name == newName {
					want = tt.replicas
				}
				if replicasOf(&rs) != want {
					t.Errorf("%s has %d replicas, want %d (%s)", rs.Name, replicasOf(&rs), want, rsSummary(rss))
				}
			}
			if d.Annotations[revisionAnnotation] != "2" {
				t.Errorf("deployment revision %q, want 2", d.Annotations[revisionAnnotation])
			}
			if maxSeen != tt.maxTotal {
				t.Errorf("replicasets peaked at %d pods, want the surge limit %d to be used", maxSeen, tt.maxTotal)
			}
			n := 0
			for _, p := range h.pods("default") {
				if p.Spec.Containers[0].Image == "nginx:2" && p.DeletionTimestamp == nil {
					n++
				}
			}
			if n != int(tt.replicas) {
				t.Errorf("%d new pods, want %d", n, tt.replicas)
			}
		})
	}
}

// undo does what kubectl rollout undo does: copy the template of the
// ReplicaSet with the given revision, minus pod-template-hash, back into
// the Deployment.
func (h *harness) undo(name, revision string) {
	h.t.Helper()
	var from *appsv1.ReplicaSet
	for _, rs := range h.replicaSets("default") {
		if rs.Annotations[revisionAnnotation] == revision {
			from = rs.DeepCopy()
		}
	}
	if from == nil {
		h.t.Fatalf("no replicaset with revision %s: %s", revision, rsSummary(h.replicaSets("default")))
	}
	delete(from.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	h.updateDeployment(name, func(d *appsv1.Deployment) { d.Spec.Template = from.Spec.Template })
}

func TestDeploymentRolloutUndoAndRestart(t *testing.T) {
	h := deploymentHarness(t, newTestDeployment("web", 2, appsv1.DeploymentStrategy{}))
	h.waitRolledOut("web", nil)
	first := h.replicaSets("default")[0].Name

	h.updateDeployment("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	h.waitRolledOut("web", nil)

	// kubectl rollout undo: back to revision 1's template, same ReplicaSet.
	h.undo("web", "1")
	d := h.waitRolledOut("web", nil)
	rss := h.replicaSets("default")
	if len(rss) != 2 {
		t.Fatalf("undo created a replicaset: %s", rsSummary(rss))
	}
	for _, rs := range rss {
		switch rs.Name {
		case first:
			if replicasOf(&rs) != 2 || rs.Annotations[revisionAnnotation] != "3" || rs.Annotations[revisionHistoryAnnotation] != "1" {
				t.Errorf("reused replicaset %s: replicas %d annotations %v", rs.Name, replicasOf(&rs), rs.Annotations)
			}
		default:
			if replicasOf(&rs) != 0 || rs.Annotations[revisionAnnotation] != "2" {
				t.Errorf("old replicaset %s: replicas %d annotations %v", rs.Name, replicasOf(&rs), rs.Annotations)
			}
		}
	}
	if d.Annotations[revisionAnnotation] != "3" {
		t.Errorf("deployment revision %q after undo, want 3", d.Annotations[revisionAnnotation])
	}

	// kubectl rollout restart: a template annotation makes a new ReplicaSet.
	h.updateDeployment("web", func(d *appsv1.Deployment) {
		d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
	})
	d = h.waitRolledOut("web", nil)
	rss = h.replicaSets("default")
	if len(rss) != 3 || d.Annotations[revisionAnnotation] != "4" {
		t.Fatalf("after restart: %s, deployment revision %q", rsSummary(rss), d.Annotations[revisionAnnotation])
	}
	for _, p := range h.pods("default") {
		if p.DeletionTimestamp == nil && p.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
			t.Errorf("pod %s was not restarted", p.Name)
		}
	}
}

func TestDeploymentRecreate(t *testing.T) {
	h := deploymentHarness(t, newTestDeployment("web", 2, appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}))
	h.waitRolledOut("web", nil)
	h.updateDeployment("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	h.eventually("recreate finished", func() (bool, string) {
		// Old and new pods never run side by side.
		var images []string
		for _, p := range h.pods("default") {
			if p.DeletionTimestamp == nil {
				images = append(images, p.Spec.Containers[0].Image)
			}
		}
		sort.Strings(images)
		if len(images) > 0 && images[0] != images[len(images)-1] {
			t.Errorf("old and new pods together: %v", images)
		}
		h.setPodsReady("default", nil)
		msg, ok := rolloutStatus(h.getDeployment("web"))
		return ok && len(images) == 2 && images[0] == "nginx:2", msg + fmt.Sprint(" ", images)
	})
}

func TestDeploymentPausedDoesNotRollOut(t *testing.T) {
	h := deploymentHarness(t, newTestDeployment("web", 2, appsv1.DeploymentStrategy{}))
	h.waitRolledOut("web", nil)
	h.updateDeployment("web", func(d *appsv1.Deployment) {
		d.Spec.Paused = true
		d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	})
	h.eventually("paused condition", func() (bool, string) {
		c := getDeploymentCondition(h.getDeployment("web").Status, appsv1.DeploymentProgressing)
		return c != nil && c.Reason == reasonPaused && c.Status == v1.ConditionUnknown, fmt.Sprintf("%+v", c)
	})
	time.Sleep(50 * time.Millisecond)
	if rss := h.replicaSets("default"); len(rss) != 1 {
		t.Fatalf("paused deployment rolled out: %s", rsSummary(rss))
	}
	h.updateDeployment("web", func(d *appsv1.Deployment) { d.Spec.Paused = false })
	h.waitRolledOut("web", nil)
	if rss := h.replicaSets("default"); len(rss) != 2 {
		t.Fatalf("resumed deployment did not roll out: %s", rsSummary(rss))
	}
}

func TestDeploymentRevisionHistoryLimit(t *testing.T) {
	d := newTestDeployment("web", 1, appsv1.DeploymentStrategy{})
	d.Spec.RevisionHistoryLimit = ptrTo[int32](1)
	h := deploymentHarness(t, d)
	h.waitRolledOut("web", nil)
	for i := 2; i <= 4; i++ {
		h.updateDeployment("web", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("nginx:%d", i) })
		h.waitRolledOut("web", nil)
	}
	h.eventually("history trimmed to 1 old replicaset", func() (bool, string) {
		rss := h.replicaSets("default")
		if len(rss) != 2 {
			return false, rsSummary(rss)
		}
		revs := []string{rss[0].Annotations[revisionAnnotation], rss[1].Annotations[revisionAnnotation]}
		sort.Strings(revs)
		return revs[0] == "3" && revs[1] == "4", rsSummary(rss)
	})
}

func TestPlanDeploymentHashCollision(t *testing.T) {
	d := defaultDeployment(newTestDeployment("web", 1, appsv1.DeploymentStrategy{}))
	d.UID = "d-uid"
	hash := computeHash(&d.Spec.Template, nil)
	squatter := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Namespace: "default", UID: "other"},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptrTo[int32](1), Template: v1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"x": "y"}}}}}
	p := planDeployment(d, nil, []*appsv1.ReplicaSet{squatter}, map[types.UID][]*v1.Pod{}, time.Now())
	if !p.collision || p.d.Status.CollisionCount == nil || *p.d.Status.CollisionCount != 1 || len(p.writes) != 0 {
		t.Fatalf("collision not handled: collision=%v count=%v writes=%d", p.collision, p.d.Status.CollisionCount, len(p.writes))
	}
	p = planDeployment(p.d, nil, []*appsv1.ReplicaSet{squatter}, map[types.UID][]*v1.Pod{}, time.Now())
	if p.collision || len(p.writes) != 1 || p.writes[0].rs.Name != "web-"+computeHash(&d.Spec.Template, ptrTo[int32](1)) {
		t.Fatalf("retry after collision: collision=%v writes=%+v", p.collision, p.writes)
	}
}

// midRollout returns a Deployment halfway through a rollout from template
// nginx:1 to nginx:2: old and new ReplicaSets both active, both last scaled
// for 10 replicas (max 13).
func midRollout(replicas, oldSize, newSize, newAvailable int32) (*appsv1.Deployment, []*appsv1.ReplicaSet) {
	d := newTestDeployment("web", replicas, appsv1.DeploymentStrategy{})
	d.UID, d.Generation = "d-uid", 2
	d.Status.Replicas = oldSize + newSize
	oldT := d.Spec.Template.DeepCopy()
	d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	mk := func(name, rev string, size, available int32, t *v1.PodTemplateSpec, created int64) *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name),
				CreationTimestamp: metav1.NewTime(time.Unix(created, 0)),
				Annotations:       map[string]string{revisionAnnotation: rev, desiredReplicasAnnotation: "10", maxReplicasAnnotation: "13"}},
			Spec:   appsv1.ReplicaSetSpec{Replicas: ptrTo(size), Template: *t},
			Status: appsv1.ReplicaSetStatus{Replicas: size, AvailableReplicas: available, ReadyReplicas: available},
		}
	}
	return d, []*appsv1.ReplicaSet{
		mk("web-old", "1", oldSize, oldSize, oldT, 100),
		mk("web-new", "2", newSize, newAvailable, d.Spec.Template.DeepCopy(), 200),
	}
}

func TestPlanDeploymentProportionalScaling(t *testing.T) {
	tests := []struct {
		name     string
		replicas int32
		newAvail int32
		newSize  int32
		want     map[string]int32
		events   []string
	}{
		{"scale up 10 to 15 (max 19)", 15, 0, 5, map[string]int32{"web-old": 12, "web-new": 7},
			[]string{"Scaled up replica set web-old from 8 to 12", "Scaled up replica set web-new from 5 to 7"}},
		{"scale down 10 to 5 (max 7)", 5, 0, 5, map[string]int32{"web-old": 4, "web-new": 3},
			[]string{"Scaled down replica set web-old from 8 to 4", "Scaled down replica set web-new from 5 to 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, rss := midRollout(tt.replicas, 8, tt.newSize, tt.newAvail)
			p := planDeployment(d, rss, rss, nil, time.Unix(1000, 0))
			got := map[string]int32{}
			var events []string
			for _, w := range p.writes {
				if w.op != rsUpdate {
					t.Fatalf("unexpected write %v of %s", w.op, w.rs.Name)
				}
				got[w.rs.Name] = replicasOf(w.rs)
				events = append(events, w.events...)
				if w.rs.Annotations[desiredReplicasAnnotation] != fmt.Sprint(tt.replicas) {
					t.Errorf("%s desired annotation %q", w.rs.Name, w.rs.Annotations[desiredReplicasAnnotation])
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || fmt.Sprint(events) != fmt.Sprint(tt.events) {
				t.Fatalf("sizes %v events %v, want %v %v", got, events, tt.want, tt.events)
			}
		})
	}
}

func TestPlanDeploymentSaturatedNewScalesOldToZero(t *testing.T) {
	d, rss := midRollout(10, 3, 10, 10)
	for _, rs := range rss {
		rs.Annotations[maxReplicasAnnotation] = "13"
	}
	// Desired stays 10, so this is no scaling event; pausing sends the
	// sync down the scale-only path.
	d.Spec.Paused = true
	p := planDeployment(d, rss, rss, nil, time.Unix(1000, 0))
	if len(p.writes) != 1 || p.writes[0].rs.Name != "web-old" || replicasOf(p.writes[0].rs) != 0 {
		t.Fatalf("writes %+v, want web-old scaled to 0", p.writes)
	}
	if c := getDeploymentCondition(p.d.Status, appsv1.DeploymentProgressing); c == nil || c.Reason != reasonPaused {
		t.Fatalf("Progressing = %+v, want DeploymentPaused", c)
	}
}
