// Command daprd is the Dapr sidecar runtime (github.com/dapr/dapr/cmd/daprd) built with
// only the components this product uses. Build it with scripts/daprd.sh, not by hand:
// upstream's cmd/daprd/components package panics at init unless the build tag
// stablecomponents or allcomponents is set (and those tags pull in every cloud SDK), so the
// script builds against a copy of the pinned dapr module whose zz_notag.go is emptied, and
// the components are registered here instead (see README.md).
package main

import (
	"github.com/dapr/components-contrib/pubsub/kafka"
	"github.com/dapr/components-contrib/secretstores/local/env"
	"github.com/dapr/dapr/cmd/daprd/app"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
	secretstoresLoader "github.com/dapr/dapr/pkg/components/secretstores"
)

func main() {
	// pubsub.kafka: the product's pub/sub (k8s/dapr/pubsub-kafka.yaml, dapr/components).
	pubsubLoader.DefaultRegistry.RegisterComponent(kafka.NewKafka, "kafka")
	// secretstores.local.env: the local profile's secretKeyRef source (dapr/components).
	secretstoresLoader.DefaultRegistry.RegisterComponent(env.NewEnvSecretStore, "local.env")
	app.Run()
}
