package httpapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestPoints switches points on over HTTP and drives awards, redemptions,
// corrections, reversals, the balance, the ledger and idempotent repeats.
func TestPoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA
		var c crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Punt"}).want(t, http.StatusCreated).json(t, &c)
		pts := "/v1/customers/" + c.ID + "/points"

		// Points start switched off: every points route is absent.
		var org crm.Organisation
		ts.do("GET", "/v1/organisation", key, nil).want(t, http.StatusOK).json(t, &org)
		if org.ID != "org-a" || org.Name != "Reisbureau A" || org.PointsEnabled {
			t.Fatalf("organisation %+v", org)
		}
		pointsOff(t, ts, key, c.ID)

		// Switched on over HTTP; the other settings stay.
		var on crm.Organisation
		ts.do("PATCH", "/v1/organisation", key, map[string]any{"pointsEnabled": true}).want(t, http.StatusOK).json(t, &on)
		if !on.PointsEnabled || on.Name != org.Name || on.DefaultLanguage != "nl" || on.DefaultCountry != "NL" || !on.UpdatedAt.After(org.UpdatedAt) {
			t.Fatalf("switched on: %+v", on)
		}
		ts.do("GET", "/v1/organisation", key, nil).want(t, http.StatusOK).json(t, &org)
		if !org.PointsEnabled {
			t.Fatalf("points not on after PATCH: %+v", org)
		}

		balance := func() crm.PointBalance {
			t.Helper()
			var b crm.PointBalance
			ts.do("GET", pts, key, nil).want(t, http.StatusOK).json(t, &b)
			return b
		}
		if b := balance(); b != (crm.PointBalance{}) {
			t.Fatalf("a new customer's balance %+v", b)
		}
		write := func(path string, body any, status int, headers ...string) crm.PointTransaction {
			t.Helper()
			var tx crm.PointTransaction
			ts.do("POST", pts+path, key, body, headers...).want(t, status).json(t, &tx)
			return tx
		}

		tomorrow := crm.DateOf(time.Now().UTC().AddDate(0, 0, 1))
		award := write("/awards", map[string]any{"points": 100, "reason": "Stay", "reference": "B-1", "expiresOn": "2999-12-31"}, http.StatusCreated)
		if award.Kind != crm.PointsAward || award.Points != 100 || award.CustomerID != c.ID || award.Reason != "Stay" ||
			award.Reference != "B-1" || award.ExpiresOn == nil || award.ExpiresOn.String() != "2999-12-31" || award.Actor != crm.Staff("staff-org-a") {
			t.Fatalf("award %+v", award)
		}
		pending := write("/awards", map[string]any{"points": 50, "availableFrom": tomorrow.String()}, http.StatusCreated)
		if pending.AvailableFrom == nil || *pending.AvailableFrom != tomorrow {
			t.Fatalf("pending award %+v", pending)
		}
		if b := balance(); b != (crm.PointBalance{Available: 100, Pending: 50}) {
			t.Fatalf("balance after awards %+v", b)
		}

		redeem := write("/redemptions", map[string]any{"points": 30, "reference": "B-2"}, http.StatusCreated)
		if redeem.Kind != crm.PointsRedeem || redeem.Points != -30 {
			t.Fatalf("redemption %+v", redeem)
		}
		// More than is available (pending points do not count) writes nothing.
		p := ts.do("POST", pts+"/redemptions", key, map[string]any{"points": 71}).wantProblem(t, http.StatusConflict)
		if !p.hasError("body.points", "insufficient_points") {
			t.Fatalf("overdraft %+v", p)
		}
		p = ts.do("POST", pts+"/corrections", key, map[string]any{"points": -71, "reason": "Too much"}).wantProblem(t, http.StatusConflict)
		if !p.hasError("body.points", "insufficient_points") {
			t.Fatalf("overdrawing correction %+v", p)
		}
		minus := write("/corrections", map[string]any{"points": -20, "reason": "Double booked"}, http.StatusCreated)
		plus := write("/corrections", map[string]any{"points": 5, "reason": "Goodwill"}, http.StatusCreated)
		if minus.Kind != crm.PointsCorrect || minus.Points != -20 || plus.Points != 5 || plus.Reason != "Goodwill" {
			t.Fatalf("corrections %+v %+v", minus, plus)
		}
		if b := balance(); b != (crm.PointBalance{Available: 55, Pending: 50}) {
			t.Fatalf("balance after redemption and corrections %+v", b)
		}

		// Reversals: without a body, or with one; at most once.
		reversed := write("/transactions/"+redeem.ID+"/reversal", nil, http.StatusCreated)
		if reversed.Kind != crm.PointsReverse || reversed.Points != 30 || reversed.Reverses != redeem.ID {
			t.Fatalf("reversal %+v", reversed)
		}
		p = ts.do("POST", pts+"/transactions/"+redeem.ID+"/reversal", key, map[string]any{"reason": "Again"}).wantProblem(t, http.StatusConflict)
		if !p.hasError("path.transactionId", "conflict") {
			t.Fatalf("second reversal %+v", p)
		}
		p = ts.do("POST", pts+"/transactions/"+reversed.ID+"/reversal", key, nil).wantProblem(t, http.StatusUnprocessableEntity)
		if !p.hasError("path.transactionId", "invalid") {
			t.Fatalf("reversal of a reversal %+v", p)
		}
		// The award's 100 points were partly spent: 85 available cannot cover them.
		p = ts.do("POST", pts+"/transactions/"+award.ID+"/reversal", key, map[string]any{"reason": "Cancelled"}).wantProblem(t, http.StatusConflict)
		if !p.hasError("path.transactionId", "insufficient_points") {
			t.Fatalf("reversal of a spent award %+v", p)
		}
		unplus := write("/transactions/"+plus.ID+"/reversal", map[string]any{"reason": "Mistake", "reference": "B-3"}, http.StatusCreated)
		if unplus.Points != -5 || unplus.Reason != "Mistake" || unplus.Reference != "B-3" || unplus.Reverses != plus.ID {
			t.Fatalf("reversal of a correction %+v", unplus)
		}
		if b := balance(); b != (crm.PointBalance{Available: 80, Pending: 50}) {
			t.Fatalf("balance after reversals %+v", b)
		}

		// Idempotency-Key: a repeat is answered as the first call was and writes nothing.
		ledgerLen := func() int {
			t.Helper()
			var page crm.Page[crm.PointTransaction]
			ts.do("GET", pts+"/transactions?limit=500", key, nil).want(t, http.StatusOK).json(t, &page)
			return len(page.Items)
		}
		n := ledgerLen()
		first := write("/awards", map[string]any{"points": 7, "reason": "Review"}, http.StatusCreated, "Idempotency-Key", "review-1")
		if first.IdempotencyKey != "review-1" {
			t.Fatalf("keyed award %+v", first)
		}
		again := write("/awards", map[string]any{"points": 7, "reason": "Review"}, http.StatusCreated, "Idempotency-Key", "review-1")
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("repeat answered %+v, first %+v", again, first)
		}
		if r := ts.do("POST", pts+"/awards", key, map[string]any{"points": 7, "reason": "Review"}, "Idempotency-Key", "review-1").want(t, http.StatusCreated); r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("a repeat lacks Idempotent-Replayed: true: %v", r.header)
		}
		if b := balance(); b.Available != 87 || ledgerLen() != n+1 {
			t.Fatalf("a repeat wrote: balance %+v, %d transactions, want %d", b, ledgerLen(), n+1)
		}
		for _, other := range []struct{ path, body string }{
			{"/awards", `{"points": 8, "reason": "Review"}`},
			{"/awards", `{"points": 7, "reason": "Review", "reference": "R"}`},
			{"/redemptions", `{"points": 7, "reason": "Review"}`},
			{"/transactions/" + plus.ID + "/reversal", `{"reason": "Review"}`},
		} {
			p := ts.do("POST", pts+other.path, key, other.body, "Idempotency-Key", "review-1").wantProblem(t, http.StatusConflict)
			if !p.hasError("header.Idempotency-Key", "conflict") {
				t.Fatalf("key reused for %s %s: %+v", other.path, other.body, p)
			}
		}
		firstRedeem := ts.do("POST", pts+"/redemptions", key, map[string]any{"points": 2}, "Idempotency-Key", "redeem-1").want(t, http.StatusCreated)
		if firstRedeem.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("a first call says Idempotent-Replayed: %v", firstRedeem.header)
		}
		var keyedRedeem crm.PointTransaction
		firstRedeem.json(t, &keyedRedeem)
		if r := write("/redemptions", map[string]any{"points": 2}, http.StatusCreated, "Idempotency-Key", "redeem-1"); r.ID != keyedRedeem.ID {
			t.Fatalf("repeated redemption %+v, first %+v", r, keyedRedeem)
		}
		keyedReversal := write("/transactions/"+keyedRedeem.ID+"/reversal", nil, http.StatusCreated, "Idempotency-Key", "undo-1")
		if r := write("/transactions/"+keyedRedeem.ID+"/reversal", nil, http.StatusCreated, "Idempotency-Key", "undo-1"); r.ID != keyedReversal.ID {
			t.Fatalf("repeated reversal %+v, first %+v", r, keyedReversal)
		}
		if b := balance(); b.Available != 87 || ledgerLen() != n+3 {
			t.Fatalf("after keyed redemption and reversal: %+v, %d transactions, want %d", b, ledgerLen(), n+3)
		}

		// An expired award (written with a clock in the past) counts as expired.
		then, err := crm.New(ts.db, crm.Config{Clock: func() time.Time { return time.Now().AddDate(0, 0, -10) }})
		if err != nil {
			t.Fatal(err)
		}
		old, err := then.Points.Award(crm.WithActor(crm.WithOrg(t.Context(), "org-a"), crm.Staff("staff-org-a")), c.ID,
			crm.PointInput{Points: 40, ExpiresOn: ptr(crm.DateOf(time.Now().UTC().AddDate(0, 0, -2)))})
		if err != nil {
			t.Fatal(err)
		}
		if b := balance(); b != (crm.PointBalance{Available: 87, Pending: 50, Expired: 40}) {
			t.Fatalf("balance with an expired award %+v", b)
		}

		// The ledger: newest first, in pages that neither skip nor repeat.
		var all crm.Page[crm.PointTransaction]
		ts.do("GET", pts+"/transactions", key, nil).want(t, http.StatusOK).json(t, &all)
		if len(all.Items) != n+4 || all.Next != "" || all.Items[0].ID != keyedReversal.ID || all.Items[len(all.Items)-1].ID != old.ID {
			t.Fatalf("ledger of %d, first %+v", len(all.Items), all.Items[0])
		}
		for i := 1; i < len(all.Items); i++ {
			if all.Items[i].At.After(all.Items[i-1].At) {
				t.Fatalf("ledger not newest first at %d: %+v", i, all.Items)
			}
		}
		var paged []string
		cursor := ""
		for range 10 {
			var page crm.Page[crm.PointTransaction]
			ts.do("GET", pts+"/transactions?limit=3&cursor="+cursor, key, nil).want(t, http.StatusOK).json(t, &page)
			for _, tx := range page.Items {
				paged = append(paged, tx.ID)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		var want []string
		for _, tx := range all.Items {
			want = append(want, tx.ID)
		}
		if !reflect.DeepEqual(paged, want) {
			t.Fatalf("paged %v, want %v", paged, want)
		}

		// Every write is on the customer's timeline.
		var history crm.Page[crm.HistoryEvent]
		ts.do("GET", "/v1/customers/"+c.ID+"/history?limit=500", key, nil).want(t, http.StatusOK).json(t, &history)
		kinds := map[crm.EventKind]int{}
		for _, h := range history.Items {
			kinds[h.Kind]++
		}
		if kinds[crm.EventPointsAwarded] != 4 || kinds[crm.EventPointsRedeemed] != 2 || kinds[crm.EventPointsCorrected] != 2 ||
			kinds[crm.EventPointsReversed] != 3 {
			t.Fatalf("timeline %v", kinds)
		}

		// Concurrent calls: repeats of one key write once, and redemptions
		// never take more than the balance.
		var d crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Druk"}).want(t, http.StatusCreated).json(t, &d)
		dpts := "/v1/customers/" + d.ID + "/points"
		var wg sync.WaitGroup
		ids := make([]string, 8)
		for i := range ids {
			wg.Go(func() {
				var tx crm.PointTransaction
				if res := ts.do("POST", dpts+"/awards", key, map[string]any{"points": 50}, "Idempotency-Key", "rush-1"); res.status == http.StatusCreated {
					_ = json.Unmarshal(res.body, &tx) // an empty id fails below
				}
				ids[i] = tx.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id == "" || id != ids[0] {
				t.Fatalf("concurrent repeats answered %v", ids)
			}
		}
		statuses := make([]int, 8)
		for i := range statuses {
			wg.Go(func() { statuses[i] = ts.do("POST", dpts+"/redemptions", key, map[string]any{"points": 20}).status })
		}
		wg.Wait()
		created := 0
		for _, st := range statuses {
			switch st {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
			default:
				t.Fatalf("concurrent redemptions answered %v", statuses)
			}
		}
		var db crm.PointBalance
		ts.do("GET", dpts, key, nil).want(t, http.StatusOK).json(t, &db)
		if created != 2 || db.Available != 10 {
			t.Fatalf("concurrent redemptions: %d created (%v), balance %+v", created, statuses, db)
		}

		// Switched off, points are absent; switched on again, they are back.
		ts.do("PATCH", "/v1/organisation", key, map[string]any{"pointsEnabled": false}).want(t, http.StatusOK)
		pointsOff(t, ts, key, c.ID)
		ts.do("PATCH", "/v1/organisation", key, map[string]any{"pointsEnabled": true}).want(t, http.StatusOK)
		if b := balance(); b != (crm.PointBalance{Available: 87, Pending: 50, Expired: 40}) {
			t.Fatalf("balance after off and on %+v", b)
		}
	})
}

// pointsOff asserts that every points route of the OpenAPI document answers
// 404, with a request that would succeed with points on, and that the
// organisation's other settings still answer.
func pointsOff(t *testing.T, ts *testServer, key, customerID string) {
	t.Helper()
	requests := map[string]struct {
		path string
		body any
	}{
		"GET /v1/customers/{id}/points":                              {"", nil},
		"GET /v1/customers/{id}/points/transactions":                 {"/transactions?limit=5", nil},
		"GET /v1/customers/{id}/points/transactions/{transactionId}": {"/transactions/01936d3c-0000-7000-8000-000000000000", nil},
		"POST /v1/customers/{id}/points/awards":                      {"/awards", map[string]any{"points": 10}},
		"POST /v1/customers/{id}/points/redemptions":                 {"/redemptions", map[string]any{"points": 1}},
		"POST /v1/customers/{id}/points/corrections":                 {"/corrections", map[string]any{"points": 1, "reason": "r"}},
		"POST /v1/customers/{id}/points/transactions/{transactionId}/reversal": {"/transactions/01936d3c-0000-7000-8000-000000000000/reversal",
			map[string]any{"reason": "r"}},
	}
	for route := range openAPIRoutes(t, ts) {
		if !strings.Contains(route, "/points") {
			continue
		}
		req, ok := requests[route]
		if !ok {
			t.Errorf("points route %s is not checked with points off: add it to pointsOff", route)
			continue
		}
		method, _, _ := strings.Cut(route, " ")
		for _, headers := range [][]string{nil, {"Idempotency-Key", "off-1"}} {
			ts.do(method, "/v1/customers/"+customerID+"/points"+req.path, key, req.body, headers...).wantProblem(t, http.StatusNotFound)
		}
	}
	ts.do("GET", "/v1/organisation", key, nil).want(t, http.StatusOK)
}

func ptr[T any](v T) *T { return &v }
