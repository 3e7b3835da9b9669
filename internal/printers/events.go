package printers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
)

// eventsPrinters returns the printers of the events.k8s.io API group.
// kube-apiserver serves its events from the core events' storage, so they
// print exactly like core events.
func eventsPrinters() map[string]Printer {
	return map[string]Printer{
		"events": {
			Columns: eventColumns(),
			Row: typed(func(e *eventsv1.Event, now time.Time) []interface{} {
				return eventRow(coreEvent(e), now)
			}),
		},
	}
}

// coreEvent converts an events.k8s.io/v1 event into the core event it is
// stored as.
func coreEvent(e *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		ObjectMeta:          e.ObjectMeta,
		InvolvedObject:      e.Regarding,
		Related:             e.Related,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}
