package crm_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/dossiercrm/dossier/crm"
)

func ExampleIdempotent() {
	c, ctx, done := setup()
	defer done()

	// The caller chose the key when it first sent the request, and repeats
	// the call with it when it got no answer.
	in := crm.CustomerFields{FirstName: "Anna", LastName: "Müller"}
	call := crm.IdempotentCall{Key: "signup-0f3a9c", Operation: "createCustomer", Request: in}
	create := func(ctx context.Context) (*crm.Customer, error) { return c.Customers.Create(ctx, in) }

	first, replayed, err := crm.Idempotent(ctx, c, call, create)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Number, replayed)

	again, replayed, err := crm.Idempotent(ctx, c, call, create)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.Number, again.ID == first.ID, replayed)

	// The key with another request is refused.
	other := crm.IdempotentCall{Key: "signup-0f3a9c", Operation: "createCustomer", Request: crm.CustomerFields{LastName: "Jansen"}}
	_, _, err = crm.Idempotent(ctx, c, other, create)
	fmt.Println(errors.Is(err, crm.ErrConflict))
	// Output:
	// 1 false
	// 1 true true
	// true
}
