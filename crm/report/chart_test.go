package report_test

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/report"
)

func sampleReports() []*crm.Report {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	from := crm.MustDate("2025-01-01")
	return []*crm.Report{
		{Kind: crm.ReportNewCustomers, Title: "New customers by month and origin", From: &from, GeneratedAt: at,
			Dimensions: []string{"month", "origin"}, Measures: []string{"customers"}, Rows: []crm.ReportRow{
				{Labels: []string{"2025-01", ""}, Values: []int64{3}}, {Labels: []string{"2025-01", "website"}, Values: []int64{7}},
				{Labels: []string{"2025-02", "targi Łódź"}, Values: []int64{2}}}},
		{Kind: crm.ReportConsents, Title: "Consent coverage per purpose", GeneratedAt: at,
			Dimensions: []string{"purpose", "name"}, Measures: []string{"customers", "granted", "withdrawn", "never"}, Rows: []crm.ReportRow{
				{Labels: []string{"newsletter", "Newsletter"}, Values: []int64{10, 4, 1, 5}}}},
		{Kind: crm.ReportPoints, Title: "Points outstanding by month of expiry", GeneratedAt: at,
			Dimensions: []string{"expires"}, Measures: []string{"points", "customers"}, Rows: []crm.ReportRow{
				{Labels: []string{"2026-04"}, Values: []int64{500, 2}}, {Labels: []string{""}, Values: []int64{90, 1}}}},
		{Kind: crm.ReportLanguages, Title: "Customers by language", GeneratedAt: at,
			Dimensions: []string{"language"}, Measures: []string{"customers"}, Rows: []crm.ReportRow{}},
	}
}

func TestChartSVGAndPNG(t *testing.T) {
	for _, r := range sampleReports() {
		var svg bytes.Buffer
		if err := report.Chart(&svg, r, report.ChartSVG); err != nil {
			t.Fatalf("%s svg: %v", r.Kind, err)
		}
		if !strings.Contains(svg.String(), "<svg") {
			t.Fatalf("%s: not SVG: %.100s", r.Kind, svg.String())
		}
		for _, row := range r.Rows {
			if l := row.Labels[len(row.Labels)-1]; l != "" && r.Kind != crm.ReportNewCustomers && !strings.Contains(svg.String(), l) {
				t.Errorf("%s: label %q missing from the SVG", r.Kind, l)
			}
		}
		var img bytes.Buffer
		if err := report.Chart(&img, r, report.ChartPNG); err != nil {
			t.Fatalf("%s png: %v", r.Kind, err)
		}
		if _, err := png.Decode(&img); err != nil {
			t.Fatalf("%s: not a PNG: %v", r.Kind, err)
		}
	}
	if err := report.Chart(&bytes.Buffer{}, sampleReports()[0], "gif"); err == nil {
		t.Fatal("gif accepted")
	}
	if err := report.Chart(&bytes.Buffer{}, nil, report.ChartSVG); err == nil {
		t.Fatal("nil report accepted")
	}
}
