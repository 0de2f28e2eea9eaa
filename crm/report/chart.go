package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/dossiercrm/dossier/crm"
)

// ChartFormat is the file format of a chart.
type ChartFormat string

// The chart formats.
const (
	ChartSVG ChartFormat = "svg"
	ChartPNG ChartFormat = "png"
)

// ContentType returns the media type of charts in format f.
func (f ChartFormat) ContentType() string {
	if f == ChartPNG {
		return "image/png"
	}
	return "image/svg+xml"
}

// Chart draws report r (crm.ReportService.Run) as a bar chart, in SVG or
// PNG, with gonum.org/v1/plot. Each row is a bar labelled by its last
// label; reports with several counted measures stack them (consents:
// granted, withdrawn, never), and new customers stack the origins of each
// month. An empty report is a chart without bars.
func Chart(w io.Writer, r *crm.Report, format ChartFormat) error {
	if r == nil {
		return errors.New("report: no report to chart")
	}
	if format != ChartSVG && format != ChartPNG {
		return fmt.Errorf("report: unknown chart format %q", format)
	}
	categories, series, names := chartData(r)
	p := plot.New()
	p.Title.Text = r.Title
	if r.From != nil || r.To != nil {
		from, to := "", ""
		if r.From != nil {
			from = r.From.String()
		}
		if r.To != nil {
			to = r.To.String()
		}
		p.Title.Text += " (" + from + " – " + to + ")"
	}
	p.Y.Label.Text = names.axis
	p.Y.Min = 0
	width := vg.Points(math.Max(4, math.Min(40, 400/float64(max(1, len(categories))))))
	var below *plotter.BarChart
	for i, s := range series {
		if len(categories) == 0 {
			break
		}
		bars, err := plotter.NewBarChart(plotter.Values(s), width)
		if err != nil {
			return err
		}
		bars.Color = plotutil.Color(i)
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		if len(series) > 1 {
			p.Legend.Add(names.series[i], bars)
		}
	}
	p.Legend.Top = true
	if len(categories) > 0 {
		p.NominalX(categories...)
		// Room around the outer bars, and above the highest for the legend.
		p.X.Min, p.X.Max = -0.6, float64(len(categories))-0.4
		if below != nil {
			top := 0.0
			for i := range categories {
				top = math.Max(top, below.BarHeight(i))
			}
			p.Y.Max = math.Max(1, top*1.2)
		}
	}
	if len(categories) > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	out, err := p.WriterTo(18*vg.Centimeter, 11*vg.Centimeter, string(format))
	if err != nil {
		return err
	}
	_, err = out.WriteTo(w)
	return err
}

// chartNames are the texts of a chart besides its categories.
type chartNames struct {
	axis   string
	series []string
}

// chartData returns the bars' categories and, per series, one value per
// category.
func chartData(r *crm.Report) ([]string, [][]float64, chartNames) {
	label := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	if r.Kind == crm.ReportNewCustomers {
		// Months along the axis, the origins stacked.
		var months, origins []string
		for _, row := range r.Rows {
			if !slices.Contains(months, row.Labels[0]) {
				months = append(months, row.Labels[0])
			}
			if !slices.Contains(origins, row.Labels[1]) {
				origins = append(origins, row.Labels[1])
			}
		}
		slices.Sort(months)
		slices.Sort(origins)
		series := make([][]float64, len(origins))
		names := chartNames{axis: "customers"}
		for i, o := range origins {
			series[i] = make([]float64, len(months))
			names.series = append(names.series, label(o))
		}
		for _, row := range r.Rows {
			series[slices.Index(origins, row.Labels[1])][slices.Index(months, row.Labels[0])] += float64(row.Values[0])
		}
		return months, series, names
	}
	measures := []int{0}
	axis := ""
	if len(r.Measures) > 0 {
		axis = r.Measures[0]
	}
	if r.Kind == crm.ReportConsents {
		measures, axis = []int{1, 2, 3}, "customers"
	}
	categories := make([]string, len(r.Rows))
	for i, row := range r.Rows {
		if len(row.Labels) > 0 {
			categories[i] = label(row.Labels[len(row.Labels)-1])
		}
	}
	if r.Kind == crm.ReportPoints {
		for i, row := range r.Rows {
			if row.Labels[0] == "" {
				categories[i] = "no expiry"
			}
		}
	}
	names := chartNames{axis: axis}
	series := make([][]float64, len(measures))
	for i, m := range measures {
		if m < len(r.Measures) {
			names.series = append(names.series, r.Measures[m])
		}
		series[i] = make([]float64, len(r.Rows))
		for j, row := range r.Rows {
			if m < len(row.Values) {
				series[i][j] = float64(row.Values[m])
			}
		}
	}
	return categories, series, names
}
