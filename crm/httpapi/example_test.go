package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/httpapi"
	"github.com/dossiercrm/dossier/crm/store"
)

// A platform mounts the API under a prefix of its own mux, next to its own
// routes, and calls it with an API key of an organisation.
func ExampleNew() {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite::memory:", store.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: "acme", Name: "Acme Travel", DefaultCountry: "NL"}); err != nil {
		log.Fatal(err)
	}
	_, secret, err := c.APIKeys.Create(crm.WithActor(crm.WithOrg(ctx, "acme"), crm.System()),
		crm.NewAPIKey{Name: "booking site", StaffUser: crm.AdministratorID})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /bookings", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "[]") })
	mux.Handle("/crm/", http.StripPrefix("/crm", httpapi.New(c, httpapi.Options{Ready: st.Ping, BasePath: "/crm"})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/crm/v1/customers",
		strings.NewReader(`{"firstName": "Anna", "lastName": "Müller", "phones": [{"number": "06 1234 5678"}]}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println(res.Status, res.Header.Get("ETag"), strings.HasPrefix(res.Header.Get("Location"), "/crm/v1/customers/"))

	req, _ = http.NewRequest("GET", srv.URL+"/crm/v1/customers?phone=%2B31612345678", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.Status, strings.Contains(string(body), `"lastName":"Müller"`))
	// Output:
	// 201 Created "1" true
	// 200 OK true
}
