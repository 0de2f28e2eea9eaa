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

func (s *server) registerMerges() {
	tags := []string{"Merges"}
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
