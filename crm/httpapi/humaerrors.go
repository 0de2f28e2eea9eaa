package httpapi

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/dossiercrm/dossier/crm/i18n"
)

// huma checks a request against the operation's schema before the handler
// runs (types, required members, ranges, unknown members and parameters)
// and answers failures with its own error model. The API's transformer
// (problemTransformer) turns that model into a Problem like every other:
// each failing field with a rule code, its parameter and a message from the
// crm/i18n catalogue in the caller's language. huma's own messages and the
// values it would echo (a whole body, for a malformed one) are not sent.

// humaRule maps one of huma's messages to a rule code. A message format's
// %v, %d or %s becomes the rule's parameter.
type humaRule struct {
	re   *regexp.Regexp
	code string
	// member: the parameter is the name of a member of the object at the
	// location (a required one), not a rule parameter.
	member bool
	// param is the rule's parameter when the message has none.
	param string
}

func rule(format, code string) humaRule {
	pattern := regexp.QuoteMeta(format)
	for _, verb := range []string{"%v", "%d", "%s"} {
		pattern = strings.ReplaceAll(pattern, verb, "(.*)")
	}
	return humaRule{re: regexp.MustCompile("^" + pattern + "$"), code: code}
}

func typeRule(format, typ string) humaRule {
	r := rule(format, "type")
	r.param = typ
	return r
}

// humaRules are tried in order; the first match wins.
var humaRules = func() []humaRule {
	required := rule(validation.MsgExpectedRequiredProperty, "required")
	required.member = true
	return []humaRule{
		required,
		rule(validation.MsgUnexpectedProperty, "unknownMember"),
		rule("unknown query parameter", "unknownParameter"),
		rule("required %s parameter is missing", "required"),
		rule("expected at most one value, but received multiple values", "single"),
		typeRule(validation.MsgExpectedBoolean, "boolean"),
		typeRule(validation.MsgExpectedNumber, "number"),
		typeRule(validation.MsgExpectedInteger, "integer"),
		typeRule(validation.MsgExpectedString, "string"),
		typeRule(validation.MsgExpectedArray, "array"),
		typeRule(validation.MsgExpectedObject, "object"),
		typeRule("invalid integer", "integer"),
		typeRule("invalid float", "number"),
		typeRule("invalid floating value", "number"),
		typeRule("invalid boolean", "boolean"),
		rule("invalid date/time for format %s", "dateTime"),
		rule(validation.MsgExpectedRFC3339DateTime, "dateTime"),
		rule(validation.MsgExpectedRFC3339Date, "date"),
		rule(validation.MsgExpectedRFC5322Email, "email"),
		rule(validation.MsgExpectedRFC2673IPv4, "ip"),
		rule(validation.MsgExpectedRFC2373IPv6, "ip"),
		rule(validation.MsgExpectedRFCIPAddr, "ip"),
		rule(validation.MsgExpectedRFC3986URI, "uri"),
		rule(validation.MsgExpectedRFC4122UUID, "uuid"),
		rule("invalid UUID format", "uuid"),
		rule(validation.MsgExpectedArrayItemsUnique, "duplicate"),
		rule(validation.MsgExpectedOneOf, "oneof"),
		rule(validation.MsgExpectedMinimumNumber, "minValue"),
		rule(validation.MsgExpectedExclusiveMinimumNumber, "gt"),
		rule(validation.MsgExpectedMaximumNumber, "maxValue"),
		rule(validation.MsgExpectedExclusiveMaximumNumber, "lt"),
		rule(validation.MsgExpectedNumberBeMultipleOf, "multipleOf"),
		rule(validation.MsgExpectedMinLength, "min"),
		rule(validation.MsgExpectedMaxLength, "max"),
		rule(validation.MsgExpectedMinItems, "minItems"),
		rule(validation.MsgExpectedMaxItems, "maxItems"),
		rule(validation.MsgExpectedMatchPattern, "pattern"),
		rule("If-Match precondition failed, %s", "precondition"),
		rule(validation.MsgExpectedBePattern, "pattern"),
	}
}()

// problemTransformer is the API's response transformer: it gives every
// problem the request's instance and turns huma's error model into a
// Problem. It is configured on this API only (huma.Config.Transformers),
// so no process-wide error constructor of huma is replaced.
func problemTransformer(ctx huma.Context, _ string, v any) (any, error) {
	switch e := v.(type) {
	case *huma.ErrorModel:
		return finishProblem(ctx.Context(), humaProblem(ctx, e)), nil
	case *Problem:
		return finishProblem(ctx.Context(), e), nil
	}
	return v, nil
}

// finishProblem sets what every problem of a request carries.
func finishProblem(ctx context.Context, p *Problem) *Problem {
	if info := requestInfoFrom(ctx); info != nil && info.id != "" {
		p.Instance = "urn:request:" + info.id
	}
	if p.detailKey != "" {
		p.Detail = messageFor(ctx, p.detailKey, "")
	}
	return p
}

// humaProblem converts huma's error model.
func humaProblem(ctx huma.Context, m *huma.ErrorModel) *Problem {
	lang := requestLanguage(ctx.Context())
	p := newProblem(m.Status, m.Detail)
	switch m.Status {
	case http.StatusUnprocessableEntity:
		p = problemOf(m.Status, "problem.invalid")
	case http.StatusBadRequest:
		p = problemOf(m.Status, "problem.malformed")
	case http.StatusUnsupportedMediaType:
		p = problemOf(m.Status, "problem.contentType")
	case http.StatusPreconditionFailed:
		p = problemOf(m.Status, "problem.stale")
	case http.StatusRequestEntityTooLarge:
		p = problemOf(m.Status, "problem.tooLarge")
		limit := strconv.FormatInt(ctx.Operation().MaxBodyBytes, 10)
		p.Errors = append(p.Errors, ProblemField{Location: "body", Code: "maxBytes", Param: limit,
			Message: "body " + i18n.Message(lang, "maxBytes", limit+" bytes")})
	}
	if m.Status >= 500 {
		// What huma says of a failure on the server's side is for its log.
		return problemOf(m.Status, "problem.internal")
	}
	for _, d := range m.Errors {
		p.Errors = append(p.Errors, humaField(lang, m.Status, d))
	}
	if info := requestInfoFrom(ctx.Context()); info != nil && m.Status == http.StatusUnprocessableEntity {
		p.Errors = append(p.Errors, info.invalid...)
	}
	return p
}

// humaField converts one of huma's error details.
func humaField(lang string, status int, d *huma.ErrorDetail) ProblemField {
	loc := d.Location
	if rest, ok := strings.CutPrefix(loc, "headers."); ok { // huma's conditional package says headers
		loc = "header." + rest
	}
	if loc == "" {
		loc = "body"
	}
	f := ProblemField{Location: loc, Code: "invalid"}
	switch {
	case loc == "body" && status == http.StatusUnsupportedMediaType:
		f.Location, f.Code, f.Param = "header.Content-Type", "contentType", "application/json"
	case loc == "body" && status == http.StatusBadRequest && d.Message != "request body is required":
		f.Code = "json"
	case d.Message == "request body is required":
		f.Code = "required"
	default:
		for _, r := range humaRules {
			m := r.re.FindStringSubmatch(d.Message)
			if m == nil {
				continue
			}
			f.Code, f.Param = r.code, r.param
			if len(m) > 1 {
				f.Param = m[1]
			}
			if r.member {
				f.Location += "." + f.Param
				f.Param = ""
			}
			break
		}
	}
	_, f.Field, _ = strings.Cut(f.Location, ".")
	name := f.Field
	if name == "" {
		name = f.Location
	}
	if f.Code == "oneof" {
		f.Param = strings.ReplaceAll(f.Param, `"`, "")
	}
	f.Message = name + " " + i18n.Message(lang, f.Code, f.Param)
	return f
}
