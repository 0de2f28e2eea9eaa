package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/dossiercrm/dossier/crm"
)

// The portal: the customer's own API under /portal/v1, a second OpenAPI
// document (/portal/v1/openapi.json) on the same handler. Its routes are
// authenticated by a portal session (Authorization: Bearer <session
// token> from POST /portal/v1/sign-in), never by an API key, and act as
// the signed-in customer (crm.CustomerActor) on their own dossier only:
// no route takes a customer id. Sign-in, setting a password and
// unsubscribing are public; failures count against the client's address
// like failed API keys.

// portalScheme is the name of the session scheme in the portal's OpenAPI document.
const portalScheme = "portalSession"

// portalSecurity marks a route as needing a session; publicRoute as needing nothing.
var (
	portalSecurity = []map[string][]string{{portalScheme: {}}}
	publicRoute    = []map[string][]string{}
)

type portalTokenKey struct{}

type portalBookingsInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"500" doc:"How many bookings of each group, default 10."`
}

func (s *server) registerPortal(mux *http.ServeMux) {
	cfg := huma.DefaultConfig("Dossier portal", s.opts.Version)
	cfg.Info.Description = "The customer's own side of Dossier: sign in, read and change one's own record, documents, consents, " +
		"export or anonymise oneself where the organisation allows it, itineraries and contests. Authenticate with the session " +
		"token of POST /portal/v1/sign-in: Authorization: Bearer <token>. Errors are RFC 9457 problem details."
	cfg.OpenAPIPath = "/portal/v1/openapi"
	cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "", "", nil
	cfg.FieldsOptionalByDefault = true
	cfg.RejectUnknownQueryParameters = false
	cfg.Transformers = []huma.Transformer{problemTransformer}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		portalScheme: {Type: "http", Scheme: "bearer", Description: "A session token from POST /portal/v1/sign-in."},
	}
	for from, to := range map[reflect.Type]reflect.Type{
		reflect.TypeFor[crm.Date]():               reflect.TypeFor[dateSchema](),
		reflect.TypeFor[crm.ConsentChannel]():     reflect.TypeFor[consentChannelSchema](),
		reflect.TypeFor[crm.ConsentState]():       reflect.TypeFor[consentStateSchema](),
		reflect.TypeFor[crm.ConsentSource]():      reflect.TypeFor[consentSourceSchema](),
		reflect.TypeFor[crm.DocumentVisibility](): reflect.TypeFor[documentVisibilitySchema](),
		reflect.TypeFor[crm.DocumentOrigin]():     reflect.TypeFor[documentOriginSchema](),
		reflect.TypeFor[crm.OutboxStatus]():       reflect.TypeFor[outboxStatusSchema](),
		reflect.TypeFor[crm.LegalBasis]():         reflect.TypeFor[legalBasisSchema](),
	} {
		cfg.Components.Schemas.RegisterTypeAlias(from, to)
	}
	if s.opts.BasePath != "" {
		cfg.Servers = []*huma.Server{{URL: s.opts.BasePath}}
	}
	p := *s
	p.api = humago.New(mux, cfg)
	p.api.UseMiddleware(keepContext, recordRoute, p.limitBody, p.authenticatePortal, p.checkBodyText, checkQuery, p.checkMemberCase)
	p.registerPortalRoutes()
}

// authenticatePortal is the middleware that turns a session token into
// the organisation and customer actor of the request's context.
func (s *server) authenticatePortal(ctx huma.Context, next func(huma.Context)) {
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
		s.writeHumaProblem(ctx, notSignedIn())
		return
	}
	secret = strings.TrimSpace(secret)
	sess, err := s.crm.Portal.Authenticate(ctx.Context(), secret)
	if err != nil {
		if errors.Is(err, crm.ErrUnauthenticated) {
			s.throttle.fail(addr)
			s.writeHumaProblem(ctx, notSignedIn())
			return
		}
		s.writeHumaProblem(ctx, problemFor(ctx.Context(), s.log, fieldLocator{fallback: "header"}, err).(*Problem))
		return
	}
	if info := requestInfoFrom(ctx.Context()); info != nil {
		info.org = sess.OrgID
	}
	rc := crm.WithActor(crm.WithOrg(ctx.Context(), sess.OrgID), crm.CustomerActor(sess.CustomerID))
	rc = crm.WithLanguage(rc, requestLanguage(ctx.Context()))
	rc = context.WithValue(rc, portalTokenKey{}, secret)
	next(huma.WithContext(ctx, rc))
}

// publicFailure counts a refused public portal call (a wrong password, an
// unknown link) against the client's address, and answers 429 when the
// address has failed too often; it returns err as it is.
func (s *server) publicFailure(ctx context.Context, err error) error {
	hc := humaContext(ctx)
	if hc == nil || err == nil || !errors.Is(err, crm.ErrUnauthenticated) {
		return err
	}
	r, _ := humago.Unwrap(hc)
	s.throttle.fail(s.clientAddress(r))
	p := newProblem(http.StatusUnauthorized, err.Error())
	p.headers = http.Header{"WWW-Authenticate": {`Bearer realm="dossier-portal"`}}
	return p
}

// notSignedIn is the one answer to every missing, unknown or ended session.
func notSignedIn() *Problem {
	p := newProblem(http.StatusUnauthorized, "not signed in: the session is unknown or has ended; sign in again")
	p.headers = http.Header{"WWW-Authenticate": {`Bearer realm="dossier-portal"`}}
	return p
}

// publicWait answers 429 when the client's address must wait.
func (s *server) publicWait(ctx context.Context) error {
	hc := humaContext(ctx)
	if hc == nil {
		return nil
	}
	r, _ := humago.Unwrap(hc)
	if wait := s.throttle.wait(s.clientAddress(r)); wait > 0 {
		return tooManyFailures(wait)
	}
	return nil
}

type signInInput struct {
	Body struct {
		Organisation string `json:"organisation" required:"true" maxLength:"64" doc:"The organisation's id, as the site knows it."`
		Email        string `json:"email" required:"true" maxLength:"254" doc:"The account's login e-mail."`
		Password     string `json:"password" required:"true" maxLength:"1024" doc:"The password."`
	}
}

type signInOutput struct {
	CacheControl string `header:"Cache-Control" doc:"no-store: the token is a secret."`
	Body         struct {
		Token   string             `json:"token" doc:"The session token: send it as Authorization: Bearer <token>. Shown once."`
		Session *crm.PortalSession `json:"session"`
	}
}

type setPasswordInput struct {
	Body struct {
		Token    string `json:"token" required:"true" maxLength:"200" doc:"The secret of the set-password link."`
		Password string `json:"password" required:"true" maxLength:"1024" doc:"The new password: at least 12 characters, not a common one."`
	}
}

type unsubscribeQuery struct {
	Token string `query:"token" required:"true" maxLength:"200" doc:"The secret of the unsubscribe link."`
}

type unsubscribeInput struct {
	Body struct {
		Token string `json:"token" required:"true" maxLength:"200" doc:"The secret of the unsubscribe link."`
	}
}

type unsubscribeOutput = bodyOutput[*crm.UnsubscribeInfo]

type portalPatchInput struct {
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version the change is based on, or *."`
	Body    crm.CustomerPatch
}

type portalDocumentListOutput struct {
	Body struct {
		Items []crm.Document `json:"items"`
	}
}

type portalDocumentInput struct {
	DocumentID string `path:"documentId" doc:"The document's id (a UUID)."`
}

type portalConsentListOutput struct {
	Body struct {
		Items []crm.PortalConsent `json:"items"`
	}
}

type portalConsentPath struct {
	Purpose string `path:"purpose" doc:"The purpose's key (newsletter)."`
}

type portalGiveConsentInput struct {
	Purpose string `path:"purpose" doc:"The purpose's key (newsletter)."`
	Body    *struct {
		WordingID string `json:"wordingId,omitempty" doc:"The wording shown to the customer; default the latest in their language."`
	}
}

type portalExportOutput = bodyOutput[*crm.CustomerExport]

type portalConsentOutput = bodyOutput[*crm.ConsentRecord]

type saveItineraryInput struct {
	Body crm.NewItinerary
}

type portalEnterInput struct {
	ContestID string `path:"contestId" doc:"The contest's id (a UUID)."`
	Body      struct {
		Answer string `json:"answer" required:"true" maxLength:"2000" doc:"The answer to the contest's question."`
	}
}

// evidence is the request's client address and user agent, for consents.
func (s *server) evidence(ctx context.Context) crm.Evidence {
	hc := humaContext(ctx)
	if hc == nil {
		return crm.Evidence{}
	}
	r, _ := humago.Unwrap(hc)
	ua := r.UserAgent()
	if len(ua) > 500 {
		ua = ua[:500]
	}
	return crm.Evidence{IP: s.clientAddress(r), UserAgent: strings.ToValidUTF8(ua, "")}
}

func (s *server) registerPortalRoutes() {
	tags := []string{"Sign-in"}
	portal := s.crm.Portal
	register(s, huma.Operation{
		OperationID: "portalSignIn", Method: http.MethodPost, Path: "/portal/v1/sign-in", Tags: tags, Security: publicRoute,
		Summary: "Sign in with e-mail and password",
		Description: "Answers a session token. Any refusal is the same 401, whatever was wrong (no such e-mail, a wrong password, " +
			"an account throttled after repeated failures); repeated failures from one address get 429 with Retry-After.",
	}, func(ctx context.Context, in *signInInput) (*signInOutput, error) {
		if err := s.publicWait(ctx); err != nil {
			return nil, err
		}
		ev := s.evidence(ctx)
		octx := crm.WithOrg(ctx, strings.TrimSpace(in.Body.Organisation))
		sess, token, err := portal.SignIn(octx, in.Body.Email, in.Body.Password, crm.PortalClient(ev))
		if errors.Is(err, crm.ErrNoOrg) {
			err = crm.ErrUnauthenticated
		}
		if errors.Is(err, crm.ErrUnauthenticated) {
			err = errSignInRefused
		}
		if err != nil {
			return nil, s.publicFailure(ctx, err)
		}
		out := &signInOutput{CacheControl: "no-store"}
		out.Body.Token, out.Body.Session = token, sess
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "portalSetPassword", Method: http.MethodPost, Path: "/portal/v1/password", Tags: tags, Security: publicRoute,
		Summary: "Set the password with a set-password link's secret",
		Description: "The link works once, until it expires (401 after). The password needs at least 12 characters and must not be " +
			"a common one (422). Every session of the account ends.",
		DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *setPasswordInput) (*struct{}, error) {
		if err := s.publicWait(ctx); err != nil {
			return nil, err
		}
		return nil, s.publicFailure(ctx, portal.SetPassword(ctx, in.Body.Token, in.Body.Password))
	})
	register(s, huma.Operation{
		OperationID: "portalSignOut", Method: http.MethodDelete, Path: "/portal/v1/session", Tags: tags, Security: portalSecurity,
		Summary: "Sign out: end this session",
	}, func(ctx context.Context, _ *struct{}) (*struct{}, error) {
		token, _ := ctx.Value(portalTokenKey{}).(string)
		return nil, portal.SignOut(ctx, token)
	})
	register(s, huma.Operation{
		OperationID: "portalUnsubscribeCheck", Method: http.MethodGet, Path: "/portal/v1/unsubscribe", Tags: tags, Security: publicRoute,
		Summary:     "What an unsubscribe link would withdraw",
		Description: "Changes nothing, so that a mail scanner following the link unsubscribes no one; POST does it.",
	}, func(ctx context.Context, in *unsubscribeQuery) (*unsubscribeOutput, error) {
		if err := s.publicWait(ctx); err != nil {
			return nil, err
		}
		info, err := s.crm.Mailings.UnsubscribeCheck(ctx, in.Token)
		return reply(info, s.publicFailure(ctx, err))
	})
	register(s, huma.Operation{
		OperationID: "portalUnsubscribe", Method: http.MethodPost, Path: "/portal/v1/unsubscribe", Tags: tags, Security: publicRoute,
		Summary:     "Unsubscribe: withdraw the consent a mailing was sent under",
		Description: "The consent log and the customer's timeline record it. Using a link again changes nothing.",
	}, func(ctx context.Context, in *unsubscribeInput) (*unsubscribeOutput, error) {
		if err := s.publicWait(ctx); err != nil {
			return nil, err
		}
		info, err := s.crm.Mailings.Unsubscribe(ctx, in.Body.Token, s.evidence(ctx))
		return reply(info, s.publicFailure(ctx, err))
	})
	s.registerOneClickUnsubscribe(tags)

	tags = []string{"My dossier"}
	own := func(op huma.Operation) huma.Operation {
		op.Tags, op.Security = tags, portalSecurity
		return op
	}
	register(s, own(huma.Operation{
		OperationID: "portalGetMe", Method: http.MethodGet, Path: "/portal/v1/me",
		Summary: "My record", Description: "Without what only staff see.",
	}), func(ctx context.Context, _ *struct{}) (*customerOutput, error) {
		c, err := portal.Self(ctx)
		if err != nil {
			return nil, err
		}
		return customerResponse(c), nil
	})
	register(s, own(huma.Operation{
		OperationID: "portalUpdateMe", Method: http.MethodPatch, Path: "/portal/v1/me",
		Summary: "Change my record",
		Description: "A JSON merge patch of the fields the organisation lets customers change; any other member is 422 " +
			"(notEditable). If-Match as for staff.",
	}), func(ctx context.Context, in *portalPatchInput) (*customerOutput, error) {
		version, err := ifMatchVersion(ctx, "the record's", func() (int, error) {
			c, err := portal.Self(ctx)
			if err != nil {
				return 0, err
			}
			return c.Version, nil
		})
		if err != nil {
			return nil, err
		}
		c, err := portal.UpdateSelf(ctx, version, in.Body)
		if err != nil {
			return nil, err
		}
		return customerResponse(c), nil
	})
	register(s, own(huma.Operation{
		OperationID: "portalListDocuments", Method: http.MethodGet, Path: "/portal/v1/documents",
		Summary: "My documents", Description: "Those the organisation shows in the portal, newest first.",
	}), func(ctx context.Context, _ *struct{}) (*portalDocumentListOutput, error) {
		docs, err := portal.Documents(ctx)
		if err != nil {
			return nil, err
		}
		out := &portalDocumentListOutput{}
		out.Body.Items = docs
		return out, nil
	})
	register(s, own(huma.Operation{
		OperationID: "portalDownloadDocument", Method: http.MethodGet, Path: "/portal/v1/documents/{documentId}/content",
		Summary: "Download one of my documents",
		Responses: map[string]*huma.Response{"200": {Description: "The contents, as the document's content type.",
			Content: map[string]*huma.MediaType{"*/*": {Schema: &huma.Schema{Type: huma.TypeString}}}}},
	}), func(ctx context.Context, in *portalDocumentInput) (*documentContentOutput, error) {
		d, rc, err := portal.OpenDocument(ctx, in.DocumentID)
		if err != nil {
			return nil, err
		}
		out := &documentContentOutput{ContentType: d.ContentType, ContentDisposition: attachment(d.FileName),
			ContentLength: strconv.FormatInt(d.Size, 10), ETag: `"` + d.SHA256 + `"`, CacheControl: "private, no-store", NoSniff: "nosniff", contents: rc}
		out.Body = func(hc huma.Context) {
			defer rc.Close()
			hc.SetStatus(http.StatusOK)
			if _, err := io.Copy(hc.BodyWriter(), rc); err != nil && hc.Context().Err() == nil {
				s.log.ErrorContext(ctx, "sending a document failed", "document", d.ID, "err", err)
			}
		}
		return out, nil
	})
	register(s, own(huma.Operation{
		OperationID: "portalListConsents", Method: http.MethodGet, Path: "/portal/v1/consents",
		Summary: "My consents", Description: "Each purpose's state and the wording to show before giving it, in my language.",
	}), func(ctx context.Context, _ *struct{}) (*portalConsentListOutput, error) {
		items, err := portal.Consents(ctx)
		if err != nil {
			return nil, err
		}
		out := &portalConsentListOutput{}
		out.Body.Items = items
		return out, nil
	})
	register(s, own(huma.Operation{
		OperationID: "portalGiveConsent", Method: http.MethodPut, Path: "/portal/v1/consents/{purpose}",
		Summary: "Give my consent to a purpose", Description: "With the wording I was shown (its id), from the portal.",
	}), func(ctx context.Context, in *portalGiveConsentInput) (*portalConsentOutput, error) {
		wording := ""
		if in.Body != nil {
			wording = in.Body.WordingID
		}
		return reply(portal.GiveConsent(ctx, in.Purpose, wording, s.evidence(ctx)))
	}, fieldAt("purpose", "path.purpose"))
	register(s, own(huma.Operation{
		OperationID: "portalWithdrawConsent", Method: http.MethodDelete, Path: "/portal/v1/consents/{purpose}",
		Summary: "Withdraw my consent to a purpose",
	}), func(ctx context.Context, in *portalConsentPath) (*portalConsentOutput, error) {
		return reply(portal.WithdrawConsent(ctx, in.Purpose, s.evidence(ctx)))
	}, fieldAt("purpose", "path.purpose"))
	register(s, own(huma.Operation{
		OperationID: "portalExport", Method: http.MethodGet, Path: "/portal/v1/export",
		Summary:     "Everything known about me (GDPR Art. 15 and 20)",
		Description: "Where the organisation lets customers export their data; else 403.",
	}), func(ctx context.Context, _ *struct{}) (*portalExportOutput, error) {
		return reply(portal.Export(ctx))
	})
	register(s, own(huma.Operation{
		OperationID: "portalAnonymise", Method: http.MethodPost, Path: "/portal/v1/anonymisation",
		Summary: "Anonymise me (GDPR Art. 17)",
		Description: "Irreversible. Where the organisation lets customers do it; else 403. The portal account goes too, and with it " +
			"this session.",
		DefaultStatus: http.StatusNoContent,
	}), func(ctx context.Context, _ *struct{}) (*struct{}, error) {
		return nil, portal.Anonymise(ctx)
	})

	tags = []string{"My bookings"}
	register(s, own(huma.Operation{
		OperationID: "portalGetBookings", Method: http.MethodGet, Path: "/portal/v1/bookings",
		Summary: "My bookings: upcoming, past and deleted, with counts and lifetime value",
		Description: "The bookings I lead, as GET /v1/customers/{id}/bookings shows them to staff: each group newest (latest day) " +
			"first, limit bookings each; counts and lifetime value (reserved, confirmed and sold bookings, per currency) over all " +
			"of them. Which staff member told me the final flight times is left out (informedBy carries its kind only).",
	}), func(ctx context.Context, in *portalBookingsInput) (*bodyOutput[*crm.CustomerBookings], error) {
		return reply(portal.Bookings(ctx, in.Limit))
	})

	tags = []string{"My itineraries and contests"}
	register(s, own(huma.Operation{
		OperationID: "portalListItineraries", Method: http.MethodGet, Path: "/portal/v1/itineraries",
		Summary: "My saved itineraries, newest first", Description: offNote[1:],
	}), func(ctx context.Context, _ *struct{}) (*itineraryListOutput, error) {
		items, err := s.crm.Itineraries.List(ctx, "")
		if err != nil {
			return nil, err
		}
		out := &itineraryListOutput{}
		out.Body.Items = items
		return out, nil
	})
	create(s, own(huma.Operation{
		OperationID: "portalSaveItinerary", Method: http.MethodPost, Path: "/portal/v1/itineraries",
		Summary:     "Save an itinerary",
		Description: "Its lines as structured data; it cannot be changed afterwards and is removed 30 days after saving." + offNote,
	}), func(o *itineraryOutput) string { return "/portal/v1/itineraries/" + o.Body.ID },
		func(ctx context.Context, in *saveItineraryInput) (*itineraryOutput, error) {
			return reply(s.crm.Itineraries.Save(ctx, "", in.Body))
		})
	register(s, own(huma.Operation{
		OperationID: "portalGetItinerary", Method: http.MethodGet, Path: "/portal/v1/itineraries/{itineraryId}",
		Summary: "One of my itineraries", Description: offNote[1:],
	}), func(ctx context.Context, in *itineraryPath) (*itineraryOutput, error) {
		return reply(s.crm.Itineraries.Get(ctx, in.ItineraryID))
	})
	register(s, own(huma.Operation{
		OperationID: "portalListContests", Method: http.MethodGet, Path: "/portal/v1/contests",
		Summary: "The organisation's contests", Description: offNote[1:],
	}), func(ctx context.Context, _ *struct{}) (*contestListOutput, error) {
		items, err := s.crm.Contests.List(ctx)
		if err != nil {
			return nil, err
		}
		out := &contestListOutput{}
		out.Body.Items = items
		return out, nil
	})
	create(s, own(huma.Operation{
		OperationID: "portalEnterContest", Method: http.MethodPost, Path: "/portal/v1/contests/{contestId}/entries",
		Summary: "Enter a contest", Description: "Once per contest (409 after), within its period (else 422, closed)." + offNote,
	}), func(o *contestEntryOutput) string { return "/portal/v1/contest-entries/" + o.Body.ID },
		func(ctx context.Context, in *portalEnterInput) (*contestEntryOutput, error) {
			return reply(s.crm.Contests.Enter(ctx, in.ContestID, "", in.Body.Answer))
		}, fieldAt("contestId", "path.contestId"))
	register(s, own(huma.Operation{
		OperationID: "portalListContestEntries", Method: http.MethodGet, Path: "/portal/v1/contest-entries",
		Summary: "My contest entries", Description: offNote[1:],
	}), func(ctx context.Context, _ *struct{}) (*contestEntryListOutput, error) {
		items, err := s.crm.Contests.EntriesOf(ctx, "")
		if err != nil {
			return nil, err
		}
		out := &contestEntryListOutput{}
		out.Body.Items = items
		return out, nil
	})
	register(s, own(huma.Operation{
		OperationID: "portalGetContestEntry", Method: http.MethodGet, Path: "/portal/v1/contest-entries/{entryId}",
		Summary: "One of my contest entries", Description: offNote[1:],
	}), func(ctx context.Context, in *contestEntryPath) (*contestEntryOutput, error) {
		return reply(s.crm.Contests.Entry(ctx, in.EntryID))
	})
}

// errSignInRefused is every refused sign-in: it never says what was wrong.
var errSignInRefused = fmt.Errorf("%w: the e-mail address or the password is not right", crm.ErrUnauthenticated)
