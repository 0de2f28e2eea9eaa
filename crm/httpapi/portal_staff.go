package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

// The staff side of the customer's own account and of marketing (C9,
// C13): portal settings and accounts, itineraries, contests, brochure
// requests and mailings.

type portalSettingsOutput = bodyOutput[*crm.PortalSettings]

type portalSettingsInput struct {
	Body crm.PortalSettingsPatch
}

type portalAccountOutput = bodyOutput[*crm.PortalAccount]

type createPortalAccountInput struct {
	ID   string `path:"id" doc:"The customer's id (a UUID)."`
	Body *struct {
		Email string `json:"email,omitempty" maxLength:"254" doc:"The login; default the customer's login e-mail, else the correspondence address."`
	}
}

type portalAccountPath struct {
	AccountID string `path:"accountId" doc:"The portal account's id (a UUID)."`
}

type connectPortalAccountInput struct {
	AccountID string `path:"accountId" doc:"The portal account's id (a UUID)."`
	Body      struct {
		CustomerID string `json:"customerId" required:"true" doc:"The customer to connect the account to."`
	}
}

type itineraryListOutput struct {
	Body struct {
		Items []crm.Itinerary `json:"items"`
	}
}

type itineraryOutput = bodyOutput[*crm.Itinerary]

type itineraryPath struct {
	ItineraryID string `path:"itineraryId" doc:"The itinerary's id (a UUID)."`
}

type contestOutput = bodyOutput[*crm.Contest]

type contestListOutput struct {
	Body struct {
		Items []crm.Contest `json:"items"`
	}
}

type createContestInput struct {
	Body crm.NewContest
}

type contestPath struct {
	ContestID string `path:"contestId" doc:"The contest's id (a UUID)."`
}

type contestEntryOutput = bodyOutput[*crm.ContestEntry]

type contestEntryListOutput struct {
	Body struct {
		Items []crm.ContestEntry `json:"items"`
	}
}

type enterContestInput struct {
	ContestID string `path:"contestId" doc:"The contest's id (a UUID)."`
	Body      struct {
		CustomerID string `json:"customerId" required:"true" doc:"The customer who enters."`
		Answer     string `json:"answer" required:"true" maxLength:"2000" doc:"The answer to the contest's question."`
	}
}

type contestEntryPath struct {
	EntryID string `path:"entryId" doc:"The entry's id (a UUID)."`
}

type brochureOutput = bodyOutput[*crm.BrochureRequest]

type brochureListOutput struct {
	Body struct {
		Items []crm.BrochureRequest `json:"items"`
	}
}

type requestBrochuresInput struct {
	ID   string `path:"id" doc:"The customer's id (a UUID)."`
	Body crm.NewBrochureRequest
}

type brochuresToSendInput struct {
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type brochuresToSendOutput = bodyOutput[crm.Page[crm.BrochureRequest]]

type brochuresPrintedInput struct {
	Body struct {
		IDs       []string `json:"ids" required:"true" minItems:"1" maxItems:"500" doc:"The requests printed."`
		PrintedOn crm.Date `json:"printedOn" required:"true" doc:"The day they were printed."`
	}
}

type sendTemplateInput struct {
	ID   string `path:"id" doc:"The customer's id (a UUID)."`
	Body struct {
		Template string `json:"template" required:"true" maxLength:"40" doc:"The key of a built-in or organisation-defined mail template."`
		Language string `json:"language,omitempty" doc:"Overrides the customer's communication language."`
	}
}

type sentMailOutput = bodyOutput[*crm.OutboxMail]

type mailingOutput = bodyOutput[*crm.Mailing]

type mailingListOutput struct {
	Body struct {
		Items []crm.Mailing `json:"items"`
	}
}

type startMailingInput struct {
	Body crm.NewMailing
}

type mailingPath struct {
	MailingID string `path:"mailingId" doc:"The mailing's id (a UUID)."`
}

// offNote ends the description of routes of a feature an organisation switches.
const offNote = " While the organisation has the feature switched off (PATCH /v1/portal/settings), the answer is 404, as if the route did not exist."

func (s *server) registerPortalStaff() {
	tags := []string{"Portal accounts"}
	portal := s.crm.Portal
	register(s, huma.Operation{
		OperationID: "getPortalSettings", Method: http.MethodGet, Path: "/v1/portal/settings", Tags: tags,
		Summary: "The organisation's portal settings",
		Description: "Whether registering opens a portal account, whether itineraries and contests are on, and which fields of their " +
			"record customers may change from the portal.",
	}, func(ctx context.Context, _ *struct{}) (*portalSettingsOutput, error) {
		return reply(portal.Settings(ctx))
	})
	register(s, huma.Operation{
		OperationID: "updatePortalSettings", Method: http.MethodPatch, Path: "/v1/portal/settings", Tags: tags,
		Summary: "Change the organisation's portal settings", Description: "Members left out stay.",
	}, func(ctx context.Context, in *portalSettingsInput) (*portalSettingsOutput, error) {
		return reply(portal.UpdateSettings(ctx, in.Body))
	})
	register(s, huma.Operation{
		OperationID: "getCustomerPortalAccount", Method: http.MethodGet, Path: "/v1/customers/{id}/portal-account", Tags: tags,
		Summary: "A customer's portal account", Description: "Its login e-mail, whether a password was set, the last sign-in; never the password. 404 when there is none.",
	}, func(ctx context.Context, in *customerPath) (*portalAccountOutput, error) {
		return reply(portal.Account(ctx, in.ID))
	})
	create(s, huma.Operation{
		OperationID: "createCustomerPortalAccount", Method: http.MethodPost, Path: "/v1/customers/{id}/portal-account", Tags: tags,
		Summary: "Open a portal account for a customer",
		Description: "No password is set: send the customer a set-password link. A customer with an account, or a login another " +
			"account uses, is 409.",
	}, func(o *portalAccountOutput) string { return "/v1/portal-accounts/" + o.Body.ID },
		func(ctx context.Context, in *createPortalAccountInput) (*portalAccountOutput, error) {
			email := ""
			if in.Body != nil {
				email = in.Body.Email
			}
			return reply(portal.CreateAccount(ctx, in.ID, email))
		})
	register(s, huma.Operation{
		OperationID: "sendSetPasswordLink", Method: http.MethodPost, Path: "/v1/customers/{id}/portal-account/set-password-link", Tags: tags,
		Summary: "Mail the customer a link to set their password",
		Description: "Opens the account first when there is none. The link works once, for a day by default; an earlier link stops " +
			"working. No password is ever mailed. 422 (email, noAddress) when the customer has no e-mail address.",
		DefaultStatus: http.StatusAccepted,
	}, func(ctx context.Context, in *customerPath) (*portalAccountOutput, error) {
		return reply(portal.SendSetPasswordLink(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "getPortalAccount", Method: http.MethodGet, Path: "/v1/portal-accounts/{accountId}", Tags: tags,
		Summary: "A portal account, connected or not",
	}, func(ctx context.Context, in *portalAccountPath) (*portalAccountOutput, error) {
		return reply(portal.AccountByID(ctx, in.AccountID))
	})
	register(s, huma.Operation{
		OperationID: "connectPortalAccount", Method: http.MethodPut, Path: "/v1/portal-accounts/{accountId}/customer", Tags: tags,
		Summary: "Connect a portal account to a customer",
		Description: "Connects, or re-connects an account that was linked to the wrong customer (find the right one by name, e-mail " +
			"or phone). Both customers' timelines record it; the account's sessions end.",
	}, func(ctx context.Context, in *connectPortalAccountInput) (*portalAccountOutput, error) {
		return reply(portal.Connect(ctx, in.AccountID, in.Body.CustomerID))
	})
	register(s, huma.Operation{
		OperationID: "disconnectPortalAccount", Method: http.MethodDelete, Path: "/v1/portal-accounts/{accountId}/customer", Tags: tags,
		Summary:     "Disconnect a portal account from its customer",
		Description: "The account can no longer sign in until connected again; the timeline records it and its sessions end.",
	}, func(ctx context.Context, in *portalAccountPath) (*portalAccountOutput, error) {
		return reply(portal.Disconnect(ctx, in.AccountID))
	})

	tags = []string{"Marketing"}
	register(s, huma.Operation{
		OperationID: "listCustomerItineraries", Method: http.MethodGet, Path: "/v1/customers/{id}/itineraries", Tags: tags,
		Summary:     "A customer's saved itineraries, newest first",
		Description: "Saved by the customer in the portal; read-only, removed 30 days after saving." + offNote,
	}, func(ctx context.Context, in *customerPath) (*itineraryListOutput, error) {
		items, err := s.crm.Itineraries.List(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &itineraryListOutput{}
		out.Body.Items = items
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "getItinerary", Method: http.MethodGet, Path: "/v1/itineraries/{itineraryId}", Tags: tags,
		Summary: "One saved itinerary", Description: "Read-only." + offNote,
	}, func(ctx context.Context, in *itineraryPath) (*itineraryOutput, error) {
		return reply(s.crm.Itineraries.Get(ctx, in.ItineraryID))
	})

	create(s, huma.Operation{
		OperationID: "createContest", Method: http.MethodPost, Path: "/v1/contests", Tags: tags,
		Summary: "Create a contest", Description: "A period (both days included) and a question." + offNote,
	}, func(o *contestOutput) string { return "/v1/contests/" + o.Body.ID },
		func(ctx context.Context, in *createContestInput) (*contestOutput, error) {
			return reply(s.crm.Contests.Create(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "listContests", Method: http.MethodGet, Path: "/v1/contests", Tags: tags,
		Summary: "The organisation's contests, newest period first", Description: offNote[1:],
	}, func(ctx context.Context, _ *struct{}) (*contestListOutput, error) {
		items, err := s.crm.Contests.List(ctx)
		if err != nil {
			return nil, err
		}
		out := &contestListOutput{}
		out.Body.Items = items
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "getContest", Method: http.MethodGet, Path: "/v1/contests/{contestId}", Tags: tags,
		Summary: "One contest", Description: offNote[1:],
	}, func(ctx context.Context, in *contestPath) (*contestOutput, error) {
		return reply(s.crm.Contests.Get(ctx, in.ContestID))
	})
	register(s, huma.Operation{
		OperationID: "listContestEntries", Method: http.MethodGet, Path: "/v1/contests/{contestId}/entries", Tags: tags,
		Summary: "A contest's entries, oldest first", Description: offNote[1:],
	}, func(ctx context.Context, in *contestPath) (*contestEntryListOutput, error) {
		items, err := s.crm.Contests.Entries(ctx, in.ContestID)
		if err != nil {
			return nil, err
		}
		out := &contestEntryListOutput{}
		out.Body.Items = items
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "enterContest", Method: http.MethodPost, Path: "/v1/contests/{contestId}/entries", Tags: tags,
		Summary:     "Enter a customer in a contest",
		Description: "Once per customer and contest (a second entry is 409), within the contest's period (else 422, closed)." + offNote,
	}, func(o *contestEntryOutput) string { return "/v1/contest-entries/" + o.Body.ID },
		func(ctx context.Context, in *enterContestInput) (*contestEntryOutput, error) {
			return reply(s.crm.Contests.Enter(ctx, in.ContestID, in.Body.CustomerID, in.Body.Answer))
		}, fieldAt("contestId", "path.contestId"))
	register(s, huma.Operation{
		OperationID: "getContestEntry", Method: http.MethodGet, Path: "/v1/contest-entries/{entryId}", Tags: tags,
		Summary: "One contest entry", Description: offNote[1:],
	}, func(ctx context.Context, in *contestEntryPath) (*contestEntryOutput, error) {
		return reply(s.crm.Contests.Entry(ctx, in.EntryID))
	})
	register(s, huma.Operation{
		OperationID: "pickContestWinner", Method: http.MethodPost, Path: "/v1/contest-entries/{entryId}/winner", Tags: tags,
		Summary: "Make an entry a winner", Description: "Picking a winner twice changes nothing; the customer's timeline records it." + offNote,
	}, func(ctx context.Context, in *contestEntryPath) (*contestEntryOutput, error) {
		return reply(s.crm.Contests.PickWinner(ctx, in.EntryID))
	})
	register(s, huma.Operation{
		OperationID: "listCustomerContestEntries", Method: http.MethodGet, Path: "/v1/customers/{id}/contest-entries", Tags: tags,
		Summary: "A customer's contest entries, oldest first", Description: offNote[1:],
	}, func(ctx context.Context, in *customerPath) (*contestEntryListOutput, error) {
		items, err := s.crm.Contests.EntriesOf(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &contestEntryListOutput{}
		out.Body.Items = items
		return out, nil
	})

	create(s, huma.Operation{
		OperationID: "requestBrochures", Method: http.MethodPost, Path: "/v1/customers/{id}/brochure-requests", Tags: tags,
		Summary:     "Register a brochure request",
		Description: "By staff (source staff) or from the organisation's site (source site). It goes on the \"to send\" list.",
	}, func(o *brochureOutput) string { return "/v1/brochure-requests/" + o.Body.ID },
		func(ctx context.Context, in *requestBrochuresInput) (*brochureOutput, error) {
			return reply(s.crm.Brochures.Request(ctx, in.ID, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getBrochureRequest", Method: http.MethodGet, Path: "/v1/brochure-requests/{requestId}", Tags: tags,
		Summary: "One brochure request",
	}, func(ctx context.Context, in *brochurePath) (*brochureOutput, error) {
		return reply(s.crm.Brochures.Get(ctx, in.RequestID))
	})
	register(s, huma.Operation{
		OperationID: "listCustomerBrochureRequests", Method: http.MethodGet, Path: "/v1/customers/{id}/brochure-requests", Tags: tags,
		Summary: "A customer's brochure requests, sent or not, newest first",
	}, func(ctx context.Context, in *customerPath) (*brochureListOutput, error) {
		items, err := s.crm.Brochures.List(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		out := &brochureListOutput{}
		out.Body.Items = items
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "listBrochuresToSend", Method: http.MethodGet, Path: "/v1/brochure-requests/to-send", Tags: tags,
		Summary:     "The \"to send\" list: requests without a print date, oldest first",
		Description: "Pages with a cursor: pass the previous page's next.",
	}, func(ctx context.Context, in *brochuresToSendInput) (*brochuresToSendOutput, error) {
		return reply(s.crm.Brochures.ToSend(ctx, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
	register(s, huma.Operation{
		OperationID: "markBrochuresPrinted", Method: http.MethodPost, Path: "/v1/brochure-requests/printed", Tags: tags,
		Summary:     "Give brochure requests their print date",
		Description: "Takes them off the \"to send\" list; the dossier keeps them. A request printed already keeps its first date.",
	}, func(ctx context.Context, in *brochuresPrintedInput) (*brochureListOutput, error) {
		items, err := s.crm.Brochures.Printed(ctx, in.Body.IDs, in.Body.PrintedOn)
		if err != nil {
			return nil, err
		}
		out := &brochureListOutput{}
		out.Body.Items = items
		return out, nil
	})

	register(s, huma.Operation{
		OperationID: "sendCustomerMail", Method: http.MethodPost, Path: "/v1/customers/{id}/mails", Tags: tags,
		Summary: "Send a mail template to one customer",
		Description: "Any template the organisation defined, or a built-in one, in the customer's language (or the one given), " +
			"through the outbox. 422 (template, unknown) for a key that does not exist.",
		DefaultStatus: http.StatusAccepted,
	}, func(ctx context.Context, in *sendTemplateInput) (*sentMailOutput, error) {
		return reply(s.crm.Mailings.Send(ctx, in.ID, in.Body.Template, in.Body.Language))
	})
	create(s, huma.Operation{
		OperationID: "startMailing", Method: http.MethodPost, Path: "/v1/mailings", Tags: tags,
		Summary: "Send a mail template to a segment",
		Description: "The recipients are the segment's customers who may be contacted for the purpose (consents and opt-outs " +
			"respected); each gets the mail in their language with an unsubscribe link, through the outbox. The background work " +
			"queues them in batches and resumes after a restart; read the progress with GET /v1/mailings/{mailingId}.",
	}, func(o *mailingOutput) string { return "/v1/mailings/" + o.Body.ID },
		func(ctx context.Context, in *startMailingInput) (*mailingOutput, error) {
			return reply(s.crm.Mailings.Start(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "listMailings", Method: http.MethodGet, Path: "/v1/mailings", Tags: tags,
		Summary: "The organisation's mailings, newest first, with their progress",
	}, func(ctx context.Context, _ *struct{}) (*mailingListOutput, error) {
		items, err := s.crm.Mailings.List(ctx)
		if err != nil {
			return nil, err
		}
		out := &mailingListOutput{}
		out.Body.Items = items
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "getMailing", Method: http.MethodGet, Path: "/v1/mailings/{mailingId}", Tags: tags,
		Summary:     "A mailing with its progress",
		Description: "counts: queued, sent, failed, pending, unsubscribed, skipped.",
	}, func(ctx context.Context, in *mailingPath) (*mailingOutput, error) {
		return reply(s.crm.Mailings.Get(ctx, in.MailingID))
	})
}

type brochurePath struct {
	RequestID string `path:"requestId" doc:"The brochure request's id (a UUID)."`
}
