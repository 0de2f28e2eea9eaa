// Command dossier-load is the load benchmark of Dossier's HTTP API: it
// measures creates, GET customer by id, find by name prefix and
// contains-search over loopback with wrk, next to a bare net/http + database/sql handler doing the same lookups
// on the same database in the same run, and prints the figures as a
// Markdown table for docs/performance.md.
//
// It needs wrk (Debian: apt-get install wrk). On SQLite:
//
//	go run ./cmd/dossier-load
//
// uses an SQLite file in the temporary directory named for the customer
// count. On PostgreSQL the DSN decides the schema; give the benchmark a
// schema of its own:
//
//	psql -h 127.0.0.1 -U dossier dossier_test -c 'CREATE SCHEMA IF NOT EXISTS load_v1'
//	go run ./cmd/dossier-load --db 'postgres://dossier@127.0.0.1:5432/dossier_test?sslmode=disable&search_path=load_v1'
//
// The first run seeds the organisation "load" with --customers customers,
// created through the library (crm.CustomerService.Create), and keeps them;
// later runs find them there and skip seeding. A smaller trial run:
//
//	go run ./cmd/dossier-load --customers 2000 --duration 3s
//
// --only names the lookups to measure (e.g. --only create), the others are
// left out.
//
// Both servers run in this process on 127.0.0.1 ports of their own:
//
//   - Dossier: httpapi.New with its default options, authenticating the
//     bearer API key made for the run (through its key cache).
//   - bare: net/http and database/sql alone, on a second sql.DB opened with
//     the same driver and settings as store.Open, running the same SQL as
//     the store and encoding every column as JSON. It compares the bearer
//     token with a constant in memory and looks up no key: the honest
//     baseline of what any handler over this schema costs.
//
// Each of the eight (server, lookup) pairs gets a warm-up (--warmup, 2s)
// and then a wrk run of --duration with --connections and --threads; the
// Lua script cycles through 4,000 customer ids, through 3- and 4-letter
// prefixes of the seeded surnames, through 3-letter fragments from inside
// them (each in about one name in 37: a contains-search whose first page
// is full long before the matches end), or through 200 create bodies like
// the seeded customers (POST; each makes a customer, so every run adds
// some to the organisation). Before measuring, up to 200 paths per
// lookup are fetched from both servers, which must answer 200 with the
// same customers. A response that wrk counts as an error (status 400 or
// above) or a socket error fails the run.
//
// On PostgreSQL the seeding connections set synchronous_commit=off: the
// creates commit one at a time (customer numbers), so waiting for each
// commit to reach the disk slows seeding down. The measured runs use the
// DSN as given. --cpuprofile writes a CPU profile of this process during each
// lookup's measured Dossier run, --trace an execution trace. The bare handler's pool keeps as many idle
// connections as store.Open's (store.IdleConns), so both pay the same for
// connections.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/httpapi"
	"github.com/dossiercrm/dossier/crm/store"
)

// loadOrg is the organisation that holds the benchmark's customers.
const loadOrg = "load"

// config is what the flags say.
type config struct {
	db          string
	customers   int
	duration    time.Duration
	warmup      time.Duration
	connections int
	threads     int
	wrk         string
	seedWorkers int
	cpuprofile  string
	trace       string
	bareIdle    int
	only        string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.db, "db", "", "database: sqlite:PATH or postgres://... (default: an SQLite file in the temporary directory named for --customers)")
	flag.IntVar(&cfg.customers, "customers", 100_000, "customers in the organisation \""+loadOrg+"\"; seeded when it holds fewer")
	flag.DurationVar(&cfg.duration, "duration", 15*time.Second, "length of each measured wrk run")
	flag.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "length of the unmeasured wrk run before each measured one")
	flag.IntVar(&cfg.connections, "connections", 16, "wrk connections (--connections)")
	flag.IntVar(&cfg.threads, "threads", 2, "wrk threads (--threads)")
	flag.StringVar(&cfg.wrk, "wrk", "wrk", "path of the wrk program")
	flag.IntVar(&cfg.seedWorkers, "seed-workers", 2*runtime.NumCPU(), "goroutines creating customers while seeding")
	flag.IntVar(&cfg.bareIdle, "bare-max-idle-conns", store.IdleConns, "SetMaxIdleConns of the bare handler's pool; the default is store.Open's")
	flag.StringVar(&cfg.only, "only", "", "measure only these lookups, comma-separated (create, get, find, contains); default all")
	flag.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write CPU profiles of the Dossier runs to `PREFIX`-create.pprof, -get, -find and -contains.pprof")
	flag.StringVar(&cfg.trace, "trace", "", "write execution traces of the Dossier runs to `PREFIX`-create.trace, ... (go tool trace)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: dossier-load [flags]\n\nLoad benchmark of Dossier's HTTP API against a bare net/http + database/sql handler (see go doc ./cmd/dossier-load).\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if cfg.db == "" {
		cfg.db = "sqlite:" + filepath.Join(os.TempDir(), fmt.Sprintf("dossier-load-%d.db", cfg.customers))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "dossier-load:", err)
		os.Exit(1)
	}
}

// result is one measured wrk run.
type result struct {
	server, lookup string
	stats          wrkStats
}

// run seeds when needed, starts both servers, checks that they answer
// alike, measures the four (server, lookup) pairs and prints the report.
func run(ctx context.Context, cfg config) error {
	if cfg.customers < 1 || cfg.connections < 1 || cfg.threads < 1 || cfg.threads > cfg.connections ||
		cfg.duration < time.Second || cfg.warmup < time.Second {
		return errors.New("need --customers >= 1, --duration and --warmup >= 1s, and 1 <= --threads <= --connections")
	}
	wrkVersion, err := checkWrk(cfg.wrk)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.db, store.WithMigrate())
	if err != nil {
		return err
	}
	defer st.Close()
	dialect := st.Dialect()
	if dialect == "postgres" && !strings.Contains(cfg.db, "search_path=") {
		fmt.Fprintln(os.Stderr, "note: the DSN names no search_path, so the benchmark's tables are in the role's default schema; see go doc ./cmd/dossier-load")
	}
	bare, err := openBare(cfg.db)
	if err != nil {
		return err
	}
	defer bare.Close()
	if cfg.bareIdle > 0 {
		bare.SetMaxIdleConns(cfg.bareIdle)
	}
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		return err
	}

	have, err := ensureCustomers(ctx, c, bare, dialect, cfg)
	if err != nil {
		return err
	}
	ids, prefixes, err := samples(ctx, bare, dialect, have)
	if err != nil {
		return err
	}

	sysCtx := crm.WithActor(crm.WithOrg(ctx, loadOrg), crm.System())
	// The run acts as a staff user of its own, made the first time.
	if _, err := c.Staff.Get(sysCtx, "dossier-load"); errors.Is(err, crm.ErrNotFound) {
		if _, err := c.Staff.Create(sysCtx, crm.NewStaffUser{ID: "dossier-load", Name: "dossier-load", Role: crm.RoleStaff}); err != nil {
			return fmt.Errorf("create staff user: %w", err)
		}
	} else if err != nil {
		return err
	}
	key, secret, err := c.APIKeys.Create(sysCtx, crm.NewAPIKey{Name: "dossier-load " + time.Now().UTC().Format(time.RFC3339), StaffUser: "dossier-load"})
	if err != nil {
		return fmt.Errorf("create API key: %w", err)
	}
	defer func() {
		if err := c.APIKeys.Revoke(context.WithoutCancel(sysCtx), key.ID); err != nil {
			fmt.Fprintln(os.Stderr, "revoking the run's API key:", err)
		}
	}()

	dossierURL, stopDossier, err := serve(httpapi.New(c, httpapi.Options{}))
	if err != nil {
		return err
	}
	defer stopDossier()
	bareURL, stopBare, err := serve(newBareHandler(bare, dialect, secret))
	if err != nil {
		return err
	}
	defer stopBare()

	servers := []struct{ name, url, prefix string }{
		{"dossier", dossierURL, "/v1/customers"},
		{"bare", bareURL, "/customers"},
	}
	fragments := containsFragments()
	bodies, err := createBodies(200)
	if err != nil {
		return err
	}
	lookups := []struct {
		name string
		rel  []request // requests below the servers' customers prefix
	}{
		{"create", bodies},
		{"get", getRequests(idPaths(ids))},
		{"find", getRequests(namePaths(prefixes))},
		{"contains", getRequests(containsPaths(fragments))},
	}
	fmt.Printf("checking that both servers answer alike (%d ids, %d name prefixes, %d fragments)...\n", len(ids), len(prefixes), len(fragments))
	for _, l := range lookups {
		if l.name == "create" || !measured(cfg, l.name) {
			continue // every create makes a customer of its own
		}
		paths := make([]string, len(l.rel))
		for i, r := range l.rel {
			paths[i] = r.path
		}
		if err := compareServers(ctx, l.name, servers[0].url+servers[0].prefix, servers[1].url+servers[1].prefix, secret, paths); err != nil {
			return err
		}
	}

	dir, err := os.MkdirTemp("", "dossier-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var results []result
	var wrkLine string
	for _, l := range lookups {
		if !measured(cfg, l.name) {
			continue
		}
		for _, s := range servers {
			paths := make([]request, len(l.rel))
			for i, r := range l.rel {
				paths[i] = request{path: s.prefix + r.path, body: r.body}
			}
			script := filepath.Join(dir, s.name+"-"+l.name+".lua")
			if err := writeScript(script, paths, secret); err != nil {
				return err
			}
			w := wrkRun{bin: cfg.wrk, url: s.url, script: script, threads: cfg.threads, connections: cfg.connections}
			fmt.Printf("%s %s: warm-up %s\n", s.name, l.name, cfg.warmup)
			w.duration = cfg.warmup
			if _, err := w.run(ctx); err != nil {
				return fmt.Errorf("%s %s warm-up: %w", s.name, l.name, err)
			}
			w.duration = cfg.duration
			wrkLine = w.commandLine()
			var stopProfile func() error
			if cfg.cpuprofile != "" && s.name == "dossier" {
				if stopProfile, err = startRecording(cfg.cpuprofile+"-"+l.name+".pprof", pprof.StartCPUProfile, pprof.StopCPUProfile); err != nil {
					return err
				}
			}
			var stopTrace func() error
			if cfg.trace != "" && s.name == "dossier" {
				if stopTrace, err = startRecording(cfg.trace+"-"+l.name+".trace", trace.Start, trace.Stop); err != nil {
					return err
				}
			}
			fmt.Printf("%s %s: measuring %s\n", s.name, l.name, cfg.duration)
			stats, err := w.run(ctx)
			if stopTrace != nil {
				if terr := stopTrace(); terr != nil && err == nil {
					err = terr
				}
			}
			if stopProfile != nil {
				if perr := stopProfile(); perr != nil && err == nil {
					err = perr
				}
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", s.name, l.name, err)
			}
			fmt.Printf("%s %s: %.0f req/s, p50 %s, p95 %s, p99 %s\n", s.name, l.name, stats.rps, stats.p50, stats.p95, stats.p99)
			results = append(results, result{server: s.name, lookup: l.name, stats: stats})
		}
	}

	report(os.Stdout, reportInfo{
		dialect: dialect, customers: have, ids: len(ids), prefixes: len(prefixes), fragments: len(fragments), bodies: len(bodies),
		wrkVersion: wrkVersion, wrkLine: wrkLine, cfg: cfg,
	}, results)
	return nil
}

// measured reports whether the run measures lookup (--only).
func measured(cfg config, lookup string) bool {
	return cfg.only == "" || slices.Contains(strings.Split(cfg.only, ","), lookup)
}

// serverLog is the servers' error log. It counts net/http's complaints
// about superfluous WriteHeader calls instead of printing each: huma sets
// status 499 after a body write failed because the client went away, which
// happens whenever wrk stops with requests in flight.
var serverLog = &countingLog{match: "superfluous response.WriteHeader", out: os.Stderr}

// countingLog passes log lines on to out, except those containing match,
// which it counts.
type countingLog struct {
	match   string
	out     io.Writer
	matched atomic.Int64
}

// Write implements io.Writer; the log package writes one line per call.
func (l *countingLog) Write(p []byte) (int, error) {
	if strings.Contains(string(p), l.match) {
		l.matched.Add(1)
		return len(p), nil
	}
	return l.out.Write(p)
}

// serve serves h on a free loopback port until stop is called.
func serve(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(serverLog, "", log.LstdFlags)}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// checkWrk returns wrk's version line, or says how to install it.
func checkWrk(bin string) (string, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("wrk not found (%v): install it, e.g. apt-get install -y wrk, or name it with --wrk", err)
	}
	// wrk -v prints its version and usage, and exits 1.
	out, _ := exec.Command(path, "-v").CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	if !strings.HasPrefix(first, "wrk ") {
		return "", fmt.Errorf("%s does not look like wrk: %q", path, first)
	}
	if i := strings.Index(first, " Copyright"); i > 0 {
		first = first[:i]
	}
	return strings.TrimSpace(first), nil
}

// startRecording starts a recording of this process into a new file at
// path (start is pprof.StartCPUProfile or trace.Start, stop its Stop) and
// returns the function that stops it and closes the file. An execution
// trace shows the waits of a slow request that a CPU profile does not: the
// write gate, the group's queue, the scheduler.
func startRecording(path string, start func(io.Writer) error, stop func()) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		stop()
		return f.Close()
	}, nil
}

// openBare opens the bare handler's own sql.DB on the database of dsn, with
// the driver and connection settings store.Open uses.
func openBare(dsn string) (*sql.DB, error) {
	db, err := openSQL(dsn)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("bare handler's connection: %w", err)
	}
	return db, nil
}

// commandLine is the command that ran this benchmark, as it would be typed
// in the repository's root.
func commandLine() string {
	parts := []string{"go run ./cmd/dossier-load"}
	for _, a := range os.Args[1:] {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`!*?&;|<>()[]{}#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func runtimeVersion() string { return runtime.Version() }
func gomaxprocs() int        { return runtime.GOMAXPROCS(0) }
func numCPU() int            { return runtime.NumCPU() }
