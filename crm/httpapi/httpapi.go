// Package httpapi serves the crm services over HTTP as JSON, with an OpenAPI
// 3.1 document derived from the Go types (huma), RFC 9457 problem responses,
// and API-key authentication. New returns an http.Handler that a platform
// mounts in its own mux or that the reference server (cmd/dossier) serves.
//
// Every request except /healthz, /readyz and /openapi.json needs
// "Authorization: Bearer <key>". The organisation and the acting staff user
// come from the key, never from the request, so one organisation's key can
// never reach another organisation's data.
package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/dossiercrm/dossier/crm"
)

// Options configures the handler. The zero value works.
type Options struct {
	// Logger receives one line per request (request id, method, route
	// pattern, status, duration, organisation; never paths with their
	// values, query strings, keys or bodies) and internal errors. Health
	// probes are logged at debug level. Nil means a quiet logger.
	Logger *slog.Logger
	// Ready reports whether the service can take requests, for /readyz;
	// typically the store's Ping. Nil means always ready.
	Ready func(context.Context) error
	// MaxBodyBytes limits request bodies. Default 1 MiB. A document upload
	// is bounded instead by the CRM's Config.MaxDocumentBytes for the file
	// plus MaxBodyBytes (at least 64 KiB) for the form around it.
	MaxBodyBytes int64
	// AuthCacheTTL is how long a checked API key is remembered, sparing the
	// database a lookup on every request: a revoked key stops working
	// within this time. Default 10s; negative turns the cache off.
	AuthCacheTTL time.Duration
	// Version is reported in the OpenAPI document. Default "dev".
	Version string
	// BasePath is the prefix under which the handler is mounted (with
	// http.StripPrefix), e.g. "/crm": Location headers and the OpenAPI
	// document's server URL include it. Default none.
	BasePath string
	// CORSOrigins lists the origins (e.g. "https://app.example.com") whose
	// pages may call the API from a browser; "*" allows any. Empty (the
	// default) sends no CORS headers, so browsers allow same-origin calls only.
	CORSOrigins []string
	// AuthFailureBurst is how many failed authentications a client address
	// may make before it is slowed down: then it gets 429 with Retry-After
	// until AuthFailureInterval has passed for each further attempt. Other
	// addresses are not affected. Default 20; negative turns it off.
	AuthFailureBurst int
	// AuthFailureInterval is how long it takes for one failed
	// authentication to be forgotten. Default 1s.
	AuthFailureInterval time.Duration
	// ClientAddressHeader names a header set by a trusted reverse proxy
	// that carries the client's address ("X-Forwarded-For", "X-Real-Ip"),
	// for counting failed authentications by client. Empty (the default)
	// uses the connection's address: set it only behind a proxy that
	// overwrites the header, or clients could choose their own address.
	ClientAddressHeader string
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Ready == nil {
		o.Ready = func(context.Context) error { return nil }
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.AuthCacheTTL == 0 {
		o.AuthCacheTTL = 10 * time.Second
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.AuthFailureBurst == 0 {
		o.AuthFailureBurst = 20
	}
	if o.AuthFailureInterval <= 0 {
		o.AuthFailureInterval = time.Second
	}
	o.BasePath = strings.TrimSuffix(o.BasePath, "/")
	return o
}

// server holds what the operations share.
type server struct {
	crm      *crm.CRM
	opts     Options
	log      *slog.Logger
	api      huma.API
	keys     *keyCache
	throttle *authThrottle
	// bodyTypes holds the Go type of each operation's JSON body and its
	// member names (memberNames), by operation id.
	bodyTypes map[string]bodyType
}

// securityScheme is the name of the bearer scheme in the OpenAPI document.
const securityScheme = "apiKey"

// New returns the HTTP API of c. It changes no process-wide state: what
// it configures of huma (the conversion of its errors, the check of member
// names) is this API's own.
func New(c *crm.CRM, opts Options) http.Handler {
	opts = opts.withDefaults()
	s := &server{crm: c, opts: opts, log: opts.Logger, keys: newKeyCache(opts.AuthCacheTTL),
		throttle: newAuthThrottle(opts.AuthFailureBurst, opts.AuthFailureInterval), bodyTypes: map[string]bodyType{}}

	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("Dossier", opts.Version)
	cfg.Info.Description = "The customer dossier of a booking platform: customers, custom fields and their timeline, " +
		"tags, labels and segments, consents with their proof, exports, anonymisation and retention, loyalty points, " +
		"the organisation's own settings, documents per customer, mail templates in several languages and the outbox of mails. " +
		"Authenticate with an API key: Authorization: Bearer <key>. Errors are RFC 9457 problem details."
	cfg.OpenAPIPath = "/openapi" // serves /openapi.json and /openapi.yaml
	cfg.DocsPath = ""            // no HTML docs page that loads scripts from elsewhere
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no $schema links in every response body
	cfg.FieldsOptionalByDefault = true
	cfg.RejectUnknownQueryParameters = false // checkQuery lists them with the other failing fields
	cfg.Transformers = []huma.Transformer{problemTransformer}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		securityScheme: {Type: "http", Scheme: "bearer", Description: "An API key made with `dossier apikey create`."},
	}
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.Date](), reflect.TypeFor[dateSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.ConsentChannel](), reflect.TypeFor[consentChannelSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.ConsentState](), reflect.TypeFor[consentStateSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.ConsentSource](), reflect.TypeFor[consentSourceSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.PointKind](), reflect.TypeFor[pointKindSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.DocumentVisibility](), reflect.TypeFor[documentVisibilitySchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.DocumentOrigin](), reflect.TypeFor[documentOriginSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.OutboxStatus](), reflect.TypeFor[outboxStatusSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.LegalBasis](), reflect.TypeFor[legalBasisSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.StaffRole](), reflect.TypeFor[staffRoleSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.TaskStatus](), reflect.TypeFor[taskStatusSchema]())
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[crm.PipelineKind](), reflect.TypeFor[pipelineKindSchema]())
	if opts.BasePath != "" {
		cfg.Servers = []*huma.Server{{URL: opts.BasePath}}
	}
	s.api = humago.New(mux, cfg)
	s.api.UseMiddleware(keepContext, recordRoute, s.limitBody, s.authenticate, s.checkBodyText, checkQuery, s.checkMemberCase)

	s.registerHealth()
	s.registerOrganisation()
	s.registerCustomers()
	s.registerCustomFields()
	s.registerHistory()
	s.registerQualifiers(c.Tags, "tags", "tag", "Tags",
		"Tags qualify the relationship (VIP, Regular, No-show); a customer carries at most nine: a tenth is 409.")
	s.registerQualifiers(c.Attributes, "attributes", "attribute", "Attributes",
		"Attributes and interests (diving, city trips) select customers for targeted mailings; any number per customer.")
	s.registerLabels()
	s.registerSegments()
	s.registerConsents()
	s.registerPrivacy()
	s.registerPoints()
	s.registerDocuments()
	s.registerMail()
	s.registerBookings()
	s.registerFiles()
	s.registerMerges()
	s.registerInteractions()
	s.registerReports()
	s.registerPortalStaff()
	s.registerPortal(mux)
	s.registerStaff()
	s.registerInquiries()
	s.registerInquiryStatuses()
	s.registerNotesAndTasks()

	mux.HandleFunc("/", s.notFound(mux))
	var h http.Handler = mux
	if len(opts.CORSOrigins) > 0 {
		h = corsHandler(opts.CORSOrigins, h)
	}
	return s.serveRequest(h)
}

// dateSchema is how crm.Date appears in the OpenAPI document.
type dateSchema struct{}

// Schema implements huma.SchemaProvider.
func (dateSchema) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "date", Examples: []any{"1985-04-12"}}
}

// consentChannelSchema is how crm.ConsentChannel appears in the OpenAPI document.
type consentChannelSchema struct{}

// Schema implements huma.SchemaProvider.
func (consentChannelSchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.ChannelEmail, crm.ChannelPost, crm.ChannelSMS, crm.ChannelNone)
}

// consentStateSchema is how crm.ConsentState appears in the OpenAPI document.
type consentStateSchema struct{}

// Schema implements huma.SchemaProvider.
func (consentStateSchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.ConsentGranted, crm.ConsentWithdrawn, crm.ConsentPending, crm.ConsentNever, crm.ConsentNotWithdrawn)
}

// consentSourceSchema is how crm.ConsentSource appears in the OpenAPI document.
type consentSourceSchema struct{}

// Schema implements huma.SchemaProvider.
func (consentSourceSchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.SourceWebForm, crm.SourceImport, crm.SourceStaff, crm.SourcePortal, crm.SourceBooking)
}

// pointKindSchema is how crm.PointKind appears in the OpenAPI document.
type pointKindSchema struct{}

// Schema implements huma.SchemaProvider.
func (pointKindSchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.PointsAward, crm.PointsRedeem, crm.PointsCorrect, crm.PointsReverse, crm.PointsExpire)
}

// documentVisibilitySchema is how crm.DocumentVisibility appears in the OpenAPI document.
type documentVisibilitySchema struct{}

// Schema implements huma.SchemaProvider.
func (documentVisibilitySchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.VisibilityPortal, crm.VisibilityInternal)
}

// documentOriginSchema is how crm.DocumentOrigin appears in the OpenAPI document.
type documentOriginSchema struct{}

// Schema implements huma.SchemaProvider.
func (documentOriginSchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.OriginUpload, crm.OriginReport)
}

// outboxStatusSchema is how crm.OutboxStatus appears in the OpenAPI document.
type outboxStatusSchema struct{}

// Schema implements huma.SchemaProvider.
func (outboxStatusSchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.OutboxPending, crm.OutboxSent, crm.OutboxFailed)
}

// enumSchema is a string schema allowing only values.
func enumSchema[T ~string](values ...T) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString}
	for _, v := range values {
		s.Enum = append(s.Enum, string(v))
	}
	return s
}

// limitBody is the middleware that bounds the request body by the
// operation's MaxBodyBytes, so that no handler, huma's body parsing
// included, reads more. An operation with a negative limit (the upload)
// bounds its body itself.
func (s *server) limitBody(ctx huma.Context, next func(huma.Context)) {
	if limit := ctx.Operation().MaxBodyBytes; limit > 0 {
		r, w := humago.Unwrap(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	next(ctx)
}

// authenticated reports whether an operation needs an API key.
func authenticated(op *huma.Operation) bool { return len(op.Security) > 0 }

// authenticate is the middleware that turns the bearer key into the
// organisation and actor of the request's context.
func (s *server) authenticate(ctx huma.Context, next func(huma.Context)) {
	if !authenticated(ctx.Operation()) {
		next(ctx)
		return
	}
	r, _ := humago.Unwrap(ctx)
	addr := s.clientAddress(r)
	if wait := s.throttle.wait(addr); wait > 0 {
		s.writeHumaProblem(ctx, tooManyFailures(wait))
		return
	}
	secret, ok := strings.CutPrefix(ctx.Header("Authorization"), "Bearer ")
	if !ok {
		s.throttle.fail(addr)
		s.writeHumaProblem(ctx, unauthenticated())
		return
	}
	key, err := s.keys.get(ctx.Context(), strings.TrimSpace(secret), s.crm.APIKeys.Authenticate)
	if err != nil {
		if errors.Is(err, crm.ErrUnauthenticated) {
			s.throttle.fail(addr)
		}
		s.writeHumaProblem(ctx, problemFor(ctx.Context(), s.log, fieldLocator{fallback: "header"}, err).(*Problem))
		return
	}
	info := requestInfoFrom(ctx.Context())
	if info != nil {
		info.org = key.OrgID
	}
	rc := crm.WithLanguage(key.Context(ctx.Context()), requestLanguage(ctx.Context()))
	next(huma.WithContext(ctx, rc))
}

func (s *server) writeHumaProblem(ctx huma.Context, p *Problem) {
	for k, vs := range p.headers {
		for _, v := range vs {
			ctx.AppendHeader(k, v)
		}
	}
	finishProblem(ctx.Context(), p)
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	if err := s.api.Marshal(ctx.BodyWriter(), "application/json", p); err != nil {
		s.log.ErrorContext(ctx.Context(), "writing a problem response failed", "err", err)
	}
}

// writeProblem writes a problem outside huma (routes it does not know).
func (s *server) writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	finishProblem(r.Context(), p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// keyCache remembers checked API keys for a short time. It keys entries by
// the secret's hash, so no secret stays in memory longer than a request.
type keyCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[[32]byte]keyCacheEntry
}

type keyCacheEntry struct {
	key     *crm.APIKey
	expires time.Time
}

// keyCacheMax bounds the cache; when full it starts over rather than
// tracking which entry is oldest.
const keyCacheMax = 10_000

func newKeyCache(ttl time.Duration) *keyCache {
	return &keyCache{ttl: ttl, entries: map[[32]byte]keyCacheEntry{}}
}

func (c *keyCache) get(ctx context.Context, secret string, check func(context.Context, string) (*crm.APIKey, error)) (*crm.APIKey, error) {
	if c.ttl < 0 {
		return check(ctx, secret)
	}
	id := sha256.Sum256([]byte(secret))
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	key, err := check(ctx, secret)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) >= keyCacheMax {
		clear(c.entries)
	}
	c.entries[id] = keyCacheEntry{key: key, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return key, nil
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status != 0 {
		// A status after the response started (huma sets 499 when the client
		// went away mid-write) changes nothing for the client; passing it on
		// only makes net/http log a warning.
		return
	}
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
