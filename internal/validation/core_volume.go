package validation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// defaultVolume applies SetDefaults_Volume and the volume source defaults.
func defaultVolume(v *corev1.Volume) {
	if sourceCount(&v.VolumeSource) == 0 {
		v.VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
	}
	s := &v.VolumeSource
	if s.HostPath != nil && s.HostPath.Type == nil {
		t := corev1.HostPathUnset
		s.HostPath.Type = &t
	}
	if s.Secret != nil && s.Secret.DefaultMode == nil {
		mode := corev1.SecretVolumeSourceDefaultMode
		s.Secret.DefaultMode = &mode
	}
	if s.ConfigMap != nil && s.ConfigMap.DefaultMode == nil {
		mode := corev1.ConfigMapVolumeSourceDefaultMode
		s.ConfigMap.DefaultMode = &mode
	}
	if s.DownwardAPI != nil {
		if s.DownwardAPI.DefaultMode == nil {
			mode := corev1.DownwardAPIVolumeSourceDefaultMode
			s.DownwardAPI.DefaultMode = &mode
		}
		defaultDownwardAPIFiles(s.DownwardAPI.Items)
	}
	if s.Projected != nil {
		if s.Projected.DefaultMode == nil {
			mode := corev1.ProjectedVolumeSourceDefaultMode
			s.Projected.DefaultMode = &mode
		}
		for i := range s.Projected.Sources {
			src := &s.Projected.Sources[i]
			if src.ServiceAccountToken != nil && src.ServiceAccountToken.ExpirationSeconds == nil {
				hour := int64(3600)
				src.ServiceAccountToken.ExpirationSeconds = &hour
			}
			if src.DownwardAPI != nil {
				defaultDownwardAPIFiles(src.DownwardAPI.Items)
			}
		}
	}
	if s.Image != nil && s.Image.PullPolicy == "" {
		s.Image.PullPolicy = pullPolicyFor(s.Image.Reference)
	}
}

// defaultDownwardAPIFiles defaults the apiVersion of downward API field
// references to v1.
func defaultDownwardAPIFiles(items []corev1.DownwardAPIVolumeFile) {
	for i := range items {
		if items[i].FieldRef != nil && items[i].FieldRef.APIVersion == "" {
			items[i].FieldRef.APIVersion = "v1"
		}
	}
}

// volumeSourceField names one member of the VolumeSource union, in the order
// Kubernetes checks them, with its JSON name and a presence test.
type volumeSourceField struct {
	name string
	set  func(*corev1.VolumeSource) bool
}

// volumeSourceFields is the VolumeSource union in validation order.
var volumeSourceFields = []volumeSourceField{
	{"emptyDir", func(s *corev1.VolumeSource) bool { return s.EmptyDir != nil }},
	{"hostPath", func(s *corev1.VolumeSource) bool { return s.HostPath != nil }},
	{"gitRepo", func(s *corev1.VolumeSource) bool { return s.GitRepo != nil }},
	{"gcePersistentDisk", func(s *corev1.VolumeSource) bool { return s.GCEPersistentDisk != nil }},
	{"awsElasticBlockStore", func(s *corev1.VolumeSource) bool { return s.AWSElasticBlockStore != nil }},
	{"secret", func(s *corev1.VolumeSource) bool { return s.Secret != nil }},
	{"nfs", func(s *corev1.VolumeSource) bool { return s.NFS != nil }},
	{"iscsi", func(s *corev1.VolumeSource) bool { return s.ISCSI != nil }},
	{"glusterfs", func(s *corev1.VolumeSource) bool { return s.Glusterfs != nil }},
	{"flocker", func(s *corev1.VolumeSource) bool { return s.Flocker != nil }},
	{"persistentVolumeClaim", func(s *corev1.VolumeSource) bool { return s.PersistentVolumeClaim != nil }},
	{"rbd", func(s *corev1.VolumeSource) bool { return s.RBD != nil }},
	{"cinder", func(s *corev1.VolumeSource) bool { return s.Cinder != nil }},
	{"cephFS", func(s *corev1.VolumeSource) bool { return s.CephFS != nil }},
	{"quobyte", func(s *corev1.VolumeSource) bool { return s.Quobyte != nil }},
	// Kubernetes reports a second downward API source under this misspelt path.
	{"downwarAPI", func(s *corev1.VolumeSource) bool { return s.DownwardAPI != nil }},
	{"fc", func(s *corev1.VolumeSource) bool { return s.FC != nil }},
	{"flexVolume", func(s *corev1.VolumeSource) bool { return s.FlexVolume != nil }},
	{"configMap", func(s *corev1.VolumeSource) bool { return s.ConfigMap != nil }},
	{"azureFile", func(s *corev1.VolumeSource) bool { return s.AzureFile != nil }},
	{"vsphereVolume", func(s *corev1.VolumeSource) bool { return s.VsphereVolume != nil }},
	{"photonPersistentDisk", func(s *corev1.VolumeSource) bool { return s.PhotonPersistentDisk != nil }},
	{"portworxVolume", func(s *corev1.VolumeSource) bool { return s.PortworxVolume != nil }},
	{"azureDisk", func(s *corev1.VolumeSource) bool { return s.AzureDisk != nil }},
	{"storageos", func(s *corev1.VolumeSource) bool { return s.StorageOS != nil }},
	{"projected", func(s *corev1.VolumeSource) bool { return s.Projected != nil }},
	{"scaleIO", func(s *corev1.VolumeSource) bool { return s.ScaleIO != nil }},
	{"csi", func(s *corev1.VolumeSource) bool { return s.CSI != nil }},
	{"ephemeral", func(s *corev1.VolumeSource) bool { return s.Ephemeral != nil }},
	{"image", func(s *corev1.VolumeSource) bool { return s.Image != nil }},
}

// sourceCount returns how many members of the VolumeSource union are set.
func sourceCount(s *corev1.VolumeSource) int {
	n := 0
	for _, f := range volumeSourceFields {
		if f.set(s) {
			n++
		}
	}
	return n
}

// validateVolumes validates pod volumes and returns the valid ones by name.
func validateVolumes(volumes []corev1.Volume, fldPath *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	var allErrs field.ErrorList
	vols := map[string]corev1.VolumeSource{}
	names := map[string]bool{}
	for i := range volumes {
		vol := &volumes[i]
		idxPath := fldPath.Index(i)
		namePath := idxPath.Child("name")
		el := validateVolumeSource(&vol.VolumeSource, idxPath)
		if vol.Name == "" {
			el = append(el, field.Required(namePath, ""))
		} else {
			el = append(el, validateDNS1123Label(vol.Name, namePath)...)
		}
		if names[vol.Name] {
			el = append(el, field.Duplicate(namePath, vol.Name))
		}
		if len(el) == 0 {
			names[vol.Name] = true
			vols[vol.Name] = vol.VolumeSource
		} else {
			allErrs = append(allErrs, el...)
		}
	}
	return vols, allErrs
}

// validateVolumeSource checks that exactly one volume type is set and
// validates the common ones.
func validateVolumeSource(s *corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	n := 0
	for _, f := range volumeSourceFields {
		if !f.set(s) {
			continue
		}
		if n > 0 {
			allErrs = append(allErrs, field.Forbidden(fldPath.Child(f.name), "may not specify more than 1 volume type"))
			continue
		}
		n++
		allErrs = append(allErrs, validateOneVolumeSource(s, f.name, fldPath)...)
	}
	if n == 0 {
		allErrs = append(allErrs, field.Required(fldPath, "must specify a volume type"))
	}
	return allErrs
}

// validateOneVolumeSource validates the volume type called name.
func validateOneVolumeSource(s *corev1.VolumeSource, name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch name {
	case "emptyDir":
		if s.EmptyDir.SizeLimit != nil && s.EmptyDir.SizeLimit.Cmp(resource.Quantity{}) < 0 {
			allErrs = append(allErrs, field.Forbidden(fldPath.Child("emptyDir").Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"))
		}
	case "hostPath":
		p := fldPath.Child("hostPath")
		if s.HostPath.Path == "" {
			return append(allErrs, field.Required(p.Child("path"), ""))
		}
		allErrs = append(allErrs, validatePathNoBacksteps(s.HostPath.Path, p.Child("path"))...)
		if t := s.HostPath.Type; t != nil && !supportedHostPathTypes[*t] {
			allErrs = append(allErrs, field.NotSupported(p.Child("type"), t, []corev1.HostPathType{
				corev1.HostPathUnset, corev1.HostPathBlockDev, corev1.HostPathCharDev, corev1.HostPathDirectory,
				corev1.HostPathDirectoryOrCreate, corev1.HostPathFile, corev1.HostPathFileOrCreate, corev1.HostPathSocket,
			}))
		}
	case "secret":
		p := fldPath.Child("secret")
		if s.Secret.SecretName == "" {
			allErrs = append(allErrs, field.Required(p.Child("secretName"), ""))
		}
		allErrs = append(allErrs, validateFileMode(s.Secret.DefaultMode, p.Child("defaultMode"))...)
		for i := range s.Secret.Items {
			allErrs = append(allErrs, validateKeyToPath(&s.Secret.Items[i], p.Child("items").Index(i))...)
		}
	case "configMap":
		p := fldPath.Child("configMap")
		if s.ConfigMap.Name == "" {
			allErrs = append(allErrs, field.Required(p.Child("name"), ""))
		}
		allErrs = append(allErrs, validateFileMode(s.ConfigMap.DefaultMode, p.Child("defaultMode"))...)
		for i := range s.ConfigMap.Items {
			allErrs = append(allErrs, validateKeyToPath(&s.ConfigMap.Items[i], p.Child("items").Index(i))...)
		}
	case "persistentVolumeClaim":
		if s.PersistentVolumeClaim.ClaimName == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("persistentVolumeClaim").Child("claimName"), ""))
		}
	case "nfs":
		p := fldPath.Child("nfs")
		if s.NFS.Server == "" {
			allErrs = append(allErrs, field.Required(p.Child("server"), ""))
		}
		if s.NFS.Path == "" {
			allErrs = append(allErrs, field.Required(p.Child("path"), ""))
		}
		if !strings.HasPrefix(s.NFS.Path, "/") {
			allErrs = append(allErrs, field.Invalid(p.Child("path"), s.NFS.Path, "must be an absolute path"))
		}
	case "downwarAPI":
		p := fldPath.Child("downwardAPI")
		allErrs = append(allErrs, validateFileMode(s.DownwardAPI.DefaultMode, p.Child("defaultMode"))...)
		for i := range s.DownwardAPI.Items {
			allErrs = append(allErrs, validateDownwardAPIVolumeFile(&s.DownwardAPI.Items[i], p)...)
		}
	case "projected":
		allErrs = append(allErrs, validateProjectedVolumeSource(s.Projected, fldPath.Child("projected"))...)
	case "gitRepo":
		p := fldPath.Child("gitRepo")
		if s.GitRepo.Repository == "" {
			allErrs = append(allErrs, field.Required(p.Child("repository"), ""))
		}
		allErrs = append(allErrs, validateLocalDescendingPath(s.GitRepo.Directory, p.Child("directory"))...)
	case "ephemeral":
		if s.Ephemeral.VolumeClaimTemplate == nil {
			allErrs = append(allErrs, field.Required(fldPath.Child("ephemeral").Child("volumeClaimTemplate"), ""))
		}
	case "csi":
		if s.CSI.Driver == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("csi").Child("driver"), ""))
		}
	}
	return allErrs
}

// supportedHostPathTypes are the valid hostPath volume types.
var supportedHostPathTypes = map[corev1.HostPathType]bool{
	corev1.HostPathUnset: true, corev1.HostPathDirectoryOrCreate: true, corev1.HostPathDirectory: true,
	corev1.HostPathFileOrCreate: true, corev1.HostPathFile: true, corev1.HostPathSocket: true,
	corev1.HostPathCharDev: true, corev1.HostPathBlockDev: true,
}

// validateFileMode checks a volume file mode (0 to 0777).
func validateFileMode(mode *int32, fldPath *field.Path) field.ErrorList {
	if mode != nil && (*mode > 0777 || *mode < 0) {
		return field.ErrorList{field.Invalid(fldPath, *mode, fileModeErrorMsg)}
	}
	return nil
}

// validateKeyToPath checks an item of a secret or configMap volume.
func validateKeyToPath(kp *corev1.KeyToPath, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if kp.Key == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("key"), ""))
	}
	if kp.Path == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
	}
	allErrs = append(allErrs, validateLocalNonReservedPath(kp.Path, fldPath.Child("path"))...)
	return append(allErrs, validateFileMode(kp.Mode, fldPath.Child("mode"))...)
}

// validVolumeDownwardAPIFieldPaths are the pod fields a downward API volume
// may expose.
var validVolumeDownwardAPIFieldPaths = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"}

// validateDownwardAPIVolumeFile checks one file of a downward API volume.
func validateDownwardAPIVolumeFile(file *corev1.DownwardAPIVolumeFile, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if file.Path == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
	}
	allErrs = append(allErrs, validateLocalNonReservedPath(file.Path, fldPath.Child("path"))...)
	switch {
	case file.FieldRef != nil:
		allErrs = append(allErrs, validateObjectFieldSelector(file.FieldRef, validVolumeDownwardAPIFieldPaths, fldPath.Child("fieldRef"))...)
		if file.ResourceFieldRef != nil {
			allErrs = append(allErrs, field.Invalid(fldPath, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		}
	case file.ResourceFieldRef != nil:
		allErrs = append(allErrs, validateResourceFieldSelector(file.ResourceFieldRef, fldPath.Child("resourceFieldRef"), true)...)
	default:
		allErrs = append(allErrs, field.Required(fldPath, "one of fieldRef and resourceFieldRef is required"))
	}
	return append(allErrs, validateFileMode(file.Mode, fldPath.Child("mode"))...)
}

// validateProjectedVolumeSource checks a projected volume's sources.
func validateProjectedVolumeSource(p *corev1.ProjectedVolumeSource, fldPath *field.Path) field.ErrorList {
	allErrs := validateFileMode(p.DefaultMode, fldPath.Child("defaultMode"))
	paths := map[string]bool{}
	addPath := func(pth, value string) {
		if pth == "" {
			return
		}
		if paths[pth] {
			allErrs = append(allErrs, field.Invalid(fldPath, value, "conflicting duplicate paths"))
		}
		paths[pth] = true
	}
	for i, src := range p.Sources {
		n := 0
		srcPath := fldPath.Child("sources").Index(i)
		if src.Secret != nil {
			n++
			if src.Secret.Name == "" {
				allErrs = append(allErrs, field.Required(srcPath.Child("secret").Child("name"), ""))
			}
			for j := range src.Secret.Items {
				allErrs = append(allErrs, validateKeyToPath(&src.Secret.Items[j], srcPath.Child("secret").Child("items").Index(j))...)
				addPath(src.Secret.Items[j].Path, src.Secret.Name)
			}
		}
		if src.ConfigMap != nil {
			n++
			if src.ConfigMap.Name == "" {
				allErrs = append(allErrs, field.Required(srcPath.Child("configMap").Child("name"), ""))
			}
			for j := range src.ConfigMap.Items {
				allErrs = append(allErrs, validateKeyToPath(&src.ConfigMap.Items[j], srcPath.Child("configMap").Child("items").Index(j))...)
				addPath(src.ConfigMap.Items[j].Path, src.ConfigMap.Name)
			}
		}
		if src.DownwardAPI != nil {
			n++
			for j := range src.DownwardAPI.Items {
				allErrs = append(allErrs, validateDownwardAPIVolumeFile(&src.DownwardAPI.Items[j], srcPath.Child("downwardAPI"))...)
				addPath(src.DownwardAPI.Items[j].Path, src.DownwardAPI.Items[j].Path)
			}
		}
		if sat := src.ServiceAccountToken; sat != nil {
			n++
			satPath := srcPath.Child("serviceAccountToken")
			if sat.ExpirationSeconds != nil {
				if *sat.ExpirationSeconds < 10*60 {
					allErrs = append(allErrs, field.Invalid(satPath.Child("expirationSeconds"), *sat.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
				}
				if *sat.ExpirationSeconds > 1<<32 {
					allErrs = append(allErrs, field.Invalid(satPath.Child("expirationSeconds"), *sat.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"))
				}
			}
			if sat.Path == "" {
				allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
			} else {
				allErrs = append(allErrs, validateLocalNonReservedPath(sat.Path, fldPath.Child("path"))...)
			}
		}
		if src.ClusterTrustBundle != nil {
			n++
		}
		if src.PodCertificate != nil {
			n++
		}
		if n > 1 {
			allErrs = append(allErrs, field.Forbidden(srcPath, "may not specify more than 1 volume type per source"))
		}
	}
	return allErrs
}
