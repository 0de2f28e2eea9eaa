package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type purposePath struct {
	Purpose string `path:"purpose" doc:"The purpose's key (newsletter) or id."`
}

type purposeOutput = bodyOutput[*crm.ConsentPurpose]

type wordingPath struct {
	Purpose   string `path:"purpose" doc:"The purpose's key (newsletter) or id."`
	WordingID string `path:"wordingId" doc:"The wording's id."`
}

type consentRecordInput struct {
	ID       string `path:"id" doc:"The customer's id (a UUID)."`
	RecordID string `path:"recordId" doc:"The record's id."`
}

type purposeListOutput struct {
	Body struct {
		Items []crm.ConsentPurpose `json:"items"`
	}
}

type definePurposeInput struct {
	Body crm.NewConsentPurpose
}

type updatePurposeInput struct {
	Purpose string `path:"purpose" doc:"The purpose's key or id."`
	Body    crm.ConsentPurposePatch
}

type wordingOutput struct {
	// Status is 201 for a new version, 200 when the text already is the current wording.
	Status int
	Body   *crm.ConsentWording
}

type wordingListOutput struct {
	Body struct {
		Items []crm.ConsentWording `json:"items"`
	}
}

type setWordingInput struct {
	Purpose string `path:"purpose" doc:"The purpose's key or id."`
	Body    struct {
		Language string `json:"language" required:"true" doc:"BCP 47 tag of the text's language." example:"nl"`
		Text     string `json:"text" required:"true" doc:"The text shown when asking for the consent, at most 20,000 bytes." example:"Ja, stuur mij de nieuwsbrief."`
	}
}

type customerConsentsOutput struct {
	Body struct {
		Items []crm.CustomerConsent `json:"items"`
	}
}

type consentLogOutput struct {
	Body struct {
		Items []crm.ConsentRecord `json:"items"`
	}
}

type consentRecordOutput = bodyOutput[*crm.ConsentRecord]

type consentBody struct {
	Purpose string `json:"purpose" required:"true" maxLength:"40" doc:"The purpose's key." example:"newsletter"`
	State   string `json:"state" required:"true" enum:"granted,withdrawn" doc:"The customer's answer."`
	Source  string `json:"source" required:"true" enum:"web_form,import,staff,portal,booking" doc:"Where the answer was given. A purpose with double opt-in takes a direct grant only from staff, import and booking: web forms and the portal use double-opt-in."`
	// WordingID is the wording the customer saw.
	WordingID string `json:"wordingId,omitempty" doc:"The wording the customer saw; without it, the purpose's latest wording in the customer's language. A grant that finds no wording is 422 (body.wordingId, code wordingNeeded) unless noWording is true. Not used for withdrawals."`
	NoWording bool   `json:"noWording,omitempty" doc:"true records a grant without a wording, on purpose: consent staff, an import or a booking obtained where none of the organisation's texts was shown. Refused (422, body.noWording) for the web_form and portal sources and together with wordingId."`
	IP        string `json:"ip,omitempty" doc:"The customer's IP address. Never taken from this request: it comes from the platform, not from the customer."`
	UserAgent string `json:"userAgent,omitempty" maxLength:"500" doc:"The customer's browser (User-Agent). Never taken from this request: it comes from the platform, not from the customer."`
}

type recordConsentInput struct {
	ID   string `path:"id" doc:"The customer's id (a UUID)."`
	Body consentBody
}

type requestConfirmationInput struct {
	ID   string `path:"id" doc:"The customer's id (a UUID)."`
	Body struct {
		Purpose   string `json:"purpose" required:"true" maxLength:"40" doc:"The purpose's key." example:"newsletter"`
		Source    string `json:"source" required:"true" enum:"web_form,import,staff,portal,booking" doc:"Where the sign-up was made."`
		WordingID string `json:"wordingId,omitempty" doc:"The wording the customer saw; without it, the purpose's latest wording in the customer's language."`
		IP        string `json:"ip,omitempty" doc:"The customer's IP address. Never taken from this request: it comes from the platform, not from the customer."`
		UserAgent string `json:"userAgent,omitempty" maxLength:"500" doc:"The customer's browser (User-Agent). Never taken from this request: it comes from the platform, not from the customer."`
	}
}

type pendingConsentOutput = bodyOutput[*crm.PendingConsent]

type confirmConsentInput struct {
	Body struct {
		Token     string `json:"token" required:"true" minLength:"1" maxLength:"100" doc:"The token of the confirmation link."`
		IP        string `json:"ip,omitempty" doc:"The address of the customer who opened the link. Never taken from this request: it comes from the platform, not from the customer."`
		UserAgent string `json:"userAgent,omitempty" maxLength:"500" doc:"The browser of the customer who opened the link. Never taken from this request: it comes from the platform, not from the customer."`
	}
}

type mailingSelectionInput struct {
	ID      string `path:"id" doc:"The segment's id."`
	Purpose string `query:"purpose" required:"true" doc:"The key of the purpose the mailing serves." example:"newsletter"`
}

type mailingSelectionOutput struct {
	Body func(huma.Context)
}

// legalBasisSchema is how crm.LegalBasis appears in the OpenAPI document.
type legalBasisSchema struct{}

// Schema implements huma.SchemaProvider.
func (legalBasisSchema) Schema(huma.Registry) *huma.Schema {
	s := enumSchema(crm.LegalBasisConsent, crm.LegalBasisLegitimateInterest)
	s.Description = "consent: opt-in, a mailing selection takes only customers who granted the purpose; " +
		"legitimate_interest: opt-out, it takes every customer who did not withdraw it."
	return s
}

// ndjson is the media type of a stream of JSON objects, one per line.
const ndjson = "application/x-ndjson"

func (s *server) registerConsents() {
	tags := []string{"Consents"}
	consents := s.crm.Consents
	register(s, huma.Operation{
		OperationID: "listConsentPurposes", Method: http.MethodGet, Path: "/v1/consent-purposes", Tags: tags,
		Summary:     "List the organisation's consent purposes in display order",
		Description: "Every organisation starts with newsletter, commercial_email, post, sms, profiling and mailings (the customer's general word on mailings), each with wordings in English, Dutch, German, French and Polish. post and mailings are legitimate_interest (opt-out), the others consent (opt-in).",
	}, func(ctx context.Context, _ *struct{}) (*purposeListOutput, error) {
		ps, err := consents.Purposes(ctx)
		if err != nil {
			return nil, err
		}
		out := &purposeListOutput{}
		out.Body.Items = nonNil(ps)
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "defineConsentPurpose", Method: http.MethodPost, Path: "/v1/consent-purposes", Tags: tags,
		Summary:     "Define a consent purpose of the organisation's own",
		Description: "The key (lower-case letters, digits and underscores) and the channel never change afterwards: the consent log's meaning depends on them. A key in use is 409.",
	}, func(o *purposeOutput) string { return "/v1/consent-purposes/" + o.Body.Key },
		func(ctx context.Context, in *definePurposeInput) (*purposeOutput, error) {
			return reply(consents.DefinePurpose(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getConsentPurpose", Method: http.MethodGet, Path: "/v1/consent-purposes/{purpose}", Tags: tags,
		Summary: "Get a consent purpose by key or id",
	}, func(ctx context.Context, in *purposePath) (*purposeOutput, error) {
		return reply(consents.Purpose(ctx, in.Purpose))
	})
	register(s, huma.Operation{
		OperationID: "updateConsentPurpose", Method: http.MethodPatch, Path: "/v1/consent-purposes/{purpose}", Tags: tags,
		Summary: "Change a purpose's name, double opt-in or position (built-in ones too)",
	}, func(ctx context.Context, in *updatePurposeInput) (*purposeOutput, error) {
		return reply(consents.UpdatePurpose(ctx, in.Purpose, in.Body))
	})
	register(s, huma.Operation{
		OperationID: "listConsentWordings", Method: http.MethodGet, Path: "/v1/consent-purposes/{purpose}/wordings", Tags: tags,
		Summary: "Every wording of a purpose, newest version first per language",
	}, func(ctx context.Context, in *purposePath) (*wordingListOutput, error) {
		ws, err := consents.Wordings(ctx, in.Purpose)
		if err != nil {
			return nil, err
		}
		out := &wordingListOutput{}
		out.Body.Items = nonNil(ws)
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "getConsentWording", Method: http.MethodGet, Path: "/v1/consent-purposes/{purpose}/wordings/{wordingId}", Tags: tags,
		Summary: "Get one wording of a purpose",
	}, func(ctx context.Context, in *wordingPath) (*bodyOutput[*crm.ConsentWording], error) {
		ws, err := consents.Wordings(ctx, in.Purpose)
		return reply(find(ws, err, func(w *crm.ConsentWording) bool { return w.ID == in.WordingID }))
	})
	create(s, huma.Operation{
		OperationID: "setConsentWording", Method: http.MethodPost, Path: "/v1/consent-purposes/{purpose}/wordings", Tags: tags,
		Summary: "Make a text the purpose's current wording in a language",
		Description: "A wording is never changed: other text becomes the next version (201), and consent records keep pointing at the version their customer saw. " +
			"The text of the current wording returns that wording (200).",
		Responses: map[string]*huma.Response{"200": {Description: "The text already is the current wording in that language: that wording."}},
	}, func(o *wordingOutput) string {
		return "/v1/consent-purposes/" + o.Body.PurposeID + "/wordings/" + o.Body.ID
	},
		func(ctx context.Context, in *setWordingInput) (*wordingOutput, error) {
			before, err := consents.Wordings(ctx, in.Purpose)
			if err != nil {
				return nil, err
			}
			w, err := consents.SetWording(ctx, in.Purpose, in.Body.Language, in.Body.Text)
			if err != nil {
				return nil, err
			}
			out := &wordingOutput{Status: http.StatusCreated, Body: w}
			if slices.ContainsFunc(before, func(b crm.ConsentWording) bool { return b.ID == w.ID }) {
				out.Status = http.StatusOK
			}
			return out, nil
		})

	register(s, huma.Operation{
		OperationID: "listCustomerConsents", Method: http.MethodGet, Path: "/v1/customers/{id}/consents", Tags: tags,
		Summary: "A customer's current state on every purpose, in the purposes' order",
		Description: "granted, withdrawn or never (never asked); pending is true while a double opt-in sign-up waits for confirmation. " +
			"The state comes from the latest granted or withdrawn record of the consent log.",
	}, func(ctx context.Context, in *customerPath) (*customerConsentsOutput, error) {
		cs, err := consents.States(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &customerConsentsOutput{}
		out.Body.Items = nonNil(cs)
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "listCustomerConsentLog", Method: http.MethodGet, Path: "/v1/customers/{id}/consent-log", Tags: tags,
		Summary:     "A customer's consent log, oldest first: the proof of consent",
		Description: "Every grant, withdrawal and pending sign-up with when, by whom, through which source, with which wording and evidence. Records are only ever appended.",
	}, func(ctx context.Context, in *customerPath) (*consentLogOutput, error) {
		log, err := consents.Log(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &consentLogOutput{}
		out.Body.Items = nonNil(log)
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "getCustomerConsentRecord", Method: http.MethodGet, Path: "/v1/customers/{id}/consent-log/{recordId}", Tags: tags,
		Summary: "Get one record of a customer's consent log",
	}, func(ctx context.Context, in *consentRecordInput) (*consentRecordOutput, error) {
		log, err := consents.Log(ctx, in.ID)
		return reply(find(log, err, func(r *crm.ConsentRecord) bool { return r.ID == in.RecordID }))
	})
	create(s, huma.Operation{
		OperationID: "recordCustomerConsent", Method: http.MethodPost, Path: "/v1/customers/{id}/consents", Tags: tags,
		Summary: "Record that a customer granted or withdrew a consent",
		Description: "Appends a record to the consent log and returns it. Withdrawing is as easy as granting: it needs no wording. " +
			"The post and mailings purposes also set the customer's noPost and noMailings flags. An anonymised customer is 409.",
	}, func(o *consentRecordOutput) string { return consentRecordPath(o.Body) },
		func(ctx context.Context, in *recordConsentInput) (*consentRecordOutput, error) {
			b := in.Body
			input := crm.ConsentInput{Purpose: b.Purpose, Source: crm.ConsentSource(b.Source), WordingID: b.WordingID,
				Evidence: crm.Evidence{IP: b.IP, UserAgent: b.UserAgent}}
			input.NoWording = b.NoWording
			record := consents.Give
			if crm.ConsentState(b.State) == crm.ConsentWithdrawn {
				record = consents.Withdraw
			}
			return reply(record(ctx, in.ID, input))
		})
	create(s, huma.Operation{
		OperationID: "requestCustomerConsentConfirmation", Method: http.MethodPost, Path: "/v1/customers/{id}/consents/double-opt-in", Tags: tags,
		Summary: "Start a double opt-in sign-up",
		Description: "Appends a pending record and returns the single-use token for the confirmation link the platform mails to the customer, with when it expires. " +
			"The token is shown only here: Dossier keeps its hash. The consent counts once the token comes back to POST /v1/consent-confirmations.",
	}, func(o *pendingConsentOutput) string { return consentRecordPath(&o.Body.Record) },
		func(ctx context.Context, in *requestConfirmationInput) (*pendingConsentOutput, error) {
			b := in.Body
			p, err := consents.RequestConfirmation(ctx, in.ID, crm.ConsentInput{Purpose: b.Purpose, Source: crm.ConsentSource(b.Source),
				WordingID: b.WordingID, Evidence: crm.Evidence{IP: b.IP, UserAgent: b.UserAgent}})
			if err != nil {
				return nil, err
			}
			return &pendingConsentOutput{Body: p}, nil
		})
	create(s, huma.Operation{
		OperationID: "confirmConsent", Method: http.MethodPost, Path: "/v1/consent-confirmations", Tags: tags,
		Summary: "Confirm a double opt-in sign-up with the token of its link",
		Description: "The pending record becomes a granted one, pointing at it and at the same wording; the new record is returned. " +
			"A token works once: used again it is 409, expired it is 422 (body.token, code expired), unknown 404.",
	}, func(o *consentRecordOutput) string { return consentRecordPath(o.Body) },
		func(ctx context.Context, in *confirmConsentInput) (*consentRecordOutput, error) {
			return reply(consents.Confirm(ctx, in.Body.Token, crm.Evidence{IP: in.Body.IP, UserAgent: in.Body.UserAgent}))
		})

	recipient := s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[crm.MailingRecipient](), true, "MailingRecipient")
	register(s, huma.Operation{
		OperationID: "streamSegmentMailingSelection", Method: http.MethodGet, Path: "/v1/segments/{id}/mailing-selection", Tags: []string{"Segments"},
		Summary: "The recipients of a mailing to a segment, as JSON lines",
		Description: "One recipient per line (" + ndjson + "), in customer-number order, with the address for the purpose's channel: " +
			"the segment's customers who may be contacted for the purpose (granted, when its legal basis is consent; not withdrawn, when it is legitimate_interest, as for post), " +
			"not opted out of mailings, not anonymised and reachable on the channel. " +
			"The database selects, a page at a time, so any number of customers streams in constant memory. " +
			"Errors found before the first line are problem responses; a failure later breaks the connection off instead of ending the stream, so a cut list is never taken for a whole one.",
		Responses: map[string]*huma.Response{"200": {
			Description: "One MailingRecipient per line.",
			Content:     map[string]*huma.MediaType{ndjson: {Schema: recipient}},
		}},
	}, func(ctx context.Context, in *mailingSelectionInput) (*mailingSelectionOutput, error) {
		params := crm.MailingSelectionParams{SegmentID: in.ID, Purpose: in.Purpose}
		return &mailingSelectionOutput{Body: func(hc huma.Context) { s.streamMailingSelection(hc, params) }}, nil
	})
}

// streamMailingSelection writes the recipients as JSON lines. The status
// is sent with the first line (or at the end of an empty selection), so
// that errors found before it are still problem responses.
func (s *server) streamMailingSelection(hc huma.Context, params crm.MailingSelectionParams) {
	ctx := hc.Context()
	started := false
	start := func() {
		if !started {
			started = true
			hc.SetHeader("Content-Type", ndjson)
			hc.SetHeader("Cache-Control", "no-store")
			hc.SetStatus(http.StatusOK)
		}
	}
	enc := json.NewEncoder(hc.BodyWriter())
	enc.SetEscapeHTML(false)
	err := s.crm.Consents.MailingSelection(ctx, params, func(r crm.MailingRecipient) error {
		start()
		return enc.Encode(r)
	})
	switch {
	case err == nil:
		start()
	case !started:
		s.writeHumaProblem(hc, problemFor(ctx, s.log, locatorFor(reflect.TypeFor[mailingSelectionInput]()), err).(*Problem))
	default:
		// The status is out: all that is left to say "incomplete" is to
		// break the response off, which net/http does for this panic.
		if !errors.Is(err, context.Canceled) {
			s.log.ErrorContext(ctx, "mailing selection broke off", "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// consentRecordPath names a record of a customer's consent log.
func consentRecordPath(r *crm.ConsentRecord) string {
	return "/v1/customers/" + r.CustomerID + "/consent-log/" + r.ID
}
