package crm

import (
	"context"
	"errors"
	"slices"
)

// MailingRecipient is one customer a mailing may go to, with the address
// for the purpose's channel.
type MailingRecipient struct {
	CustomerID string `json:"customerId"`
	Number     int64  `json:"number"`
	Name       string `json:"name"`
	Language   string `json:"language"`
	// Email is set for e-mail purposes, Address for post, Phone for SMS.
	Email   string   `json:"email,omitempty"`
	Address *Address `json:"address,omitempty"`
	Phone   string   `json:"phone,omitempty"`
}

// MailingSelectionParams says who a mailing is for.
type MailingSelectionParams struct {
	// SegmentID names a saved segment; empty with a zero Filter means every customer.
	SegmentID string
	// Filter is used when SegmentID is empty.
	Filter CustomerFilter
	// Purpose is the key of the purpose the mailing serves ("newsletter").
	Purpose string
	// PageSize is how many customers are read at a time (default 500).
	PageSize int
}

// MailingSelection calls fn for every customer of the segment (or filter)
// that may be contacted for the purpose: granted, when the purpose's legal
// basis is consent (opt-in), or not withdrawn, when it is legitimate
// interest (opt-out); not opted out of mailings; not anonymised; and with a
// usable address for the purpose's channel. The database does all of the
// selecting, a page at a time in customer-number order, so memory stays
// the same for any number of customers and the walk never skips or repeats
// one while customers are added. An opt-in walk is led by the index of
// granted consents; an opt-out walk reads the customers with an address
// for the channel in number order (for post from an index of just those)
// and probes the index of withdrawals for each.
func (s *ConsentService) MailingSelection(ctx context.Context, p MailingSelectionParams, fn func(MailingRecipient) error) error {
	return s.mailingSelection(ctx, p, 0, func(_ *Customer, r MailingRecipient) error { return fn(r) })
}

// mailingSelection is MailingSelection from the customer after number
// afterNumber, giving fn each customer's record too.
func (s *ConsentService) mailingSelection(ctx context.Context, p MailingSelectionParams, afterNumber int64, fn func(*Customer, MailingRecipient) error) error {
	sc, err := readScope(ctx)
	if err != nil {
		return err
	}
	f := p.Filter
	if p.SegmentID != "" {
		seg, err := s.segments.Get(ctx, p.SegmentID)
		if err != nil {
			return err
		}
		f = seg.Filter
	}
	purpose, err := s.purpose(ctx, s.store, sc, p.Purpose)
	if errors.Is(err, ErrNotFound) {
		v := newValidation(sc.lang)
		v.add("purpose", "unknown", "")
		return v.err()
	}
	if err != nil {
		return err
	}
	if p.PageSize == 0 {
		p.PageSize = MaxPageLimit
	}
	f.Sort = SortNumber
	state := ConsentGranted
	if purpose.LegalBasis == LegalBasisLegitimateInterest {
		state = ConsentNotWithdrawn
	}
	f.Consents = append(slices.Clip(f.Consents), ConsentCondition{Purpose: purpose.Key, State: state})
	reach := reachFilter{channel: purpose.Channel, notWithdrawn: PurposeMailings, afterNumber: afterNumber}
	return s.customers.each(ctx, f, reach, p.PageSize, func(c *Customer) error {
		r := MailingRecipient{CustomerID: c.ID, Number: c.Number, Name: c.DisplayName(), Language: c.Language}
		switch purpose.Channel {
		case ChannelEmail:
			r.Email = c.Email
			if r.Email == "" {
				r.Email = c.LoginEmail
			}
		case ChannelPost:
			a := c.Address
			r.Address = &a
		case ChannelSMS:
			// The store selected customers with a number; a mobile one is preferred.
			for i, ph := range c.Phones {
				if i == 0 || ph.Kind == PhoneMobile {
					r.Phone = ph.Number
				}
				if ph.Kind == PhoneMobile {
					break
				}
			}
		}
		return fn(c, r)
	})
}

// reachFilter is what a mailing selection adds to a customer filter
// besides the purpose's own condition: the customers reachable on a
// channel, not anonymised, and who did not withdraw the notWithdrawn
// purpose (mailings).
type reachFilter struct {
	channel      ConsentChannel
	notWithdrawn string
	// afterNumber starts the walk after this customer number (a mailing
	// that continues where it stopped).
	afterNumber int64
}
