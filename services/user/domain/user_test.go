package domain_test

import (
	"testing"

	"github.com/daprshop/user/domain"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ann@example.com", "ann@example.com"},
		{"  Ann@Example.COM\t", "ann@example.com"},
		{"ａｎｎ@ｅｘａｍｐｌｅ.ｃｏｍ", "ann@example.com"}, // full-width: one account with the above
		{"ann@example.com\r\nBcc: x@example.com", ""},
		{"Ann <ann@example.com>", ""},
		{"ann", ""},
		{"ann@", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := domain.NormalizeEmail(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw, email string
		ok        bool
	}{
		{"correct-horse-42", "ann@example.com", true},
		{"short-1", "ann@example.com", false},
		{"nodigitsatall", "ann@example.com", false},
		{"1234567890123", "ann@example.com", false},
		{"annabelle-2026", "annabelle@example.com", false},
		{"ünïcödé-päss-1", "ann@example.com", true},
	}
	for _, tt := range tests {
		if err := domain.CheckPassword(tt.pw, tt.email); (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%q) = %v, want ok=%v", tt.pw, err, tt.ok)
		}
	}
}

func TestCheckNameRefusesControlCharacters(t *testing.T) {
	for _, name := range []string{"Ann\r\nBcc: eve@example.com", "Ann\nB", "Ann\x00", "Ann\tB", "\u0085Ann"} {
		if err := domain.CheckName(name); err == nil {
			t.Errorf("CheckName(%q) accepted", name)
		}
	}
	for _, name := range []string{"Ann", "Zoë Ünal", "  Ann  ", "李 小龍"} {
		if err := domain.CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
}
