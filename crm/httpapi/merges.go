package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type mergePreviewInput struct {
	ID        string   `path:"id" doc:"The customer that stays (the survivor)."`
	Duplicate string   `query:"duplicate" required:"true" doc:"The customer that would be merged into it and removed."`
	Take      []string `query:"take" doc:"Fields (JSON names) whose value the duplicate gives; the survivor's otherwise."`
}

type mergeInput struct {
	ID   string `path:"id" doc:"The customer that stays (the survivor)."`
	Body struct {
		DuplicateID       string   `json:"duplicateId" doc:"The customer that is merged into the survivor and removed."`
		SurvivorVersion   int      `json:"survivorVersion" doc:"The survivor's version the preview showed."`
		DuplicateVersion  int      `json:"duplicateVersion" doc:"The duplicate's version the preview showed."`
		TakeFromDuplicate []string `json:"takeFromDuplicate,omitempty" doc:"Fields whose duplicate value is kept, as in the preview."`
	}
}

type duplicatesInput struct {
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type dismissInput struct {
	ID   string `path:"id" doc:"One customer of the pair."`
	Body struct {
		OtherCustomerID string `json:"otherCustomerId" doc:"The other customer of the pair."`
	}
}

func (s *server) registerMerges() {
	tags := []string{"Merges"}
	register(s, huma.Operation{
		OperationID: "listDuplicateCandidates", Method: http.MethodGet, Path: "/v1/duplicates", Tags: tags,
		Summary: "The organisation's duplicate candidates, best first",
		Description: "Pairs of customers that may be one person, with a score and the reasons (same e-mail, phone, " +
			"name and birth date, a similar name in the same place, a conflict recorded by an interaction). " +
			"A new or changed customer is checked in the background shortly after the change; merged, anonymised " +
			"and deleted customers' pairs are gone, and a dismissed pair never comes back.",
	}, func(ctx context.Context, in *duplicatesInput) (*bodyOutput[*crm.Page[crm.DuplicatePair]], error) {
		return reply(s.crm.Merges.Candidates(ctx, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
	register(s, huma.Operation{
		OperationID: "dismissDuplicate", Method: http.MethodPost, Path: "/v1/customers/{id}/duplicate-dismissals", Tags: tags,
		Summary: "Dismiss a pair as not the same person", DefaultStatus: http.StatusNoContent,
		Description: "The pair leaves the candidates and never comes back; both customers' timelines say who dismissed it. " +
			"Dismissing it again changes nothing.",
	}, func(ctx context.Context, in *dismissInput) (*struct{}, error) {
		return nil, s.crm.Merges.Dismiss(ctx, in.ID, in.Body.OtherCustomerID)
	}, fieldAt("otherCustomerId", "body.otherCustomerId"))
	register(s, huma.Operation{
		OperationID: "possibleDuplicates", Method: http.MethodGet, Path: "/v1/customers/{id}/possible-duplicates", Tags: tags,
		Summary: "Possible duplicates of this customer, best first, with a score and the reasons",
	}, func(ctx context.Context, in *customerPath) (*bodyOutput[[]crm.DuplicateCandidate], error) {
		return reply(s.crm.Merges.PossibleDuplicates(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "previewMerge", Method: http.MethodGet, Path: "/v1/customers/{id}/merge-preview", Tags: tags,
		Summary: "Preview merging a duplicate into this customer",
		Description: "Every field with both values and the one kept, every kind of row that moves with its count, every conflict, " +
			"and both customers' versions; blocked says why the merge would be refused.",
	}, func(ctx context.Context, in *mergePreviewInput) (*bodyOutput[*crm.MergePreview], error) {
		return reply(s.crm.Merges.Preview(ctx, in.ID, in.Duplicate, in.Take...))
	}, fieldAt("takeFromDuplicate", "query.take"))

	register(s, huma.Operation{
		OperationID: "mergeCustomers", Method: http.MethodPost, Path: "/v1/customers/{id}/merge", Tags: tags,
		Summary: "Merge a duplicate into this customer",
		Description: "Takes the preview's versions and choices; everything of the duplicate moves to this customer in one transaction, " +
			"and the duplicate's id and number answer 308 to this customer from then on. 409 with code merge_blocked when refused " +
			"(an invoiced booking on the duplicate, the same customer, an anonymised one, a conflict of the preview); 412 when either " +
			"changed since the preview; 409 when either was merged meanwhile.",
	}, func(ctx context.Context, in *mergeInput) (*customerOutput, error) {
		c, err := s.crm.Merges.Merge(ctx, crm.MergeRequest{SurvivorID: in.ID, DuplicateID: in.Body.DuplicateID,
			SurvivorVersion: in.Body.SurvivorVersion, DuplicateVersion: in.Body.DuplicateVersion, TakeFromDuplicate: in.Body.TakeFromDuplicate})
		if err != nil {
			return nil, err
		}
		return customerResponse(c), nil
	})
}
