package printers

import (
	"fmt"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rbacPrinters returns the printers of the rbac.authorization.k8s.io API
// group. Roles and cluster roles have none: kube-apiserver prints them with
// its default NAME / CREATED AT table.
func rbacPrinters() map[string]Printer {
	return map[string]Printer{
		"rolebindings": {
			Columns: bindingColumns(rbacv1beta1.RoleBinding{}.SwaggerDoc()["roleRef"], "roleBinding"),
			Row: typed(func(b *rbacv1.RoleBinding, now time.Time) []interface{} {
				return bindingCells(b.ObjectMeta, b.RoleRef, b.Subjects, now)
			}),
		},
		"clusterrolebindings": {
			Columns: bindingColumns(rbacv1beta1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"], "clusterRoleBinding"),
			Row: typed(func(b *rbacv1.ClusterRoleBinding, now time.Time) []interface{} {
				return bindingCells(b.ObjectMeta, b.RoleRef, b.Subjects, now)
			}),
		},
	}
}

// bindingColumns are the columns of a role binding kind: NAME ROLE AGE and,
// wide, USERS GROUPS SERVICEACCOUNTS.
func bindingColumns(roleRefDoc, kind string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Role", Type: "string", Description: roleRefDoc},
		ageColumn,
		{Name: "Users", Type: "string", Priority: 1, Description: "Users in the " + kind},
		{Name: "Groups", Type: "string", Priority: 1, Description: "Groups in the " + kind},
		{Name: "ServiceAccounts", Type: "string", Priority: 1, Description: "ServiceAccounts in the " + kind},
	}
}

// bindingCells computes a role binding's cells: ROLE is "Kind/name", the
// subjects are joined by ", ", service accounts as "namespace/name".
func bindingCells(m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject, now time.Time) []interface{} {
	var users, groups, serviceAccounts []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			serviceAccounts = append(serviceAccounts, s.Namespace+"/"+s.Name)
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		}
	}
	return []interface{}{
		m.Name,
		fmt.Sprintf("%s/%s", ref.Kind, ref.Name),
		age(m.CreationTimestamp, now),
		strings.Join(users, ", "),
		strings.Join(groups, ", "),
		strings.Join(serviceAccounts, ", "),
	}
}
