package controllers

import (
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// deploymentKind is the owner reference kind of ReplicaSets a Deployment creates.
var deploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// rsOp is what a planned ReplicaSet write does.
type rsOp int

const (
	rsCreate rsOp = iota
	rsUpdate
	rsDelete
)

// rsWrite is one planned ReplicaSet write and the Deployment events to
// record once it succeeds.
type rsWrite struct {
	op     rsOp
	rs     *appsv1.ReplicaSet
	events []string
}

// deploymentPlan is the pure core of the Deployment controller: the steps
// of Kubernetes' syncDeployment (sync revision, create the new ReplicaSet,
// scale up, scale down, clean up history, compute status) carried out on
// in-memory copies. The shell then performs the recorded writes in order and
// writes the status.
type deploymentPlan struct {
	// d is a defaulted copy of the Deployment; its status and revision
	// annotation are updated in place.
	d *appsv1.Deployment
	// nsRS holds every ReplicaSet in the namespace by name, to detect hash
	// collisions without a round trip.
	nsRS map[string]*appsv1.ReplicaSet
	// podMap holds the pods of each owned ReplicaSet by its UID (Recreate).
	podMap map[types.UID][]*v1.Pod
	now    time.Time

	// writes are the ReplicaSet writes in the order they were decided.
	writes []*rsWrite
	// collision is set when the new ReplicaSet's name is taken by another
	// template; the collision count was raised and the sync must retry.
	collision bool
	// requeueAfter asks for a later look to detect a progress timeout.
	requeueAfter time.Duration
	// warnings are Warning events about the Deployment itself.
	warnings []string
}

// planDeployment runs the Deployment sync on copies of d and the
// ReplicaSets it controls.
func planDeployment(d *appsv1.Deployment, owned []*appsv1.ReplicaSet, nsRS []*appsv1.ReplicaSet, podMap map[types.UID][]*v1.Pod, now time.Time) *deploymentPlan {
	p := &deploymentPlan{d: defaultDeployment(d), nsRS: map[string]*appsv1.ReplicaSet{}, podMap: podMap, now: now}
	for _, rs := range nsRS {
		p.nsRS[rs.Name] = rs
	}
	rsList := make([]*appsv1.ReplicaSet, len(owned))
	for i, rs := range owned {
		rsList[i] = rs.DeepCopy()
		if rsList[i].Spec.Replicas == nil {
			rsList[i].Spec.Replicas = ptrTo[int32](1)
		}
	}
	if p.d.DeletionTimestamp != nil {
		newRS, oldRSs := p.allReplicaSets(rsList, false)
		p.d.Status = p.calculateStatus(append(oldRSs, newRS), newRS)
		return p
	}
	p.checkPaused()
	switch {
	case p.d.Spec.Paused || p.isScalingEvent(rsList):
		p.syncScale(rsList)
	case p.d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType:
		p.rolloutRecreate(rsList)
	default:
		p.rolloutRolling(rsList)
	}
	return p
}

// record notes that rs must be written; repeated changes merge into one write.
func (p *deploymentPlan) record(op rsOp, rs *appsv1.ReplicaSet, event string) {
	for _, w := range p.writes {
		if w.rs == rs {
			if op == rsDelete {
				w.op = rsDelete
			}
			if event != "" {
				w.events = append(w.events, event)
			}
			return
		}
	}
	w := &rsWrite{op: op, rs: rs}
	if event != "" {
		w.events = append(w.events, event)
	}
	p.writes = append(p.writes, w)
}

// checkPaused sets the Progressing condition when the Deployment is paused
// or resumed.
func (p *deploymentPlan) checkPaused() {
	d := p.d
	if !hasProgressDeadline(d) {
		return
	}
	cond := getDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == reasonTimedOut {
		return
	}
	pausedCond := cond != nil && cond.Reason == reasonPaused
	switch {
	case d.Spec.Paused && !pausedCond:
		setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, v1.ConditionUnknown, reasonPaused, "Deployment is paused", p.now))
	case !d.Spec.Paused && pausedCond:
		setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, v1.ConditionUnknown, reasonResumed, "Deployment is resumed", p.now))
	}
}

// findNewReplicaSet returns the oldest ReplicaSet whose template equals the
// Deployment's, ignoring the hash label.
func (p *deploymentPlan) findNewReplicaSet(rsList []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	sortByCreation(rsList)
	for _, rs := range rsList {
		if equalIgnoreHash(&rs.Spec.Template, &p.d.Spec.Template) {
			return rs
		}
	}
	return nil
}

// allReplicaSets returns the new ReplicaSet (creating it in the plan when
// create is set) and all the old ones, syncing the revision annotations.
func (p *deploymentPlan) allReplicaSets(rsList []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	newRS := p.findNewReplicaSet(rsList)
	var oldRSs []*appsv1.ReplicaSet
	for _, rs := range rsList {
		if rs != newRS {
			oldRSs = append(oldRSs, rs)
		}
	}
	return p.newReplicaSet(newRS, oldRSs, create), oldRSs
}

// newReplicaSet updates the existing new ReplicaSet's annotations or, when
// create is set, plans the creation of `<deployment>-<pod-template-hash>`.
func (p *deploymentPlan) newReplicaSet(existing *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, create bool) *appsv1.ReplicaSet {
	d := p.d
	newRevision := strconv.FormatInt(maxRevision(oldRSs)+1, 10)
	if existing != nil {
		annotationsChanged := setNewReplicaSetAnnotations(d, existing, newRevision, true)
		if annotationsChanged || existing.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			existing.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			p.record(rsUpdate, existing, "")
		}
		setDeploymentRevision(d, existing.Annotations[revisionAnnotation])
		if hasProgressDeadline(d) && getDeploymentCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, v1.ConditionTrue,
				reasonFoundNewRS, fmt.Sprintf("Found new replica set %q", existing.Name), p.now))
		}
		return existing
	}
	if !create || p.collision {
		return nil
	}
	template := d.Spec.Template.DeepCopy()
	hash := computeHash(template, d.Status.CollisionCount)
	name := d.Name + "-" + hash
	if other, ok := p.nsRS[name]; ok {
		ref := metav1.GetControllerOfNoCopy(other)
		if ref == nil || ref.UID != d.UID || !equalIgnoreHash(&d.Spec.Template, &other.Spec.Template) {
			// Another template already has this name: bump the
			// collision count so the next sync hashes differently.
			if d.Status.CollisionCount == nil {
				d.Status.CollisionCount = ptrTo[int32](0)
			}
			*d.Status.CollisionCount++
			p.collision = true
			return nil
		}
	}
	if template.Labels == nil {
		template.Labels = map[string]string{}
	}
	template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	selector := d.Spec.Selector.DeepCopy()
	if selector.MatchLabels == nil {
		selector.MatchLabels = map[string]string{}
	}
	selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	rsLabels := map[string]string{}
	for k, v := range template.Labels {
		rsLabels[k] = v
	}
	newRS := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       d.Namespace,
			Labels:          rsLabels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, deploymentKind)},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptrTo[int32](0),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        selector,
			Template:        *template,
		},
	}
	*newRS.Spec.Replicas = p.newRSReplicas(append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS), newRS)
	setNewReplicaSetAnnotations(d, newRS, newRevision, false)
	event := ""
	if n := *newRS.Spec.Replicas; n > 0 {
		event = fmt.Sprintf("Scaled up replica set %s from 0 to %d", name, n)
	}
	p.record(rsCreate, newRS, event)
	setDeploymentRevision(d, newRevision)
	if hasProgressDeadline(d) {
		setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, v1.ConditionTrue,
			reasonNewRSCreated, fmt.Sprintf("Created new replica set %q", name), p.now))
	}
	return newRS
}

// newRSReplicas returns how large the new ReplicaSet may be now: up to the
// surge limit for RollingUpdate, the full size for Recreate.
func (p *deploymentPlan) newRSReplicas(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	d := p.d
	if !isRollingUpdate(d) {
		return *d.Spec.Replicas
	}
	maxTotal := *d.Spec.Replicas + maxSurge(d)
	current := sumReplicas(allRSs)
	if current >= maxTotal {
		return replicasOf(newRS)
	}
	up := min(maxTotal-current, *d.Spec.Replicas-replicasOf(newRS))
	return replicasOf(newRS) + up
}

// isScalingEvent reports whether spec.replicas differs from the size the
// active ReplicaSets were last scaled for.
func (p *deploymentPlan) isScalingEvent(rsList []*appsv1.ReplicaSet) bool {
	newRS, oldRSs := p.allReplicaSets(rsList, false)
	for _, rs := range filterActiveReplicaSets(append(oldRSs, newRS)) {
		desired, ok := intAnnotation(rs, desiredReplicasAnnotation)
		if ok && desired != *p.d.Spec.Replicas {
			return true
		}
	}
	return false
}

// scaleReplicaSet plans a resize of rs to size (and refreshes its size
// annotations), with a ScalingReplicaSet event; it reports whether the size changed.
func (p *deploymentPlan) scaleReplicaSet(rs *appsv1.ReplicaSet, size int32, direction string) bool {
	d := p.d
	desired, maxReplicas := *d.Spec.Replicas, *d.Spec.Replicas+maxSurge(d)
	sizeChanged := replicasOf(rs) != size
	if !sizeChanged && !replicasAnnotationsNeedUpdate(rs, desired, maxReplicas) {
		return false
	}
	old := replicasOf(rs)
	rs.Spec.Replicas = ptrTo(size)
	setReplicasAnnotations(rs, desired, maxReplicas)
	event := ""
	if sizeChanged {
		event = fmt.Sprintf("Scaled %s replica set %s from %d to %d", direction, rs.Name, old, size)
	}
	p.record(rsUpdate, rs, event)
	return sizeChanged
}

// scaleAndRecord resizes rs when its size differs.
func (p *deploymentPlan) scaleAndRecord(rs *appsv1.ReplicaSet, size int32) bool {
	if replicasOf(rs) == size {
		return false
	}
	direction := "up"
	if replicasOf(rs) > size {
		direction = "down"
	}
	return p.scaleReplicaSet(rs, size, direction)
}

// syncScale handles paused Deployments and spec.replicas changes: scale
// without starting a rollout, then report status.
func (p *deploymentPlan) syncScale(rsList []*appsv1.ReplicaSet) {
	newRS, oldRSs := p.allReplicaSets(rsList, false)
	p.scale(newRS, oldRSs)
	if p.d.Spec.Paused {
		p.cleanup(oldRSs)
	}
	allRSs := append(oldRSs, newRS)
	p.d.Status = p.calculateStatus(allRSs, newRS)
}

// scale resizes the ReplicaSets to spec.replicas: the only active one takes
// it all, a saturated new one leaves the old ones at zero, and otherwise the
// change is spread proportionally (largest first) during a rolling update.
func (p *deploymentPlan) scale(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) {
	d := p.d
	if rs := findActiveOrLatest(newRS, oldRSs); rs != nil {
		if replicasOf(rs) != *d.Spec.Replicas {
			p.scaleAndRecord(rs, *d.Spec.Replicas)
		}
		return
	}
	if isSaturated(d, newRS) {
		for _, old := range filterActiveReplicaSets(oldRSs) {
			p.scaleAndRecord(old, 0)
		}
		return
	}
	if !isRollingUpdate(d) {
		return
	}
	allRSs := filterActiveReplicaSets(append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS))
	allowed := int32(0)
	if *d.Spec.Replicas > 0 {
		allowed = *d.Spec.Replicas + maxSurge(d)
	}
	toAdd := allowed - sumReplicas(allRSs)
	direction := ""
	switch {
	case toAdd > 0:
		sortBySizeNewer(allRSs)
		direction = "up"
	case toAdd < 0:
		sortBySizeOlder(allRSs)
		direction = "down"
	}
	added := int32(0)
	sizes := make(map[*appsv1.ReplicaSet]int32, len(allRSs))
	for _, rs := range allRSs {
		if toAdd != 0 {
			proportion := replicaSetProportion(rs, d, toAdd, added)
			sizes[rs] = replicasOf(rs) + proportion
			added += proportion
		} else {
			sizes[rs] = replicasOf(rs)
		}
	}
	for i, rs := range allRSs {
		if i == 0 && toAdd != 0 {
			sizes[rs] = max(sizes[rs]+toAdd-added, 0)
		}
		p.scaleReplicaSet(rs, sizes[rs], direction)
	}
}

// findActiveOrLatest returns the single active ReplicaSet, the newest one
// when none is active, or nil when several are.
func findActiveOrLatest(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	old := append([]*appsv1.ReplicaSet{}, oldRSs...)
	sortByCreation(old)
	active := filterActiveReplicaSets(append(append([]*appsv1.ReplicaSet{}, old...), newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return old[len(old)-1]
	case 1:
		return active[0]
	}
	return nil
}

// isSaturated reports whether the new ReplicaSet has the full size, was
// scaled for it, and has every replica available.
func isSaturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, ok := intAnnotation(rs, desiredReplicasAnnotation)
	return ok && desired == *d.Spec.Replicas && replicasOf(rs) == *d.Spec.Replicas && rs.Status.AvailableReplicas == *d.Spec.Replicas
}

// rolloutRolling performs one step of a RollingUpdate: scale the new
// ReplicaSet up within maxSurge, or else scale old ones down within
// maxUnavailable; clean up history once complete.
func (p *deploymentPlan) rolloutRolling(rsList []*appsv1.ReplicaSet) {
	newRS, oldRSs := p.allReplicaSets(rsList, true)
	if p.collision {
		return
	}
	allRSs := append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS)
	if p.reconcileNewReplicaSet(allRSs, newRS) {
		p.syncRolloutStatus(allRSs, newRS)
		return
	}
	if p.reconcileOldReplicaSets(allRSs, filterActiveReplicaSets(oldRSs), newRS) {
		p.syncRolloutStatus(allRSs, newRS)
		return
	}
	if deploymentComplete(p.d, &p.d.Status) {
		p.cleanup(oldRSs)
	}
	p.syncRolloutStatus(allRSs, newRS)
}

// reconcileNewReplicaSet scales the new ReplicaSet towards spec.replicas.
func (p *deploymentPlan) reconcileNewReplicaSet(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) bool {
	want := *p.d.Spec.Replicas
	switch {
	case replicasOf(newRS) == want:
		return false
	case replicasOf(newRS) > want:
		return p.scaleAndRecord(newRS, want)
	}
	return p.scaleAndRecord(newRS, p.newRSReplicas(allRSs, newRS))
}

// reconcileOldReplicaSets scales old ReplicaSets down as far as
// maxUnavailable allows, unhealthy replicas first.
func (p *deploymentPlan) reconcileOldReplicaSets(allRSs, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) bool {
	d := p.d
	if sumReplicas(oldRSs) == 0 {
		return false
	}
	minAvailable := *d.Spec.Replicas - maxUnavailable(d)
	newUnavailable := replicasOf(newRS) - newRS.Status.AvailableReplicas
	maxScaledDown := sumReplicas(allRSs) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false
	}
	cleaned := p.cleanupUnhealthyReplicas(oldRSs, maxScaledDown)
	scaled := p.scaleDownOldForRollingUpdate(append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS), oldRSs)
	return cleaned+scaled > 0
}

// cleanupUnhealthyReplicas removes replicas of old ReplicaSets that are not
// available, up to limit, oldest ReplicaSet first.
func (p *deploymentPlan) cleanupUnhealthyReplicas(oldRSs []*appsv1.ReplicaSet, limit int32) int32 {
	sortByCreation(oldRSs)
	var total int32
	for _, rs := range oldRSs {
		if total >= limit {
			break
		}
		if replicasOf(rs) == 0 || replicasOf(rs) == rs.Status.AvailableReplicas {
			continue
		}
		n := min(limit-total, replicasOf(rs)-rs.Status.AvailableReplicas)
		p.scaleAndRecord(rs, replicasOf(rs)-n)
		total += n
	}
	return total
}

// scaleDownOldForRollingUpdate scales old ReplicaSets down by as many
// available pods as exceed spec.replicas - maxUnavailable.
func (p *deploymentPlan) scaleDownOldForRollingUpdate(allRSs, oldRSs []*appsv1.ReplicaSet) int32 {
	d := p.d
	minAvailable := *d.Spec.Replicas - maxUnavailable(d)
	available := sumStatus(allRSs, func(s *appsv1.ReplicaSetStatus) int32 { return s.AvailableReplicas })
	if available <= minAvailable {
		return 0
	}
	sortByCreation(oldRSs)
	want := available - minAvailable
	var total int32
	for _, rs := range oldRSs {
		if total >= want {
			break
		}
		if replicasOf(rs) == 0 {
			continue
		}
		n := min(replicasOf(rs), want-total)
		p.scaleAndRecord(rs, replicasOf(rs)-n)
		total += n
	}
	return total
}

// rolloutRecreate scales every old ReplicaSet to zero, waits until their
// pods are gone, then creates and scales up the new one.
func (p *deploymentPlan) rolloutRecreate(rsList []*appsv1.ReplicaSet) {
	newRS, oldRSs := p.allReplicaSets(rsList, false)
	allRSs := append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS)
	scaledDown := false
	for _, rs := range filterActiveReplicaSets(oldRSs) {
		if p.scaleAndRecord(rs, 0) {
			scaledDown = true
		}
	}
	if scaledDown || p.oldPodsRunning(newRS, oldRSs) {
		p.syncRolloutStatus(allRSs, newRS)
		return
	}
	if newRS == nil {
		newRS = p.newReplicaSet(nil, oldRSs, true)
		if p.collision {
			return
		}
		allRSs = append(append([]*appsv1.ReplicaSet{}, oldRSs...), newRS)
	}
	p.scaleAndRecord(newRS, *p.d.Spec.Replicas)
	if deploymentComplete(p.d, &p.d.Status) {
		p.cleanup(oldRSs)
	}
	p.syncRolloutStatus(allRSs, newRS)
}

// oldPodsRunning reports whether pods of old ReplicaSets still exist.
func (p *deploymentPlan) oldPodsRunning(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) bool {
	if sumStatus(oldRSs, func(s *appsv1.ReplicaSetStatus) int32 { return s.Replicas }) > 0 {
		return true
	}
	for uid, pods := range p.podMap {
		if newRS != nil && newRS.UID == uid {
			continue
		}
		for _, pod := range pods {
			if !isPodTerminal(pod) {
				return true
			}
		}
	}
	return false
}

// cleanup deletes the oldest fully scaled-down ReplicaSets beyond
// revisionHistoryLimit.
func (p *deploymentPlan) cleanup(oldRSs []*appsv1.ReplicaSet) {
	limit := *p.d.Spec.RevisionHistoryLimit
	var cleanable []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			cleanable = append(cleanable, rs)
		}
	}
	diff := int32(len(cleanable)) - limit
	if diff <= 0 {
		return
	}
	sortByRevision(cleanable)
	for _, rs := range cleanable[:diff] {
		if rs.Status.Replicas != 0 || replicasOf(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		p.record(rsDelete, rs, "")
	}
}

// calculateStatus computes the Deployment status from its ReplicaSets and
// sets the Available condition.
func (p *deploymentPlan) calculateStatus(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) appsv1.DeploymentStatus {
	d := p.d
	var live []*appsv1.ReplicaSet
	for _, rs := range allRSs {
		if rs != nil {
			live = append(live, rs)
		}
	}
	available := sumStatus(live, func(s *appsv1.ReplicaSetStatus) int32 { return s.AvailableReplicas })
	unavailable := max(sumReplicas(live)-available, 0)
	s := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumStatus(live, func(s *appsv1.ReplicaSetStatus) int32 { return s.Replicas }),
		ReadyReplicas:       sumStatus(live, func(s *appsv1.ReplicaSetStatus) int32 { return s.ReadyReplicas }),
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...),
	}
	if newRS != nil {
		s.UpdatedReplicas = newRS.Status.Replicas
	}
	if available >= *d.Spec.Replicas-maxUnavailable(d) {
		setDeploymentCondition(&s, newDeploymentCondition(appsv1.DeploymentAvailable, v1.ConditionTrue, reasonMinAvailable, messageMinAvailable, p.now))
	} else {
		setDeploymentCondition(&s, newDeploymentCondition(appsv1.DeploymentAvailable, v1.ConditionFalse, reasonMinUnavailable, messageMinUnavailable, p.now))
	}
	return s
}

// syncRolloutStatus computes the status including the Progressing
// condition (complete, progressing or timed out) and, for a stuck rollout,
// when to look again.
func (p *deploymentPlan) syncRolloutStatus(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) {
	d := p.d
	s := p.calculateStatus(allRSs, newRS)
	if !hasProgressDeadline(d) {
		removeDeploymentCondition(&s, appsv1.DeploymentProgressing)
	}
	cur := getDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	complete := s.Replicas == s.UpdatedReplicas && cur != nil && cur.Reason == reasonNewRSAvailable
	if hasProgressDeadline(d) && !complete {
		name := fmt.Sprintf("Deployment %q", d.Name)
		if newRS != nil {
			name = fmt.Sprintf("ReplicaSet %q", newRS.Name)
		}
		switch {
		case deploymentComplete(d, &s):
			setDeploymentCondition(&s, newDeploymentCondition(appsv1.DeploymentProgressing, v1.ConditionTrue,
				reasonNewRSAvailable, name+" has successfully progressed.", p.now))
		case deploymentProgressing(d, &s):
			c := newDeploymentCondition(appsv1.DeploymentProgressing, v1.ConditionTrue, reasonRSUpdated, name+" is progressing.", p.now)
			if cur != nil {
				if cur.Status == v1.ConditionTrue {
					c.LastTransitionTime = cur.LastTransitionTime
				}
				removeDeploymentCondition(&s, appsv1.DeploymentProgressing)
			}
			setDeploymentCondition(&s, c)
		case deploymentTimedOut(d, &s, p.now):
			setDeploymentCondition(&s, newDeploymentCondition(appsv1.DeploymentProgressing, v1.ConditionFalse,
				reasonTimedOut, name+" has timed out progressing.", p.now))
		}
	}
	if cur != nil && hasProgressDeadline(d) && !deploymentComplete(d, &s) && cur.Reason != reasonTimedOut {
		after := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(p.now)
		p.requeueAfter = max(after, 0) + time.Second
	}
	d.Status = s
}
