package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/danielgtaylor/huma/v2/conditional"

	"github.com/dossiercrm/dossier/crm"
)

// The registration helpers carry what every operation shares, so that a
// handler only calls the library and returns its result or its error as it
// is:
//
//   - authentication (unless the operation says Security: none), the body
//     limit and the problem response in the OpenAPI document;
//   - error translation: problemFor, once, with the input's field locations
//     derived from the input type's tags (path, query, header, Body);
//   - Location: a create (201) is registered with create, which requires the
//     new resource's path and sets the header;
//   - Idempotency-Key: create makes every create safe to repeat (see
//     idempotent in idempotency.go);
//   - conditional reads: a GET whose output has an ETag answers 304 to an
//     If-None-Match naming it (huma's conditional package compares).

// routeOption adjusts how a route's errors are located.
type routeOption func(*fieldLocator)

// fieldAt says that the library's field (and its sub-fields) came in the
// request at location, e.g. fieldAt("email", "path.id") when a missing
// address is the fault of the customer named in the path.
func fieldAt(field, location string) routeOption {
	return func(l *fieldLocator) { l.explicit[field] = location }
}

// fieldsIn says where fields the input type does not name came from, for an
// operation that reads its body itself (the upload).
func fieldsIn(location string) routeOption {
	return func(l *fieldLocator) { l.fallback = location }
}

// register adds an operation that does not create a resource (use create
// for those).
func register[I, O any](s *server, op huma.Operation, handler func(context.Context, *I) (*O, error), opts ...routeOption) {
	if op.DefaultStatus == http.StatusCreated {
		panic("httpapi: " + op.OperationID + " answers 201: register it with create, which sets Location")
	}
	registerRoute(s, op, nil, handler, opts)
}

// create adds an operation that answers 201 Created with a Location header:
// location returns the new resource's path from the output (without the
// API's BasePath, which is added).
func create[I, O any](s *server, op huma.Operation, location func(*O) string, handler func(context.Context, *I) (*O, error), opts ...routeOption) {
	op.DefaultStatus = http.StatusCreated
	if op.Responses == nil {
		op.Responses = map[string]*huma.Response{}
	}
	created := op.Responses["201"]
	if created == nil {
		created = &huma.Response{Description: "Created"}
		op.Responses["201"] = created
	}
	if created.Headers == nil {
		created.Headers = map[string]*huma.Header{}
	}
	created.Headers["Location"] = &huma.Header{Description: "The new resource's path.", Schema: &huma.Schema{Type: huma.TypeString}}
	if idempotentRoute[I](op) {
		handler = idempotent(s, &op, handler)
		opts = append(opts, fieldAt("idempotencyKey", "header.Idempotency-Key"))
	}
	registerRoute(s, op, location, handler, opts)
}

func registerRoute[I, O any](s *server, op huma.Operation, location func(*O) string, handler func(context.Context, *I) (*O, error), opts []routeOption) {
	if op.Security == nil {
		op.Security = []map[string][]string{{securityScheme: {}}}
	}
	if op.MaxBodyBytes >= 0 {
		op.MaxBodyBytes = s.opts.MaxBodyBytes
	}
	if op.Responses == nil {
		op.Responses = map[string]*huma.Response{}
	}
	problemSchema := s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[Problem](), true, "Problem")
	op.Responses["default"] = &huma.Response{
		Description: "An error, as RFC 9457 problem details",
		Content:     map[string]*huma.MediaType{"application/problem+json": {Schema: problemSchema}},
	}
	where := locatorFor(reflect.TypeFor[I]())
	for _, o := range opts {
		o(&where)
	}
	etag := etagField(reflect.TypeFor[O]())
	conditionalRead := etag != nil && (op.Method == http.MethodGet || op.Method == http.MethodHead)
	if conditionalRead {
		op.Parameters = append(op.Parameters, &huma.Param{Name: "If-None-Match", In: "header",
			Description: "ETags of copies you have: when one is still current the answer is 304 without a body.",
			Schema:      &huma.Schema{Type: huma.TypeString}})
		if op.Responses["304"] == nil {
			op.Responses["304"] = &huma.Response{Description: "Not modified: the copy named by If-None-Match is current."}
		}
	}
	if it := reflect.TypeFor[I](); it.Kind() == reflect.Struct {
		if f, ok := it.FieldByName("Body"); ok {
			s.bodyTypes[op.OperationID] = bodyType{t: f.Type, names: memberNames(f.Type)}
		}
	}
	// A route under one customer answers 308 to the survivor's when the
	// customer was merged, whichever call the handler makes.
	customerSub := strings.HasPrefix(op.Path, "/v1/customers/{id}/")
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		if info := requestInfoFrom(ctx); info != nil && len(info.invalid) > 0 {
			p := problemOf(http.StatusUnprocessableEntity, "problem.invalid")
			p.Errors = info.invalid
			return nil, p
		}
		out, err := handler(ctx, in)
		if err != nil {
			if customerSub {
				err = s.followMerge(ctx, err)
			}
			return nil, problemFor(ctx, s.log, where, err)
		}
		if out == nil {
			return nil, nil
		}
		hc := humaContext(ctx)
		if location != nil && hc != nil {
			hc.SetHeader("Location", s.opts.BasePath+location(out))
		}
		if conditionalRead && hc != nil {
			tag := reflect.ValueOf(out).Elem().FieldByIndex(etag).String()
			if err := notModified(hc, tag); err != nil {
				if c, ok := any(out).(io.Closer); ok {
					c.Close()
				}
				return nil, err
			}
		}
		return out, nil
	})
}

// followMerge turns a "not found" of a route under /v1/customers/{id}/
// into the customer's *crm.MergedError when the customer was merged, so
// that every sub-resource of a merged customer answers 308 to the
// survivor's, whether or not the library call looked at the tombstone.
func (s *server) followMerge(ctx context.Context, err error) error {
	var merged *crm.MergedError
	if !errors.Is(err, crm.ErrNotFound) || errors.As(err, &merged) {
		return err
	}
	hc := humaContext(ctx)
	if hc == nil {
		return err
	}
	if _, gerr := s.crm.Customers.Get(ctx, hc.Param("id")); errors.As(gerr, &merged) {
		return merged
	}
	return err
}

// bodyOutput is an operation's output that is its body only.
type bodyOutput[T any] struct {
	Body T
}

// reply answers with the library's result as the body, or with its error
// as it is (the registration helper translates it).
func reply[T any](v T, err error) (*bodyOutput[T], error) {
	if err != nil {
		return nil, err
	}
	return &bodyOutput[T]{Body: v}, nil
}

// find returns the first item of a list the library returned for which
// match holds, or crm.ErrNotFound: a GET of one item of a short list the
// organisation keeps (tags, labels, wordings).
func find[T any](items []T, err error, match func(*T) bool) (*T, error) {
	if err != nil {
		return nil, err
	}
	for i := range items {
		if match(&items[i]) {
			return &items[i], nil
		}
	}
	return nil, crm.ErrNotFound
}

// notModified returns huma's 304 when the request's If-None-Match names
// tag, the ETag of the current representation.
func notModified(hc huma.Context, tag string) error {
	matches := headerList(hc, "If-None-Match")
	if tag == "" || len(matches) == 0 {
		return nil
	}
	params := conditional.Params{IfNoneMatch: matches}
	if err := params.PreconditionFailed(opaqueTag(tag), time.Time{}); err != nil {
		hc.SetHeader("ETag", tag)
		return err
	}
	return nil
}

// opaqueTag is an entity tag without W/ and quotes, as the conditional
// package compares them.
func opaqueTag(tag string) string {
	return strings.Trim(strings.TrimPrefix(tag, "W/"), `"`)
}

// headerList returns the members of a list header over all its lines
// ("a", "b" and a second line "c" give three).
func headerList(hc huma.Context, name string) []string {
	r, _ := humago.Unwrap(hc)
	var out []string
	for _, line := range r.Header.Values(name) {
		for item := range strings.SplitSeq(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// ifMatchVersion returns the version a change may be based on, from
// If-Match: one ETag ("3", W/"3", or a bare 3 for hand-written requests), a
// list of them, or * (any current version). The library then refuses the
// change if the resource is no longer at that version, so that the check
// and the write are one. current reads the resource's version when the
// header alone does not say which one to base the change on.
func ifMatchVersion(ctx context.Context, what string, current func() (int, error)) (int, error) {
	hc := humaContext(ctx)
	if hc == nil {
		return 0, errors.New("httpapi: no request context")
	}
	tags := headerList(hc, "If-Match")
	if len(tags) == 0 {
		p := problemOf(http.StatusPreconditionRequired, "problem.ifMatchRequired")
		p.Errors = []ProblemField{headerField(ctx, "If-Match", "required", "")}
		return 0, p
	}
	anyVersion := false
	versions := make([]int, 0, len(tags))
	for _, t := range tags {
		if t == "*" {
			anyVersion = true
			continue
		}
		v, err := strconv.Atoi(opaqueTag(t))
		if err != nil || v <= 0 || strconv.Itoa(v) != opaqueTag(t) {
			p := newProblem(http.StatusBadRequest, `If-Match must be `+what+` ETag, e.g. "3", a list of them, or *`)
			p.Errors = []ProblemField{headerField(ctx, "If-Match", "version", "")}
			return 0, p
		}
		versions = append(versions, v)
	}
	if !anyVersion && len(versions) == 1 {
		return versions[0], nil
	}
	v, err := current()
	if err != nil {
		return 0, err
	}
	if anyVersion {
		return v, nil
	}
	params := conditional.Params{IfMatch: tags}
	params.Resolve(hc)
	if err := params.PreconditionFailed(strconv.Itoa(v), time.Time{}); err != nil {
		return 0, err
	}
	return v, nil
}

// etagField returns the index of an output's ETag header field, or nil.
func etagField(t reflect.Type) []int {
	if t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("header") == "ETag" && f.Type.Kind() == reflect.String {
			return f.Index
		}
	}
	return nil
}

// fieldLocator says where in the request each field the library names came
// from: "loginEmail" was body.loginEmail, "cursor" query.cursor,
// "idempotencyKey" header.Idempotency-Key.
type fieldLocator struct {
	explicit map[string]string // the library's field: location with the request's name
	known    map[string]string // normalised request name: location with the request's name
	fallback string            // for fields the input does not name
}

// locatorFor reads an input type's fields: path, query and header
// parameters by their tags, the Body's members by their JSON names.
func locatorFor(t reflect.Type) fieldLocator {
	l := fieldLocator{explicit: map[string]string{}, known: map[string]string{}}
	var hasBody, hasQuery, hasPath bool
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			for _, in := range []string{"path", "query", "header"} {
				name, _, _ := strings.Cut(f.Tag.Get(in), ",")
				if name == "" {
					continue
				}
				hasQuery = hasQuery || in == "query"
				hasPath = hasPath || in == "path"
				l.known[normalise(name)] = in + "." + name
			}
			if f.Name == "Body" {
				hasBody = true
				bt := f.Type
				for bt.Kind() == reflect.Pointer {
					bt = bt.Elem()
				}
				if bt.Kind() == reflect.Struct {
					defer func() { // the body's members win over parameters of the same name
						for name := range jsonFields(bt) {
							l.known[normalise(name)] = "body." + name
						}
					}()
				}
			}
		}
	}
	walk(t)
	switch {
	case hasBody:
		l.fallback = "body"
	case hasQuery:
		l.fallback = "query"
	case hasPath:
		l.fallback = "path"
	default:
		l.fallback = "query"
	}
	return l
}

// normalise makes "idempotencyKey" and "Idempotency-Key" the same name.
func normalise(name string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(name))
}

// locate returns where field (a path such as "phones[0].number") was and
// its name in the request.
func (l fieldLocator) locate(field string) (location, name string) {
	if field == "" {
		return l.fallback, ""
	}
	top := field
	if i := strings.IndexAny(field, ".["); i >= 0 {
		top = field[:i]
	}
	rest := field[len(top):]
	to, ok := l.explicit[field]
	if ok {
		rest = ""
	} else if to, ok = l.explicit[top]; !ok {
		to, ok = l.known[normalise(top)]
	}
	if !ok {
		return l.fallback + "." + field, field
	}
	_, name, _ = strings.Cut(to, ".")
	return to + rest, name + rest
}

// headerField is a failing request header in the caller's language.
func headerField(ctx context.Context, name, code, param string) ProblemField {
	return ProblemField{Location: "header." + name, Field: name, Code: code, Param: param,
		Message: name + " " + messageFor(ctx, code, param)}
}

type humaContextKey struct{}

// keepContext is the middleware that lets the registration helper reach
// the request's huma.Context from a handler's context.Context.
func keepContext(ctx huma.Context, next func(huma.Context)) {
	next(huma.WithValue(ctx, humaContextKey{}, ctx))
}

func humaContext(ctx context.Context) huma.Context {
	hc, _ := ctx.Value(humaContextKey{}).(huma.Context)
	return hc
}
