// Package controllers runs kin's core Kubernetes controllers as ordinary
// client-go clients: the namespace lifecycle, service account, ReplicaSet,
// Deployment, DaemonSet, garbage collector and node lifecycle controllers of
// kube-controller-manager, and the default scheduler.
//
// Every controller follows the same shape. Informer event handlers only turn
// a change into a work-queue key; a sync function fetches the object and what
// it relates to from the informer caches, hands them to a pure planning
// function, and applies the plan with the typed clientset. The sync returns an
// explicit outcome (done, retry with backoff, look again later) that the
// queue runner acts on. Because every sync recomputes from the caches, the
// controllers are level-triggered and idempotent.
//
// The controllers only use what client-go offers (typed clients, shared
// informers, work queues, the core/v1 event sink), so they run unchanged
// against kin's embedded API server and against a real cluster. They never
// rely on server-side name generation: objects they create carry explicit
// names of the shape Kubernetes would have generated.
package controllers
