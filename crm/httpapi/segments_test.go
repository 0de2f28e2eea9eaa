package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestQualifyAndSelect: tags, attributes, labels and memberships set over
// HTTP select customers in list filters and segments.
func TestQualifyAndSelect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA
		idOf := func(res response) string {
			var v struct{ ID string }
			res.json(t, &v)
			return v.ID
		}
		var tags struct{ Items []crm.Qualifier }
		ts.do("GET", "/v1/tags", key, nil).want(t, http.StatusOK).json(t, &tags)
		if len(tags.Items) != len(crm.DefaultTags) {
			t.Fatalf("default tags %+v", tags.Items)
		}
		vip := tags.Items[len(tags.Items)-1].ID
		diving := idOf(ts.do("POST", "/v1/attributes", key, map[string]any{"name": "Diving"}).want(t, http.StatusCreated))
		club := idOf(ts.do("POST", "/v1/labels", key, map[string]any{"name": "Club", "membership": true, "benefits": "5% off"}).want(t, http.StatusCreated))

		var ids []string
		for i, name := range []string{"Müller", "Möller", "Keller", "Schmidt"} {
			var c crm.Customer
			ts.do("POST", "/v1/customers", key, map[string]any{"lastName": name, "firstContact": "2025-0" + string(rune('1'+i)) + "-15"}).
				want(t, http.StatusCreated).json(t, &c)
			ids = append(ids, c.ID)
		}
		ts.do("POST", "/v1/customers/"+ids[0]+"/tags", key, map[string]any{"ids": []string{vip}}).want(t, http.StatusOK)
		ts.do("POST", "/v1/customers/"+ids[1]+"/tags", key, map[string]any{"ids": []string{vip}}).want(t, http.StatusOK)
		ts.do("POST", "/v1/customers/"+ids[1]+"/attributes", key, map[string]any{"ids": []string{diving}}).want(t, http.StatusOK)
		membership := idOf(ts.do("POST", "/v1/memberships", key, map[string]any{"labelId": club, "holderId": ids[2], "endsOn": "2099-12-31"}).
			want(t, http.StatusCreated))
		ts.do("POST", "/v1/memberships/"+membership+"/shares", key, map[string]any{"customerId": ids[3]}).want(t, http.StatusOK)
		var uses struct{ BenefitUses int }
		ts.do("POST", "/v1/customers/"+ids[3]+"/labels/"+club+"/benefit-uses", key, map[string]any{"note": "excursion"}).
			want(t, http.StatusOK).json(t, &uses)
		if uses.BenefitUses != 1 {
			t.Fatalf("benefit uses %d", uses.BenefitUses)
		}

		names := func(path string) string {
			var page crm.Page[crm.Customer]
			ts.do("GET", path, key, nil).want(t, http.StatusOK).json(t, &page)
			var out []string
			for _, c := range page.Items {
				out = append(out, c.LastName)
			}
			return strings.Join(out, " ")
		}
		for q, want := range map[string]string{
			"tag=" + vip:                                            "Müller Möller",
			"tagNone=" + vip:                                        "Keller Schmidt",
			"tag=" + vip + "&attribute=" + diving:                   "Möller",
			"tagAll=" + vip + "," + tags.Items[0].ID:                "",
			"membership=" + club:                                    "Keller Schmidt",
			"nameContains=ller":                                     "Müller Möller Keller",
			"nameContains=ller&sort=name":                           "Keller Möller Müller",
			"sort=-created&firstContactFrom=2025-02-01":             "Schmidt Keller Möller",
			"firstContactFrom=2025-02-01&firstContactTo=2025-03-15": "Möller Keller",
		} {
			if got := names("/v1/customers?" + q); got != want {
				t.Errorf("?%s: %q, want %q", q, got, want)
			}
		}

		seg := idOf(ts.do("POST", "/v1/segments", key, map[string]any{"name": "VIPs by name",
			"filter": map[string]any{"tags": map[string]any{"any": []string{vip}}, "sort": "name"}}).want(t, http.StatusCreated))
		var count struct{ Count int64 }
		ts.do("GET", "/v1/segments/"+seg+"/count", key, nil).want(t, http.StatusOK).json(t, &count)
		if count.Count != 2 {
			t.Fatalf("segment count %d", count.Count)
		}
		if got := names("/v1/segments/" + seg + "/customers?limit=1"); got != "Möller" {
			t.Fatalf("segment first page %q", got)
		}
		ts.do("GET", "/v1/customers/count?tag="+vip, key, nil).want(t, http.StatusOK).json(t, &count)
		if count.Count != 2 {
			t.Fatalf("customer count %d", count.Count)
		}

		// The customer's own view: tags, labels (through the shared membership), memberships, timeline.
		var labels struct{ Items []crm.CustomerLabel }
		ts.do("GET", "/v1/customers/"+ids[3]+"/labels", key, nil).want(t, http.StatusOK).json(t, &labels)
		if len(labels.Items) != 1 || labels.Items[0].Name != "Club" || labels.Items[0].BenefitUses != 1 || labels.Items[0].MembershipID != membership {
			t.Fatalf("labels %+v", labels.Items)
		}
		ts.do("POST", "/v1/memberships/"+membership+"/cancel", key, nil).want(t, http.StatusOK)
		if got := names("/v1/customers?membership=" + club); got != "" {
			t.Fatalf("cancelled membership still selects %q", got)
		}
		ts.do("DELETE", "/v1/customers/"+ids[0]+"/tags/"+vip, key, nil).want(t, http.StatusOK)
		var history crm.Page[crm.HistoryEvent]
		ts.do("GET", "/v1/customers/"+ids[0]+"/history", key, nil).want(t, http.StatusOK).json(t, &history)
		if history.Items[0].Kind != crm.EventTagsChanged || history.Items[1].Kind != crm.EventTagsChanged {
			t.Fatalf("timeline %+v", history.Items)
		}
	})
}
