package controllers

import (
	"context"
	"errors"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

// Controller names, for Options.Disabled.
const (
	NamespaceControllerName      = "namespace"
	ServiceAccountControllerName = "serviceaccount"
	ReplicaSetControllerName     = "replicaset"
	DeploymentControllerName     = "deployment"
	SchedulerName                = "scheduler"
	GarbageCollectorName         = "garbagecollector"
	DaemonSetControllerName      = "daemonset"
	NodeLifecycleControllerName  = "nodelifecycle"
	NodeIPAMControllerName       = "nodeipam"
	EndpointSliceControllerName  = "endpointslice"
	EndpointsControllerName      = "endpoints"
)

// eventComponents are the event sources each controller reports as, the
// names kube-controller-manager and kube-scheduler use.
var eventComponents = map[string]string{
	NamespaceControllerName:     "namespace-controller",
	ReplicaSetControllerName:    "replicaset-controller",
	DeploymentControllerName:    "deployment-controller",
	SchedulerName:               "default-scheduler",
	DaemonSetControllerName:     "daemonset-controller",
	NodeLifecycleControllerName: "node-controller",
}

// Options configures Run.
type Options struct {
	// Client talks to the API server. Required.
	Client kubernetes.Interface
	// Informers is the shared informer factory the controllers use; nil
	// means Run creates one over Client.
	Informers informers.SharedInformerFactory
	// Recorders returns the event recorder for a component name
	// ("deployment-controller", "default-scheduler", ...). Nil means one
	// broadcaster writing core/v1 Events through Client, as
	// kube-controller-manager does.
	Recorders func(component string) record.EventRecorder
	// Logger receives the controllers' logs; the zero value means klog's
	// global logger.
	Logger klog.Logger
	// Workers is the number of workers per controller; zero means 2.
	Workers int
	// NodeLifecycle tunes the node lifecycle controller. Run turns on
	// UseLeases when the server serves coordination.k8s.io/v1 leases.
	NodeLifecycle NodeLifecycleConfig
	// NodeIPAM is the pod range split into per-node blocks; an empty
	// PodCIDR disables the node IPAM controller.
	NodeIPAM NodeIPAMConfig
	// Disabled lists controllers not to run, by the *Name constants.
	Disabled []string
}

// starter is what every controller in this package is.
type starter interface {
	Run(ctx context.Context, workers int) error
}

// Run starts every controller that is not disabled and blocks until ctx is
// cancelled; it returns an error only for invalid options. A controller
// whose informers cannot sync (the server does not serve the resource)
// waits without blocking the others.
func Run(ctx context.Context, opts Options) error {
	if opts.Client == nil {
		return errorf("options: Client is required")
	}
	if opts.Logger.GetSink() != nil {
		ctx = klog.NewContext(ctx, opts.Logger)
	}
	logger := klog.FromContext(ctx)
	factory := opts.Informers
	if factory == nil {
		factory = informers.NewSharedInformerFactory(opts.Client, 10*time.Minute)
	}
	recorders := opts.Recorders
	if recorders == nil {
		broadcaster := record.NewBroadcaster(record.WithContext(ctx))
		broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: opts.Client.CoreV1().Events("")})
		defer broadcaster.Shutdown()
		recorders = func(component string) record.EventRecorder {
			return broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: component})
		}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 2
	}
	disabled := map[string]bool{}
	for _, d := range opts.Disabled {
		disabled[d] = true
	}
	recorder := func(name string) record.EventRecorder { return recorders(eventComponents[name]) }

	served := servedResources(ctx, opts.Client)
	var gcResources []string
	for _, r := range GCResources() {
		if served == nil || served[r] {
			gcResources = append(gcResources, r)
		}
	}
	nodeCfg := opts.NodeLifecycle
	nodeCfg.UseLeases = served == nil || served["leases"]

	builders := []struct {
		name  string
		build func() (starter, error)
	}{
		{NamespaceControllerName, func() (starter, error) {
			return NewNamespaceController(opts.Client, factory, recorder(NamespaceControllerName)), nil
		}},
		{ServiceAccountControllerName, func() (starter, error) {
			return NewServiceAccountController(opts.Client, factory), nil
		}},
		{ReplicaSetControllerName, func() (starter, error) {
			return NewReplicaSetController(opts.Client, factory, recorder(ReplicaSetControllerName)), nil
		}},
		{DeploymentControllerName, func() (starter, error) {
			return NewDeploymentController(opts.Client, factory, recorder(DeploymentControllerName)), nil
		}},
		{SchedulerName, func() (starter, error) {
			return NewScheduler(opts.Client, factory, recorder(SchedulerName)), nil
		}},
		{GarbageCollectorName, func() (starter, error) {
			return NewGarbageCollector(opts.Client, factory, gcResources...)
		}},
		{DaemonSetControllerName, func() (starter, error) {
			return NewDaemonSetController(opts.Client, factory, recorder(DaemonSetControllerName)), nil
		}},
		{NodeLifecycleControllerName, func() (starter, error) {
			return NewNodeLifecycleController(opts.Client, factory, recorder(NodeLifecycleControllerName), nodeCfg), nil
		}},
		{EndpointSliceControllerName, func() (starter, error) {
			return NewEndpointSliceController(opts.Client, factory), nil
		}},
		{EndpointsControllerName, func() (starter, error) {
			return NewEndpointsController(opts.Client, factory), nil
		}},
	}
	if opts.NodeIPAM.PodCIDR != "" {
		builders = append(builders, struct {
			name  string
			build func() (starter, error)
		}{NodeIPAMControllerName, func() (starter, error) {
			return NewNodeIPAMController(opts.Client, factory, opts.NodeIPAM)
		}})
	}
	type named struct {
		name string
		c    starter
	}
	var started []named
	for _, b := range builders {
		if disabled[b.name] {
			continue
		}
		c, err := b.build()
		if err != nil {
			return err
		}
		started = append(started, named{b.name, c})
	}
	factory.Start(ctx.Done())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(started))
	for _, s := range started {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logger.V(1).Info("Starting controller", "controller", s.name)
			if err := s.c.Run(ctx, workers); err != nil {
				errc <- errorf("%s: %w", s.name, err)
				cancel()
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
	factory.Shutdown()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// servedGroupVersions are the API group versions whose resources decide
// which optional informers run.
var servedGroupVersions = []string{
	"v1", "apps/v1", "batch/v1", "discovery.k8s.io/v1", "networking.k8s.io/v1",
	"coordination.k8s.io/v1", "rbac.authorization.k8s.io/v1",
}

// discoveryWait is how long Run waits for the API server's discovery to
// answer before assuming every resource is served.
var discoveryWait = 30 * time.Second

// servedResources returns the plural names of the resources the server
// serves in servedGroupVersions. It retries while discovery answers for
// none of them (the server may still be starting) and returns nil, meaning
// everything is assumed served, if that lasts discoveryWait.
func servedResources(ctx context.Context, client kubernetes.Interface) map[string]bool {
	deadline := time.Now().Add(discoveryWait)
	for {
		served := map[string]bool{}
		answered := false
		for _, gv := range servedGroupVersions {
			list, err := client.Discovery().ServerResourcesForGroupVersion(gv)
			if err != nil {
				continue
			}
			answered = true
			for _, r := range list.APIResources {
				served[r.Name] = true
			}
		}
		if answered {
			return served
		}
		if time.Now().After(deadline) {
			klog.FromContext(ctx).Info("API discovery did not answer, assuming every resource is served")
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}
