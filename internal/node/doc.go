// Package node is kin's node agent: the kubelet of one kin node. It is a
// client-go client like every other component. It registers the Node
// (kubelet and kubeadm labels, the control plane's NoSchedule taint),
// renews the node's Lease in kube-node-lease, posts the node status, and
// runs the pods bound to the node.
//
// # Pods
//
// The agent watches the pods with spec.nodeName equal to its node. Each pod
// (by UID) gets a worker goroutine whose sync is level-triggered: informer
// events, container exits and probe results only nudge it, and it compares
// the cached pod with what runs. A new pod gets a sandbox (persistent
// network, UTS and mount namespaces, with the kubelet's /etc/resolv.conf,
// /etc/hosts and /etc/hostname bind-mounted), an address from the pod
// network, its volumes, then its init containers in order and its
// containers. The pod status (phase, conditions with transition times,
// container statuses, podIP, hostIP, qosClass) is written to pods/status
// whenever it changes.
//
// A container with a command runs as a host program inside the sandbox
// (nsenter), in its own process group, with the resolved environment
// (env, envFrom, downward API, ConfigMap and Secret keys, service
// variables, $(VAR) expansion). A container without a command runs a
// built-in image in a goroutine that listens inside the sandbox. Any other
// image waits in ErrImagePull / ImagePullBackOff with a message that lists
// the built-in images. Exits are restarted as the restart policy says with
// the kubelet's back-off (10s doubling to 5m, CrashLoopBackOff while it
// runs); startup, liveness and readiness probes (httpGet and tcpSocket from
// the node's network namespace, exec inside the sandbox) drive restarts and
// readiness. Events are the kubelet's: Pulled, Created, Started, Killing,
// Unhealthy, BackOff, Failed.
//
// Deleting a pod (deletionTimestamp set) runs the preStop hooks, sends
// SIGTERM, waits for the grace period, sends SIGKILL, removes the network
// and the sandbox, and finally deletes the pod object with grace period 0
// and a UID precondition, as the kubelet does.
//
// Container output is stored in the CRI log format under
// StateDir/pods/<uid>/logs/<container>/<restartCount>.log; Logs serves it
// the way kubectl logs shows it (previous, tail, timestamps, follow).
//
// # Restarts of the agent
//
// Sandboxes and pod addresses survive the agent; processes do not (their
// process groups are recorded and killed when the agent starts again).
// On start the agent removes the sandboxes, networks and directories of
// pods deleted while it was away, hands the network the pods' recorded
// addresses, and restarts the containers that were running: their restart
// count grows by one and their last state is Unknown (exit code 255), as
// after a node reboot.
//
// # Limitations
//
//   - Containers of a pod share one mount namespace, which is the
//     machine's filesystem: a volume (emptyDir, configMap, secret,
//     downwardAPI, projected, hostPath) is bind-mounted at its mountPath
//     for every container of the pod, and only when that path already
//     exists on the machine; kin never creates directories on the
//     machine's root filesystem. hostPath volumes are per-node directories
//     under StateDir/hostpath, never the machine's own paths.
//   - Built-in images do not see volumes; they get a scratch directory.
//   - workingDir is honoured through /bin/sh; there are no users, cgroups,
//     resource limits or image filesystems.
//   - gRPC probes are reported as failing; tcpSocket lifecycle hooks are
//     ignored, as the kubelet does.
package node
