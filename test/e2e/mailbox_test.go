package e2e

import (
	"bufio"
	"encoding/json"
	"mime"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
)

// subjects are the subject lines the notifier writes per topic
// (services/notification/domain/email.go), so a test can tell which
// event an email was for by reading what the buyer reads.
var subjects = map[string]string{
	"user.registered":  "Welcome to daprshop",
	"order.paid":       " is paid",
	"order.shipped":    " has shipped",
	"order.cancelled":  " was cancelled",
	"payment.refunded": "Refund for order ",
}

// mailbox lists the subjects of the emails sent to an address: the local
// outbox folder's .eml files, or the SMTP stand-in's messages.
type mailbox interface {
	subjects(t testing.TB, to string) []string
}

func mailboxOf(run *runner.Run) mailbox {
	if api := run.MailAPI(); api != "" {
		return mailpit{api: api}
	}
	return outbox{dir: run.Outbox()}
}

type outbox struct{ dir string }

func (o outbox) subjects(t testing.TB, to string) []string {
	entries, _ := os.ReadDir(o.dir)
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), to+"__") {
			continue
		}
		f, err := os.Open(filepath.Join(o.dir, e.Name()))
		if err != nil {
			continue // being written
		}
		m, err := mail.ReadMessage(bufio.NewReader(f))
		f.Close()
		if err == nil {
			subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			out = append(out, subject)
		}
	}
	return out
}

// mailpit reads Mailpit's API: what an SMTP server received.
type mailpit struct{ api string }

func (m mailpit) subjects(t testing.TB, to string) []string {
	resp, err := http.Get(m.api + "/api/v1/messages?limit=1000")
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	defer resp.Body.Close()
	var list struct {
		Messages []struct {
			Subject string
			To      []struct{ Address string }
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	var out []string
	for _, msg := range list.Messages {
		for _, a := range msg.To {
			if strings.EqualFold(a.Address, to) {
				out = append(out, msg.Subject)
			}
		}
	}
	return out
}

// waitEmails waits until to has received an email for each topic.
func waitEmails(t *testing.T, box mailbox, to string, topics ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := box.subjects(t, to)
		missing := ""
		for _, topic := range topics {
			if !containsSubject(got, subjects[topic]) {
				missing = topic
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s email for %s (have: %q)", missing, to, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func containsSubject(subjects []string, part string) bool {
	for _, s := range subjects {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}
