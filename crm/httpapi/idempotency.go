package httpapi

import (
	"context"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/dossiercrm/dossier/crm"
)

// Idempotent creates. Every create (201) route takes an optional
// Idempotency-Key header. With it the handler runs inside crm.Idempotent:
// the key's record, the created resource and the answer (the output, as
// JSON) commit in one transaction. A repeat with the same key and the same
// request (the operation, its path parameters and its body, as parsed) is
// answered with the first answer, 201 with the same body and Location, and
// Idempotent-Replayed: true; nothing runs. The key with another request is
// 409, as is a repeat while the first call still runs. Keys are per
// organisation and remembered for crm.IdempotencyTTL.
//
// Not covered: routes whose input declares Idempotency-Key itself (the
// points writes keep the key in their ledger), routes without
// authentication (there is no organisation to keep the key in), and routes
// that read their body themselves (the upload: a stream can neither be
// hashed before it is read nor be read inside a transaction).

// idempotencyKeyDoc describes the header in the OpenAPI document.
const idempotencyKeyDoc = "Makes the create safe to repeat, e.g. after a connection reset: a repeat with the same key and the same request " +
	"(path parameters and body) is answered with the first answer (201, same body and Location, Idempotent-Replayed: true) and creates nothing; " +
	"the key with another request, or while the first request still runs, is 409. 1 to 255 printable ASCII characters, " +
	"unique per organisation; remembered for 24 hours. A request that fails keeps no key."

// idempotentRoute reports whether create adds the Idempotency-Key header
// to op, whose input is I.
func idempotentRoute[I any](op huma.Operation) bool {
	if op.Security != nil && len(op.Security) == 0 || op.MaxBodyBytes < 0 {
		return false
	}
	return !declaresHeader(reflect.TypeFor[I](), "Idempotency-Key")
}

// declaresHeader reports whether an input type reads header name itself.
func declaresHeader(t reflect.Type, name string) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if http.CanonicalHeaderKey(f.Tag.Get("header")) == name ||
			f.Anonymous && declaresHeader(f.Type, name) {
			return true
		}
	}
	return false
}

// idempotent wraps a create's handler: with an Idempotency-Key header it
// runs in crm.Idempotent, and a repeat gets the first answer. It documents
// the header and Idempotent-Replayed in op.
func idempotent[I, O any](s *server, op *huma.Operation, handler func(context.Context, *I) (*O, error)) func(context.Context, *I) (*O, error) {
	op.Parameters = append(op.Parameters, &huma.Param{Name: "Idempotency-Key", In: "header", Description: idempotencyKeyDoc,
		Schema: &huma.Schema{Type: huma.TypeString, MinLength: ptrTo(1), MaxLength: ptrTo(crm.MaxIdempotencyKey)}})
	op.Responses["201"].Headers["Idempotent-Replayed"] = &huma.Header{
		Description: "true when this answers a repeat with the same Idempotency-Key: the first answer, and nothing was created.",
		Schema:      &huma.Schema{Type: huma.TypeString}}
	operation := op.OperationID
	return func(ctx context.Context, in *I) (*O, error) {
		hc := humaContext(ctx)
		if hc == nil {
			return handler(ctx, in)
		}
		r, _ := humago.Unwrap(hc)
		keys := r.Header.Values("Idempotency-Key")
		if len(keys) == 0 {
			return handler(ctx, in)
		}
		out, replayed, err := crm.Idempotent(ctx, s.crm, crm.IdempotentCall{Key: keys[0], Operation: operation, Request: in},
			func(ctx context.Context) (*O, error) { return handler(ctx, in) })
		if replayed {
			hc.SetHeader("Idempotent-Replayed", "true")
		}
		return out, err
	}
}

func ptrTo(n int) *int { return &n }
