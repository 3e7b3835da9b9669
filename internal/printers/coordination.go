package printers

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// coordinationPrinters returns the printers of the coordination.k8s.io API
// group.
func coordinationPrinters() map[string]Printer {
	return map[string]Printer{
		"leases": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Holder", Type: "string", Description: coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]},
				ageColumn,
			},
			Row: typed(func(l *coordinationv1.Lease, now time.Time) []interface{} {
				holder := ""
				if l.Spec.HolderIdentity != nil {
					holder = *l.Spec.HolderIdentity
				}
				return []interface{}{l.Name, holder, age(l.CreationTimestamp, now)}
			}),
		},
	}
}
