package printers

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// appsPrinters returns the printers of the apps API group.
func appsPrinters() map[string]Printer {
	deploymentStatusDoc := appsv1.DeploymentStatus{}.SwaggerDoc()
	replicaSetStatusDoc := appsv1.ReplicaSetStatus{}.SwaggerDoc()
	daemonSetStatusDoc := appsv1.DaemonSetStatus{}.SwaggerDoc()

	return map[string]Printer{
		"deployments": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
				{Name: "Up-to-date", Type: "string", Description: deploymentStatusDoc["updatedReplicas"]},
				{Name: "Available", Type: "string", Description: deploymentStatusDoc["availableReplicas"]},
				ageColumn,
				containersColumn,
				imagesColumn,
				{Name: "Selector", Type: "string", Priority: 1, Description: appsv1.DeploymentSpec{}.SwaggerDoc()["selector"]},
			},
			Row: typed(deploymentRow),
		},
		"replicasets": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Desired", Type: "integer", Description: appsv1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]},
				{Name: "Current", Type: "integer", Description: replicaSetStatusDoc["replicas"]},
				{Name: "Ready", Type: "integer", Description: replicaSetStatusDoc["readyReplicas"]},
				ageColumn,
				containersColumn,
				imagesColumn,
				{Name: "Selector", Type: "string", Priority: 1, Description: appsv1.ReplicaSetSpec{}.SwaggerDoc()["selector"]},
			},
			Row: typed(func(rs *appsv1.ReplicaSet, now time.Time) []interface{} {
				names, images := containerCells(rs.Spec.Template.Spec.Containers)
				return []interface{}{
					rs.Name,
					int64(replicas(rs.Spec.Replicas)),
					int64(rs.Status.Replicas),
					int64(rs.Status.ReadyReplicas),
					age(rs.CreationTimestamp, now),
					names,
					images,
					metav1.FormatLabelSelector(rs.Spec.Selector),
				}
			}),
		},
		"daemonsets": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Desired", Type: "integer", Description: daemonSetStatusDoc["desiredNumberScheduled"]},
				{Name: "Current", Type: "integer", Description: daemonSetStatusDoc["currentNumberScheduled"]},
				{Name: "Ready", Type: "integer", Description: daemonSetStatusDoc["numberReady"]},
				{Name: "Up-to-date", Type: "integer", Description: daemonSetStatusDoc["updatedNumberScheduled"]},
				{Name: "Available", Type: "integer", Description: daemonSetStatusDoc["numberAvailable"]},
				{Name: "Node Selector", Type: "string", Description: corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]},
				ageColumn,
				containersColumn,
				imagesColumn,
				{Name: "Selector", Type: "string", Priority: 1, Description: appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"]},
			},
			Row: typed(func(ds *appsv1.DaemonSet, now time.Time) []interface{} {
				names, images := containerCells(ds.Spec.Template.Spec.Containers)
				return []interface{}{
					ds.Name,
					int64(ds.Status.DesiredNumberScheduled),
					int64(ds.Status.CurrentNumberScheduled),
					int64(ds.Status.NumberReady),
					int64(ds.Status.UpdatedNumberScheduled),
					int64(ds.Status.NumberAvailable),
					labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
					age(ds.CreationTimestamp, now),
					names,
					images,
					metav1.FormatLabelSelector(ds.Spec.Selector),
				}
			}),
		},
		"statefulsets": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
				ageColumn,
				containersColumn,
				imagesColumn,
			},
			Row: typed(func(ss *appsv1.StatefulSet, now time.Time) []interface{} {
				names, images := containerCells(ss.Spec.Template.Spec.Containers)
				return []interface{}{
					ss.Name,
					fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicas(ss.Spec.Replicas)),
					age(ss.CreationTimestamp, now),
					names,
					images,
				}
			}),
		},
	}
}

// deploymentRow computes a deployment's cells, for example
// "web", "3/3", 3, 3, "5m".
func deploymentRow(d *appsv1.Deployment, now time.Time) []interface{} {
	selector := "<invalid>"
	if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
		selector = s.String()
	}
	names, images := containerCells(d.Spec.Template.Spec.Containers)
	return []interface{}{
		d.Name,
		fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
		int64(d.Status.UpdatedReplicas),
		int64(d.Status.AvailableReplicas),
		age(d.CreationTimestamp, now),
		names,
		images,
		selector,
	}
}

// replicas returns the desired replicas, 1 when unset: the API server
// defaults spec.replicas to 1 before it stores a workload.
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// containerCells returns the CONTAINERS and IMAGES cells: the containers'
// names and images, each joined by ",".
func containerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	i := make([]string, len(containers))
	for k, c := range containers {
		n[k], i[k] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}
