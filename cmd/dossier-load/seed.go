package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/i18n"
	"github.com/dossiercrm/dossier/crm/store"
)

// Names and places of the seeded customers: accents, particles and
// letters that search must fold ("ł", "ø", "ß").
var (
	firstNames = []string{"Anna", "Jan", "Zoë", "Émile", "Søren", "Łukasz", "María", "Jürgen", "Chloé", "Björn",
		"Agnieszka", "Pieter", "Renée", "José", "Małgorzata", "Sjoerd", "Fatima", "Noël", "Ingrid", "Dário",
		"Ólafur", "Kateřina", "Joost", "Françoise", "Håkon", "Grzegorz", "Inês", "Lotte", "Mehmet", "Ève"}
	middleNames = []string{"", "", "", "", "van", "van der", "de", "von", "", "", "van den", "ter", "", "du", ""}
	lastNames   = []string{"Müller", "Jansen", "de Vries", "Dupont", "Kowalski", "Sørensen", "García", "Schäfer",
		"Łukaszewicz", "Bakker", "Lefèvre", "Nowak", "Öztürk", "Janssens", "Fernández", "Berg", "Wiśniewski",
		"Smit", "Martín", "Groß", "Dvořák", "Visser", "Lindqvist", "Peeters", "Zieliński", "Mertens", "Brandão",
		"Hoffmann", "Mulder", "Noël", "Kovács", "Andersson", "Bos", "Rousseau", "Wójcik", "Meijer", "Gonçalves"}
	companies = []string{"", "", "", "", "", "", "", "Reisbureau Zonnig B.V.", "Müller & Söhne GmbH", "Café de Fietser",
		"Łódź Travel sp. z o.o.", "Agence Côte d'Azur"}
	streets = []string{"Dorpsstraat", "Kerkstraat", "Hauptstraße", "Rue de l'Église", "ulica Długa", "Stationsweg", "Molenweg"}
	cities  = []string{"Amsterdam", "Utrecht", "Köln", "Kraków", "Lyon", "Göteborg", "Sevilla", "Gent", "Porto", "'s-Hertogenbosch"}
	origins = []string{"", "website", "fair 2026", "referral", "newsletter"}
)

// fakeCustomer makes a realistic customer from r; i makes its e-mail
// address unique.
func fakeCustomer(r *rand.Rand, i int64) crm.CustomerFields {
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	f := crm.CustomerFields{
		FirstName: pick(firstNames), MiddleName: pick(middleNames), LastName: pick(lastNames), Company: pick(companies),
		Address: crm.Address{Street: pick(streets), HouseNumber: fmt.Sprint(1 + r.IntN(300)),
			PostalCode: fmt.Sprintf("%04d %c%c", 1000+r.IntN(9000), 'A'+r.IntN(26), 'A'+r.IntN(26)), City: pick(cities), Country: "NL"},
		Status:   []crm.CustomerStatus{crm.StatusCustomer, crm.StatusCustomer, crm.StatusLead, crm.StatusProspect, crm.StatusInactive}[r.IntN(5)],
		Language: pick([]string{"nl", "de", "fr", "pl", "en", "nl-BE"}),
		Origin:   pick(origins),
	}
	// Numbers as staff type them: national and international formats.
	switch r.IntN(3) {
	case 0:
		f.Phones = []crm.Phone{{Kind: crm.PhoneMobile, Number: fmt.Sprintf("06 1%03d %04d", r.IntN(1000), r.IntN(10_000))}}
	case 1:
		f.Phones = []crm.Phone{{Kind: crm.PhoneMobile, Number: fmt.Sprintf("+31 6 2%07d", r.IntN(10_000_000))},
			{Kind: crm.PhoneHome, Number: fmt.Sprintf("030-%07d", 2_000_000+r.IntN(8_000_000))}}
	default:
		f.Phones = []crm.Phone{{Kind: crm.PhoneMobile, Number: fmt.Sprintf("+49 151 %08d", r.IntN(100_000_000))}}
	}
	local := strings.ReplaceAll(i18n.SearchKey(f.FirstName+"."+f.LastName), " ", "")
	f.Email = fmt.Sprintf("%s.%d@example.org", local, i)
	if r.IntN(4) == 0 {
		f.LoginEmail = fmt.Sprintf("login.%d@example.net", i)
	}
	if r.IntN(10) == 0 {
		f.AltEmails = []string{fmt.Sprintf("%s@work-%d.example.com", local, i)}
	}
	bd := crm.Date{Year: 1940 + r.IntN(65), Month: time.Month(1 + r.IntN(12)), Day: 1 + r.IntN(28)}
	f.BirthDate = &bd
	if r.IntN(3) == 0 {
		f.Remarks = "Prefers a window seat; travels with a dog."
	}
	return f
}

// countCustomers returns how many customers the organisation holds.
func countCustomers(ctx context.Context, db *sql.DB, dialect string) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM customers WHERE org_id = "+placeholder(dialect, 1), loadOrg).Scan(&n)
	return n, err
}

// ensureCustomers makes the organisation hold at least cfg.customers
// customers, creating the missing ones through the library, and returns
// how many it holds.
func ensureCustomers(ctx context.Context, c *crm.CRM, db *sql.DB, dialect string, cfg config) (int, error) {
	if _, err := c.Organisations.Get(ctx, loadOrg); errors.Is(err, crm.ErrNotFound) {
		_, err = c.Organisations.Create(ctx, crm.NewOrganisation{ID: loadOrg, Name: "Load benchmark", DefaultLanguage: "nl", DefaultCountry: "NL"})
		if err != nil {
			return 0, fmt.Errorf("create organisation: %w", err)
		}
	} else if err != nil {
		return 0, err
	}
	have, err := countCustomers(ctx, db, dialect)
	if err != nil {
		return 0, err
	}
	if have >= cfg.customers {
		fmt.Printf("organisation %q holds %d customers: no seeding\n", loadOrg, have)
		return have, nil
	}
	if dialect == "postgres" {
		// Seed on connections that do not wait for each commit to reach the
		// disk: customer numbers make the creates commit one at a time, and
		// a crash can only lose the last few, which the next run creates.
		// The benchmark itself runs on the DSN as given.
		st, err := store.Open(ctx, withParam(cfg.db, "synchronous_commit", "off"))
		if err != nil {
			return 0, err
		}
		defer st.Close()
		if c, err = crm.New(st, crm.Config{}); err != nil {
			return 0, err
		}
	}
	missing := cfg.customers - have
	fmt.Printf("seeding %d customers (organisation %q holds %d) with %d workers through crm.CustomerService.Create...\n",
		missing, loadOrg, have, cfg.seedWorkers)
	start := time.Now()
	seedCtx, cancel := context.WithCancel(crm.WithActor(crm.WithOrg(ctx, loadOrg), crm.Import("dossier-load")))
	defer cancel()
	var (
		next     atomic.Int64 // customers handed out
		done     atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	step := max(int64(missing)/10, 1)
	for w := range cfg.seedWorkers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(have), uint64(w)))
			for {
				i := next.Add(1)
				if i > int64(missing) || seedCtx.Err() != nil {
					return
				}
				if _, err := c.Customers.Create(seedCtx, fakeCustomer(r, int64(have)+i)); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				if d := done.Add(1); d%step == 0 {
					fmt.Printf("  %d/%d in %s\n", d, missing, time.Since(start).Round(time.Second))
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, fmt.Errorf("seeding (%d created; run again to go on): %w", done.Load(), firstErr)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	fmt.Printf("seeded %d customers in %s (%.0f/s)\n", missing, time.Since(start).Round(time.Second),
		float64(missing)/time.Since(start).Seconds())
	// Planner statistics; on PostgreSQL also the visibility map, without
	// which index-only scans of the name keys visit every heap row.
	finish := []string{"ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"}
	if dialect == "postgres" {
		finish = []string{"VACUUM ANALYZE"}
	}
	for _, q := range finish {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("%s: %w", q, err)
		}
	}
	return countCustomers(ctx, db, dialect)
}

// withParam adds a query parameter to a URL-shaped DSN.
func withParam(dsn, key, value string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
}

// sampleSize is about how many customers the wrk scripts cycle through.
const sampleSize = 4000

// samples returns ids of customers spread over the organisation, in a
// fixed random order, and name prefixes (3 and 4 letters of the seeded
// surnames, as search keys: lower case, accents removed).
func samples(ctx context.Context, db *sql.DB, dialect string, have int) (ids, prefixes []string, err error) {
	every := max(have/sampleSize, 1)
	rows, err := db.QueryContext(ctx, "SELECT id, last_name FROM customers WHERE org_id = "+placeholder(dialect, 1)+
		" AND number % "+fmt.Sprint(every)+" = 0 ORDER BY number", loadOrg)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var id, last string
		if err := rows.Scan(&id, &last); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
		// The last word of the surname: "de vries" gives "vri" and "vrie".
		key := i18n.SearchKey(last)
		if i := strings.LastIndexByte(key, ' '); i >= 0 {
			key = key[i+1:]
		}
		for _, n := range []int{3, 4} {
			if p := string([]rune(key)[:min(n, len([]rune(key)))]); len([]rune(p)) == n && !seen[p] && i18n.SearchKey(p) == p {
				seen[p] = true
				prefixes = append(prefixes, p)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 || len(prefixes) == 0 {
		return nil, nil, errors.New("no customers to look up")
	}
	r := rand.New(rand.NewPCG(7, 11))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	slices.Sort(prefixes)
	r.Shuffle(len(prefixes), func(i, j int) { prefixes[i], prefixes[j] = prefixes[j], prefixes[i] })
	return ids, prefixes, nil
}

// idPaths are the paths, below a server's customers route, of GET by id.
func idPaths(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "/" + id
	}
	return out
}

// namePaths are the paths, below a server's customers route, of a find by
// name prefix.
func namePaths(prefixes []string) []string {
	out := make([]string, len(prefixes))
	for i, p := range prefixes {
		out[i] = "?name=" + url.QueryEscape(p)
	}
	return out
}

// getRequests are GETs of paths.
func getRequests(paths []string) []request {
	out := make([]request, len(paths))
	for i, p := range paths {
		out[i] = request{path: p}
	}
	return out
}

// containsFragments are 3-letter fragments from inside the seeded
// surnames, as search keys, each in about one surname in len(lastNames):
// "jansen" gives "ans". A fragment that occurs in a first name or a
// company too is in more names.
func containsFragments() []string {
	seen := map[string]bool{}
	var out []string
	for _, last := range lastNames {
		key := []rune(strings.ReplaceAll(i18n.SearchKey(last), " ", ""))
		if len(key) < 5 {
			continue
		}
		f := string(key[1:4])
		if !seen[f] && i18n.SearchKey(f) == f {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// containsPaths are the paths, below a server's customers route, of a
// contains-search.
func containsPaths(fragments []string) []string {
	out := make([]string, len(fragments))
	for i, f := range fragments {
		out[i] = "?nameContains=" + url.QueryEscape(f)
	}
	return out
}

// createBodies are n JSON bodies of creates like the seeded customers
// (without a login address, which must be unique).
func createBodies(n int) ([]request, error) {
	r := rand.New(rand.NewPCG(3, 5))
	out := make([]request, n)
	for i := range out {
		f := fakeCustomer(r, int64(i))
		f.LoginEmail = ""
		b, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		out[i] = request{body: string(b)}
	}
	return out, nil
}
