package crm

import (
	"errors"
	"strings"
	"testing"
)

// TestUnsubscribeHeaderConfig: the one-click link must be an http(s) link
// with {token} that cannot break the header; the mailto a plain address.
func TestUnsubscribeHeaderConfig(t *testing.T) {
	for _, bad := range []Config{
		{UnsubscribeOneClickURL: "https://crm.example/unsubscribe"},
		{UnsubscribeOneClickURL: "ftp://crm.example/u?t={token}"},
		{UnsubscribeOneClickURL: "https://crm.example/u?t={token}>, <https://evil.example/"},
		{UnsubscribeOneClickURL: "/relative?t={token}"},
		{UnsubscribeMailto: "not an address"},
		{UnsubscribeMailto: "a@b.example?subject=x"},
	} {
		if _, err := bad.withDefaults(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	cfg, err := Config{UnsubscribeOneClickURL: "https://crm.example/u?t={token}", UnsubscribeMailto: "out@crm.example"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.unsubscribeHeaders("dpu_x.abc")
	if h[HeaderListUnsubscribe] != "<https://crm.example/u?t=dpu_x.abc>, <mailto:out@crm.example?subject=unsubscribe%20dpu_x.abc>" ||
		h[HeaderListUnsubscribePost] != "List-Unsubscribe=One-Click" {
		t.Fatalf("headers %q", h)
	}
	if got, ok := scrubHeaders(map[string]string{"A": "x", HeaderListUnsubscribe: "<https://x/u?t=dpu_x." + strings.Repeat("a", 43) + ">"}); !ok ||
		got[HeaderListUnsubscribe] != "<https://x/u?t=dpu_x.(removed after delivery)>" || got["A"] != "x" {
		t.Fatalf("scrubbed %q %v", got, ok)
	}
	if _, ok := scrubHeaders(map[string]string{"A": "x"}); ok {
		t.Fatal("scrubbed headers without a secret")
	}
}
