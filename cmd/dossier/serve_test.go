package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
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
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "shutdown") {
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
