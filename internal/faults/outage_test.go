package faults

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// want503 checks that r is the API's answer to an outage: 503, the
// problem type and Retry-After.
func want503(t *testing.T, what string, r reply) {
	t.Helper()
	if r.err != nil || r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" ||
		!contains([]string{"urn:dossier:problem:unavailable"}, problemType(r)) {
		t.Errorf("%s during the outage: %d %s %v, want 503 unavailable with Retry-After", what, r.status, r.body, r.err)
	}
}

func problemType(r reply) string {
	var p struct{ Type string }
	_ = r.decode(&p)
	return p.Type
}

// TestFaultOutagePostgres points the server at a TCP proxy in front of
// PostgreSQL and stops the proxy: reads, writes and /readyz answer 503,
// never 500.
func TestFaultOutagePostgres(t *testing.T) {
	mode(t)
	proxy, dsn := testdb.NewProxy(t, testdb.PostgresSchemaDSN(t))
	srv := start(t, dsn, t.TempDir())
	c := newClient(srv.url, srv.key(t))
	var v struct{ ID string }
	c.must(t, "POST", "/v1/customers", map[string]any{"firstName": "Before"}, http.StatusCreated, &v)

	proxy.Stop()
	ctx := context.Background()
	answers := 0
	for range 3 {
		want503(t, "get", c.do(ctx, "GET", "/v1/customers/"+v.ID, nil))
		want503(t, "list", c.do(ctx, "GET", "/v1/customers", nil))
		want503(t, "create", c.do(ctx, "POST", "/v1/customers", map[string]any{"firstName": "During"}))
		answers += 3
	}
	if r := c.do(ctx, "GET", "/readyz", nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d %s, want 503", r.status, r.body)
	}
	srv.term(t)
	figures(t, "requests=%d all 503 with Retry-After", answers+1)
}

// TestFaultOutageSQLiteFull gives the SQLite file a page limit a few pages
// above its migrated size (max_page_count through the DSN: the closest
// real thing to a full disk without a tiny file system) and creates until
// the database is full: the create that does not fit answers 503, and
// reads of what is stored go on.
func TestFaultOutageSQLiteFull(t *testing.T) {
	mode(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "dossier.db")
	data := t.TempDir()
	first := start(t, "sqlite:"+path, data)
	key := first.key(t)
	first.term(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	pages := st.Size() / 4096
	srv := start(t, fmt.Sprintf("sqlite:%s?_pragma=max_page_count(%d)", path, pages+12), data)
	c := newClient(srv.url, key)
	ctx := context.Background()
	created := 0
	var r reply
	for i := range 5000 {
		r = c.do(ctx, "POST", "/v1/customers", map[string]any{"firstName": "Fill", "lastName": fmt.Sprint(i),
			"remarks": fmt.Sprintf("%0500d", i)})
		if r.status != http.StatusCreated {
			break
		}
		created++
	}
	want503(t, "create in a full database", r)
	if list := c.do(ctx, "GET", "/v1/customers?limit=5", nil); list.status != http.StatusOK {
		t.Errorf("list of a full database: %d %s, want 200", list.status, list.body)
	}
	srv.term(t)
	figures(t, "pages=%d+12 creates-before-full=%d then 503 with Retry-After; reads 200", pages, created)
}
