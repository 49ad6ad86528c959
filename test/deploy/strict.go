// Package deploy checks, without a cluster, everything this repository
// deploys: Dapr resources decode strictly into Dapr's own Go types, the Helm
// chart lints and renders for every profile with consistent wiring, and
// the Dockerfiles' build stages build the services (Go: deploy/docker/Dockerfile;
// Node.js: deploy/docker/node.Dockerfile).
package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	componentsapi "github.com/dapr/dapr/pkg/apis/components/v1alpha1"
	configurationapi "github.com/dapr/dapr/pkg/apis/configuration/v1alpha1"
	httpendpointapi "github.com/dapr/dapr/pkg/apis/httpEndpoint/v1alpha1"
	resiliencyapi "github.com/dapr/dapr/pkg/apis/resiliency/v1alpha1"
	subscriptionsv1 "github.com/dapr/dapr/pkg/apis/subscriptions/v1alpha1"
	subscriptionsv2 "github.com/dapr/dapr/pkg/apis/subscriptions/v2alpha1"
	daprconfig "github.com/dapr/dapr/pkg/config"
	yamlv3 "gopkg.in/yaml.v3"
	"sigs.k8s.io/yaml"
)

// Doc is one YAML document with its kind and name, for messages.
type Doc struct {
	APIVersion, Kind, Name string
	JSON                   []byte
}

func (d Doc) String() string { return fmt.Sprintf("%s %s (%s)", d.Kind, d.Name, d.APIVersion) }

// SplitYAML splits a multi-document YAML stream, refusing duplicate keys,
// and returns each non-empty document as JSON.
func SplitYAML(b []byte) ([]Doc, error) {
	var out []Doc
	dec := yamlv3.NewDecoder(bytes.NewReader(b))
	for {
		var node yamlv3.Node
		if err := dec.Decode(&node); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		raw, err := yamlv3.Marshal(&node)
		if err != nil {
			return nil, err
		}
		// YAMLToJSONStrict refuses duplicate keys, which yaml.v3 would let
		// the last one win.
		j, err := yaml.YAMLToJSONStrict(raw)
		if err != nil {
			return nil, err
		}
		if string(j) == "null" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(j, &head); err != nil {
			return nil, err
		}
		out = append(out, Doc{APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name, JSON: j})
	}
}

// IsDapr reports whether the document is a Dapr resource.
func (d Doc) IsDapr() bool { return strings.HasPrefix(d.APIVersion, "dapr.io/") }

// DecodeDaprStrict decodes a Dapr resource into Dapr's own Go type for its
// apiVersion and kind, refusing any field the type does not have (which
// daprd would silently ignore). A Configuration is also decoded into the
// type daprd reads in self-hosted mode.
func DecodeDaprStrict(d Doc) error {
	var target any
	switch d.APIVersion + "/" + d.Kind {
	case "dapr.io/v1alpha1/Component":
		target = &componentsapi.Component{}
	case "dapr.io/v1alpha1/Configuration":
		if err := strictJSON(d.JSON, &configurationapi.Configuration{}); err != nil {
			return err
		}
		target = &daprconfig.Configuration{}
	case "dapr.io/v1alpha1/Resiliency":
		target = &resiliencyapi.Resiliency{}
	case "dapr.io/v2alpha1/Subscription":
		target = &subscriptionsv2.Subscription{}
	case "dapr.io/v1alpha1/Subscription":
		target = &subscriptionsv1.Subscription{}
	case "dapr.io/v1alpha1/HTTPEndpoint":
		target = &httpendpointapi.HTTPEndpoint{}
	default:
		return fmt.Errorf("unknown Dapr resource %s/%s", d.APIVersion, d.Kind)
	}
	return strictJSON(d.JSON, target)
}

func strictJSON(j []byte, target any) error {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return fmt.Errorf("%T: %w", target, err)
	}
	return nil
}

// CheckMetadataItems checks that every metadata item of a Component gives
// exactly one of value, secretKeyRef and envRef (daprd would take one and
// ignore the others).
func CheckMetadataItems(d Doc) error {
	if d.Kind != "Component" {
		return nil
	}
	var c componentsapi.Component
	if err := json.Unmarshal(d.JSON, &c); err != nil {
		return err
	}
	for _, m := range c.Spec.Metadata {
		n := 0
		if m.HasValue() {
			n++
		}
		if m.SecretKeyRef.Name != "" {
			n++
		}
		if m.EnvRef != "" {
			n++
		}
		if n != 1 {
			return fmt.Errorf("metadata %q gives %d of value, secretKeyRef and envRef; want exactly one", m.Name, n)
		}
	}
	return nil
}
