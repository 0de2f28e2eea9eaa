package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type inquiryOutput struct {
	// ETag is the inquiry's version, to send back in If-Match when changing it.
	ETag string `header:"ETag"`
	Body *crm.Inquiry
}

func inquiryResponse(q *crm.Inquiry) *inquiryOutput {
	return &inquiryOutput{ETag: etag(q.Version), Body: q}
}

type inquiryPath struct {
	ID string `path:"id" doc:"The inquiry's id (a UUID)."`
}

// InquiryQuery is crm.InquiryFilter as a query string.
type InquiryQuery struct {
	CustomerID  string   `query:"customerId" doc:"Inquiries of this customer."`
	HandlerID   string   `query:"handlerId" doc:"Inquiries this staff user handles."`
	Status      []string `query:"status" doc:"In any of these statuses (new, in_progress, offer_sent, won, lost, or the organisation's own)."`
	Open        bool     `query:"open" doc:"Only inquiries whose status is not final."`
	Overdue     bool     `query:"overdue" doc:"Only open inquiries planned before today."`
	PlannedFrom string   `query:"plannedFrom" format:"date" doc:"Planned on or after this day."`
	PlannedTo   string   `query:"plannedTo" format:"date" doc:"Planned on or before this day."`
	Search      string   `query:"search" doc:"Text in the title or destination, without regard to case or accents."`
}

// Filter returns the query as a crm.InquiryFilter; a malformed date is a
// *crm.ValidationError naming its parameter.
func (q *InquiryQuery) Filter() (crm.InquiryFilter, error) {
	f := crm.InquiryFilter{CustomerID: q.CustomerID, HandlerID: q.HandlerID, Open: q.Open, Overdue: q.Overdue, Search: q.Search}
	for _, st := range q.Status {
		f.Status = append(f.Status, crm.InquiryStatus(st))
	}
	var bad []crm.FieldError
	for _, d := range []struct {
		field, value string
		dst          **crm.Date
	}{{"plannedFrom", q.PlannedFrom, &f.PlannedFrom}, {"plannedTo", q.PlannedTo, &f.PlannedTo}} {
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

type listInquiriesInput struct {
	InquiryQuery
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type createInquiryInput struct {
	ID   string `path:"id" doc:"The customer's id (a UUID)."`
	Body crm.InquiryFields
}

type createCustomerInquiryInput struct {
	Body crm.NewCustomerInquiry
}

type patchInquiryInput struct {
	ID      string `path:"id" doc:"The inquiry's id (a UUID)."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version the change is based on (\"3\"), or *. A stale one gets 412."`
	Body    crm.InquiryPatch
}

type commentInput struct {
	ID   string `path:"id" doc:"The inquiry's id (a UUID)."`
	Body struct {
		Comment string `json:"comment" required:"true" doc:"The comment."`
	}
}

type inquiryEventsOutput struct {
	Body struct {
		Items []crm.InquiryEvent `json:"items"`
	}
}

type inquiryDueOutput struct {
	Body struct {
		Items []crm.Inquiry `json:"items"`
	}
}

func (s *server) registerInquiries() {
	tags := []string{"Inquiries"}
	inq := s.crm.Inquiries
	const seen = "Only inquiries the key's staff user may see exist for it: its own (as handler or creator), the company's, " +
		"those shown to it by name or to one of its departments; any other is 404, as one that does not exist."
	create(s, huma.Operation{
		OperationID: "createInquiry", Method: http.MethodPost, Path: "/v1/customers/{id}/inquiries", Tags: tags,
		Summary:     "Record a customer's inquiry",
		Description: "Status defaults to new, the handler to the key's staff user, visibility to company.",
	}, func(o *inquiryOutput) string { return "/v1/inquiries/" + o.Body.ID },
		func(ctx context.Context, in *createInquiryInput) (*inquiryOutput, error) {
			q, err := inq.Create(ctx, in.ID, in.Body)
			if err != nil {
				return nil, err
			}
			return inquiryResponse(q), nil
		}, fieldAt("customerId", "path.id"))
	create(s, huma.Operation{
		OperationID: "createCustomerInquiry", Method: http.MethodPost, Path: "/v1/customer-inquiries", Tags: tags,
		Summary: "Create a customer with its inquiry, in one transaction",
	}, func(o *bodyOutput[*crm.CustomerInquiry]) string { return "/v1/inquiries/" + o.Body.Inquiry.ID },
		func(ctx context.Context, in *createCustomerInquiryInput) (*bodyOutput[*crm.CustomerInquiry], error) {
			return reply(inq.CreateWithCustomer(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "listInquiries", Method: http.MethodGet, Path: "/v1/inquiries", Tags: tags,
		Summary: "List inquiries, newest first", Description: seen,
	}, func(ctx context.Context, in *listInquiriesInput) (*bodyOutput[crm.Page[crm.Inquiry]], error) {
		f, err := in.Filter()
		if err != nil {
			return nil, err
		}
		return reply(inq.List(ctx, f, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
	register(s, huma.Operation{
		OperationID: "countInquiries", Method: http.MethodGet, Path: "/v1/inquiries/count", Tags: tags,
		Summary: "Count inquiries", Description: seen,
	}, func(ctx context.Context, in *InquiryQuery) (*countOutput, error) {
		f, err := in.Filter()
		if err != nil {
			return nil, err
		}
		n, err := inq.Count(ctx, f)
		if err != nil {
			return nil, err
		}
		out := &countOutput{}
		out.Body.Count = n
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "dueInquiries", Method: http.MethodGet, Path: "/v1/inquiries/due", Tags: tags,
		Summary:     "My inquiries planned within three days or overdue",
		Description: "The open inquiries the key's staff user handles whose planned day is today, tomorrow, the day after, or has passed (flagged overdue).",
	}, func(ctx context.Context, _ *struct{}) (*inquiryDueOutput, error) {
		items, err := inq.Due(ctx)
		if err != nil {
			return nil, err
		}
		out := &inquiryDueOutput{}
		out.Body.Items = items
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "getInquiry", Method: http.MethodGet, Path: "/v1/inquiries/{id}", Tags: tags,
		Summary: "Get an inquiry", Description: seen,
	}, func(ctx context.Context, in *inquiryPath) (*inquiryOutput, error) {
		q, err := inq.Get(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return inquiryResponse(q), nil
	})
	register(s, huma.Operation{
		OperationID: "updateInquiry", Method: http.MethodPatch, Path: "/v1/inquiries/{id}", Tags: tags,
		Summary: "Change an inquiry", Description: "Every change is recorded in the inquiry's history. " + seen,
	}, func(ctx context.Context, in *patchInquiryInput) (*inquiryOutput, error) {
		version, err := ifMatchVersion(ctx, "the inquiry's", func() (int, error) {
			q, err := inq.Get(ctx, in.ID)
			if err != nil {
				return 0, err
			}
			return q.Version, nil
		})
		if err != nil {
			return nil, err
		}
		q, err := inq.Update(ctx, in.ID, version, in.Body)
		if err != nil {
			return nil, err
		}
		return inquiryResponse(q), nil
	})
	create(s, huma.Operation{
		OperationID: "commentInquiry", Method: http.MethodPost, Path: "/v1/inquiries/{id}/comments", Tags: tags,
		Summary: "Comment on an inquiry", Description: seen,
	}, func(o *bodyOutput[*crm.InquiryEvent]) string { return "/v1/inquiries/" + o.Body.InquiryID + "/history" },
		func(ctx context.Context, in *commentInput) (*bodyOutput[*crm.InquiryEvent], error) {
			return reply(inq.Comment(ctx, in.ID, in.Body.Comment))
		})
	register(s, huma.Operation{
		OperationID: "inquiryHistory", Method: http.MethodGet, Path: "/v1/inquiries/{id}/history", Tags: tags,
		Summary: "An inquiry's history: its creation, changes and comments, oldest first", Description: seen,
	}, func(ctx context.Context, in *inquiryPath) (*inquiryEventsOutput, error) {
		events, err := inq.History(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &inquiryEventsOutput{}
		out.Body.Items = events
		return out, nil
	})
}
