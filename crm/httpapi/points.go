package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type pointBalanceOutput = bodyOutput[*crm.PointBalance]

type pointLedgerInput struct {
	ID     string `path:"id" doc:"The customer's id (a UUID)."`
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type pointTransactionPath struct {
	ID            string `path:"id" doc:"The customer's id (a UUID)."`
	TransactionID string `path:"transactionId" doc:"The transaction's id."`
}

type pointLedgerOutput = bodyOutput[crm.Page[crm.PointTransaction]]

type pointTransactionOutput struct {
	// Replayed says the answer repeats an earlier call with the same
	// Idempotency-Key: nothing was written.
	Replayed string `header:"Idempotent-Replayed" doc:"true when this answers a repeated call with the same Idempotency-Key; nothing was written."`
	Body     *crm.PointTransaction
}

// The write bodies. The idempotency key is a header, not a member, so that
// a body can be resent as it is.

type awardBody struct {
	Points        int64     `json:"points" required:"true" minimum:"1" maximum:"1000000000" doc:"The points to credit."`
	AvailableFrom *crm.Date `json:"availableFrom,omitempty" doc:"The points are pending until this day (e.g. the day after the stay); without it they are available at once."`
	ExpiresOn     *crm.Date `json:"expiresOn,omitempty" doc:"The last day on which the points can be used; not before availableFrom. Without it they never expire."`
	Reason        string    `json:"reason,omitempty" maxLength:"500" doc:"Why the points are given."`
	Reference     string    `json:"reference,omitempty" maxLength:"200" doc:"What the points are for outside Dossier, e.g. a booking number."`
}

type redeemBody struct {
	Points    int64  `json:"points" required:"true" minimum:"1" maximum:"1000000000" doc:"The points to spend: those expiring soonest go first."`
	Reason    string `json:"reason,omitempty" maxLength:"500" doc:"What the points were spent on."`
	Reference string `json:"reference,omitempty" maxLength:"200" doc:"What the points are for outside Dossier, e.g. a booking number."`
}

type correctBody struct {
	Points    int64  `json:"points" required:"true" minimum:"-1000000000" maximum:"1000000000" doc:"Points to add (positive) or take away (negative); not 0."`
	Reason    string `json:"reason" required:"true" minLength:"1" maxLength:"500" doc:"Why the balance is corrected; required."`
	Reference string `json:"reference,omitempty" maxLength:"200" doc:"What the correction refers to outside Dossier."`
}

type reverseBody struct {
	Reason    string `json:"reason,omitempty" maxLength:"500" doc:"Why the transaction is undone, e.g. the booking was cancelled."`
	Reference string `json:"reference,omitempty" maxLength:"200" doc:"What the reversal refers to outside Dossier."`
}

// The write inputs each take an optional Idempotency-Key header, with the
// same tag: huma does not read parameters from an embedded unexported
// struct, and an exported one would join the package's API.

type awardPointsInput struct {
	ID             string `path:"id" doc:"The customer's id (a UUID)."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes the call safe to repeat: a repeat with the same key and request is answered as the first call was and writes nothing; the key with another request is 409. Unique per organisation; at most 200 characters."`
	Body           awardBody
}

type redeemPointsInput struct {
	ID             string `path:"id" doc:"The customer's id (a UUID)."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes the call safe to repeat: a repeat with the same key and request is answered as the first call was and writes nothing; the key with another request is 409. Unique per organisation; at most 200 characters."`
	Body           redeemBody
}

type correctPointsInput struct {
	ID             string `path:"id" doc:"The customer's id (a UUID)."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes the call safe to repeat: a repeat with the same key and request is answered as the first call was and writes nothing; the key with another request is 409. Unique per organisation; at most 200 characters."`
	Body           correctBody
}

type reversePointsInput struct {
	ID             string `path:"id" doc:"The customer's id (a UUID)."`
	TransactionID  string `path:"transactionId" doc:"The customer's award, redemption or correction to undo."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes the call safe to repeat: a repeat with the same key and request is answered as the first call was and writes nothing; the key with another request is 409. Unique per organisation; at most 200 characters."`
	// Body is optional: a reversal needs no reason.
	Body *reverseBody
}

// pointsOffNote ends the description of every points route.
const pointsOffNote = " While the organisation has points switched off (PATCH /v1/organisation, pointsEnabled), the answer is 404, as if the route did not exist."

func (s *server) registerPoints() {
	tags := []string{"Loyalty points"}
	points := s.crm.Points
	register(s, huma.Operation{
		OperationID: "getCustomerPoints", Method: http.MethodGet, Path: "/v1/customers/{id}/points", Tags: tags,
		Summary: "A customer's points balance",
		Description: "available can be redeemed today; pending become available on their availableFrom day; " +
			"expired counts every point that expired." + pointsOffNote,
	}, func(ctx context.Context, in *customerPath) (*pointBalanceOutput, error) {
		return reply(points.Balance(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "listCustomerPointTransactions", Method: http.MethodGet, Path: "/v1/customers/{id}/points/transactions", Tags: tags,
		Summary: "A customer's points ledger, newest first",
		Description: "Every award, redemption, correction, reversal and expiry. Transactions are only ever appended: a mistake is " +
			"corrected or reversed by a new one. Pages with a cursor: pass the previous page's next." + pointsOffNote,
	}, func(ctx context.Context, in *pointLedgerInput) (*pointLedgerOutput, error) {
		return reply(points.Ledger(ctx, in.ID, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})

	register(s, huma.Operation{
		OperationID: "getCustomerPointTransaction", Method: http.MethodGet, Path: "/v1/customers/{id}/points/transactions/{transactionId}", Tags: tags,
		Summary: "One of a customer's point transactions", Description: "Any kind: award, redemption, correction, reversal or expiry." + pointsOffNote,
	}, func(ctx context.Context, in *pointTransactionPath) (*pointTransactionOutput, error) {
		t, err := points.Transaction(ctx, in.ID, in.TransactionID)
		if err != nil {
			return nil, err
		}
		return &pointTransactionOutput{Body: t}, nil
	})

	write := func(op huma.Operation) huma.Operation {
		op.Method, op.Tags = http.MethodPost, tags
		op.Description += " The answer is the new transaction." +
			" With an Idempotency-Key header a repeat of the call is answered as the first call was (201 with the same transaction) and writes nothing." +
			pointsOffNote
		return op
	}
	create(s, write(huma.Operation{
		OperationID: "awardCustomerPoints", Path: "/v1/customers/{id}/points/awards",
		Summary:     "Award points to a customer",
		Description: "Credits points, optionally pending until availableFrom and usable up to and including expiresOn.",
	}), transactionPath, func(ctx context.Context, in *awardPointsInput) (*pointTransactionOutput, error) {
		b := in.Body
		t, err := points.Award(ctx, in.ID, crm.PointInput{Points: b.Points, AvailableFrom: b.AvailableFrom, ExpiresOn: b.ExpiresOn,
			Reason: b.Reason, Reference: b.Reference, IdempotencyKey: in.IdempotencyKey})
		return pointTransaction(t, err)
	})
	create(s, write(huma.Operation{
		OperationID: "redeemCustomerPoints", Path: "/v1/customers/{id}/points/redemptions",
		Summary: "Redeem (spend) a customer's points",
		Description: "Spends available points, those expiring soonest first; the transaction's points are negative. " +
			"More than the available balance is 409 (code insufficient_points) and writes nothing.",
	}), transactionPath, func(ctx context.Context, in *redeemPointsInput) (*pointTransactionOutput, error) {
		b := in.Body
		t, err := points.Redeem(ctx, in.ID, crm.PointInput{Points: b.Points, Reason: b.Reason, Reference: b.Reference,
			IdempotencyKey: in.IdempotencyKey})
		return pointTransaction(t, err)
	})
	create(s, write(huma.Operation{
		OperationID: "correctCustomerPoints", Path: "/v1/customers/{id}/points/corrections",
		Summary: "Correct a customer's points balance",
		Description: "Adds (positive points) or takes away (negative points) points, with a required reason. " +
			"Taking away more than is available is 409 (code insufficient_points).",
	}), transactionPath, func(ctx context.Context, in *correctPointsInput) (*pointTransactionOutput, error) {
		b := in.Body
		t, err := points.Correct(ctx, in.ID, crm.PointInput{Points: b.Points, Reason: b.Reason, Reference: b.Reference,
			IdempotencyKey: in.IdempotencyKey})
		return pointTransaction(t, err)
	})
	create(s, write(huma.Operation{
		OperationID: "reverseCustomerPointTransaction", Path: "/v1/customers/{id}/points/transactions/{transactionId}/reversal",
		Summary: "Undo one of a customer's point transactions",
		Description: "Writes the opposite transaction (e.g. when a booking is cancelled): a reversed redemption gives the points back " +
			"to the awards they came from, with their expiry. A transaction is reversed at most once (a second time is 409); " +
			"reversals and expiries cannot be reversed (422). Undoing an award whose points were spent is 409 (code insufficient_points) " +
			"when the balance cannot cover it. A transaction that is not this customer's is 404. The body is optional.",
	}), transactionPath, func(ctx context.Context, in *reversePointsInput) (*pointTransactionOutput, error) {
		var b reverseBody
		if in.Body != nil {
			b = *in.Body
		}
		t, err := points.Reverse(ctx, in.ID, in.TransactionID, crm.PointInput{Reason: b.Reason, Reference: b.Reference,
			IdempotencyKey: in.IdempotencyKey})
		return pointTransaction(t, err)
	}, fieldAt("points", "path.transactionId")) // a reversal's points are those of the transaction it undoes
}

// transactionPath names a point transaction.
func transactionPath(o *pointTransactionOutput) string {
	return "/v1/customers/" + o.Body.CustomerID + "/points/transactions/" + o.Body.ID
}

// pointTransaction answers a points write. The registration helper names
// failing fields where the request carried them: the key in its header,
// the transaction in the path.
func pointTransaction(t *crm.PointTransaction, err error) (*pointTransactionOutput, error) {
	if err != nil {
		return nil, err
	}
	out := &pointTransactionOutput{Body: t}
	if t.Replayed {
		out.Replayed = "true"
	}
	return out, nil
}
