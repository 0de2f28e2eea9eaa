package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type exportInput struct {
	ID       string `path:"id" doc:"The customer's id (a UUID)."`
	Audience string `query:"audience" enum:"staff,customer" default:"staff" doc:"staff: everything; customer: what the customer gets (GDPR Art. 15 and 20), without the internal description, the assigned staff member, which staff user made each change, and internal documents with their timeline events."`
	Format   string `query:"format" enum:"json,zip" default:"json" doc:"json: the export document; zip: one CSV file per section plus the document as export.json."`
}

type exportOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition" doc:"For zip: attachment, with a file name holding the customer number."`
	CacheControl       string `header:"Cache-Control" doc:"no-store: the export is personal data."`
	Body               []byte
}

type retentionOutput = bodyOutput[*crm.RetentionPolicy]

type setRetentionInput struct {
	Body struct {
		Enabled         bool     `json:"enabled" required:"true" doc:"Whether customers are anonymised automatically."`
		InactiveDays    int      `json:"inactiveDays" minimum:"0" maximum:"36500" doc:"Days without any activity after which a customer is anonymised; at least 30 when enabled."`
		ExcludePurposes []string `json:"excludePurposes,omitempty" maxItems:"50" doc:"Purpose keys: a customer with a granted consent for one of them is kept."`
	}
}

type retentionReportOutput = bodyOutput[*crm.RetentionReport]

func (s *server) registerPrivacy() {
	tags := []string{"Privacy"}
	privacy := s.crm.Privacy
	registry := s.api.OpenAPI().Components.Schemas
	exportSchema := registry.Schema(reflect.TypeFor[crm.CustomerExport](), true, "CustomerExport")
	register(s, huma.Operation{
		OperationID: "exportCustomer", Method: http.MethodGet, Path: "/v1/customers/{id}/export", Tags: tags,
		Summary: "Export everything known about a customer",
		Description: "The record, custom fields, tags, attributes, labels, memberships, benefit uses, consents with their full log, and the timeline, " +
			"read in one transaction. An anonymised customer exports as the shell it is.",
		Responses: map[string]*huma.Response{"200": {
			Description: "The export, as the format asked for.",
			Content: map[string]*huma.MediaType{
				"application/json": {Schema: exportSchema},
				// OpenAPI 3.1 describes binary content by its media type (JSON Schema's contentMediaType).
				"application/zip": {Schema: &huma.Schema{Type: huma.TypeString, Extensions: map[string]any{"contentMediaType": "application/zip"}}},
			},
		}},
	}, func(ctx context.Context, in *exportInput) (*exportOutput, error) {
		e, err := privacy.Export(ctx, in.ID, crm.ExportAudience(in.Audience))
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		out := &exportOutput{ContentType: "application/json", CacheControl: "no-store"}
		if in.Format == "zip" {
			err = privacy.WriteZip(ctx, e, &buf) // with the documents' contents
			out.ContentType = "application/zip"
			out.ContentDisposition = `attachment; filename="customer-` + strconv.FormatInt(e.Customer.Number, 10) + `-export.zip"`
		} else {
			err = s.api.Marshal(&buf, "application/json", e)
		}
		if err != nil {
			return nil, err
		}
		out.Body = buf.Bytes()
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "anonymiseCustomer", Method: http.MethodPost, Path: "/v1/customers/{id}/anonymise", Tags: tags,
		Summary: "Anonymise a customer, irreversibly (GDPR Art. 17)",
		Description: "Erases the personal data everywhere Dossier keeps it: the record, alternative addresses, custom field values, search indexes, " +
			"the values in the timeline, the evidence of consent records, confirmation tokens and benefit-use notes. " +
			"The customer keeps its id and number, so bookings and the consent log still add up, but no old name, address or phone finds it, " +
			"and changing it is 409. Anonymising an anonymised customer changes nothing and returns it as it is.",
	}, func(ctx context.Context, in *customerPath) (*customerOutput, error) {
		c, err := privacy.Anonymise(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return customerResponse(c), nil
	})
	register(s, huma.Operation{
		OperationID: "getRetentionPolicy", Method: http.MethodGet, Path: "/v1/retention", Tags: tags,
		Summary: "The organisation's retention policy (disabled until set)",
	}, func(ctx context.Context, _ *struct{}) (*retentionOutput, error) {
		return reply(privacy.Retention(ctx))
	})
	register(s, huma.Operation{
		OperationID: "setRetentionPolicy", Method: http.MethodPut, Path: "/v1/retention", Tags: tags,
		Summary: "Replace the organisation's retention policy",
		Description: "Customers without activity for inactiveDays are anonymised automatically, except those holding a granted consent for one of excludePurposes. " +
			"Try a policy with POST /v1/retention/dry-run before enabling it.",
	}, func(ctx context.Context, in *setRetentionInput) (*retentionOutput, error) {
		p, err := privacy.SetRetention(ctx, crm.RetentionPolicy{Enabled: in.Body.Enabled, InactiveDays: in.Body.InactiveDays,
			ExcludePurposes: in.Body.ExcludePurposes})
		if err != nil {
			return nil, err
		}
		return &retentionOutput{Body: p}, nil
	})
	register(s, huma.Operation{
		OperationID: "dryRunRetention", Method: http.MethodPost, Path: "/v1/retention/dry-run", Tags: tags,
		Summary:     "Who the retention policy would anonymise now, without anonymising anyone",
		Description: "The customers the stored policy selects at this moment, by number. A disabled policy selects nobody (enabled: false).",
	}, func(ctx context.Context, _ *struct{}) (*retentionReportOutput, error) {
		return reply(privacy.ApplyRetention(ctx, time.Time{}, true)) // the CRM's clock
	})
}
