package crm

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar date without time or zone: a birth date, a passport
// expiry, a departure. It marshals to JSON as "YYYY-MM-DD".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

const dateLayout = "2006-01-02"

// ParseDate parses "YYYY-MM-DD" and rejects dates that do not exist or lie
// outside 0001-01-01..9999-12-31 (the range both databases store).
func ParseDate(s string) (Date, error) {
	d, err := parseDate(s)
	if err != nil {
		return Date{}, err
	}
	if validDate(d) != "" {
		return Date{}, fmt.Errorf("crm: %q is not a date between 0001-01-01 and 9999-12-31", s)
	}
	return d, nil
}

// parseDate parses "YYYY-MM-DD" and rejects dates that do not exist.
func parseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("crm: %q is not a date (YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

// MustDate is ParseDate for constants in tests and examples; it panics on a bad date.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String formats the date as "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.Time().After(e.Time()) }

// MarshalJSON implements json.Marshaler.
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON implements json.Unmarshaler. It reads any date that exists
// ("0000-01-01" too): the services refuse one out of range, naming the
// field (code "dateRange"), as for a Date made in Go.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("crm: a date is a string YYYY-MM-DD: %w", err)
	}
	p, err := parseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// minDate and maxDate bound every date the library accepts: what both
// databases store and what "YYYY-MM-DD" can write.
var (
	minDate = Date{Year: 1, Month: time.January, Day: 1}
	maxDate = Date{Year: 9999, Month: time.December, Day: 31}
)

// validDate reports the rule d breaks ("dateRange", "date"), or "".
func validDate(d Date) string {
	if d.IsZero() {
		return ""
	}
	if d.Before(minDate) || d.After(maxDate) || d.Year < 1 || d.Year > 9999 {
		return "dateRange"
	}
	if DateOf(d.Time()) != d {
		return "date" // February 30 and friends
	}
	return ""
}
