package crm

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// exportPortal fills the export's sections of the customer's own side:
// the portal account, itineraries, contest entries, brochure requests and
// mailings received.
func (s *PrivacyService) exportPortal(ctx context.Context, tx Store, sc scope, customerID string, e *CustomerExport) error {
	a, err := tx.PortalAccountGet(ctx, sc.org, PortalAccountGetParams{CustomerID: customerID})
	switch {
	case err == nil:
		e.PortalAccount = a
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if e.Itineraries, err = tx.ItineraryList(ctx, sc.org, customerID); err != nil {
		return err
	}
	if e.ContestEntries, err = tx.ContestEntryList(ctx, sc.org, "", customerID); err != nil {
		return err
	}
	if e.BrochureRequests, err = tx.BrochureRequestList(ctx, sc.org, customerID); err != nil {
		return err
	}
	if e.Mailings, err = tx.MailingRecipientList(ctx, sc.org, customerID); err != nil {
		return err
	}
	e.Itineraries, e.ContestEntries = nonNil(e.Itineraries), nonNil(e.ContestEntries)
	e.BrochureRequests, e.Mailings = nonNil(e.BrochureRequests), nonNil(e.Mailings)
	return nil
}

// exportSection is one CSV file of an export's zip.
type exportSection struct {
	name   string
	header []string
	rows   [][]string
}

// portalSections are the CSV files of the customer's own side.
func (e *CustomerExport) portalSections() []exportSection {
	var account [][]string
	if a := e.PortalAccount; a != nil {
		account = [][]string{{a.ID, a.Email, strconv.FormatBool(a.PasswordSet), timeText(a.CreatedAt), timePtrText(a.LastSignInAt)}}
	}
	return []exportSection{
		{"portal_account.csv", []string{"id", "email", "passwordSet", "createdAt", "lastSignInAt"}, account},
		{"itineraries.csv", []string{"id", "title", "createdAt", "expiresAt", "lines"}, rowsOf(e.Itineraries, func(it Itinerary) []string {
			return []string{it.ID, it.Title, timeText(it.CreatedAt), timeText(it.ExpiresAt), valueText(it.Lines)}
		})},
		{"contest_entries.csv", []string{"id", "contestId", "answer", "enteredAt", "winner"}, rowsOf(e.ContestEntries, func(c ContestEntry) []string {
			return []string{c.ID, c.ContestID, c.Answer, timeText(c.EnteredAt), strconv.FormatBool(c.Winner)}
		})},
		{"brochure_requests.csv", []string{"id", "brochures", "source", "requestedAt", "printedOn"}, rowsOf(e.BrochureRequests, func(b BrochureRequest) []string {
			return []string{b.ID, strings.Join(b.Brochures, "; "), string(b.Source), timeText(b.RequestedAt), dateText(b.PrintedOn)}
		})},
		{"mailings.csv", []string{"mailingId", "mailId", "template", "purpose", "unsubscribedAt"}, rowsOf(e.Mailings, func(m MailingRecipientRow) []string {
			return []string{m.MailingID, m.MailID, m.Template, m.Purpose, timePtrText(m.UnsubscribedAt)}
		})},
	}
}

func timePtrText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return timeText(*t)
}
