package events

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The topics in code are the topics of the published contract
// (contracts/events.md), both ways.
func TestTopicsMatchTheContract(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "contracts", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^## (.+)$`).FindAllStringSubmatch(string(b), -1) {
		for _, name := range strings.Split(m[1], ",") {
			name = strings.TrimSpace(name)
			if regexp.MustCompile(`^[a-z]+\.[a-z-]+$`).MatchString(name) || name == TopicDeadLetters {
				documented = append(documented, name)
			}
		}
	}
	sort.Strings(documented)
	if got := Topics(); !slices.Equal(got, documented) {
		t.Errorf("topics in code %v\ntopics in contracts/events.md %v", got, documented)
	}
}
