package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/i18n"
)

// Problem is an error response in the format of RFC 9457 (problem details),
// sent as application/problem+json. Every error of the API has this shape:
// those of the library, and those of the schema checks that run before a
// handler (wrong types, unknown members, values out of range), which are
// converted to it, so a client reads every error the same way: each failing
// field with its location, rule code and a message in the Accept-Language
// language.
type Problem struct {
	// Type is a URI naming the kind of problem; "about:blank" means the status says it all.
	Type string `json:"type,omitempty" example:"about:blank"`
	// Title is the status text.
	Title string `json:"title" example:"Unprocessable Entity"`
	// Status is the HTTP status code.
	Status int `json:"status" example:"422"`
	// Detail explains this occurrence, for people.
	Detail string `json:"detail,omitempty" example:"crm: invalid input: loginEmail is not a valid e-mail address"`
	// Instance names this occurrence: "urn:request:" and the request's
	// X-Request-Id, which the server's log line of the request carries too.
	Instance string `json:"instance,omitempty" example:"urn:request:0193a1b2c3d4e5f6"`
	// Errors lists the failing fields of an invalid request.
	Errors []ProblemField `json:"errors,omitempty"`

	headers   http.Header
	detailKey string // the catalogue key of Detail, for the caller's language
}

// ProblemField is one failing input field of an invalid request.
type ProblemField struct {
	// Location is where the value was: "body.loginEmail", "query.cursor", "header.If-Match".
	Location string `json:"location,omitempty" example:"body.loginEmail"`
	// Field is the field's name in the request, as in crm.FieldError.
	Field string `json:"field,omitempty" example:"loginEmail"`
	// Code is the stable name of the failed rule ("required", "email", "phone", ...).
	Code string `json:"code,omitempty" example:"email"`
	// Param is the rule's parameter where it has one (a length, the allowed choices).
	Param string `json:"param,omitempty"`
	// Message says what is wrong, in the caller's language (Accept-Language).
	Message string `json:"message" example:"loginEmail is not a valid e-mail address"`
}

// Error implements error.
func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Detail
	}
	return p.Title
}

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType implements huma.ContentTypeFilter.
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// GetHeaders implements huma.HeadersError.
func (p *Problem) GetHeaders() http.Header { return p.headers }

func newProblem(status int, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// problemOf is a problem whose detail is the catalogue's sentence key
// ("problem.notFound"), worded in the caller's language when it is sent.
func problemOf(status int, key string) *Problem {
	p := newProblem(status, i18n.Message("en", key, ""))
	p.detailKey = key
	return p
}

var _ huma.StatusError = (*Problem)(nil)

// problemFor turns an error of the crm services into the problem response
// the client sees. This is the one place where errors become status codes,
// and the registration helper (register) the one caller for handlers:
//
//	*crm.MergedError       308 to the same path with the survivor's id in
//	                       place of the merged customer's (by number: the
//	                       survivor's id URL), so old links keep working
//	crm.ErrMergeBlocked    409 with code merge_blocked and the reason: the
//	                       request is well formed, the stored data refuses it
//	crm.ErrNotFound        404
//	crm.ErrStaleVersion    412 (the If-Match version is no longer current)
//	crm.ErrConflict        409
//	crm.ErrInsufficientPoints
//	                       409, with code insufficient_points: the request is well
//	                       formed but the balance as it stands does not cover it,
//	                       and the same request may succeed after an award; 422
//	                       would tell the client to fix the fields it sent
//	crm.ErrInvalid         422, with every failing field
//	                       (413 when the failure is a file over the size limit,
//	                       field file, code maxBytes: the content is too large,
//	                       which is what 413 says, and what a body over the
//	                       limit gets before the library sees it)
//	crm.ErrFeatureOff      404: a switched-off feature looks as if it did not exist,
//	                       so clients handle it like any absent resource and the API
//	                       does not advertise what an organisation has turned off
//	crm.ErrForbidden       403: the caller is known and may not do this (a
//	                       read-only user writing, a non-administrator managing
//	                       staff, a permission switch off); the detail says why
//	crm.ErrUnauthenticated 401
//	crm.ErrUnavailable     503 with Retry-After and type urn:dossier:problem:unavailable:
//	                       the database is unreachable, full or too slow (also a
//	                       request past its deadline); the same request may succeed later
//	anything else          500, logged, with no detail for the client
//
// where says in which part of the request (body, query, path, header) each
// field the library names was, and under which name.
func problemFor(ctx context.Context, log *slog.Logger, where fieldLocator, err error) error {
	var (
		invalid  *crm.ValidationError
		conflict *crm.ConflictError
		problem  *Problem
		merged   *crm.MergedError
		blocked  *crm.MergeBlockedError
		status   huma.StatusError
	)
	switch {
	case errors.As(err, &problem):
		return problem
	case errors.As(err, &status):
		return status // huma's own, e.g. 304 or 412 of a conditional request
	case errors.As(err, &invalid):
		p := problemOf(http.StatusUnprocessableEntity, "problem.invalid")
		if invalid.Has("file", "maxBytes") {
			p = problemOf(http.StatusRequestEntityTooLarge, "problem.tooLarge")
		}
		for _, f := range invalid.Fields {
			loc, field := where.locate(f.Field)
			p.Errors = append(p.Errors, ProblemField{Location: loc, Field: field, Code: f.Code, Param: f.Param, Message: f.Message})
		}
		return p
	case errors.Is(err, crm.ErrStaleVersion):
		p := problemOf(http.StatusPreconditionFailed, "problem.stale")
		p.Errors = []ProblemField{headerField(ctx, "If-Match", "precondition", "")}
		return p
	case errors.As(err, &conflict):
		if conflict.Field == "" {
			return newProblem(http.StatusConflict, "the change conflicts with stored data: "+conflict.Reason)
		}
		p := newProblem(http.StatusConflict, "the change conflicts with stored data: "+conflict.Field+": "+conflict.Reason)
		loc, field := where.locate(conflict.Field)
		p.Errors = []ProblemField{{Location: loc, Field: field, Code: "conflict", Message: field + ": " + conflict.Reason}}
		return p
	case errors.Is(err, crm.ErrConflict):
		return problemOf(http.StatusConflict, "problem.conflict")
	case errors.Is(err, crm.ErrInsufficientPoints):
		p := problemOf(http.StatusConflict, "problem.insufficientPoints")
		loc, field := where.locate("points")
		p.Errors = []ProblemField{{Location: loc, Field: field, Code: "insufficient_points",
			Message: field + " " + messageFor(ctx, "insufficient_points", "")}}
		return p
	case errors.Is(err, crm.ErrForbidden):
		p := problemOf(http.StatusForbidden, "problem.forbidden")
		var forbidden *crm.ForbiddenError
		if errors.As(err, &forbidden) && forbidden.Reason != "" {
			p.Detail = forbidden.Error()
			p.detailKey = ""
		}
		return p
	case errors.As(err, &merged):
		p := newProblem(http.StatusPermanentRedirect, merged.Error())
		p.headers = http.Header{"Location": {mergedLocation(ctx, merged)}}
		return p
	case errors.As(err, &blocked):
		p := newProblem(http.StatusConflict, blocked.Error())
		p.Errors = []ProblemField{{Location: "body", Field: "duplicateId", Code: "merge_blocked", Param: blocked.Code, Message: blocked.Reason}}
		return p
	case errors.Is(err, crm.ErrNotFound), errors.Is(err, crm.ErrFeatureOff):
		return problemOf(http.StatusNotFound, "problem.notFound")
	case errors.Is(err, crm.ErrUnauthenticated), errors.Is(err, crm.ErrNoOrg), errors.Is(err, crm.ErrNoActor):
		return unauthenticated()
	case errors.Is(err, context.Canceled):
		return newProblem(499, "the client closed the request")
	case errors.Is(err, crm.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		log.WarnContext(ctx, "database unavailable", "err", err, "cause", rootCause(err))
		p := problemOf(http.StatusServiceUnavailable, "problem.unavailable")
		p.Type = "urn:dossier:problem:unavailable"
		p.headers = http.Header{"Retry-After": {"5"}}
		return p
	}
	log.ErrorContext(ctx, "request failed", "err", err)
	return problemOf(http.StatusInternalServerError, "problem.internal")
}

// rootCause is the innermost error err wraps (following single
// wrapping): for an unavailable database, the driver's own words, which the
// log should keep for the operator.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// unauthenticated is the one answer to every missing, malformed, unknown or
// revoked key: it says nothing about which it was.
func unauthenticated() *Problem {
	p := problemOf(http.StatusUnauthorized, "problem.unauthenticated")
	p.headers = http.Header{"WWW-Authenticate": {`Bearer realm="dossier"`}}
	return p
}

// mergedLocation is where a request for a merged customer goes: its path
// with the survivor's id in place of the merged one's, or the survivor's
// own URL when the path named it otherwise (by number).
func mergedLocation(ctx context.Context, m *crm.MergedError) string {
	if hc := humaContext(ctx); hc != nil {
		u := hc.URL()
		if strings.Contains(u.Path, m.ID) {
			u.Path = strings.ReplaceAll(u.Path, m.ID, m.SurvivorID)
			u.Scheme, u.Host = "", ""
			return u.String()
		}
	}
	return "/v1/customers/" + m.SurvivorID
}
