package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type customFieldKeyPath struct {
	Key string `path:"key" doc:"The field's key."`
}

type customFieldOutput = bodyOutput[*crm.CustomFieldDefinition]

type customFieldListOutput struct {
	Body struct {
		Items []crm.CustomFieldDefinition `json:"items"`
	}
}

type listCustomFieldsInput struct {
	IncludeArchived bool `query:"includeArchived" doc:"Also list archived fields."`
}

type defineCustomFieldInput struct {
	Body crm.NewCustomField
}

type updateCustomFieldInput struct {
	Key  string `path:"key" doc:"The field's key."`
	Body crm.CustomFieldPatch
}

func (s *server) registerCustomFields() {
	tags := []string{"Custom fields"}
	register(s, huma.Operation{
		OperationID: "listCustomFields", Method: http.MethodGet, Path: "/v1/custom-fields", Tags: tags,
		Summary: "List the organisation's custom fields in form order",
	}, func(ctx context.Context, in *listCustomFieldsInput) (*customFieldListOutput, error) {
		defs, err := s.crm.CustomFields.List(ctx, in.IncludeArchived)
		if err != nil {
			return nil, err
		}
		out := &customFieldListOutput{}
		out.Body.Items = defs
		if out.Body.Items == nil {
			out.Body.Items = []crm.CustomFieldDefinition{}
		}
		return out, nil
	})

	create(s, huma.Operation{
		OperationID: "defineCustomField", Method: http.MethodPost, Path: "/v1/custom-fields", Tags: tags,
		Summary:     "Define a custom field",
		Description: "A key used before, even by an archived field, is 409: restore that field instead.",
	}, func(o *customFieldOutput) string { return "/v1/custom-fields/" + o.Body.Key },
		func(ctx context.Context, in *defineCustomFieldInput) (*customFieldOutput, error) {
			return reply(s.crm.CustomFields.Define(ctx, in.Body))
		})

	register(s, huma.Operation{
		OperationID: "getCustomField", Method: http.MethodGet, Path: "/v1/custom-fields/{key}", Tags: tags,
		Summary: "Get a custom field's definition, archived or not",
	}, func(ctx context.Context, in *customFieldKeyPath) (*customFieldOutput, error) {
		defs, err := s.crm.CustomFields.List(ctx, true)
		return reply(find(defs, err, func(d *crm.CustomFieldDefinition) bool { return d.Key == in.Key }))
	})
	register(s, huma.Operation{
		OperationID: "updateCustomField", Method: http.MethodPatch, Path: "/v1/custom-fields/{key}", Tags: tags,
		Summary:     "Change a custom field's label, choices, required flag or position",
		Description: "The type cannot change: stored values would no longer match it.",
	}, func(ctx context.Context, in *updateCustomFieldInput) (*customFieldOutput, error) {
		return reply(s.crm.CustomFields.Update(ctx, in.Key, in.Body))
	})

	register(s, huma.Operation{
		OperationID: "archiveCustomField", Method: http.MethodPost, Path: "/v1/custom-fields/{key}/archive", Tags: tags,
		Summary:     "Archive a custom field",
		Description: "The field is no longer validated or writable; values customers hold stay stored and visible until restored or removed from the customer.",
	}, func(ctx context.Context, in *customFieldKeyPath) (*customFieldOutput, error) {
		return reply(s.crm.CustomFields.Archive(ctx, in.Key))
	})

	register(s, huma.Operation{
		OperationID: "restoreCustomField", Method: http.MethodPost, Path: "/v1/custom-fields/{key}/restore", Tags: tags,
		Summary: "Restore an archived custom field, with the values customers kept",
	}, func(ctx context.Context, in *customFieldKeyPath) (*customFieldOutput, error) {
		return reply(s.crm.CustomFields.Restore(ctx, in.Key))
	})
}
