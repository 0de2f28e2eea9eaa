package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type pipelineStatusOutput = bodyOutput[*crm.PipelineStatus]

type pipelineStatusListOutput struct {
	Body struct {
		Items []crm.PipelineStatus `json:"items"`
	}
}

type definePipelineStatusInput struct {
	Body crm.NewPipelineStatus
}

type pipelineStatusPath struct {
	ID string `path:"id" maxLength:"40" doc:"The status's key (new, in_progress, ... or the organisation's own)."`
}

type updatePipelineStatusInput struct {
	ID   string `path:"id" maxLength:"40" doc:"The organisation's own status's key."`
	Body crm.PipelineStatusPatch
}

// pipelineKindSchema is how crm.PipelineKind appears in the OpenAPI document.
type pipelineKindSchema struct{}

// Schema implements huma.SchemaProvider.
func (pipelineKindSchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.PipelineOpen, crm.PipelineWon, crm.PipelineLost)
}

// registerInquiryStatuses serves the organisation's inquiry pipeline.
func (s *server) registerInquiryStatuses() {
	inq := s.crm.Inquiries
	tags := []string{"Inquiries"}
	register(s, huma.Operation{
		OperationID: "listInquiryStatuses", Method: http.MethodGet, Path: "/v1/inquiry-statuses", Tags: tags,
		Summary: "The organisation's inquiry pipeline: the built-in statuses, then its own (archived ones included)",
	}, func(ctx context.Context, _ *struct{}) (*pipelineStatusListOutput, error) {
		p, err := inq.Statuses(ctx)
		if err != nil {
			return nil, err
		}
		out := &pipelineStatusListOutput{}
		out.Body.Items = nonNil(p)
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "defineInquiryStatus", Method: http.MethodPost, Path: "/v1/inquiry-statuses", Tags: tags,
		Summary:     "Add a status of the organisation's own to the inquiry pipeline (administrators only)",
		Description: "kind says whether an inquiry in the status is still open or closed as won or lost; it cannot change later.",
	}, func(o *pipelineStatusOutput) string { return "/v1/inquiry-statuses/" + string(o.Body.ID) },
		func(ctx context.Context, in *definePipelineStatusInput) (*pipelineStatusOutput, error) {
			return reply(inq.DefineStatus(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getInquiryStatus", Method: http.MethodGet, Path: "/v1/inquiry-statuses/{id}", Tags: tags,
		Summary: "Get a status of the pipeline",
	}, func(ctx context.Context, in *pipelineStatusPath) (*pipelineStatusOutput, error) {
		p, err := inq.Statuses(ctx)
		return reply(find(p, err, func(st *crm.PipelineStatus) bool { return string(st.ID) == in.ID }))
	})
	register(s, huma.Operation{
		OperationID: "updateInquiryStatus", Method: http.MethodPatch, Path: "/v1/inquiry-statuses/{id}", Tags: tags,
		Summary: "Rename or archive a status of the organisation's own (administrators only); an archived status is offered for no new inquiry",
	}, func(ctx context.Context, in *updatePipelineStatusInput) (*pipelineStatusOutput, error) {
		return reply(inq.UpdateStatus(ctx, crm.InquiryStatus(in.ID), in.Body))
	})
}
