package httpapi

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/dossiercrm/dossier/crm"
)

// oneClickInput is a mail program's one-click unsubscribe (RFC 8058): the
// secret in the List-Unsubscribe link's query, and the form body
// List-Unsubscribe=One-Click (application/x-www-form-urlencoded or
// multipart/form-data), read by Resolve.
type oneClickInput struct {
	Token string `query:"token" required:"true" maxLength:"200" doc:"The secret of the mail's List-Unsubscribe link."`

	oneClick string
	formErr  error
}

// Resolve implements huma.Resolver: it reads the form, bounded by the
// API's body limit.
func (in *oneClickInput) Resolve(ctx huma.Context) []error {
	r, _ := humago.Unwrap(ctx)
	err := r.ParseMultipartForm(32 << 10)
	if err != nil && !errors.Is(err, http.ErrNotMultipart) {
		in.formErr = err
		return nil
	}
	in.oneClick = r.PostFormValue("List-Unsubscribe")
	return nil
}

// oneClickForm is the request body of a one-click unsubscribe, for the
// OpenAPI document.
type oneClickForm struct {
	ListUnsubscribe string `json:"List-Unsubscribe" required:"true" enum:"One-Click" doc:"One-Click, as RFC 8058 has mail programs send it."`
}

// registerOneClickUnsubscribe adds POST /portal/v1/unsubscribe/one-click,
// the link of a mailing's List-Unsubscribe header
// (crm.Config.UnsubscribeOneClickURL).
func (s *server) registerOneClickUnsubscribe(tags []string) {
	const path = "/portal/v1/unsubscribe/one-click"
	register(s, huma.Operation{
		OperationID: "portalUnsubscribeOneClick", Method: http.MethodPost, Path: path, Tags: tags, Security: publicRoute,
		Summary: "One-click unsubscribe from a mail program (RFC 8058)",
		Description: "The target of a mailing's List-Unsubscribe header: a mail program POSTs the form List-Unsubscribe=One-Click " +
			"to the link, whose token query parameter is the mail's unsubscribe secret. It withdraws the consent the mailing was sent " +
			"under, as POST /portal/v1/unsubscribe does; the timeline records it with via one-click. Using it again changes nothing. " +
			"A body without List-Unsubscribe=One-Click is 422; an unknown secret 401.",
	}, func(ctx context.Context, in *oneClickInput) (*unsubscribeOutput, error) {
		if err := s.publicWait(ctx); err != nil {
			return nil, err
		}
		if _, want, _ := strings.Cut(crm.ListUnsubscribeOneClick, "="); in.formErr != nil || in.oneClick != want {
			return nil, formProblem("List-Unsubscribe", "oneClick", "post the form List-Unsubscribe=One-Click (RFC 8058)")
		}
		info, err := s.crm.Mailings.UnsubscribeOneClick(ctx, in.Token, s.evidence(ctx))
		return reply(info, s.publicFailure(ctx, err))
	})
	// huma describes no body for an input without one; the form is added
	// to the document after registration.
	schema := s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[oneClickForm](), true, "OneClickUnsubscribe")
	s.api.OpenAPI().Paths[path].Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"application/x-www-form-urlencoded": {Schema: schema}, "multipart/form-data": {Schema: schema}}}
}
