package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// TestApp calls both halves of the embedding app: the platform's route and
// the CRM API under /crm/.
func TestApp(t *testing.T) {
	a, err := newApp(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "dossier.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)

	get := func(path, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	if status, body := get("/bookings", ""); status != 200 || !strings.Contains(body, `"customer":"Anna Müller"`) {
		t.Errorf("/bookings: %d %s", status, body)
	}
	status, body := get("/crm/v1/customers?name=muller", a.apiKey)
	var page crm.Page[crm.Customer]
	if status != 200 || json.Unmarshal([]byte(body), &page) != nil || len(page.Items) != 1 || page.Items[0].Phones[0].Number != "+31612345678" {
		t.Errorf("/crm/v1/customers?name=muller: %d %s", status, body)
	}
	if status, body := get("/crm/v1/customers", ""); status != http.StatusUnauthorized {
		t.Errorf("/crm/v1/customers without a key: %d %s", status, body)
	}
	if status, _ := get("/crm/healthz", ""); status != 200 {
		t.Errorf("/crm/healthz: %d", status)
	}
}
