package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type labelPath struct {
	ID string `path:"id" doc:"The label's id."`
}

type labelOutput = bodyOutput[*crm.Label]

type labelListOutput struct {
	Body struct {
		Items []crm.Label `json:"items"`
	}
}

type defineLabelInput struct {
	Body crm.NewLabel
}

type updateLabelInput struct {
	ID   string `path:"id" doc:"The label's id."`
	Body crm.LabelPatch
}

type customerLabelsOutput struct {
	Body struct {
		Items []crm.CustomerLabel `json:"items"`
	}
}

type assignLabelInput struct {
	ID   string `path:"id" doc:"The customer's id."`
	Body struct {
		LabelID string `json:"labelId" required:"true" doc:"A label that is not a membership type."`
	}
}

type customerLabelPath struct {
	ID      string `path:"id" doc:"The customer's id."`
	LabelID string `path:"labelId" doc:"The label's id."`
}

type benefitUseInput struct {
	ID      string `path:"id" doc:"The customer's id."`
	LabelID string `path:"labelId" doc:"The label's id."`
	Body    struct {
		Note    string `json:"note,omitempty" maxLength:"500" doc:"What the benefit was used for."`
		Channel string `json:"channel,omitempty" enum:"box_office,online" doc:"Where the benefit was used: box_office or online."`
	}
}

type benefitUseOutput struct {
	Body struct {
		BenefitUses int `json:"benefitUses" doc:"How often the customer has used the label's benefit, this use included."`
	}
}

type membershipPath struct {
	ID string `path:"id" doc:"The membership's id."`
}

type membershipOutput = bodyOutput[*crm.Membership]

type membershipListOutput struct {
	Body struct {
		Items []crm.Membership `json:"items"`
	}
}

type startMembershipInput struct {
	Body crm.NewMembership
}

type renewMembershipInput struct {
	ID   string `path:"id" doc:"The membership's id."`
	Body struct {
		EndsOn crm.Date `json:"endsOn" required:"true" doc:"The new last day; later than the current one."`
	}
}

type membershipCustomerInput struct {
	ID   string `path:"id" doc:"The membership's id."`
	Body struct {
		CustomerID string `json:"customerId" required:"true" doc:"The customer."`
	}
}

type membershipSharePath struct {
	ID         string `path:"id" doc:"The membership's id."`
	CustomerID string `path:"customerId" doc:"The customer it is shared with."`
}

func (s *server) registerLabels() {
	tags := []string{"Labels and memberships"}
	labels := s.crm.Labels
	register(s, huma.Operation{
		OperationID: "listLabels", Method: http.MethodGet, Path: "/v1/labels", Tags: tags,
		Summary: "List the organisation's labels and membership types",
	}, func(ctx context.Context, _ *struct{}) (*labelListOutput, error) {
		ls, err := labels.List(ctx)
		if err != nil {
			return nil, err
		}
		out := &labelListOutput{}
		out.Body.Items = nonNil(ls)
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "defineLabel", Method: http.MethodPost, Path: "/v1/labels", Tags: tags,
		Summary:     "Define a label or a membership type",
		Description: "A label may carry benefits. A membership type (membership: true) is given through memberships, not assigned.",
	}, func(o *labelOutput) string { return "/v1/labels/" + o.Body.ID },
		func(ctx context.Context, in *defineLabelInput) (*labelOutput, error) {
			return reply(labels.Define(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getLabel", Method: http.MethodGet, Path: "/v1/labels/{id}", Tags: tags,
		Summary: "Get a label or membership type",
	}, func(ctx context.Context, in *labelPath) (*labelOutput, error) {
		ls, err := labels.List(ctx)
		return reply(find(ls, err, func(l *crm.Label) bool { return l.ID == in.ID }))
	})
	register(s, huma.Operation{
		OperationID: "updateLabel", Method: http.MethodPatch, Path: "/v1/labels/{id}", Tags: tags,
		Summary: "Change a label's name, benefits or colour",
	}, func(ctx context.Context, in *updateLabelInput) (*labelOutput, error) {
		return reply(labels.Update(ctx, in.ID, in.Body))
	})
	register(s, huma.Operation{
		OperationID: "deleteLabel", Method: http.MethodDelete, Path: "/v1/labels/{id}", Tags: tags,
		Summary: "Delete a label with its assignments, memberships and benefit uses (each customer's timeline records it)",
	}, func(ctx context.Context, in *labelPath) (*struct{}, error) {
		return nil, labels.Delete(ctx, in.ID)
	})
	register(s, huma.Operation{
		OperationID: "listCustomerLabels", Method: http.MethodGet, Path: "/v1/customers/{id}/labels", Tags: tags,
		Summary: "The labels a customer carries today: assigned ones and those of active memberships",
	}, func(ctx context.Context, in *customerPath) (*customerLabelsOutput, error) {
		ls, err := labels.Of(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &customerLabelsOutput{}
		out.Body.Items = nonNil(ls)
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "assignCustomerLabel", Method: http.MethodPost, Path: "/v1/customers/{id}/labels", Tags: tags,
		Summary: "Give a customer a label", DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *assignLabelInput) (*struct{}, error) {
		return nil, labels.Assign(ctx, in.ID, in.Body.LabelID)
	})
	register(s, huma.Operation{
		OperationID: "unassignCustomerLabel", Method: http.MethodDelete, Path: "/v1/customers/{id}/labels/{labelId}", Tags: tags,
		Summary: "Take an assigned label off a customer",
	}, func(ctx context.Context, in *customerLabelPath) (*struct{}, error) {
		return nil, labels.Unassign(ctx, in.ID, in.LabelID)
	})
	register(s, huma.Operation{
		OperationID: "useCustomerLabelBenefit", Method: http.MethodPost, Path: "/v1/customers/{id}/labels/{labelId}/benefit-uses", Tags: tags,
		Summary:     "Record a use of a label's benefit",
		Description: "The customer must carry the label today (assigned or through an active membership), else 409.",
	}, func(ctx context.Context, in *benefitUseInput) (*benefitUseOutput, error) {
		n, err := labels.UseBenefitVia(ctx, in.ID, in.LabelID, crm.BenefitChannel(in.Body.Channel), in.Body.Note)
		if err != nil {
			return nil, err
		}
		out := &benefitUseOutput{}
		out.Body.BenefitUses = n
		return out, nil
	})

	register(s, huma.Operation{
		OperationID: "listCustomerMemberships", Method: http.MethodGet, Path: "/v1/customers/{id}/memberships", Tags: tags,
		Summary: "The memberships a customer holds or shares, expired and cancelled ones included",
	}, func(ctx context.Context, in *customerPath) (*membershipListOutput, error) {
		ms, err := labels.Memberships(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &membershipListOutput{}
		out.Body.Items = nonNil(ms)
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "startMembership", Method: http.MethodPost, Path: "/v1/memberships", Tags: tags,
		Summary:     "Start a membership",
		Description: "The label must be a membership type. startsOn defaults to today; the label shows from startsOn to endsOn, both included.",
	}, func(o *membershipOutput) string { return "/v1/memberships/" + o.Body.ID },
		func(ctx context.Context, in *startMembershipInput) (*membershipOutput, error) {
			return reply(labels.StartMembership(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getMembership", Method: http.MethodGet, Path: "/v1/memberships/{id}", Tags: tags,
		Summary: "Get a membership",
	}, func(ctx context.Context, in *membershipPath) (*membershipOutput, error) {
		return reply(labels.Membership(ctx, in.ID))
	})
	membershipChange := func(id, path, summary, location string, change func(ctx context.Context, id string) (*crm.Membership, error)) {
		register(s, huma.Operation{OperationID: id, Method: http.MethodPost, Path: path, Tags: tags, Summary: summary},
			func(ctx context.Context, in *membershipPath) (*membershipOutput, error) {
				return reply(change(ctx, in.ID))
			})
	}
	membershipChange("cancelMembership", "/v1/memberships/{id}/cancel",
		"Cancel a membership: its label disappears at once for the holder and everyone it is shared with", "path",
		labels.CancelMembership)
	register(s, huma.Operation{
		OperationID: "renewMembership", Method: http.MethodPost, Path: "/v1/memberships/{id}/renew", Tags: tags,
		Summary: "Renew a membership until a later day",
	}, func(ctx context.Context, in *renewMembershipInput) (*membershipOutput, error) {
		return reply(labels.RenewMembership(ctx, in.ID, in.Body.EndsOn))
	})
	register(s, huma.Operation{
		OperationID: "shareMembership", Method: http.MethodPost, Path: "/v1/memberships/{id}/shares", Tags: tags,
		Summary: "Share a membership with another customer",
	}, func(ctx context.Context, in *membershipCustomerInput) (*membershipOutput, error) {
		return reply(labels.ShareMembership(ctx, in.ID, in.Body.CustomerID))
	})
	register(s, huma.Operation{
		OperationID: "unshareMembership", Method: http.MethodDelete, Path: "/v1/memberships/{id}/shares/{customerId}", Tags: tags,
		Summary: "Stop sharing a membership with a customer",
	}, func(ctx context.Context, in *membershipSharePath) (*membershipOutput, error) {
		return reply(labels.UnshareMembership(ctx, in.ID, in.CustomerID))
	})
	register(s, huma.Operation{
		OperationID: "giveAwayMembership", Method: http.MethodPost, Path: "/v1/memberships/{id}/give-away", Tags: tags,
		Summary:     "Give a membership to another customer",
		Description: "The customer becomes the holder; the giver loses it, the customers it is shared with keep it.",
	}, func(ctx context.Context, in *membershipCustomerInput) (*membershipOutput, error) {
		return reply(labels.GiveAwayMembership(ctx, in.ID, in.Body.CustomerID))
	})
}

// nonNil turns a nil slice into an empty one, so that lists are [] in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
