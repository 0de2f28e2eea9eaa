// Quickstart embeds Dossier in a program: it opens an SQLite file, creates an
// organisation and a customer, finds the customer by name and by phone, updates
// it, and prints its timeline.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "dossier-quickstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Open (and migrate) the database. "postgres://..." works the same way.
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "dossier.db"), store.WithMigrate())
	if err != nil {
		return err
	}
	defer st.Close()

	c, err := crm.New(st, crm.Config{})
	if err != nil {
		return err
	}

	// An organisation: its language goes to new customers, its country is
	// used to read national phone numbers.
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{
		ID: "reisbureau-zon", Name: "Reisbureau Zon", DefaultLanguage: "nl", DefaultCountry: "NL",
	}); err != nil {
		return err
	}

	// Every call is scoped to one organisation and says who acts. A change
	// by staff names a real staff user of the organisation: make one (as
	// the system, the way the command line does) and act as it. Act reads
	// and checks the user once for every call made with its context.
	ctx = crm.WithOrg(ctx, "reisbureau-zon")
	if _, err := c.Staff.Create(crm.WithActor(ctx, crm.System()), crm.NewStaffUser{
		ID: "u-17", Name: "Mia Jansen", Email: "mia@reisbureau-zon.example", Role: crm.RoleStaff,
	}); err != nil {
		return err
	}
	if ctx, err = c.Staff.Act(ctx, "u-17"); err != nil {
		return err
	}

	anna, err := c.Customers.Create(ctx, crm.CustomerFields{
		FirstName:  "Anna",
		LastName:   "Müller",
		LoginEmail: "anna@example.nl",
		Phones:     []crm.Phone{{Kind: crm.PhoneMobile, Number: "06 1234 5678"}},
	})
	if err != nil {
		return err
	}
	fmt.Printf("created customer %d: %s, phone %s, language %s\n",
		anna.Number, anna.DisplayName(), anna.Phones[0].Number, anna.Language)

	// Names match without regard to case or accents; phones in any format.
	byName, err := c.Customers.List(ctx, crm.CustomerFilter{Name: "muller"}, crm.PageRequest{})
	if err != nil {
		return err
	}
	byPhone, err := c.Customers.List(ctx, crm.CustomerFilter{Phone: "+31 6 12345678"}, crm.PageRequest{})
	if err != nil {
		return err
	}
	fmt.Printf("\"muller\" finds %d, \"+31 6 12345678\" finds %d\n", len(byName.Items), len(byPhone.Items))

	// Updates name the version they were based on.
	anna, err = c.Customers.Update(ctx, anna.ID, anna.Version, crm.CustomerPatch{
		Address: &crm.Address{Street: "Keizersgracht", HouseNumber: "12", PostalCode: "1015 CJ", City: "Amsterdam", Country: "NL"},
	})
	if err != nil {
		return err
	}
	// A second update from the old version is refused, not silently merged.
	_, err = c.Customers.Update(ctx, anna.ID, 1, crm.CustomerPatch{Remarks: ptr("late")})
	fmt.Println("stale update refused:", errors.Is(err, crm.ErrConflict))

	// Bad input says which field is wrong and why.
	_, err = c.Customers.Create(ctx, crm.CustomerFields{LastName: "Jansen", Email: "not-an-address"})
	var invalid *crm.ValidationError
	if errors.As(err, &invalid) {
		fmt.Println("refused:", invalid.Fields[0].Message)
	}

	timeline, err := c.History.List(ctx, anna.ID, crm.PageRequest{})
	if err != nil {
		return err
	}
	for _, ev := range timeline.Items {
		fmt.Printf("%s by %s, %d fields\n", ev.Kind, ev.Actor, len(ev.Changes))
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
