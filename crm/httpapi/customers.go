package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type customerPath struct {
	ID string `path:"id" doc:"The customer's id (a UUID)."`
}

type customerOutput struct {
	// ETag is the customer's version, to send back in If-Match when changing it.
	ETag string `header:"ETag"`
	Body *crm.Customer
}

type createdCustomerOutput struct {
	ETag string `header:"ETag"`
	Body *crm.Customer
}

func customerResponse(c *crm.Customer) *customerOutput {
	return &customerOutput{ETag: etag(c.Version), Body: c}
}

// etag renders a version as a strong entity tag: "3".
func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// CustomerQuery is crm.CustomerFilter as a query string, the form the list,
// count and segment routes read. Lists of ids are comma-separated:
// ?tag=ID1,ID2&tagNone=ID3. Consent conditions are purpose:state, repeated
// or comma-separated: ?consent=newsletter:granted&consent=post:notWithdrawn.
type CustomerQuery struct {
	Name             string    `query:"name" doc:"Name part prefix (first, middle, last name or company), without regard to case or accents: muller finds Müller."`
	NameContains     string    `query:"nameContains" doc:"Text anywhere in the name or company, at least 3 characters, without regard to case or accents."`
	Email            string    `query:"email" doc:"Any of the customer's addresses: login, correspondence or alternative."`
	Phone            string    `query:"phone" doc:"Any of the customer's numbers, in any format the organisation's country reads."`
	BirthDate        string    `query:"birthDate" format:"date" doc:"Birth date, YYYY-MM-DD."`
	Number           int64     `query:"number" minimum:"1" doc:"Customer number."`
	Status           string    `query:"status" enum:"lead,prospect,customer,inactive"`
	Origin           string    `query:"origin"`
	Language         string    `query:"language" doc:"BCP 47 tag; nl also finds nl-BE."`
	AssignedTo       string    `query:"assignedTo" doc:"The staff user responsible."`
	FirstContactFrom string    `query:"firstContactFrom" format:"date" doc:"First contact on or after this day."`
	FirstContactTo   string    `query:"firstContactTo" format:"date" doc:"First contact on or before this day."`
	CreatedFrom      time.Time `query:"createdFrom" doc:"Created at or after (RFC 3339)."`
	CreatedTo        time.Time `query:"createdTo" doc:"Created before (RFC 3339)."`
	Tag              []string  `query:"tag" doc:"Carries any of these tags (ids). An id that is not one of the organisation's tags is 422 naming query.tags.any[i]; the same holds for every id parameter."`
	TagAll           []string  `query:"tagAll" doc:"Carries all of these tags."`
	TagNone          []string  `query:"tagNone" doc:"Carries none of these tags."`
	Attribute        []string  `query:"attribute" doc:"Has any of these attributes (ids)."`
	AttributeAll     []string  `query:"attributeAll" doc:"Has all of these attributes."`
	AttributeNone    []string  `query:"attributeNone" doc:"Has none of these attributes."`
	Membership       string    `query:"membership" doc:"Holds or shares a membership of this label (id) that is active today."`
	Consent          []string  `query:"consent,explode" doc:"Consent conditions purpose:state, each of which must hold: state is granted, withdrawn, never (never asked, or only a pending sign-up) or notWithdrawn (granted or never: everyone who did not object). Repeat the parameter or separate conditions by commas: ?consent=newsletter:granted&consent=post:withdrawn. At most 20."`
	Sort             string    `query:"sort" enum:"number,name,created,-created" doc:"Order: number (default), name (in the organisation's language), created, -created (newest first)."`
	BookingQuery
}

// Filter returns the query as a crm.CustomerFilter; a malformed date is a
// *crm.ValidationError naming its parameter.
func (q *CustomerQuery) Filter() (crm.CustomerFilter, error) {
	f := crm.CustomerFilter{
		Name: q.Name, NameContains: q.NameContains, Email: q.Email, Phone: q.Phone, Number: q.Number,
		Status: crm.CustomerStatus(q.Status), Origin: q.Origin, Language: q.Language, AssignedTo: q.AssignedTo,
		CreatedFrom: q.CreatedFrom, CreatedTo: q.CreatedTo,
		Tags:       crm.QualifierFilter{Any: q.Tag, All: q.TagAll, None: q.TagNone},
		Attributes: crm.QualifierFilter{Any: q.Attribute, All: q.AttributeAll, None: q.AttributeNone},
		Membership: q.Membership, Sort: crm.CustomerSort(q.Sort), Consents: consentConditions(q.Consent),
	}
	var bad []crm.FieldError
	f.Bookings, bad = q.BookingQuery.filter()
	for _, d := range []struct {
		field string
		value string
		dst   **crm.Date
	}{{"birthDate", q.BirthDate, &f.BirthDate}, {"firstContactFrom", q.FirstContactFrom, &f.FirstContactFrom},
		{"firstContactTo", q.FirstContactTo, &f.FirstContactTo}} {
		if d.value == "" {
			continue
		}
		date, err := crm.ParseDate(d.value)
		if err != nil {
			bad = append(bad, crm.FieldError{Field: d.field, Code: "date", Message: d.field + " is not a date (YYYY-MM-DD)"})
			continue
		}
		*d.dst = &date
	}
	if bad != nil {
		return f, &crm.ValidationError{Fields: bad}
	}
	return f, nil
}

// consentConditions reads purpose:state conditions. A condition without a
// state gets none, which the filter's validation names
// (consents[i].state), as it names an unknown purpose.
func consentConditions(values []string) []crm.ConsentCondition {
	var out []crm.ConsentCondition
	for _, v := range values {
		for _, cond := range strings.Split(v, ",") {
			purpose, state, _ := strings.Cut(strings.TrimSpace(cond), ":")
			out = append(out, crm.ConsentCondition{Purpose: strings.TrimSpace(purpose), State: crm.ConsentState(strings.TrimSpace(state))})
		}
	}
	return out
}

type listCustomersInput struct {
	CustomerQuery
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type countOutput struct {
	Body struct {
		Count int64 `json:"count"`
	}
}

type customerPageOutput = bodyOutput[crm.Page[crm.Customer]]

type createCustomerInput struct {
	Body crm.CustomerFields
}

type patchCustomerInput struct {
	ID      string `path:"id" doc:"The customer's id (a UUID)."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version the change is based on (\"3\"), a list of them, or * for whatever version is current. A stale one gets 412."`
	Body    crm.CustomerPatch
}

type customerNumberPath struct {
	Number int64 `path:"number" doc:"The customer number."`
}

type altEmailInput struct {
	ID   string `path:"id" doc:"The customer's id (a UUID)."`
	Body struct {
		Email string `json:"email" required:"true" doc:"The address to add."`
	}
}

type altEmailPath struct {
	ID    string `path:"id" doc:"The customer's id (a UUID)."`
	Email string `path:"email" doc:"The address to remove, compared without regard to case."`
}

func (s *server) registerCustomers() {
	tags := []string{"Customers"}
	create(s, huma.Operation{
		OperationID: "createCustomer", Method: http.MethodPost, Path: "/v1/customers", Tags: tags,
		Summary:     "Create a customer",
		Description: "Needs a name, a company or an e-mail address. Language defaults to the organisation's, status to customer, first contact to today.",
	}, func(o *createdCustomerOutput) string { return "/v1/customers/" + o.Body.ID },
		func(ctx context.Context, in *createCustomerInput) (*createdCustomerOutput, error) {
			c, err := s.crm.Customers.Create(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return &createdCustomerOutput{ETag: etag(c.Version), Body: c}, nil
		})

	register(s, huma.Operation{
		OperationID: "listCustomers", Method: http.MethodGet, Path: "/v1/customers", Tags: tags,
		Summary:     "List and find customers",
		Description: "Customers by number, filtered by every parameter given (they combine with AND). Pages with a cursor: pass the previous page's next.",
	}, func(ctx context.Context, in *listCustomersInput) (*customerPageOutput, error) {
		f, err := in.Filter()
		if err != nil {
			return nil, err
		}
		return reply(s.crm.Customers.List(ctx, f, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	}, bookingQueryFields...)

	register(s, huma.Operation{
		OperationID: "countCustomers", Method: http.MethodGet, Path: "/v1/customers/count", Tags: tags,
		Summary: "Count the customers a filter selects",
	}, func(ctx context.Context, in *CustomerQuery) (*countOutput, error) {
		f, err := in.Filter()
		if err != nil {
			return nil, err
		}
		n, err := s.crm.Customers.Count(ctx, f)
		if err != nil {
			return nil, err
		}
		out := &countOutput{}
		out.Body.Count = n
		return out, nil
	}, bookingQueryFields...)

	register(s, huma.Operation{
		OperationID: "getCustomer", Method: http.MethodGet, Path: "/v1/customers/{id}", Tags: tags,
		Summary: "Get a customer by id",
	}, func(ctx context.Context, in *customerPath) (*customerOutput, error) {
		c, err := s.crm.Customers.Get(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return customerResponse(c), nil
	})

	register(s, huma.Operation{
		OperationID: "getCustomerByNumber", Method: http.MethodGet, Path: "/v1/customer-numbers/{number}", Tags: tags,
		Summary: "Get a customer by customer number",
	}, func(ctx context.Context, in *customerNumberPath) (*customerOutput, error) {
		c, err := s.crm.Customers.GetByNumber(ctx, in.Number)
		if err != nil {
			return nil, err
		}
		return customerResponse(c), nil
	})

	register(s, huma.Operation{
		OperationID: "updateCustomer", Method: http.MethodPatch, Path: "/v1/customers/{id}", Tags: tags,
		Summary: "Change a customer",
		Description: "A JSON merge patch: members left out stay, members set to null are cleared, and in customFields a key set to null removes its value. " +
			"If-Match must carry the ETag you read; when someone changed the customer since, the answer is 412 and nothing is written. " +
			"Without If-Match the answer is 428.",
	}, func(ctx context.Context, in *patchCustomerInput) (*customerOutput, error) {
		version, err := ifMatchVersion(ctx, "the customer's", func() (int, error) {
			c, err := s.crm.Customers.Get(ctx, in.ID)
			if err != nil {
				return 0, err
			}
			return c.Version, nil
		})
		if err != nil {
			return nil, err
		}
		c, err := s.crm.Customers.Update(ctx, in.ID, version, in.Body)
		if err != nil {
			return nil, err
		}
		return customerResponse(c), nil
	})

	register(s, huma.Operation{
		OperationID: "deleteCustomer", Method: http.MethodDelete, Path: "/v1/customers/{id}", Tags: tags,
		Summary:     "Delete a customer",
		Description: "Removes the customer and its timeline; one customer.deleted event without personal data stays.",
	}, func(ctx context.Context, in *customerPath) (*struct{}, error) {
		return nil, s.crm.Customers.Delete(ctx, in.ID)
	})

	register(s, huma.Operation{
		OperationID: "addCustomerAltEmail", Method: http.MethodPost, Path: "/v1/customers/{id}/alt-emails", Tags: tags,
		Summary:     "Add an alternative e-mail address",
		Description: "Needs no If-Match: adding one address cannot overwrite another change. An address the customer already has is 409.",
	}, func(ctx context.Context, in *altEmailInput) (*customerOutput, error) {
		c, err := s.crm.Customers.AddAltEmail(ctx, in.ID, in.Body.Email)
		if err != nil {
			return nil, err
		}
		return customerResponse(c), nil
	})

	register(s, huma.Operation{
		OperationID: "removeCustomerAltEmail", Method: http.MethodDelete, Path: "/v1/customers/{id}/alt-emails/{email}", Tags: tags,
		Summary: "Remove an alternative e-mail address",
	}, func(ctx context.Context, in *altEmailPath) (*customerOutput, error) {
		c, err := s.crm.Customers.RemoveAltEmail(ctx, in.ID, in.Email)
		if err != nil {
			return nil, err
		}
		return customerResponse(c), nil
	})
}
