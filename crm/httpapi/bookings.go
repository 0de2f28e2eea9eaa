package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

// bookingBody is a booking as the platform sends it; the reference is in
// the path (PUT) or a member (batch).
type bookingBody struct {
	Reference          string            `json:"reference,omitempty" maxLength:"100" doc:"The platform's booking or order number: required in a batch; in PUT the path names it, and a different one here is 422."`
	CustomerID         string            `json:"customerId" required:"true" doc:"The lead customer's id (a UUID). A booking belongs to one lead; moving it to another customer is POST /v1/bookings/{reference}/move."`
	Kind               string            `json:"kind,omitempty" enum:"booking,order,reservation,appointment" doc:"Default booking."`
	Status             string            `json:"status" required:"true" maxLength:"100" doc:"option, reserved, confirmed, sold, cancelled, deleted, or one of the organisation's own statuses mapped in PUT /v1/booking-settings."`
	Channel            string            `json:"channel,omitempty" enum:"online,box_office,phone,agent"`
	RegisteredOn       crm.Date          `json:"registeredOn" required:"true" doc:"The registration day."`
	StartsOn           *crm.Date         `json:"startsOn,omitempty" doc:"The day of departure (event, appointment). Without it, the day of startsAt in the organisation's booking time zone."`
	StartsAt           *time.Time        `json:"startsAt,omitempty" doc:"The exact departure (event, appointment) time, when known."`
	EndsOn             *crm.Date         `json:"endsOn,omitempty" doc:"The day of return (end)."`
	EndsAt             *time.Time        `json:"endsAt,omitempty"`
	DestinationCountry string            `json:"destinationCountry,omitempty" doc:"ISO 3166-1 alpha-2."`
	DestinationPlace   string            `json:"destinationPlace,omitempty" maxLength:"200"`
	Venue              string            `json:"venue,omitempty" maxLength:"200"`
	Description        string            `json:"description,omitempty" maxLength:"2000" doc:"A short description of what was booked."`
	Lines              []crm.BookingLine `json:"lines,omitempty" maxItems:"200" doc:"Tickets, products, gift cards, subscriptions, travel components; amounts in minor units."`
	Total              int64             `json:"total" doc:"The total in minor units of currency (cents): 123450 EUR is €1,234.50."`
	Currency           string            `json:"currency" required:"true" doc:"ISO 4217, e.g. EUR."`
	Labels             []string          `json:"labels,omitempty" maxItems:"20" doc:"Subscription or membership labels."`
	Invoiced           bool              `json:"invoiced,omitempty"`
	InvoiceNumber      string            `json:"invoiceNumber,omitempty" maxLength:"100"`
	Deposit            *crm.Payment      `json:"deposit,omitempty" doc:"The deposit: due day, amount and paid amount, in minor units."`
	Final              *crm.Payment      `json:"final,omitempty" doc:"The final payment."`
	Participants       []string          `json:"participants,omitempty" maxItems:"50" doc:"Other customers on the booking (ids)."`
	Link               string            `json:"link,omitempty" maxLength:"2000" doc:"The booking's page on the platform."`
	SourceVersion      int64             `json:"sourceVersion,omitempty" minimum:"0" doc:"The platform's version of the booking: a delivery with a lower version than the stored one changes nothing."`
	SourceUpdatedAt    *time.Time        `json:"sourceUpdatedAt,omitempty" doc:"The platform's update time, compared when there are no versions."`
}

func (b *bookingBody) input(reference string) crm.BookingInput {
	return crm.BookingInput{Reference: reference, CustomerID: b.CustomerID, Kind: crm.BookingKind(b.Kind), Status: b.Status,
		Channel: crm.BookingChannel(b.Channel), RegisteredOn: b.RegisteredOn, StartsOn: b.StartsOn, StartsAt: b.StartsAt,
		EndsOn: b.EndsOn, EndsAt: b.EndsAt, DestinationCountry: b.DestinationCountry, DestinationPlace: b.DestinationPlace,
		Venue: b.Venue, Description: b.Description, Lines: b.Lines, Total: b.Total, Currency: b.Currency, Labels: b.Labels,
		Invoiced: b.Invoiced, InvoiceNumber: b.InvoiceNumber, Deposit: b.Deposit, Final: b.Final, Participants: b.Participants,
		Link: b.Link, SourceVersion: b.SourceVersion, SourceUpdatedAt: b.SourceUpdatedAt}
}

type bookingPath struct {
	Reference string `path:"reference" maxLength:"100" doc:"The platform's booking or order number."`
}

type putBookingInput struct {
	Reference string `path:"reference" maxLength:"100" doc:"The platform's booking or order number."`
	Body      bookingBody
}

type bookingResultOutput struct {
	Status int
	Body   *crm.BookingResult
}

type batchBooking = bookingBody

type batchBookingsInput struct {
	Body struct {
		Bookings []batchBooking `json:"bookings" maxItems:"500" doc:"Up to 500 bookings, applied in order in one transaction."`
	}
}

// batchResult is the answer to one delivery of a batch.
type batchResult struct {
	Reference string             `json:"reference"`
	Outcome   crm.BookingOutcome `json:"outcome,omitempty" doc:"created, updated, unchanged (the same delivery again) or stale (older than the stored one); absent when refused."`
	Booking   *crm.Booking       `json:"booking,omitempty"`
	// Problem says why the delivery was refused, as the single PUT would have answered.
	Problem *Problem `json:"problem,omitempty"`
}

type batchBookingsOutput struct {
	Body struct {
		Results []batchResult `json:"results"`
	}
}

type customerBookingsInput struct {
	ID    string `path:"id" doc:"The customer's id (a UUID)."`
	Limit int    `query:"limit" minimum:"1" maximum:"500" doc:"How many bookings of each group, default 10."`
}

type customerBookingListInput struct {
	ID     string `path:"id" doc:"The customer's id (a UUID)."`
	Group  string `path:"group" enum:"upcoming,past,deleted,all" doc:"upcoming (today or later), past, deleted, or all."`
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type worklistInput struct {
	Days   int    `query:"days" minimum:"0" maximum:"60" doc:"Days after today to include, default 2."`
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type paymentsDueInput struct {
	Days             int       `query:"days" minimum:"0" maximum:"60" doc:"Days after today to include, default 2."`
	Overdue          bool      `query:"overdue" doc:"Also list payments whose due day has passed."`
	NotRemindedSince time.Time `query:"notRemindedSince" doc:"Leave out bookings with a reminder recorded since then (RFC 3339), e.g. two days ago for 'every 2 days until paid'."`
	Cursor           string    `query:"cursor" doc:"The next value of the previous page."`
	Limit            int       `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type moveBookingInput struct {
	Reference string `path:"reference" maxLength:"100"`
	Body      struct {
		CustomerID string `json:"customerId" required:"true" doc:"The new lead customer."`
	}
}

type reminderInput struct {
	Reference string `path:"reference" maxLength:"100"`
	Body      struct {
		Channel string `json:"channel" required:"true" enum:"phone,mail,sms,letter" doc:"How the customer was reminded."`
		Note    string `json:"note,omitempty" maxLength:"1000"`
	}
}

type bookingSettingsInput struct {
	Body struct {
		TimeZone  string                       `json:"timeZone" doc:"IANA time zone (Europe/Warsaw) whose days the worklists and the upcoming/past split use; empty is UTC."`
		StatusMap map[string]crm.BookingStatus `json:"statusMap,omitempty" doc:"The platform's own statuses mapped to Dossier's: {\"Anulowana\": \"cancelled\"}."`
	}
}

func (s *server) registerBookings() {
	tags := []string{"Bookings"}
	bookings := s.crm.Bookings
	register(s, huma.Operation{
		OperationID: "putBooking", Method: http.MethodPut, Path: "/v1/bookings/{reference}", Tags: tags,
		Summary: "Store a booking the platform pushes (upsert by its reference)",
		Description: "Creates (201) or updates (200) the booking with the platform's reference. Idempotent and safe against " +
			"out-of-order delivery: the same delivery again answers outcome unchanged, an older one (lower sourceVersion, else earlier " +
			"sourceUpdatedAt) outcome stale, and neither writes. Creation, status changes and cancellation go on the customer's " +
			"timeline; other changes do not. Another lead customer than the stored one is 409 (move the booking first); an " +
			"anonymised customer's bookings are frozen (409).",
	}, func(ctx context.Context, in *putBookingInput) (*bookingResultOutput, error) {
		if in.Body.Reference != "" && in.Body.Reference != in.Reference {
			return nil, &crm.ValidationError{Fields: []crm.FieldError{{Field: "referenceInBody", Code: "invalid",
				Message: "reference " + messageFor(ctx, "invalid", "") + ": the path names the booking"}}}
		}
		r, err := bookings.Upsert(ctx, in.Body.input(in.Reference))
		if err != nil {
			return nil, err
		}
		out := &bookingResultOutput{Status: http.StatusOK, Body: r}
		if r.Outcome == crm.BookingCreated {
			out.Status = http.StatusCreated
		}
		return out, nil
	}, fieldAt("reference", "path.reference"), fieldAt("referenceInBody", "body.reference"))
	register(s, huma.Operation{
		OperationID: "putBookings", Method: http.MethodPost, Path: "/v1/bookings/batch", Tags: tags,
		Summary: "Store up to 500 bookings in one request",
		Description: "Each booking is applied as PUT /v1/bookings/{reference} would, in order, in one transaction; each gets its " +
			"own result, with a problem (as the PUT would have answered) when refused. A refused booking does not stop the others. " +
			"Repeating the request is harmless (every booking is an idempotent upsert).",
	}, func(ctx context.Context, in *batchBookingsInput) (*batchBookingsOutput, error) {
		ins := make([]crm.BookingInput, len(in.Body.Bookings))
		for i := range in.Body.Bookings {
			ins[i] = in.Body.Bookings[i].input(in.Body.Bookings[i].Reference)
		}
		res, err := bookings.UpsertMany(ctx, ins)
		if err != nil {
			return nil, err
		}
		out := &batchBookingsOutput{}
		out.Body.Results = make([]batchResult, len(res))
		for i, r := range res {
			out.Body.Results[i] = batchResult{Reference: r.Reference, Outcome: r.Outcome, Booking: r.Booking}
			if r.Err != nil {
				where := fieldLocator{explicit: map[string]string{}, known: map[string]string{}, fallback: "body.bookings[" + strconv.Itoa(i) + "]"}
				if p, ok := problemFor(ctx, s.log, where, r.Err).(*Problem); ok {
					out.Body.Results[i].Problem = finishProblem(ctx, p)
				}
			}
		}
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "getBooking", Method: http.MethodGet, Path: "/v1/bookings/{reference}", Tags: tags,
		Summary: "A booking by the platform's reference",
	}, func(ctx context.Context, in *bookingPath) (*bodyOutput[*crm.Booking], error) {
		return reply(bookings.Get(ctx, in.Reference))
	})
	register(s, huma.Operation{
		OperationID: "moveBooking", Method: http.MethodPost, Path: "/v1/bookings/{reference}/move", Tags: tags,
		Summary: "Make another customer the booking's lead",
		Description: "The explicit move of a booking put on the wrong customer; both customers' timelines record it. " +
			"Moving to the current lead changes nothing.",
	}, func(ctx context.Context, in *moveBookingInput) (*bodyOutput[*crm.Booking], error) {
		return reply(bookings.Move(ctx, in.Reference, in.Body.CustomerID))
	}, fieldAt("customerId", "body.customerId"))
	register(s, huma.Operation{
		OperationID: "markBookingInformed", Method: http.MethodPost, Path: "/v1/bookings/{reference}/informed", Tags: tags,
		Summary:     "Record that the customer was told the final flight times",
		Description: "Records who (the API key's staff member) and when, on the booking and the customer's timeline.",
	}, func(ctx context.Context, in *bookingPath) (*bodyOutput[*crm.Booking], error) {
		return reply(bookings.MarkInformed(ctx, in.Reference))
	})
	create(s, huma.Operation{
		OperationID: "recordBookingReminder", Method: http.MethodPost, Path: "/v1/bookings/{reference}/reminders", Tags: tags,
		Summary: "Record a payment reminder",
		Description: "Records that the customer was reminded of the booking's next payment (by phone, mail, ...), with the payment " +
			"(deposit or final) and the amount missing, on the booking and the customer's timeline. A booking with nothing to pay is 409.",
	}, func(o *bodyOutput[*crm.PaymentReminder]) string { return "/v1/bookings/" + o.Body.Reference },
		func(ctx context.Context, in *reminderInput) (*bodyOutput[*crm.PaymentReminder], error) {
			return reply(bookings.RecordReminder(ctx, in.Reference, crm.ReminderInput{Channel: in.Body.Channel, Note: in.Body.Note}))
		})
	register(s, huma.Operation{
		OperationID: "getCustomerBookings", Method: http.MethodGet, Path: "/v1/customers/{id}/bookings", Tags: tags,
		Summary: "A customer's bookings: upcoming, past and deleted, with counts and lifetime value",
		Description: "Each group newest (latest day) first, limit bookings each; counts and lifetime value (reserved, confirmed and " +
			"sold bookings, per currency) over all of them. Page through a group with /v1/customers/{id}/bookings/{group}.",
	}, func(ctx context.Context, in *customerBookingsInput) (*bodyOutput[*crm.CustomerBookings], error) {
		return reply(bookings.OfCustomer(ctx, in.ID, in.Limit))
	})
	register(s, huma.Operation{
		OperationID: "listCustomerBookings", Method: http.MethodGet, Path: "/v1/customers/{id}/bookings/{group}", Tags: tags,
		Summary: "A page of a customer's bookings of one group, newest first",
	}, func(ctx context.Context, in *customerBookingListInput) (*bodyOutput[crm.Page[crm.Booking]], error) {
		group := crm.BookingGroup(in.Group)
		if group == "all" {
			group = ""
		}
		return reply(bookings.List(ctx, in.ID, group, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
	worklist := " Days are those of the organisation's booking time zone (PUT /v1/booking-settings; UTC when not set)."
	register(s, huma.Operation{
		OperationID: "getDepartures", Method: http.MethodGet, Path: "/v1/worklists/departures", Tags: tags,
		Summary: "Departures today and in the next days",
		Description: "Bookings departing today or in the next days (default 2), not cancelled or deleted, by departure day; a " +
			"booking stays on the list until the end of its departure day. informedAt and informedBy say who told the customer " +
			"the final flight times." + worklist,
	}, func(ctx context.Context, in *worklistInput) (*bodyOutput[crm.Page[crm.WorklistItem]], error) {
		return reply(bookings.Departures(ctx, crm.WorklistRequest{Days: in.Days, Page: crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}}))
	})
	register(s, huma.Operation{
		OperationID: "getPaymentsDue", Method: http.MethodGet, Path: "/v1/worklists/payments-due", Tags: tags,
		Summary: "Bookings whose next payment is due in the next days and not paid in full",
		Description: "By due day, with nextPayment: deposit or final, the amount, what is paid and what is missing. A sync that " +
			"sets the paid amount in full takes a booking off the list." + worklist,
	}, func(ctx context.Context, in *paymentsDueInput) (*bodyOutput[crm.Page[crm.WorklistItem]], error) {
		r := crm.WorklistRequest{Days: in.Days, Overdue: in.Overdue, Page: crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}}
		if !in.NotRemindedSince.IsZero() {
			r.NotRemindedSince = &in.NotRemindedSince
		}
		return reply(bookings.PaymentsDue(ctx, r))
	})
	register(s, huma.Operation{
		OperationID: "getBookingSettings", Method: http.MethodGet, Path: "/v1/booking-settings", Tags: tags,
		Summary: "The organisation's booking time zone and status map",
	}, func(ctx context.Context, _ *struct{}) (*bodyOutput[*crm.BookingSettings], error) {
		return reply(bookings.Settings(ctx))
	})
	register(s, huma.Operation{
		OperationID: "putBookingSettings", Method: http.MethodPut, Path: "/v1/booking-settings", Tags: tags,
		Summary: "Set the organisation's booking time zone and status map",
	}, func(ctx context.Context, in *bookingSettingsInput) (*bodyOutput[*crm.BookingSettings], error) {
		return reply(bookings.SetSettings(ctx, crm.BookingSettings{TimeZone: in.Body.TimeZone, StatusMap: in.Body.StatusMap}))
	})
}

// bookingQueryFields names the query parameters of the library's booking
// filter fields.
var bookingQueryFields = []routeOption{
	fieldAt("bookings.destinationCountry", "query.bookingDestination"), fieldAt("bookings.destinationPlace", "query.bookingPlace"),
	fieldAt("bookings.departureFrom", "query.departureFrom"), fieldAt("bookings.departureTo", "query.departureTo"),
	fieldAt("bookings.valueMin", "query.bookingValueMin"), fieldAt("bookings.valueMax", "query.bookingValueMax"),
	fieldAt("bookings.currency", "query.bookingCurrency"), fieldAt("bookings.status", "query.bookingStatus"),
	fieldAt("bookings.channel", "query.bookingChannel"), fieldAt("bookings.kind", "query.bookingKind"),
	fieldAt("bookings.countMin", "query.bookingsMin"), fieldAt("bookings.countMax", "query.bookingsMax"),
	fieldAt("bookings.lastFrom", "query.lastBookingFrom"), fieldAt("bookings.lastTo", "query.lastBookingTo"),
}

// BookingQuery is the booking part of CustomerQuery (crm.BookingFilter).
type BookingQuery struct {
	BookingDestination string `query:"bookingDestination" doc:"Has a booking to this country (ISO 3166-1 alpha-2). The booking* parameters all hold for one booking; without bookingStatus cancelled and deleted bookings do not count."`
	BookingPlace       string `query:"bookingPlace" doc:"Has a booking to this place, without regard to case or accents."`
	DepartureFrom      string `query:"departureFrom" format:"date" doc:"Has a booking departing on or after this day."`
	DepartureTo        string `query:"departureTo" format:"date" doc:"Has a booking departing on or before this day."`
	BookingValueMin    string `query:"bookingValueMin" doc:"Has a booking worth at least this (minor units of bookingCurrency)."`
	BookingValueMax    string `query:"bookingValueMax" doc:"Has a booking worth at most this (minor units of bookingCurrency)."`
	BookingCurrency    string `query:"bookingCurrency" doc:"The currency of bookingValueMin/Max (required with them)."`
	BookingStatus      string `query:"bookingStatus" enum:"option,reserved,confirmed,sold,cancelled,deleted"`
	BookingChannel     string `query:"bookingChannel" enum:"online,box_office,phone,agent"`
	BookingKind        string `query:"bookingKind" enum:"booking,order,reservation,appointment"`
	BookingsMin        string `query:"bookingsMin" doc:"At least this many bookings (not cancelled or deleted)."`
	BookingsMax        string `query:"bookingsMax" doc:"At most this many bookings; 0 is customers without bookings."`
	LastBookingFrom    string `query:"lastBookingFrom" format:"date" doc:"The latest booking was registered on or after this day."`
	LastBookingTo      string `query:"lastBookingTo" format:"date" doc:"The latest booking was registered on or before this day."`
}

// filter returns the query's crm.BookingFilter and the malformed parameters.
func (q *BookingQuery) filter() (crm.BookingFilter, []crm.FieldError) {
	f := crm.BookingFilter{DestinationCountry: q.BookingDestination, DestinationPlace: q.BookingPlace, Currency: q.BookingCurrency,
		Status: crm.BookingStatus(q.BookingStatus), Channel: crm.BookingChannel(q.BookingChannel), Kind: crm.BookingKind(q.BookingKind)}
	var bad []crm.FieldError
	for _, d := range []struct {
		field, value string
		dst          **crm.Date
	}{{"departureFrom", q.DepartureFrom, &f.DepartureFrom}, {"departureTo", q.DepartureTo, &f.DepartureTo},
		{"lastBookingFrom", q.LastBookingFrom, &f.LastFrom}, {"lastBookingTo", q.LastBookingTo, &f.LastTo}} {
		if d.value == "" {
			continue
		}
		date, err := crm.ParseDate(d.value)
		if err != nil {
			bad = append(bad, crm.FieldError{Field: d.field, Code: "date", Message: d.field + " is not a date (YYYY-MM-DD)"})
			continue
		}
		*d.dst = &date
	}
	for _, n := range []struct {
		field, value string
		dst          **int64
	}{{"bookingValueMin", q.BookingValueMin, &f.ValueMin}, {"bookingValueMax", q.BookingValueMax, &f.ValueMax}} {
		if n.value == "" {
			continue
		}
		v, err := strconv.ParseInt(n.value, 10, 64)
		if err != nil {
			bad = append(bad, crm.FieldError{Field: n.field, Code: "number", Message: n.field + " must be a number"})
			continue
		}
		*n.dst = &v
	}
	for _, n := range []struct {
		field, value string
		dst          **int
	}{{"bookingsMin", q.BookingsMin, &f.CountMin}, {"bookingsMax", q.BookingsMax, &f.CountMax}} {
		if n.value == "" {
			continue
		}
		v, err := strconv.Atoi(n.value)
		if err != nil || v < 0 {
			bad = append(bad, crm.FieldError{Field: n.field, Code: "number", Message: n.field + " must be a number of at least 0"})
			continue
		}
		*n.dst = &v
	}
	return f, bad
}
