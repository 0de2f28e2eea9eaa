package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type segmentPath struct {
	ID string `path:"id" doc:"The segment's id."`
}

type segmentOutput = bodyOutput[*crm.Segment]

type segmentListOutput struct {
	Body struct {
		Items []crm.Segment `json:"items"`
	}
}

type createSegmentInput struct {
	Body crm.NewSegment
}

type updateSegmentInput struct {
	ID   string `path:"id" doc:"The segment's id."`
	Body crm.SegmentPatch
}

type segmentCustomersInput struct {
	ID     string `path:"id" doc:"The segment's id."`
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

func (s *server) registerSegments() {
	tags := []string{"Segments"}
	segs := s.crm.Segments
	register(s, huma.Operation{
		OperationID: "listSegments", Method: http.MethodGet, Path: "/v1/segments", Tags: tags,
		Summary: "List the organisation's segments",
	}, func(ctx context.Context, _ *struct{}) (*segmentListOutput, error) {
		list, err := segs.List(ctx)
		if err != nil {
			return nil, err
		}
		out := &segmentListOutput{}
		out.Body.Items = nonNil(list)
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "createSegment", Method: http.MethodPost, Path: "/v1/segments", Tags: tags,
		Summary: "Save a customer filter as a segment",
		Description: "The filter is checked as a list would check it (ids of tags, attributes and the membership label must be the organisation's own: " +
			"422 naming the member, such as body.filter.tags.any[1]); its customers are whoever matches it when it is used. " +
			"A tag deleted after the segment was saved is one no customer carries.",
	}, func(o *segmentOutput) string { return "/v1/segments/" + o.Body.ID },
		func(ctx context.Context, in *createSegmentInput) (*segmentOutput, error) {
			return reply(segs.Create(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getSegment", Method: http.MethodGet, Path: "/v1/segments/{id}", Tags: tags,
		Summary: "Get a segment",
	}, func(ctx context.Context, in *segmentPath) (*segmentOutput, error) {
		return reply(segs.Get(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "updateSegment", Method: http.MethodPatch, Path: "/v1/segments/{id}", Tags: tags,
		Summary: "Rename a segment or replace its filter",
	}, func(ctx context.Context, in *updateSegmentInput) (*segmentOutput, error) {
		return reply(segs.Update(ctx, in.ID, in.Body))
	})
	register(s, huma.Operation{
		OperationID: "deleteSegment", Method: http.MethodDelete, Path: "/v1/segments/{id}", Tags: tags,
		Summary: "Delete a segment (its customers are not touched)",
	}, func(ctx context.Context, in *segmentPath) (*struct{}, error) {
		return nil, segs.Delete(ctx, in.ID)
	})
	register(s, huma.Operation{
		OperationID: "countSegment", Method: http.MethodGet, Path: "/v1/segments/{id}/count", Tags: tags,
		Summary: "How many customers a segment holds now",
	}, func(ctx context.Context, in *segmentPath) (*countOutput, error) {
		n, err := segs.Count(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &countOutput{}
		out.Body.Count = n
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "listSegmentCustomers", Method: http.MethodGet, Path: "/v1/segments/{id}/customers", Tags: tags,
		Summary: "A page of a segment's customers, in its filter's order",
	}, func(ctx context.Context, in *segmentCustomersInput) (*customerPageOutput, error) {
		return reply(segs.Customers(ctx, in.ID, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
}
