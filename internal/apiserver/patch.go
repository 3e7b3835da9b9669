package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

func (s *Server) patch(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	body, err := s.readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	pt := types.PatchType(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	switch pt {
	case types.JSONPatchType, types.MergePatchType:
	case types.StrategicMergePatchType:
		if info.res.custom {
			writeError(w, unsupportedPatch(pt))
			return
		}
	default:
		writeError(w, unsupportedPatch(pt))
		return
	}
	if info.subresource == "scale" && info.res.scale {
		s.patchScale(w, r, info, pt, body)
		return
	}
	if !s.subresourceWritable(info) {
		writeError(w, apierrors.NewNotFound(info.res.groupResource(), info.name+"/"+info.subresource))
		return
	}
	strict := strictFields(r)
	out, _, err := s.updateObject(info, func(old runtime.Object) (runtime.Object, error) {
		cur, err := json.Marshal(old)
		if err != nil {
			return nil, err
		}
		patched, err := applyPatch(pt, cur, body, old)
		if err != nil {
			return nil, err
		}
		obj, err := decodeObject(info.res, patched, strict)
		if err != nil {
			return nil, err
		}
		// The stored resourceVersion is not a precondition unless the patch sets one.
		if !patchSetsResourceVersion(body) {
			accessor(obj).SetResourceVersion("")
		}
		return obj, nil
	}, dryRun(r))
	if err != nil {
		writeError(w, s.storeError(info, err))
		return
	}
	writeRaw(w, http.StatusOK, out)
}

func unsupportedPatch(pt types.PatchType) error {
	return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", emptyGR, "",
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s",
			types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType), 0, false)
}

// applyPatch applies a patch document of the given type to the JSON of
// current; typed is the current object, whose Go type drives strategic merge.
func applyPatch(pt types.PatchType, current, patch []byte, typed runtime.Object) ([]byte, error) {
	var out []byte
	var err error
	switch pt {
	case types.JSONPatchType:
		var p jsonpatch.Patch
		p, err = jsonpatch.DecodePatch(patch)
		if err == nil {
			out, err = p.Apply(current)
		}
	case types.MergePatchType:
		out, err = jsonpatch.MergePatch(current, patch)
	case types.StrategicMergePatchType:
		out, err = strategicpatch.StrategicMergePatch(current, patch, typed)
	}
	if err != nil {
		var se apierrors.APIStatus
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return out, nil
}

// patchSetsResourceVersion reports whether a merge-style patch carries
// metadata.resourceVersion, which then acts as a precondition.
func patchSetsResourceVersion(patch []byte) bool {
	var p struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if json.Unmarshal(patch, &p) == nil {
		return p.Metadata.ResourceVersion != ""
	}
	// JSON patch: look for an operation on /metadata/resourceVersion.
	var ops []struct {
		Path string `json:"path"`
	}
	if json.Unmarshal(patch, &ops) == nil {
		for _, op := range ops {
			if op.Path == "/metadata/resourceVersion" {
				return true
			}
		}
	}
	return false
}
