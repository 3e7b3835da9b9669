package main

import (
	"context"

	"kin/internal/daemon"
	"kin/internal/lab"
)

func init() {
	labCapabilities = func(ctx context.Context, cluster string) (lab.Capabilities, error) {
		caps, err := daemon.Capabilities(cluster)
		if err != nil {
			return nil, err
		}
		return lab.NewCapabilitySet(caps...), nil
	}
}
