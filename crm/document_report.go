package crm

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"
)

// CustomerReport is the dossier summary of one customer (C6): the record,
// tags, attributes, labels, consents and recent history, as a renderer
// needs them.
type CustomerReport struct {
	Organisation ExportedOrganisation
	// Language is the language the report is written in: the organisation's.
	Language    string
	GeneratedAt time.Time
	GeneratedBy Actor
	Customer    Customer
	Tags        []string
	Attributes  []string
	Labels      []CustomerLabel
	Consents    []CustomerConsent
	// Points is nil when the organisation has points off.
	Points *PointBalance
	// History holds the latest events, newest first.
	History []HistoryEvent
}

// ReportRenderer turns a report into a file: crm/report renders PDF.
type ReportRenderer interface {
	// Render writes the report to w.
	Render(w *bytes.Buffer, r *CustomerReport) error
	// ContentType and Extension name the format ("application/pdf", ".pdf").
	ContentType() string
	Extension() string
}

// reportHistory is how many of the latest events a report shows.
const reportHistory = 20

// Report assembles a customer's report without filing it.
func (s *DocumentService) Report(ctx context.Context, customerID string) (*CustomerReport, error) {
	sc, err := readScope(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(customerID) {
		return nil, &notFoundError{what: "customer " + customerID}
	}
	var r *CustomerReport
	err = s.store.InTx(ctx, func(tx Store) error {
		e, err := s.privacy.export(ctx, tx, sc, customerID)
		if err != nil {
			return err
		}
		org, err := s.organisation(ctx, tx, sc)
		if err != nil {
			return err
		}
		r = &CustomerReport{
			Organisation: e.Organisation, Language: org.DefaultLanguage, GeneratedAt: s.now(), GeneratedBy: sc.actor,
			Customer: e.Customer, Consents: e.Consents,
		}
		for _, q := range e.Tags {
			r.Tags = append(r.Tags, q.Name)
		}
		for _, q := range e.Attributes {
			r.Attributes = append(r.Attributes, q.Name)
		}
		if r.Labels, err = s.privacy.labels.of(ctx, tx, sc, customerID); err != nil {
			return err
		}
		if org.PointsEnabled {
			b := e.Points.Balance
			r.Points = &b
		}
		for i := len(e.History) - 1; i >= 0 && len(r.History) < reportHistory; i-- {
			r.History = append(r.History, e.History[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// FileReport generates the customer's report with Config.Reports and files
// it as an internal document (C6: reports are filed as documents).
func (s *DocumentService) FileReport(ctx context.Context, customerID string) (*Document, error) {
	if s.cfg.Reports == nil {
		return nil, errors.New("crm: reports need Config.Reports")
	}
	if _, err := s.writeScope(ctx); err != nil {
		return nil, err
	}
	r, err := s.Report(ctx, customerID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := s.cfg.Reports.Render(&buf, r); err != nil {
		return nil, err
	}
	day := r.GeneratedAt.Format("2006-01-02")
	name := "report-" + strconv.FormatInt(r.Customer.Number, 10) + "-" + day + s.cfg.Reports.Extension()
	return s.add(ctx, customerID, NewDocument{Title: "Customer report " + day, FileName: name, Visibility: VisibilityInternal},
		&buf, OriginReport)
}
