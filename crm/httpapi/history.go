package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type historyInput struct {
	ID     string `path:"id" doc:"The customer's id (a UUID)."`
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type historyOutput = bodyOutput[crm.Page[crm.HistoryEvent]]

func (s *server) registerHistory() {
	register(s, huma.Operation{
		OperationID: "listCustomerHistory", Method: http.MethodGet, Path: "/v1/customers/{id}/history", Tags: []string{"Customers"},
		Summary:     "A customer's timeline, newest first",
		Description: "Every change with who made it, when, and the changed fields with old and new values.",
	}, func(ctx context.Context, in *historyInput) (*historyOutput, error) {
		return reply(s.crm.History.List(ctx, in.ID, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
}
