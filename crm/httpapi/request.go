package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/text/language"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// requestInfo is what the API learns about a request while serving it, for
// its log line and its problems.
type requestInfo struct {
	id    string // X-Request-Id
	lang  string // the catalogue language for messages
	route string // the operation's method and path pattern
	org   string // the API key's organisation

	// invalid holds failing fields found before huma's schema check, which
	// lists them with its own: unknown query parameters, body members that
	// differ from a field only in case.
	invalid []ProblemField
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// requestLanguage is the catalogue language chosen for the request.
func requestLanguage(ctx context.Context) string {
	if info := requestInfoFrom(ctx); info != nil && info.lang != "" {
		return info.lang
	}
	return "en"
}

// messageFor is the catalogue's message for a rule in the request's language.
func messageFor(ctx context.Context, code, param string) string {
	return i18n.Message(requestLanguage(ctx), code, param)
}

// catalogueMatcher picks, from an Accept-Language header, the language of
// crm/i18n's catalogue that serves the caller best.
var catalogueMatcher = func() language.Matcher {
	var tags []language.Tag
	for _, l := range i18n.Languages() {
		tags = append(tags, language.MustParse(l))
	}
	return language.NewMatcher(tags)
}()

// chooseLanguage reads Accept-Language with its q-values ("de;q=0.9,
// en;q=0.1" prefers German) and returns a catalogue language; English when
// the header is absent, malformed or names none the catalogue has.
func chooseLanguage(header string) string {
	if header == "" {
		return "en"
	}
	prefs, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(prefs) == 0 {
		return "en"
	}
	_, i, conf := catalogueMatcher.Match(prefs...)
	if conf == language.No {
		return "en"
	}
	return i18n.Languages()[i] // the index, not the returned tag, which carries extensions
}

// validRequestID reports whether a client's X-Request-Id can be kept: 1 to
// 128 characters of letters, digits and . _ : - (nothing that could forge a
// log line or a header).
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// serveRequest is the outermost handler: it gives the request its id
// (X-Request-Id, the client's own when well formed), chooses the language
// of its messages, and writes one log line when it is done. The line names
// the route pattern ("DELETE /v1/customers/{id}/alt-emails/{email}"), never
// the path with its values, the query string, keys or bodies, which carry
// personal data. Health probes are logged at debug level.
func (s *server) serveRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		info := &requestInfo{id: id, lang: chooseLanguage(r.Header.Get("Accept-Language"))}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case info.route == "GET /healthz" || info.route == "GET /readyz":
			level = slog.LevelDebug
		}
		route := info.route
		if route == "" {
			route = "unmatched"
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("duration", time.Since(start)), slog.String("org", info.org))
	})
}

// recordRoute is the middleware that names the request's operation for its
// log line.
func recordRoute(ctx huma.Context, next func(huma.Context)) {
	if info := requestInfoFrom(ctx.Context()); info != nil {
		op := ctx.Operation()
		info.route = op.Method + " " + op.Path
	}
	next(ctx)
}

// checkQuery is the middleware that finds query parameters the operation
// does not take. (huma's own check stops at them, before it checks the
// parameters' values; this one lets every failing field be listed.)
func checkQuery(ctx huma.Context, next func(huma.Context)) {
	info := requestInfoFrom(ctx.Context())
	if info == nil {
		next(ctx)
		return
	}
	known := map[string]bool{}
	for _, p := range ctx.Operation().Parameters {
		if p.In == "query" {
			known[p.Name] = true
		}
	}
	u := ctx.URL()
	query := u.Query()
	for _, name := range slices.Sorted(maps.Keys(query)) {
		if !known[name] {
			info.invalid = append(info.invalid, ProblemField{Location: "query." + name, Field: name, Code: "unknownParameter",
				Message: name + " " + messageFor(ctx.Context(), "unknownParameter", "")})
		}
	}
	next(ctx)
}

// notFound answers requests no operation matched: 405 with Allow when the
// path exists for other methods, else 404.
func (s *server) notFound(mux *http.ServeMux) http.HandlerFunc {
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range methods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeProblem(w, r, problemOf(http.StatusMethodNotAllowed, "problem.method"))
			return
		}
		s.writeProblem(w, r, problemOf(http.StatusNotFound, "problem.noRoute"))
	}
}

// clientAddress is the address failed authentications are counted by:
// the connection's peer, or the first address of the trusted proxy header
// when Options.ClientAddressHeader names one.
func (s *server) clientAddress(r *http.Request) string {
	if h := s.opts.ClientAddressHeader; h != "" {
		first, _, _ := strings.Cut(r.Header.Get(h), ",")
		if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
			return ip.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authThrottle slows down clients that keep failing to authenticate: each
// address has a bucket of burst failures that refills by one every
// interval. An address with an empty bucket gets 429 with Retry-After
// before its key is looked at; other addresses are not affected. Memory is
// bounded: at throttleMax addresses, full buckets are dropped, and if all
// are in use the table starts over.
type authThrottle struct {
	burst    float64
	interval time.Duration
	now      func() time.Time
	mu       sync.Mutex
	buckets  map[string]*failureBucket
}

type failureBucket struct {
	tokens float64
	at     time.Time
}

const throttleMax = 10_000

func newAuthThrottle(burst int, interval time.Duration) *authThrottle {
	if burst <= 0 {
		return nil
	}
	return &authThrottle{burst: float64(burst), interval: interval, now: time.Now, buckets: map[string]*failureBucket{}}
}

// refill brings a bucket up to now; the caller holds mu.
func (t *authThrottle) refill(b *failureBucket, now time.Time) {
	b.tokens = math.Min(t.burst, b.tokens+float64(now.Sub(b.at))/float64(t.interval))
	b.at = now
}

// wait returns how long addr must wait before it may try again, 0 if it may now.
func (t *authThrottle) wait(addr string) time.Duration {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.buckets[addr]
	if !ok {
		return 0
	}
	now := t.now()
	t.refill(b, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(t.interval))
}

// fail counts a failed authentication of addr.
func (t *authThrottle) fail(addr string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	b, ok := t.buckets[addr]
	if !ok {
		if len(t.buckets) >= throttleMax {
			for a, other := range t.buckets {
				if t.refill(other, now); other.tokens >= t.burst {
					delete(t.buckets, a)
				}
			}
			if len(t.buckets) >= throttleMax {
				clear(t.buckets)
			}
		}
		b = &failureBucket{tokens: t.burst, at: now}
		t.buckets[addr] = b
	}
	t.refill(b, now)
	b.tokens = math.Max(0, b.tokens-1)
}

// tooManyFailures is the answer to an address that is throttled.
func tooManyFailures(wait time.Duration) *Problem {
	p := problemOf(http.StatusTooManyRequests, "problem.tooMany")
	p.headers = http.Header{"Retry-After": {strconv.Itoa(int(math.Ceil(wait.Seconds())))}}
	return p
}
