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
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/store"
)

// TestApp calls both halves of the embedding app: the platform's route and
// the CRM API under /crm/.
func TestApp(t *testing.T) {
	dir := t.TempDir()
	a, err := newApp(context.Background(), appConfig{DSN: "sqlite:" + filepath.Join(dir, "dossier.db"), DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Sender: &mail.Recorder{}})
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

// TestAppRunsBackgroundWork: the embedding program delivers the mails the
// CRM queues and applies retention, with no loop of its own.
func TestAppRunsBackgroundWork(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "dossier.db")
	sent := &mail.Recorder{}
	a, err := newApp(context.Background(), appConfig{DSN: dsn, DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Sender: sent, RetentionEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })
	ctx := crm.WithActor(crm.WithOrg(context.Background(), orgID), crm.Staff(crm.AdministratorID))

	// A travel document mailed to a customer reaches the mail server.
	cust, err := a.crm.Customers.Create(ctx, crm.CustomerFields{FirstName: "Jan", Email: "jan@example.nl"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := a.crm.Documents.Add(ctx, cust.ID, crm.NewDocument{Title: "Reisplan", FileName: "reisplan.txt"}, strings.NewReader("Lissabon"))
	if err != nil {
		t.Fatal(err)
	}
	queued, err := a.crm.Documents.Send(ctx, cust.ID, []string{doc.ID}, crm.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	msgs, err := sent.Wait(wctx, 1)
	if err != nil {
		t.Fatalf("no mail delivered: %v", err)
	}
	if msgs[0].ID != queued.ID || msgs[0].To[0].Email != "jan@example.nl" || msgs[0].Attachments[0].Name != "reisplan.txt" {
		t.Fatalf("delivered: %+v", msgs[0])
	}

	// A customer without activity for two years is anonymised by the policy.
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	past, err := crm.New(st, crm.Config{Clock: func() time.Time { return time.Now().AddDate(-2, 0, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	old, err := past.Customers.Create(ctx, crm.CustomerFields{FirstName: "Oud", Email: "oud@example.nl"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.crm.Privacy.SetRetention(ctx, crm.RetentionPolicy{Enabled: true, InactiveDays: 365}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		got, err := a.crm.Customers.Get(ctx, old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.AnonymisedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the retention policy was not applied")
		}
	}
	if got, _ := a.crm.Customers.Get(ctx, cust.ID); got.AnonymisedAt != nil {
		t.Fatal("an active customer was anonymised")
	}
}
