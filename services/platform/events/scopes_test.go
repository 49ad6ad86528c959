package events

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Every pub/sub component, of every profile, protects every topic and grants
// exactly Publishing and Subscribing (Broadcast and nothing to publish for
// the broadcast component): an app left out of the scopes, or a topic left
// out of protectedTopics, would be open to any app ID.
func TestEveryPubSubComponentScopesTheTopics(t *testing.T) {
	root := filepath.Join("..", "..", "..", "components")
	files, _ := filepath.Glob(filepath.Join(root, "profiles", "*", "pubsub.yaml"))
	files = append(files, filepath.Join(root, "pubsub.yaml"))
	if len(files) < 5 {
		t.Fatalf("found only %v", files)
	}
	want := map[string]struct{ publishing, subscribing map[string][]string }{
		"pubsub":    {Publishing(), Subscribing()},
		"broadcast": {map[string][]string{}, Broadcast()},
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var c struct {
				Metadata struct{ Name string }
				Spec     struct {
					Metadata []struct{ Name, Value string }
				}
				Scopes []string
			}
			if err := dec.Decode(&c); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			w, ok := want[c.Metadata.Name]
			if !ok {
				t.Errorf("%s: unexpected component %q", f, c.Metadata.Name)
				continue
			}
			found[c.Metadata.Name] = true
			checkScopes(t, f+": "+c.Metadata.Name, c.Spec.Metadata, c.Scopes, w.publishing, w.subscribing)
		}
		for name := range want {
			if !found[name] {
				t.Errorf("%s: no component %q", f, name)
			}
		}
	}
}

func checkScopes(t *testing.T, where string, metadata []struct{ Name, Value string }, scopes []string, publishing, subscribing map[string][]string) {
	t.Helper()
	meta := map[string]string{}
	for _, m := range metadata {
		meta[m.Name] = m.Value
	}
	protected := strings.Split(meta["protectedTopics"], ",")
	slices.Sort(protected)
	if !slices.Equal(protected, Topics()) {
		t.Errorf("%s: protectedTopics %v, want every topic %v", where, protected, Topics())
	}
	if got, want := meta["publishingScopes"], Scopes(publishing); got != want {
		t.Errorf("%s: publishingScopes\n%s\nwant\n%s", where, got, want)
	}
	if got, want := meta["subscriptionScopes"], Scopes(subscribing); got != want {
		t.Errorf("%s: subscriptionScopes\n%s\nwant\n%s", where, got, want)
	}
	// The component itself is loaded only by the apps that use it.
	var users []string
	for _, app := range apps {
		if len(publishing[app])+len(subscribing[app]) > 0 {
			users = append(users, app)
		}
	}
	if !slices.Equal(scopes, users) {
		t.Errorf("%s: scopes %v, want the apps that publish or subscribe %v", where, scopes, users)
	}
}

// Each topic has exactly one owner among the services (the notifier's
// replays aside).
func TestEveryTopicHasOnePublisher(t *testing.T) {
	owners := map[string][]string{}
	for app, topics := range Publishing() {
		for _, topic := range topics {
			owners[topic] = append(owners[topic], app)
		}
	}
	for _, topic := range Topics() {
		o := owners[topic]
		if slices.Contains(notified, topic) {
			o = slices.DeleteFunc(o, func(a string) bool { return a == "notification" })
		}
		if topic == TopicDeadLetters {
			continue
		}
		if len(o) != 1 {
			t.Errorf("%s is published by %v", topic, o)
		}
	}
}

// The declarative subscriptions are exactly what the components allow:
// Subscribing on "pubsub", Broadcast on "broadcast".
func TestSubscriptionsMatchTheScopes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "components", "subscriptions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string][]string{"pubsub": {}, "broadcast": {}}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var s struct {
			Spec struct {
				PubSubName string `yaml:"pubsubname"`
				Topic      string
			}
			Scopes []string
		}
		if err := dec.Decode(&s); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if got[s.Spec.PubSubName] == nil {
			t.Errorf("subscription to %s on unknown component %q", s.Spec.Topic, s.Spec.PubSubName)
			continue
		}
		for _, app := range s.Scopes {
			got[s.Spec.PubSubName][app] = append(got[s.Spec.PubSubName][app], s.Spec.Topic)
		}
	}
	for component, want := range map[string]map[string][]string{"pubsub": Subscribing(), "broadcast": Broadcast()} {
		for _, app := range apps {
			g, w := slices.Sorted(slices.Values(got[component][app])), slices.Sorted(slices.Values(want[app]))
			if !slices.Equal(g, w) {
				t.Errorf("%s: %s subscribes to %v, its scopes allow %v", component, app, g, w)
			}
		}
	}
}
