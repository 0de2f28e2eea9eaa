package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// eachDB runs fn once per database with the DSN of a fresh, empty one: an
// SQLite file always, a PostgreSQL schema when DOSSIER_TEST_POSTGRES is set.
func eachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "dossier.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, testdb.PostgresSchemaDSN(t))
	})
}

// env is a fake environment for run: only what the test sets.
type env map[string]string

func (e env) get(name string) string { return e[name] }

// syncBuffer is a bytes.Buffer that a running server writes to while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// withDataDir returns e with DOSSIER_DATA_DIR set to a temporary directory
// unless e sets it: commands that keep files never write into the source
// tree.
func (e env) withDataDir(t *testing.T) env {
	t.Helper()
	out := env{"DOSSIER_DATA_DIR": t.TempDir()}
	for k, v := range e {
		out[k] = v
	}
	return out
}

// dossier runs the command line to completion with the environment e.
func (e env) dossier(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, e.withDataDir(t).get)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// dossier runs the command line with an empty environment.
func dossier(t *testing.T, args ...string) result {
	t.Helper()
	return env{}.dossier(t, args...)
}

// wantCode fails the test when r did not exit with code.
func (r result) wantCode(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// runningServer is "dossier serve" running in a goroutine of the test.
type runningServer struct {
	url            string
	stdout, stderr *syncBuffer
	stop           context.CancelFunc
	done           chan int // the exit code, once run returns
}

var listeningAddr = regexp.MustCompile(`msg"?[=:]"?listening"?[ ,]"?addr"?[=:]"?([0-9.]+:[0-9]+)`)

// startServer runs serve with args on a free port and waits until it listens.
func startServer(t *testing.T, args ...string) *runningServer {
	t.Helper()
	return env{}.startServer(t, args...)
}

// startServer runs serve with args and the environment e on a free port
// and waits until it listens. Its data directory is a temporary one
// unless e or args name one.
func (e env) startServer(t *testing.T, args ...string) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &runningServer{stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: cancel, done: make(chan int, 1)}
	args = append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)
	getenv := e.withDataDir(t).get
	go func() { s.done <- run(ctx, args, s.stdout, s.stderr, getenv) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listeningAddr.FindStringSubmatch(s.stderr.String()); m != nil {
			s.url = "http://" + m[1]
			return s
		}
		select {
		case code := <-s.done:
			t.Fatalf("serve exited with %d before listening\nstdout:\n%s\nstderr:\n%s", code, s.stdout, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log listening\nstderr:\n%s", s.stderr)
		}
	}
}

// shutdown cancels the server's context and returns run's exit code.
func (s *runningServer) shutdown(t *testing.T) int {
	t.Helper()
	s.stop()
	select {
	case code := <-s.done:
		s.done <- code // for the cleanup
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop within 30s")
		return -1
	}
}

var secretPattern = regexp.MustCompile(`dsk_[A-Za-z0-9_.-]+`)

// response is what an HTTP request returned.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d %s: %v", r.status, r.body, err)
	}
}

// call sends a request with the API key and, if body is not empty, a JSON body.
func call(t *testing.T, method, url, key, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func wantStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
}

// openCRMForTest opens the database a command wrote, to check what it did.
func openCRMForTest(t *testing.T, dsn string) *crm.CRM {
	t.Helper()
	return openCRMWithConfig(t, dsn, crm.Config{})
}

// openCRMWithConfig is openCRMForTest with a configuration, e.g. a clock
// in the past to make customers that are inactive today.
func openCRMWithConfig(t *testing.T, dsn string, cfg crm.Config) *crm.CRM {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := crm.New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestServeWalkthrough is the README's curl walkthrough, over real HTTP
// against the real serve command, on each database.
func TestServeWalkthrough(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		srv := startServer(t, "--db", dsn)
		out := srv.stdout.String()
		key := secretPattern.FindString(out)
		if key == "" {
			t.Fatalf("serve on an empty database printed no API key:\n%s", out)
		}
		for _, want := range []string{"Organisation:  main (My organisation, language en)", "curl -H 'Authorization: Bearer " + key + "' " + srv.url + "/v1/customers"} {
			if !strings.Contains(out, want) {
				t.Errorf("first-run output lacks %q:\n%s", want, out)
			}
		}

		created := call(t, "POST", srv.url+"/v1/customers", key,
			`{"firstName":"Anna","lastName":"Müller","email":"anna@example.nl","phones":[{"number":"+31 6 12345678"}]}`)
		wantStatus(t, "create", created, http.StatusCreated)
		if etag := created.header.Get("ETag"); etag != `"1"` {
			t.Errorf("create: ETag %s, want \"1\"", etag)
		}
		var anna crm.Customer
		created.decode(t, &anna)
		if loc := created.header.Get("Location"); loc != "/v1/customers/"+anna.ID {
			t.Errorf("create: Location %q, want /v1/customers/%s", loc, anna.ID)
		}

		for _, query := range []string{"name=muller", "name=mueller", "phone=%2B31612345678"} {
			found := call(t, "GET", srv.url+"/v1/customers?"+query, key, "")
			wantStatus(t, query, found, http.StatusOK)
			var page crm.Page[crm.Customer]
			found.decode(t, &page)
			if len(page.Items) != 1 || page.Items[0].ID != anna.ID {
				t.Errorf("%s found %+v, want Anna", query, page.Items)
			}
		}

		patched := call(t, "PATCH", srv.url+"/v1/customers/"+anna.ID, key, `{"remarks":"Prefers a window seat"}`, "If-Match", `"1"`)
		wantStatus(t, "patch", patched, http.StatusOK)
		if etag := patched.header.Get("ETag"); etag != `"2"` {
			t.Errorf("patch: ETag %s, want \"2\"", etag)
		}
		stale := call(t, "PATCH", srv.url+"/v1/customers/"+anna.ID, key, `{"remarks":"Aisle"}`, "If-Match", `"1"`)
		wantStatus(t, "stale patch", stale, http.StatusPreconditionFailed)

		history := call(t, "GET", srv.url+"/v1/customers/"+anna.ID+"/history", key, "")
		wantStatus(t, "history", history, http.StatusOK)
		var events crm.Page[crm.HistoryEvent]
		history.decode(t, &events)
		if len(events.Items) != 2 {
			t.Fatalf("history has %d events, want 2: %s", len(events.Items), history.body)
		}
		for _, e := range events.Items {
			if e.Actor.String() != "staff:admin" {
				t.Errorf("event %s by %s, want staff:admin", e.Kind, e.Actor)
			}
		}

		wantStatus(t, "healthz", call(t, "GET", srv.url+"/healthz", "", ""), http.StatusOK)
		wantStatus(t, "readyz", call(t, "GET", srv.url+"/readyz", "", ""), http.StatusOK)
		wantStatus(t, "no key", call(t, "GET", srv.url+"/v1/customers", "", ""), http.StatusUnauthorized)

		if code := srv.shutdown(t); code != 0 {
			t.Fatalf("serve exited with %d, want 0\nstderr:\n%s", code, srv.stderr)
		}
		if _, err := http.Get(srv.url + "/healthz"); err == nil {
			t.Error("the server still answers after shutdown")
		}
		logs := srv.stderr.String()
		for _, secret := range []string{key, "Müller", "anna@example.nl", "31612345678", "window seat"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log contains %q:\n%s", secret, logs)
			}
		}
		for _, want := range []string{"method=PATCH", "status=412", "org=main", "msg=stopped"} {
			if !strings.Contains(logs, want) {
				t.Errorf("the log lacks %q:\n%s", want, logs)
			}
		}

		// A restart on the same database creates nothing and shows no key;
		// the first key still works. This one logs JSON.
		again := startServer(t, "--db", dsn, "--log-format", "json")
		if out := again.stdout.String(); out != "" {
			t.Errorf("restart printed %q, want nothing", out)
		}
		wantStatus(t, "get after restart", call(t, "GET", again.url+"/v1/customers/"+anna.ID, key, ""), http.StatusOK)
		if code := again.shutdown(t); code != 0 {
			t.Fatalf("restarted serve exited with %d\nstderr:\n%s", code, again.stderr)
		}
		if !strings.Contains(again.stderr.String(), `"msg":"stopped"`) {
			t.Errorf("the JSON log lacks the stop:\n%s", again.stderr)
		}
		orgs, err := openCRMForTest(t, dsn).Organisations.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(orgs) != 1 {
			t.Errorf("%d organisations after a restart, want 1", len(orgs))
		}
	})
}

// TestServeFirstRunSettings checks that the first organisation takes the
// configured language and country, here from the environment.
func TestServeFirstRunSettings(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "dossier.db")
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	e := env{"DOSSIER_DB": dsn, "DOSSIER_ADDR": "127.0.0.1:0", "DOSSIER_LANGUAGE": "nl", "DOSSIER_COUNTRY": "nl", "DOSSIER_DATA_DIR": t.TempDir()}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, stdout, stderr, e.get) }()
	deadline := time.Now().Add(30 * time.Second)
	for !listeningAddr.MatchString(stderr.String()) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if want := "main (My organisation, language nl, country NL)"; !strings.Contains(stdout.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, stdout)
	}
}

// TestServePortInUse checks that a server that cannot listen fails without
// creating the first organisation, whose key nobody would have seen.
func TestServePortInUse(t *testing.T) {
	srv := startServer(t, "--db", "sqlite:"+filepath.Join(t.TempDir(), "first.db"))
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "second.db")
	r := dossier(t, "serve", "--db", dsn, "--addr", strings.TrimPrefix(srv.url, "http://")).wantCode(t, 1)
	if !strings.Contains(r.stderr, "address already in use") || r.stdout != "" {
		t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	orgs, err := openCRMForTest(t, dsn).Organisations.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 0 {
		t.Errorf("%d organisations, want none", len(orgs))
	}
}
