package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type recordInteractionInput struct {
	Body crm.NewInteraction
}

type interactionResultOutput = bodyOutput[*crm.InteractionResult]

type interactionPath struct {
	ID string `path:"id" doc:"The interaction's id (a UUID)."`
}

type customerInteractionsInput struct {
	ID     string `path:"id" doc:"The customer's id (a UUID)."`
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type itemsOutput[T any] struct {
	Body struct {
		Items []T `json:"items"`
	}
}

func items[T any](list []T, err error) (*itemsOutput[T], error) {
	if err != nil {
		return nil, err
	}
	out := &itemsOutput[T]{}
	out.Body.Items = list
	if out.Body.Items == nil {
		out.Body.Items = []T{}
	}
	return out, nil
}

type formKeyPath struct {
	Key string `path:"key" doc:"The form's key."`
}

type defineFormInput struct {
	Body crm.NewForm
}

type updateFormInput struct {
	Key  string `path:"key" doc:"The form's key."`
	Body crm.FormPatch
}

func (s *server) registerInteractions() {
	tags := []string{"Interactions"}
	create(s, huma.Operation{
		OperationID: "recordInteraction", Method: http.MethodPost, Path: "/v1/interactions", Tags: tags,
		Summary: "Record an interaction: a reservation, contact form, newsletter sign-up, review or anything a connected tool reports",
		Description: "Finds the customer (by the source's own id, then the login e-mail, then a correspondence or alternative e-mail, " +
			"then a phone number) or makes one, and says which: created, or matchedBy. The customer's empty fields are filled and " +
			"values interactions set before refreshed; values staff set are never replaced (docs/interactions.md). When the keys " +
			"point at different customers the e-mail's wins and the conflicts are listed. With form, the interaction is checked " +
			"against the organisation's form: a missing required field is 422 naming it.",
	}, func(o *interactionResultOutput) string { return "/v1/interactions/" + o.Body.Interaction.ID },
		func(ctx context.Context, in *recordInteractionInput) (*interactionResultOutput, error) {
			return reply(s.crm.Interactions.Record(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getInteraction", Method: http.MethodGet, Path: "/v1/interactions/{id}", Tags: tags,
		Summary: "Get an interaction with what it carried",
	}, func(ctx context.Context, in *interactionPath) (*bodyOutput[*crm.Interaction], error) {
		return reply(s.crm.Interactions.Get(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "listCustomerInteractions", Method: http.MethodGet, Path: "/v1/customers/{id}/interactions", Tags: tags,
		Summary: "A customer's interactions, newest first",
	}, func(ctx context.Context, in *customerInteractionsInput) (*bodyOutput[crm.Page[crm.Interaction]], error) {
		return reply(s.crm.Interactions.List(ctx, in.ID, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
	register(s, huma.Operation{
		OperationID: "listCustomerFieldOrigins", Method: http.MethodGet, Path: "/v1/customers/{id}/field-origins", Tags: tags,
		Summary: "Where each of a customer's field values came from (staff, import or an interaction's source) and when",
	}, func(ctx context.Context, in *customerPath) (*itemsOutput[crm.FieldOrigin], error) {
		return items(s.crm.Interactions.Origins(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "listCustomerMatchConflicts", Method: http.MethodGet, Path: "/v1/customers/{id}/match-conflicts", Tags: tags,
		Summary: "Other customers an incoming record's keys also pointed at (possible duplicates)",
	}, func(ctx context.Context, in *customerPath) (*itemsOutput[crm.MatchConflict], error) {
		return items(s.crm.Interactions.Conflicts(ctx, in.ID))
	})

	formTags := []string{"Forms"}
	register(s, huma.Operation{
		OperationID: "listForms", Method: http.MethodGet, Path: "/v1/forms", Tags: formTags,
		Summary: "List the organisation's forms",
	}, func(ctx context.Context, _ *struct{}) (*itemsOutput[crm.Form], error) {
		return items(s.crm.Forms.List(ctx))
	})
	create(s, huma.Operation{
		OperationID: "defineForm", Method: http.MethodPost, Path: "/v1/forms", Tags: formTags,
		Summary: "Define a form: which fields it collects and which it requires",
		Description: "Fields are firstName, middleName, lastName, company, emails, phones, language, address.street, " +
			"address.houseNumber, address.postalCode, address.city, address.country, birthDate, review, " +
			"customFields.<key> and consents.<purpose>.",
	}, func(o *bodyOutput[*crm.Form]) string { return "/v1/forms/" + o.Body.Key },
		func(ctx context.Context, in *defineFormInput) (*bodyOutput[*crm.Form], error) {
			return reply(s.crm.Forms.Define(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getForm", Method: http.MethodGet, Path: "/v1/forms/{key}", Tags: formTags,
		Summary: "Get a form",
	}, func(ctx context.Context, in *formKeyPath) (*bodyOutput[*crm.Form], error) {
		return reply(s.crm.Forms.Get(ctx, in.Key))
	})
	register(s, huma.Operation{
		OperationID: "updateForm", Method: http.MethodPatch, Path: "/v1/forms/{key}", Tags: formTags,
		Summary: "Change a form's name, kind or fields (a new field list replaces the old)",
	}, func(ctx context.Context, in *updateFormInput) (*bodyOutput[*crm.Form], error) {
		return reply(s.crm.Forms.Update(ctx, in.Key, in.Body))
	})
	register(s, huma.Operation{
		OperationID: "deleteForm", Method: http.MethodDelete, Path: "/v1/forms/{key}", Tags: formTags,
		Summary: "Delete a form; interactions recorded from it keep its key",
	}, func(ctx context.Context, in *formKeyPath) (*struct{}, error) {
		return nil, s.crm.Forms.Delete(ctx, in.Key)
	})
}
