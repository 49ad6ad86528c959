package events

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Every pub/sub component, of every profile, protects every topic and grants
// exactly Publishing and Subscribing: an app left out of the scopes, or a
// topic left out of protectedTopics, would be open to any app ID.
func TestEveryPubSubComponentScopesTheTopics(t *testing.T) {
	root := filepath.Join("..", "..", "..", "components")
	files, _ := filepath.Glob(filepath.Join(root, "profiles", "*", "pubsub.yaml"))
	files = append(files, filepath.Join(root, "pubsub.yaml"))
	if len(files) < 5 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Spec struct {
				Metadata []struct{ Name, Value string }
			}
			Scopes []string
		}
		if err := yaml.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		meta := map[string]string{}
		for _, m := range c.Spec.Metadata {
			meta[m.Name] = m.Value
		}
		protected := strings.Split(meta["protectedTopics"], ",")
		slices.Sort(protected)
		if !slices.Equal(protected, Topics()) {
			t.Errorf("%s: protectedTopics %v, want every topic %v", f, protected, Topics())
		}
		if got, want := meta["publishingScopes"], Scopes(Publishing()); got != want {
			t.Errorf("%s: publishingScopes\n%s\nwant\n%s", f, got, want)
		}
		if got, want := meta["subscriptionScopes"], Scopes(Subscribing()); got != want {
			t.Errorf("%s: subscriptionScopes\n%s\nwant\n%s", f, got, want)
		}
		// The component itself is loaded only by the apps that use it.
		var users []string
		for _, app := range apps {
			if len(Publishing()[app])+len(Subscribing()[app]) > 0 {
				users = append(users, app)
			}
		}
		if !slices.Equal(c.Scopes, users) {
			t.Errorf("%s: scopes %v, want the apps that publish or subscribe %v", f, c.Scopes, users)
		}
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
