package controllers

import (
	"context"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// DefaultServiceAccountName is the service account every namespace has.
const DefaultServiceAccountName = "default"

// ServiceAccountController makes sure every active namespace has the
// "default" ServiceAccount, recreating it when it is deleted.
type ServiceAccountController struct {
	client     kubernetes.Interface
	factory    informers.SharedInformerFactory
	namespaces corelisters.NamespaceLister
	accounts   corelisters.ServiceAccountLister
	synced     []cache.InformerSynced
	runner     *runner[string]
}

// NewServiceAccountController returns a service account controller using
// factory's Namespace and ServiceAccount informers.
func NewServiceAccountController(client kubernetes.Interface, factory informers.SharedInformerFactory) *ServiceAccountController {
	c := &ServiceAccountController{
		client:     client,
		factory:    factory,
		namespaces: factory.Core().V1().Namespaces().Lister(),
		accounts:   factory.Core().V1().ServiceAccounts().Lister(),
	}
	c.runner = newRunner("serviceaccount", c.sync)
	c.synced = append(c.synced,
		addHandler(factory.Core().V1().Namespaces().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.enqueueNamespace(obj) },
			UpdateFunc: func(_, obj any) { c.enqueueNamespace(obj) },
		}),
		addHandler(factory.Core().V1().ServiceAccounts().Informer(), cache.ResourceEventHandlerFuncs{
			DeleteFunc: func(obj any) {
				if sa, ok := unwrapTombstone(obj).(*v1.ServiceAccount); ok && sa.Name == DefaultServiceAccountName {
					c.runner.add(sa.Namespace)
				}
			},
		}),
	)
	return c
}

// Run processes namespaces with the given number of workers until ctx ends.
func (c *ServiceAccountController) Run(ctx context.Context, workers int) error {
	c.factory.Start(ctx.Done())
	if !waitForSync(ctx, "serviceaccount", c.synced...) {
		return nil
	}
	c.runner.run(ctx, workers)
	return nil
}

// enqueueNamespace queues a namespace by name.
func (c *ServiceAccountController) enqueueNamespace(obj any) {
	if ns, ok := obj.(*v1.Namespace); ok {
		c.runner.add(ns.Name)
	}
}

// sync creates the default ServiceAccount of one namespace if it is missing.
func (c *ServiceAccountController) sync(ctx context.Context, name string) outcome {
	ns, err := c.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return done()
	}
	if err != nil {
		return retry(err)
	}
	if ns.DeletionTimestamp != nil || ns.Status.Phase == v1.NamespaceTerminating {
		return done()
	}
	if _, err := c.accounts.ServiceAccounts(name).Get(DefaultServiceAccountName); err == nil {
		return done()
	}
	sa := &v1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultServiceAccountName, Namespace: name}}
	_, err = c.client.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{})
	switch {
	case err == nil, apierrors.IsAlreadyExists(err):
		return done()
	case apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause), apierrors.IsNotFound(err):
		return done()
	}
	return retry(errorf("serviceaccount: create default in %s: %w", name, err))
}
