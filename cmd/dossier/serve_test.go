package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// serveSlow serves a handler that answers only when release is closed, and
// returns the server's address and the result of serveHTTP.
func serveSlow(t *testing.T, ctx context.Context, limits serveLimits) (addr string, started, release chan struct{}, served chan error) {
	t.Helper()
	started, release = make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served = make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { served <- serveHTTP(ctx, ln, h, log, limits) }()
	return ln.Addr().String(), started, release, served
}

type answer struct {
	body string
	err  error
}

func get(url string) chan answer {
	ch := make(chan answer, 1)
	go func() {
		res, err := http.Get(url)
		if err != nil {
			ch <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		ch <- answer{body: string(b), err: err}
	}()
	return ch
}

// waitRefused waits until addr no longer accepts connections: the shutdown has begun.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections after its context was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeHTTPFinishesRequestsInFlight cancels the context while a request
// runs: the server stops accepting connections, but the request completes
// and serveHTTP returns without error once it has.
func TestServeHTTPFinishesRequestsInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, started, release, served := serveSlow(t, ctx, defaultLimits)
	inFlight := get("http://" + addr + "/slow")
	<-started

	cancel()
	waitRefused(t, addr)
	select {
	case err := <-served:
		t.Fatalf("serveHTTP returned %v before the request in flight finished", err)
	default:
	}

	close(release)
	if a := <-inFlight; a.err != nil || a.body != "done" {
		t.Fatalf("request in flight: %q, %v; want done", a.body, a.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serveHTTP: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serveHTTP did not return after the last request finished")
	}
}

// TestServeHTTPShutdownDeadline checks that a request that outlasts the
// shutdown deadline is cut off and reported, rather than holding the
// process forever.
func TestServeHTTPShutdownDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	limits := defaultLimits
	limits.Shutdown = 100 * time.Millisecond
	addr, started, release, served := serveSlow(t, ctx, limits)
	defer close(release)
	inFlight := get("http://" + addr + "/stuck")
	<-started

	cancel()
	select {
	case err := <-served:
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "shutting down") {
			t.Fatalf("serveHTTP: %v, want a shutdown deadline error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serveHTTP did not give up after its shutdown deadline")
	}
	if a := <-inFlight; a.err == nil {
		t.Errorf("the stuck request got %q, want it cut off", a.body)
	}
}

// TestCORSOrigins checks --cors-origins: origins as browsers send them, or
// *, and a clear refusal of anything else.
func TestCORSOrigins(t *testing.T) {
	got, err := parseCORSOrigins(" https://app.example.com, http://localhost:3000/ ,*")
	if err != nil || strings.Join(got, " ") != "https://app.example.com http://localhost:3000 *" {
		t.Fatalf("origins %q, %v", got, err)
	}
	if got, err := parseCORSOrigins(""); err != nil || got != nil {
		t.Fatalf("empty: %q, %v", got, err)
	}
	for _, bad := range []string{"app.example.com", "ftp://x.example", "https://x.example/path", "https://"} {
		if _, err := parseCORSOrigins(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestServeSaysHowToMakeAKey: serve on a database that already has
// organisations prints no key, so it says how to make one; the command it
// gives works as written.
func TestServeSaysHowToMakeAKey(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		args := []string{"--db", dsn, "--retention-every", "0", "--points-expiry-every", "0"}
		first := startServer(t, args...)
		if code := first.shutdown(t); code != 0 {
			t.Fatalf("first serve exited with %d:\n%s", code, first.stderr)
		}
		if strings.Contains(first.stderr.String(), "to make one") {
			t.Errorf("the first start, which printed a key, also says how to make one:\n%s", first.stderr)
		}
		again := startServer(t, args...)
		m := regexp.MustCompile(`level=INFO msg="API keys are shown only when they are made; to make one: dossier ([^"]*)" organisations=1`).
			FindStringSubmatch(again.stderr.String())
		if m == nil {
			t.Fatalf("the second start does not say how to make a key:\n%s", again.stderr)
		}
		if again.stdout.String() != "" {
			t.Errorf("the second start printed %q", again.stdout)
		}
		// Split the shell words: single quotes around --db's value.
		var words []string
		for i, part := range strings.Split(m[1], "'") {
			if i%2 == 1 {
				words = append(words, part)
			} else {
				words = append(words, strings.Fields(part)...)
			}
		}
		words = slices.Replace(words, slices.Index(words, "NAME"), slices.Index(words, "NAME")+1, "replacement")
		r := dossier(t, words...).wantCode(t, 0)
		if !secretPattern.MatchString(r.stdout) {
			t.Errorf("%q printed no key:\n%s", words, r.stdout)
		}
	})
}

func TestAPIKeyCreateHint(t *testing.T) {
	one := []crm.Organisation{{ID: "main"}}
	for _, tc := range []struct {
		db   string
		orgs []crm.Organisation
		want string
	}{
		{defaultDB, one, "dossier apikey create --org main --name NAME"},
		{"sqlite:/srv/it's.db", one, `dossier apikey create --org main --name NAME --db 'sqlite:/srv/it'\''s.db'`},
		{"postgres://dossier:s3cret@db:5432/crm", one, "dossier apikey create --org main --name NAME --db 'postgres://dossier:PASSWORD@db:5432/crm'"},
		{defaultDB, []crm.Organisation{{ID: "a"}, {ID: "b"}}, "dossier apikey create --org ID --name NAME, ID one of a, b"},
	} {
		if got := apikeyCreateHint(tc.db, tc.orgs); got != tc.want {
			t.Errorf("hint for %s = %q, want %q", tc.db, got, tc.want)
		}
	}
}

// TestServeRequestDeadline: a request's context carries the server's
// request deadline, so that its database queries end with it.
func TestServeRequestDeadline(t *testing.T) {
	ended := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Deadline(); !ok {
			ended <- errors.New("no deadline")
			return
		}
		<-r.Context().Done()
		ended <- r.Context().Err()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	limits := defaultLimits
	limits.Request = 50 * time.Millisecond
	go serveHTTP(ctx, ln, h, slog.New(slog.NewTextHandler(io.Discard, nil)), limits)
	get("http://" + ln.Addr().String() + "/")
	if err := <-ended; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the request's context ended with %v, want its deadline", err)
	}
}
