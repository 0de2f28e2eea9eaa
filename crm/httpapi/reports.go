package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/report"
)

// reportInput selects a report and its customers.
type reportInput struct {
	Kind string `path:"kind" enum:"new-customers,languages,statuses,consents,tags,attributes,points,inquiries,tasks-overdue" doc:"The report."`
	ReportQuery
}

// ReportQuery selects the customers a report counts: the customer list's
// parameters, or a segment, and a period.
type ReportQuery struct {
	CustomerQuery
	Segment string `query:"segment" doc:"Report over the customers of this segment (its id) instead of the filter parameters."`
	From    string `query:"from" format:"date" doc:"First day of the period (UTC): only customers created from this day on are counted."`
	To      string `query:"to" format:"date" doc:"Last day of the period (UTC), included."`
}

// Params returns the query as crm.ReportParams; a malformed date is a
// *crm.ValidationError naming its parameter.
func (in *ReportQuery) Params() (crm.ReportParams, error) {
	f, err := in.Filter()
	if err != nil {
		return crm.ReportParams{}, err
	}
	p := crm.ReportParams{Filter: f, Segment: in.Segment}
	var bad []crm.FieldError
	for _, d := range []struct {
		field, value string
		dst          **crm.Date
	}{{"from", in.From, &p.From}, {"to", in.To, &p.To}} {
		if d.value == "" {
			continue
		}
		date, err := crm.ParseDate(d.value)
		if err != nil {
			bad = append(bad, crm.FieldError{Field: d.field, Code: "date", Message: d.field + " is not a date (YYYY-MM-DD)"})
			continue
		}
		*d.dst = &date
	}
	if bad != nil {
		return p, &crm.ValidationError{Fields: bad}
	}
	return p, nil
}

func (s *server) run(ctx context.Context, kind string, q *ReportQuery) (*crm.Report, error) {
	p, err := q.Params()
	if err != nil {
		return nil, err
	}
	return s.crm.Reports.Run(ctx, crm.ReportKind(kind), p)
}

type reportChartInput struct {
	Kind string `path:"kind" enum:"new-customers,languages,statuses,consents,tags,attributes,points,inquiries,tasks-overdue" doc:"The report."`
	ReportQuery
	Format string `query:"format" enum:"svg,png" doc:"svg (default) or png."`
}

// fileOutput is a generated file: a report as CSV or a chart.
type fileOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	CacheControl       string `header:"Cache-Control" doc:"private, no-store: reports are about customers."`
	NoSniff            string `header:"X-Content-Type-Options" doc:"nosniff."`
	Body               []byte
}

func newFileOutput(contentType, name string, b []byte) *fileOutput {
	return &fileOutput{ContentType: contentType, ContentDisposition: attachment(name), CacheControl: "private, no-store",
		NoSniff: "nosniff", Body: b}
}

type reportKindsOutput struct {
	Body struct {
		Items []crm.ReportKind `json:"items"`
	}
}

func (s *server) registerReports() {
	tags := []string{"Reports"}
	register(s, huma.Operation{
		OperationID: "listReports", Method: http.MethodGet, Path: "/v1/reports", Tags: tags,
		Summary: "List the reports over the customer base",
	}, func(ctx context.Context, _ *struct{}) (*reportKindsOutput, error) {
		out := &reportKindsOutput{}
		out.Body.Items = crm.ReportKinds()
		return out, nil
	})
	const about = "Counts the customers the parameters select, with the customer list's filter (or a segment's), " +
		"created in the period when one is given. "
	register(s, huma.Operation{
		OperationID: "getReport", Method: http.MethodGet, Path: "/v1/reports/{kind}", Tags: tags,
		Summary:     "A report over the customer base, as JSON",
		Description: about + "Rows are labelled by the report's dimensions and counted in its measures.",
	}, func(ctx context.Context, in *reportInput) (*bodyOutput[*crm.Report], error) {
		return reply(s.run(ctx, in.Kind, &in.ReportQuery))
	})
	register(s, huma.Operation{
		OperationID: "getReportCSV", Method: http.MethodGet, Path: "/v1/reports/{kind}/csv", Tags: tags,
		Summary:     "A report over the customer base, as CSV",
		Description: about + "A header of the dimensions and measures, then one line per row.",
		Responses: map[string]*huma.Response{"200": {Description: "The report as CSV.",
			Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: huma.TypeString}}}}},
	}, func(ctx context.Context, in *reportInput) (*fileOutput, error) {
		r, err := s.run(ctx, in.Kind, &in.ReportQuery)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := r.WriteCSV(&b); err != nil {
			return nil, err
		}
		return newFileOutput("text/csv; charset=utf-8", in.Kind+".csv", b.Bytes()), nil
	})
	register(s, huma.Operation{
		OperationID: "getReportChart", Method: http.MethodGet, Path: "/v1/reports/{kind}/chart", Tags: tags,
		Summary:     "A report over the customer base, as a bar chart",
		Description: about + "An SVG or PNG picture.",
		Responses: map[string]*huma.Response{"200": {Description: "The chart.",
			Content: map[string]*huma.MediaType{
				"image/svg+xml": {Schema: &huma.Schema{Type: huma.TypeString}},
				"image/png":     {Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}},
			}}},
	}, func(ctx context.Context, in *reportChartInput) (*fileOutput, error) {
		r, err := s.run(ctx, in.Kind, &in.ReportQuery)
		if err != nil {
			return nil, err
		}
		format := report.ChartSVG
		if in.Format == "png" {
			format = report.ChartPNG
		}
		var b bytes.Buffer
		if err := report.Chart(&b, r, format); err != nil {
			return nil, err
		}
		out := newFileOutput(format.ContentType(), in.Kind+"."+string(format), b.Bytes())
		out.ContentDisposition = "inline" + strings.TrimPrefix(out.ContentDisposition, "attachment")
		return out, nil
	})
}
