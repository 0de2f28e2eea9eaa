package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// tripBody is a booking as a platform sends it.
func tripBody(customerID string, startsOn string, total int) map[string]any {
	return map[string]any{"customerId": customerID, "status": "confirmed", "registeredOn": "2026-10-01", "startsOn": startsOn,
		"destinationCountry": "ES", "destinationPlace": "Málaga", "total": total, "currency": "EUR", "sourceVersion": 1,
		"lines":   []map[string]any{{"kind": "flight", "description": "AMS-AGP", "quantity": 2, "amount": total / 2}},
		"deposit": map[string]any{"dueOn": time.Now().UTC().Format("2006-01-02"), "amount": 5000, "paid": 1000}}
}

func TestBookings(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		var c crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"firstName": "Anna", "lastName": "Nowak", "language": "pl"}).
			want(t, http.StatusCreated).json(t, &c)
		today := time.Now().UTC().Format("2006-01-02")
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")

		var r crm.BookingResult
		ts.do("PUT", "/v1/bookings/W-1", a, tripBody(c.ID, tomorrow, 250000)).want(t, http.StatusCreated).json(t, &r)
		if r.Outcome != crm.BookingCreated || r.Booking.CustomerNumber != c.Number || r.Booking.NextPayment.Missing != 4000 {
			t.Fatalf("created %+v %+v", r, r.Booking)
		}
		ts.do("PUT", "/v1/bookings/W-1", a, tripBody(c.ID, tomorrow, 250000)).want(t, http.StatusOK).json(t, &r)
		if r.Outcome != crm.BookingUnchanged {
			t.Fatalf("repeat %s", r.Outcome)
		}
		var b crm.Booking
		ts.do("GET", "/v1/bookings/W-1", a, nil).want(t, http.StatusOK).json(t, &b)
		if b.Total != 250000 || b.DestinationPlace != "Málaga" {
			t.Fatalf("get %+v", b)
		}
		ts.do("GET", "/v1/bookings/W-404", a, nil).wantProblem(t, http.StatusNotFound)

		// A batch: two new, one repeated, one refused.
		var batch struct {
			Results []struct {
				Reference string
				Outcome   crm.BookingOutcome
				Problem   *problem
			}
		}
		bad := tripBody(c.ID, tomorrow, 1)
		bad["currency"] = "euro"
		withRef := func(ref string, m map[string]any) map[string]any { m["reference"] = ref; return m }
		ts.do("POST", "/v1/bookings/batch", a, map[string]any{"bookings": []any{
			withRef("W-2", tripBody(c.ID, "2020-01-01", 1000)), withRef("W-3", tripBody(c.ID, today, 3000)),
			withRef("W-1", tripBody(c.ID, tomorrow, 250000)), withRef("W-4", bad), tripBody(c.ID, tomorrow, 1),
		}}).want(t, http.StatusOK).json(t, &batch)
		if len(batch.Results) != 5 || batch.Results[4].Problem == nil || !batch.Results[4].Problem.hasError("body.bookings[4].reference", "required") || batch.Results[0].Outcome != crm.BookingCreated || batch.Results[2].Outcome != crm.BookingUnchanged ||
			batch.Results[3].Problem == nil || !batch.Results[3].Problem.hasError("body.bookings[3].currency", "invalid") {
			t.Fatalf("batch %+v", batch)
		}

		var view crm.CustomerBookings
		ts.do("GET", "/v1/customers/"+c.ID+"/bookings", a, nil).want(t, http.StatusOK).json(t, &view)
		if view.Counts.Upcoming != 2 || view.Counts.Past != 1 || len(view.Past) != 1 || view.Past[0].Reference != "W-2" ||
			len(view.Counts.LifetimeValue) != 1 || view.Counts.LifetimeValue[0].Amount != 254000 {
			t.Fatalf("view %+v", view)
		}
		var page crm.Page[crm.Booking]
		ts.do("GET", "/v1/customers/"+c.ID+"/bookings/upcoming?limit=1", a, nil).want(t, http.StatusOK).json(t, &page)
		if len(page.Items) != 1 || page.Items[0].Reference != "W-1" || page.Next == "" {
			t.Fatalf("page %+v", page)
		}

		// Worklists, the informed mark and a reminder.
		var deps crm.Page[crm.WorklistItem]
		ts.do("GET", "/v1/worklists/departures", a, nil).want(t, http.StatusOK).json(t, &deps)
		if len(deps.Items) != 2 || deps.Items[0].Reference != "W-3" || deps.Items[0].CustomerName != "Anna Nowak" {
			t.Fatalf("departures %+v", deps)
		}
		ts.do("POST", "/v1/bookings/W-1/informed", a, nil).want(t, http.StatusOK).json(t, &b)
		if b.InformedAt == nil || b.InformedBy == nil {
			t.Fatalf("informed %+v", b)
		}
		var due crm.Page[crm.WorklistItem]
		ts.do("GET", "/v1/worklists/payments-due?days=1", a, nil).want(t, http.StatusOK).json(t, &due)
		if len(due.Items) != 3 || due.Items[0].NextPayment.Kind != crm.PaymentDeposit {
			t.Fatalf("payments due %+v", due)
		}
		var rem crm.PaymentReminder
		ts.do("POST", "/v1/bookings/W-1/reminders", a, map[string]any{"channel": "phone", "note": "pays tomorrow"}).
			want(t, http.StatusCreated).json(t, &rem)
		if rem.Missing != 4000 || rem.Payment != crm.PaymentDeposit {
			t.Fatalf("reminder %+v", rem)
		}
		since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		ts.do("GET", "/v1/worklists/payments-due?days=1&notRemindedSince="+since, a, nil).want(t, http.StatusOK).json(t, &due)
		if len(due.Items) != 2 {
			t.Fatalf("not reminded %+v", due)
		}

		// Filters in the query string.
		var list crm.Page[crm.Customer]
		ts.do("GET", "/v1/customers?bookingDestination=ES&departureFrom="+today+"&bookingValueMin=200000&bookingCurrency=EUR&language=pl",
			a, nil).want(t, http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != c.ID {
			t.Fatalf("filter %+v", list)
		}
		ts.do("GET", "/v1/customers?bookingsMax=0", a, nil).want(t, http.StatusOK).json(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("no bookings %+v", list)
		}
		var count struct{ Count int }
		ts.do("GET", "/v1/customers/count?bookingPlace=malaga&bookingsMin=3", a, nil).want(t, http.StatusOK).json(t, &count)
		if count.Count != 1 {
			t.Fatalf("count %+v", count)
		}

		// The organisation's statuses and time zone.
		var set crm.BookingSettings
		ts.do("PUT", "/v1/booking-settings", a, map[string]any{"timeZone": "Europe/Warsaw", "statusMap": map[string]any{"Anulowana": "cancelled"}}).
			want(t, http.StatusOK).json(t, &set)
		cancel := tripBody(c.ID, tomorrow, 250000)
		cancel["status"], cancel["sourceVersion"] = "Anulowana", 2
		ts.do("PUT", "/v1/bookings/W-1", a, cancel).want(t, http.StatusOK).json(t, &r)
		if r.Booking.Status != crm.StatusCancelled || r.Booking.PlatformStatus != "Anulowana" {
			t.Fatalf("mapped %+v", r.Booking)
		}
		ts.do("GET", "/v1/booking-settings", a, nil).want(t, http.StatusOK).json(t, &set)
		if set.TimeZone != "Europe/Warsaw" {
			t.Fatalf("settings %+v", set)
		}

		// The explicit move.
		var d crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Other"}).want(t, http.StatusCreated).json(t, &d)
		ts.do("PUT", "/v1/bookings/W-2", a, tripBody(d.ID, "2020-01-01", 1000)).wantProblem(t, http.StatusConflict)
		ts.do("POST", "/v1/bookings/W-2/move", a, map[string]any{"customerId": d.ID}).want(t, http.StatusOK).json(t, &b)
		if b.CustomerID != d.ID {
			t.Fatalf("moved %+v", b)
		}
		var h crm.Page[crm.HistoryEvent]
		ts.do("GET", "/v1/customers/"+c.ID+"/history", a, nil).want(t, http.StatusOK).json(t, &h)
		var kinds []string
		for _, e := range h.Items {
			if strings.HasPrefix(string(e.Kind), "booking.") {
				kinds = append(kinds, string(e.Kind))
			}
		}
		if strings.Join(kinds, " ") != "booking.moved booking.cancelled booking.payment_reminded booking.informed booking.created booking.created booking.created" {
			t.Fatalf("timeline %v", kinds)
		}
	})
}

// TestBookingBadInput: every kind of bad booking request is a problem
// naming its field, and writes nothing.
func TestBookingBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		a := ts.keyA
		var c crm.Customer
		ts.do("POST", "/v1/customers", a, map[string]any{"lastName": "Jansen"}).want(t, http.StatusCreated).json(t, &c)
		ts.do("PUT", "/v1/bookings/OK-1", a, tripBody(c.ID, "2027-01-01", 100)).want(t, http.StatusCreated)
		with := func(k string, v any) map[string]any {
			m := tripBody(c.ID, "2027-01-01", 100)
			m["sourceVersion"] = 9
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		const unknownID = "01936d3c-0000-7000-8000-000000000000"
		state := func() string {
			var all []string
			for _, p := range []string{"/v1/bookings/OK-1", "/v1/customers/" + c.ID + "/bookings", "/v1/customers/" + c.ID + "/history?limit=500",
				"/v1/booking-settings"} {
				all = append(all, string(ts.do("GET", p, a, nil).want(t, http.StatusOK).body))
			}
			return strings.Join(all, "\n")
		}
		before := state()
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			locations          []string
		}{
			{"malformed JSON", "PUT", "/v1/bookings/X-1", `{"customerId": `, 400, nil},
			{"unknown member", "PUT", "/v1/bookings/X-1", with("colour", "red"), 422, []string{"body.colour"}},
			{"no status", "PUT", "/v1/bookings/X-1", with("status", nil), 422, []string{"body.status"}},
			{"bad date", "PUT", "/v1/bookings/X-1", with("startsOn", "01-01-2027"), 422, []string{"body.startsOn"}},
			{"wrong type", "PUT", "/v1/bookings/X-1", with("total", "a lot"), 422, []string{"body.total"}},
			{"bad values", "PUT", "/v1/bookings/X-1", func() map[string]any {
				m := with("currency", "EURO")
				m["destinationCountry"], m["status"] = "XX", "lost"
				m["description"] = "bad\u0000byte"
				return m
			}(), 422, []string{"body.currency", "body.destinationCountry", "body.status", "body.description"}},
			{"bad kind", "PUT", "/v1/bookings/X-1", with("kind", "cruise"), 422, []string{"body.kind"}},
			{"other reference in body", "PUT", "/v1/bookings/X-1", with("reference", "X-2"), 422, []string{"body.reference"}},
			{"bad byte in reference", "PUT", "/v1/bookings/X%01Y", with("status", "confirmed"), 422, []string{"path.reference"}},
			{"unknown customer", "PUT", "/v1/bookings/X-1", with("customerId", unknownID), 404, nil},
			{"not a customer id", "PUT", "/v1/bookings/X-1", with("customerId", "x"), 422, []string{"body.customerId"}},
			{"unknown participant", "PUT", "/v1/bookings/X-1", with("participants", []string{unknownID}), 422, []string{"body.participants[0]"}},
			{"ends before it starts", "PUT", "/v1/bookings/X-1", with("endsOn", "2026-01-01"), 422, []string{"body.endsOn"}},
			{"negative deposit", "PUT", "/v1/bookings/X-1", with("deposit", map[string]any{"dueOn": "2026-12-01", "amount": -5}), 422,
				[]string{"body.deposit.amount"}},
			{"batch too large", "POST", "/v1/bookings/batch", map[string]any{"bookings": make([]map[string]any, 501)}, 422, []string{"body.bookings"}},
			{"unknown booking to move", "POST", "/v1/bookings/X-404/move", map[string]any{"customerId": c.ID}, 404, nil},
			{"move to unknown", "POST", "/v1/bookings/OK-1/move", map[string]any{"customerId": unknownID}, 404, nil},
			{"informed unknown", "POST", "/v1/bookings/X-404/informed", nil, 404, nil},
			{"bad reminder channel", "POST", "/v1/bookings/OK-1/reminders", map[string]any{"channel": "pigeon"}, 422, []string{"body.channel"}},
			{"bad byte in note", "POST", "/v1/bookings/OK-1/reminders", map[string]any{"channel": "mail", "note": "x\u0000"}, 422, []string{"body.note"}},
			{"bad group", "GET", "/v1/customers/" + c.ID + "/bookings/soon", nil, 422, []string{"path.group"}},
			{"bad cursor", "GET", "/v1/customers/" + c.ID + "/bookings/all?cursor=xyz", nil, 422, []string{"query.cursor"}},
			{"unknown customer's bookings", "GET", "/v1/customers/" + unknownID + "/bookings", nil, 404, nil},
			{"too many days", "GET", "/v1/worklists/departures?days=61", nil, 422, []string{"query.days"}},
			{"bad worklist cursor", "GET", "/v1/worklists/payments-due?cursor=xyz", nil, 422, []string{"query.cursor"}},
			{"bad reminded time", "GET", "/v1/worklists/payments-due?notRemindedSince=yesterday", nil, 422, []string{"query.notRemindedSince"}},
			{"bad time zone", "PUT", "/v1/booking-settings", map[string]any{"timeZone": "Mars/Olympus"}, 422, []string{"body.timeZone"}},
			{"bad mapped status", "PUT", "/v1/booking-settings", map[string]any{"timeZone": "", "statusMap": map[string]any{"X": "gone"}}, 422,
				[]string{"body.statusMap.X"}},
			{"bad destination filter", "GET", "/v1/customers?bookingDestination=XX", nil, 422, []string{"query.bookingDestination"}},
			{"value without currency", "GET", "/v1/customers?bookingValueMin=100", nil, 422, []string{"query.bookingCurrency"}},
			{"value not a number", "GET", "/v1/customers?bookingValueMin=lots&bookingCurrency=EUR", nil, 422, []string{"query.bookingValueMin"}},
			{"bad departure filter", "GET", "/v1/customers/count?departureFrom=2027-13-01", nil, 422, []string{"query.departureFrom"}},
			{"bad count filter", "GET", "/v1/customers?bookingsMin=-1", nil, 422, []string{"query.bookingsMin"}},
			{"bad booking status filter", "GET", "/v1/customers?bookingStatus=lost", nil, 422, []string{"query.bookingStatus"}},
			{"bad benefit channel", "POST", "/v1/customers/" + c.ID + "/labels/" + unknownID + "/benefit-uses", map[string]any{"channel": "fax"}, 422,
				[]string{"body.channel"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := ts.do(tc.method, tc.path, a, tc.body).wantProblem(t, tc.status)
				for _, loc := range tc.locations {
					if !p.hasError(loc, "") {
						t.Errorf("problem does not name %s: %+v", loc, p.Errors)
					}
				}
			})
		}
		if after := state(); after != before {
			t.Fatalf("bad requests changed the data:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// bookingProbes are TestIsolation's probes of the booking routes: A's key
// against B's booking (reference bRef of B's customer secretID).
func bookingProbes(t *testing.T, ts *testServer, a, b, secretID, ownID, bRef string) map[string]func(t *testing.T) {
	for _, ref := range []string{bRef, bRef + "-only-b"} {
		ts.do("PUT", "/v1/bookings/"+ref, b, tripBody(secretID, time.Now().UTC().Format("2006-01-02"), 99900)).want(t, http.StatusCreated)
	}
	ts.do("PUT", "/v1/booking-settings", b, map[string]any{"timeZone": "Europe/Berlin", "statusMap": map[string]any{"Geheim": "sold"}}).
		want(t, http.StatusOK)
	notFound := func(method, path string, body any) func(t *testing.T) {
		return func(t *testing.T) { ts.do(method, path, a, body).wantProblem(t, http.StatusNotFound) }
	}
	hidesB := func(path string) func(t *testing.T) {
		return func(t *testing.T) {
			body := string(ts.do("GET", path, a, nil).want(t, http.StatusOK).body)
			for _, s := range []string{bRef, secretID, "Geheim", "Berlin"} {
				if strings.Contains(body, s) {
					t.Fatalf("A's %s shows B's %s: %s", path, s, body)
				}
			}
		}
	}
	return map[string]func(t *testing.T){
		"PUT /v1/bookings/{reference}": func(t *testing.T) {
			// B's customer is unknown to A; the reference is A's own to use.
			ts.do("PUT", "/v1/bookings/"+bRef, a, tripBody(secretID, "2027-01-01", 1)).wantProblem(t, http.StatusNotFound)
			p := tripBody(ownID, "2027-01-01", 1)
			p["participants"] = []string{secretID}
			ts.do("PUT", "/v1/bookings/"+bRef, a, p).wantProblem(t, http.StatusUnprocessableEntity)
			ts.do("PUT", "/v1/bookings/"+bRef, a, tripBody(ownID, "2027-01-01", 1)).want(t, http.StatusCreated)
		},
		"POST /v1/bookings/batch": func(t *testing.T) {
			m := tripBody(secretID, "2027-01-01", 1)
			m["reference"] = bRef + "-batch"
			var res struct{ Results []struct{ Problem *problem } }
			ts.do("POST", "/v1/bookings/batch", a, map[string]any{"bookings": []any{m}}).want(t, http.StatusOK).json(t, &res)
			if res.Results[0].Problem == nil || res.Results[0].Problem.Status != http.StatusNotFound {
				t.Fatalf("A's batch for B's customer: %+v", res)
			}
		},
		"GET /v1/bookings/{reference}":            notFound("GET", "/v1/bookings/"+bRef+"-only-b", nil),
		"POST /v1/bookings/{reference}/move":      notFound("POST", "/v1/bookings/"+bRef+"-only-b/move", map[string]any{"customerId": ownID}),
		"POST /v1/bookings/{reference}/informed":  notFound("POST", "/v1/bookings/"+bRef+"-only-b/informed", nil),
		"POST /v1/bookings/{reference}/reminders": notFound("POST", "/v1/bookings/"+bRef+"-only-b/reminders", map[string]any{"channel": "phone"}),
		"GET /v1/customers/{id}/bookings":         notFound("GET", "/v1/customers/"+secretID+"/bookings", nil),
		"GET /v1/customers/{id}/bookings/{group}": notFound("GET", "/v1/customers/"+secretID+"/bookings/all", nil),
		"GET /v1/worklists/departures":            hidesB("/v1/worklists/departures?days=60"),
		"GET /v1/worklists/payments-due":          hidesB("/v1/worklists/payments-due?days=60&overdue=true"),
		"GET /v1/booking-settings":                hidesB("/v1/booking-settings"),
		"PUT /v1/booking-settings": func(t *testing.T) {
			ts.do("PUT", "/v1/booking-settings", a, map[string]any{"timeZone": "Europe/Amsterdam"}).want(t, http.StatusOK)
		},
	}
}
