package report_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/report"
)

// A report renders to a buffer. In a program, give report.PDF{} to
// crm.Config.Reports and call Documents.FileReport, which assembles the
// report and files the PDF as a document of the customer.
func ExamplePDF() {
	r := &crm.CustomerReport{
		Organisation: crm.ExportedOrganisation{ID: "acme", Name: "Acme Reizen"},
		Language:     "nl",
		GeneratedAt:  time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
		GeneratedBy:  crm.Staff("u-17"),
		Customer: crm.Customer{Number: 1042, CustomerFields: crm.CustomerFields{
			FirstName: "Zoë", LastName: "Müller", Email: "zoe@example.nl", Status: crm.StatusCustomer,
		}},
		Tags: []string{"VIP"},
	}
	var pdf report.PDF
	var buf bytes.Buffer
	if err := pdf.Render(&buf, r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")), pdf.ContentType(), pdf.Extension())
	// Output: true application/pdf .pdf
}

// A report over the customer base (crm.ReportService.Run) draws as a bar
// chart in SVG or PNG.
func ExampleChart() {
	r := &crm.Report{Kind: crm.ReportLanguages, Title: "Customers by language",
		Dimensions: []string{"language"}, Measures: []string{"customers"},
		Rows: []crm.ReportRow{{Labels: []string{"pl"}, Values: []int64{120}}, {Labels: []string{"en"}, Values: []int64{45}}}}
	var svg bytes.Buffer
	if err := report.Chart(&svg, r, report.ChartSVG); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(bytes.Contains(svg.Bytes(), []byte("<svg")), report.ChartSVG.ContentType())
	// Output: true image/svg+xml
}
