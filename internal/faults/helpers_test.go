package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// binary is the dossier command built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv("DOSSIER_FAULTS") == "" {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "dossier-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dossier")
	build := exec.Command("go", "build", "-o", binary, "github.com/dossiercrm/dossier/cmd/dossier")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dossier:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sizes are a run's bounds: the short ones for CI, the long ones by hand.
type sizes struct {
	killRounds   int           // kill -9 rounds per database
	writers      int           // concurrent clients
	roundTime    time.Duration // writes before each kill
	mails        int           // mails queued before each SIGTERM
	mailRounds   int           // SIGTERMs during delivery
	termRounds   int           // rounds of backend termination
	termLoad     time.Duration // load per termination round
	readLoad     time.Duration // the read load
	readers      int           // concurrent readers
	maxOpsPerRun int           // a bound on each client's requests in one round
}

// mode skips the test unless DOSSIER_FAULTS is set and returns its sizes.
func mode(t *testing.T) sizes {
	t.Helper()
	switch m := os.Getenv("DOSSIER_FAULTS"); m {
	case "":
		t.Skip("the fault suite runs with DOSSIER_FAULTS=short or DOSSIER_FAULTS=long")
	case "short":
		return sizes{killRounds: 2, writers: 8, roundTime: 2 * time.Second, mails: 20, mailRounds: 1, termRounds: 1,
			termLoad: 3 * time.Second, readLoad: 10 * time.Second, readers: 8, maxOpsPerRun: 2000}
	case "long":
		return sizes{killRounds: 10, writers: 24, roundTime: 6 * time.Second, mails: 100, mailRounds: 3, termRounds: 5,
			termLoad: 10 * time.Second, readLoad: 3 * time.Minute, readers: 24, maxOpsPerRun: 100000}
	default:
		t.Fatalf("DOSSIER_FAULTS=%q: want short or long", m)
	}
	return sizes{}
}

// eachDB runs fn on a fresh SQLite file and a fresh PostgreSQL schema
// (when DOSSIER_TEST_POSTGRES is set).
func eachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "dossier.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, testdb.PostgresSchemaDSN(t))
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// server is one dossier serve process.
type server struct {
	cmd            *exec.Cmd
	url            string
	stdout, stderr *syncBuffer
	exited         chan struct{}
	exitErr        error
}

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

var (
	listeningAddr = regexp.MustCompile(`msg"?[=:]"?listening"?[ ,]"?addr"?[=:]"?([0-9.]+:[0-9]+)`)
	secretPattern = regexp.MustCompile(`dsk_[A-Za-z0-9_.-]+`)
)

// start runs the binary's serve on a free loopback port with the
// database dsn, the data directory dataDir and the extra arguments, and
// waits until it listens. The process is killed at the test's end if it
// still runs.
func start(t *testing.T, dsn, dataDir string, args ...string) *server {
	t.Helper()
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--data-dir", dataDir,
		"--retention-every", "0", "--points-expiry-every", "0"}, args...)
	s.cmd = exec.Command(binary, all...)
	s.cmd.Env = append(os.Environ(), "DOSSIER_DATA_DIR="+dataDir)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exitErr = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	deadline := time.After(60 * time.Second)
	for {
		if m := listeningAddr.FindStringSubmatch(s.stderr.String()); m != nil {
			s.url = "http://" + m[1]
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("serve exited before listening (%v)\nstdout:\n%s\nstderr:\n%s", s.exitErr, s.stdout, s.stderr)
		case <-deadline:
			t.Fatalf("serve did not listen within 60 s\nstderr:\n%s", s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// key is the API key that serve printed on its first start.
func (s *server) key(t *testing.T) string {
	t.Helper()
	k := secretPattern.FindString(s.stdout.String())
	if k == "" {
		t.Fatalf("serve on an empty database printed no API key:\n%s", s.stdout)
	}
	return k
}

// kill9 ends the process with SIGKILL and waits for it.
func (s *server) kill9(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.exited
}

// term sends SIGTERM and waits for the process to end; it fails the test
// when serve does not exit 0 within 60 s.
func (s *server) term(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
		if s.exitErr != nil {
			t.Errorf("serve after SIGTERM: %v\nstderr:\n%s", s.exitErr, s.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop within 60 s of SIGTERM\nstderr:\n%s", s.stderr)
	}
}

// client makes the test's requests: loopback only, bounded by a timeout.
type client struct {
	http *http.Client
	base string
	key  string
}

func newClient(base, key string) *client {
	tr := &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128, IdleConnTimeout: 30 * time.Second}
	return &client{http: &http.Client{Transport: tr, Timeout: 60 * time.Second}, base: base, key: key}
}

// reply is one answer; err is set when there was none (connection refused
// or reset: the server died under the request).
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (c *client) do(ctx context.Context, method, path string, body any, headers ...string) reply {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{err: err}
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{err: err}
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// must makes a request that has to answer want.
func (c *client) must(t *testing.T, method, path string, body any, want int, v any) {
	t.Helper()
	r := c.do(context.Background(), method, path, body)
	if r.err != nil {
		t.Fatalf("%s %s: %v", method, path, r.err)
	}
	if r.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, r.body)
		}
	}
}

func (r reply) decode(v any) error {
	if r.err != nil {
		return r.err
	}
	return json.Unmarshal(r.body, v)
}

// waitFor polls ok every 100 ms until it holds or the time is up.
func waitFor(d time.Duration, ok func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if ok() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ok()
}

// figures prints a result line that docs/reliability.md quotes.
func figures(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURES %s: %s", t.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(os.Stderr, "FIGURES %s: %s\n", t.Name(), fmt.Sprintf(format, args...))
}

// contains reports whether s holds v.
func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
