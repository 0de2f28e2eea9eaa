package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type qualifierPath struct {
	ID string `path:"id" doc:"The definition's id."`
}

type qualifierOutput = bodyOutput[*crm.Qualifier]

type qualifierListOutput struct {
	Body struct {
		Items []crm.Qualifier `json:"items"`
	}
}

func qualifierList(items []crm.Qualifier) *qualifierListOutput {
	out := &qualifierListOutput{}
	out.Body.Items = items
	if out.Body.Items == nil {
		out.Body.Items = []crm.Qualifier{}
	}
	return out
}

type defineQualifierInput struct {
	Body crm.NewQualifier
}

type updateQualifierInput struct {
	ID   string `path:"id" doc:"The definition's id."`
	Body crm.QualifierPatch
}

type customerQualifiersInput struct {
	ID   string `path:"id" doc:"The customer's id."`
	Body struct {
		IDs []string `json:"ids" required:"true" minItems:"1" maxItems:"100" doc:"The ids to add."`
	}
}

type customerQualifierPath struct {
	ID          string `path:"id" doc:"The customer's id."`
	QualifierID string `path:"qualifierId" doc:"The id to take off."`
}

// registerQualifiers adds the routes of one kind of qualifier: its
// definitions under /v1/{plural} and a customer's under
// /v1/customers/{id}/{plural}.
func (s *server) registerQualifiers(svc *crm.QualifierService, plural, singular, tag, about string) {
	tags := []string{tag}
	register(s, huma.Operation{
		OperationID: "list" + tag, Method: http.MethodGet, Path: "/v1/" + plural, Tags: tags,
		Summary: "List the organisation's " + plural,
	}, func(ctx context.Context, _ *struct{}) (*qualifierListOutput, error) {
		qs, err := svc.List(ctx)
		if err != nil {
			return nil, err
		}
		return qualifierList(qs), nil
	})
	create(s, huma.Operation{
		OperationID: "define" + singular, Method: http.MethodPost, Path: "/v1/" + plural, Tags: tags,
		Summary: "Define a " + singular, Description: about,
	}, func(o *qualifierOutput) string { return "/v1/" + plural + "/" + o.Body.ID },
		func(ctx context.Context, in *defineQualifierInput) (*qualifierOutput, error) {
			return reply(svc.Define(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "get" + singular, Method: http.MethodGet, Path: "/v1/" + plural + "/{id}", Tags: tags,
		Summary: "Get a " + singular,
	}, func(ctx context.Context, in *qualifierPath) (*qualifierOutput, error) {
		qs, err := svc.List(ctx)
		return reply(find(qs, err, func(q *crm.Qualifier) bool { return q.ID == in.ID }))
	})
	register(s, huma.Operation{
		OperationID: "update" + singular, Method: http.MethodPatch, Path: "/v1/" + plural + "/{id}", Tags: tags,
		Summary: "Rename, recolour or move a " + singular + "; every customer carrying it shows the change",
	}, func(ctx context.Context, in *updateQualifierInput) (*qualifierOutput, error) {
		return reply(svc.Update(ctx, in.ID, in.Body))
	})
	register(s, huma.Operation{
		OperationID: "delete" + singular, Method: http.MethodDelete, Path: "/v1/" + plural + "/{id}", Tags: tags,
		Summary: "Delete a " + singular + " and take it off every customer (each timeline records it)",
	}, func(ctx context.Context, in *qualifierPath) (*struct{}, error) {
		return nil, svc.Delete(ctx, in.ID)
	})
	register(s, huma.Operation{
		OperationID: "listCustomer" + tag, Method: http.MethodGet, Path: "/v1/customers/{id}/" + plural, Tags: tags,
		Summary: "The " + plural + " a customer carries",
	}, func(ctx context.Context, in *customerPath) (*qualifierListOutput, error) {
		qs, err := svc.Of(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return qualifierList(qs), nil
	})
	register(s, huma.Operation{
		OperationID: "addCustomer" + tag, Method: http.MethodPost, Path: "/v1/customers/{id}/" + plural, Tags: tags,
		Summary: "Give a customer " + plural, Description: about + " Ones the customer carries already stay as they are.",
	}, func(ctx context.Context, in *customerQualifiersInput) (*qualifierListOutput, error) {
		qs, err := svc.Add(ctx, in.ID, in.Body.IDs...)
		if err != nil {
			return nil, err
		}
		return qualifierList(qs), nil
	})
	register(s, huma.Operation{
		OperationID: "removeCustomer" + singular, Method: http.MethodDelete, Path: "/v1/customers/{id}/" + plural + "/{qualifierId}", Tags: tags,
		Summary: "Take a " + singular + " off a customer",
	}, func(ctx context.Context, in *customerQualifierPath) (*qualifierListOutput, error) {
		qs, err := svc.Remove(ctx, in.ID, in.QualifierID)
		if err != nil {
			return nil, err
		}
		return qualifierList(qs), nil
	})
}
