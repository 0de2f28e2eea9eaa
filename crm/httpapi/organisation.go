package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type organisationOutput = bodyOutput[*crm.Organisation]

type updateOrganisationInput struct {
	Body struct {
		Name            *string `json:"name,omitempty" minLength:"1" maxLength:"200" pattern:"\\S" patternDescription:"not blank" doc:"The organisation's name."`
		DefaultLanguage *string `json:"defaultLanguage,omitempty" doc:"BCP 47 tag given to new customers that do not say theirs; lists sorted by name follow it." example:"nl"`
		DefaultCountry  *string `json:"defaultCountry,omitempty" maxLength:"2" doc:"ISO 3166-1 alpha-2 code with which phone numbers without an international prefix are read; empty: only +... numbers are accepted." example:"NL"`
		PointsEnabled   *bool   `json:"pointsEnabled,omitempty" doc:"Switches loyalty points on or off. Switched off, every points route answers 404; the ledger is kept and is back when points are switched on again."`
		TimeZone        *string `json:"timeZone,omitempty" maxLength:"64" doc:"IANA time zone where the organisation works (Europe/Warsaw): today of its staff's reminders is the day there." example:"Europe/Warsaw"`
	}
}

func (s *server) registerOrganisation() {
	tags := []string{"Organisation"}
	orgs := s.crm.Organisations
	register(s, huma.Operation{
		OperationID: "getOrganisation", Method: http.MethodGet, Path: "/v1/organisation", Tags: tags,
		Summary:     "The settings of the API key's organisation",
		Description: "The organisation is the API key's; there is no way to name another one.",
	}, func(ctx context.Context, _ *struct{}) (*organisationOutput, error) {
		id, err := crm.OrgFrom(ctx)
		if err != nil {
			return nil, err
		}
		return reply(orgs.Get(ctx, id))
	})
	register(s, huma.Operation{
		OperationID: "updateOrganisation", Method: http.MethodPatch, Path: "/v1/organisation", Tags: tags,
		Summary: "Change the settings of the API key's organisation",
		Description: "Members left out (or null) stay as they are. The organisation is the API key's; its id never changes. " +
			"Switch loyalty points on or off with pointsEnabled. Only administrators change the organisation (else 403).",
	}, func(ctx context.Context, in *updateOrganisationInput) (*organisationOutput, error) {
		id, err := crm.OrgFrom(ctx)
		if err != nil {
			return nil, err
		}
		b := in.Body
		org, err := orgs.Update(ctx, id, crm.OrganisationPatch{Name: b.Name, DefaultLanguage: b.DefaultLanguage,
			DefaultCountry: b.DefaultCountry, PointsEnabled: b.PointsEnabled, TimeZone: b.TimeZone})
		if err != nil {
			return nil, err
		}
		return &organisationOutput{Body: org}, nil
	})
}
