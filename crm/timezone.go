package crm

import (
	"strings"
	"time"
	// The IANA time zone database, so that time zones work the same on
	// every machine, with or without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// checkTimeZone validates an IANA time zone name ("Europe/Warsaw", "UTC").
// Empty is allowed when optional (and then returned as it is).
func checkTimeZone(v *validation, field, tz string, optional bool) string {
	tz = strings.TrimSpace(tz)
	if tz == "" {
		if !optional {
			v.add(field, "required", "")
		}
		return ""
	}
	if _, err := loadZone(tz); err != nil {
		v.add(field, "timeZone", "")
	}
	return tz
}

// loadZone loads an IANA time zone; "Local" (the server's zone) is not one.
func loadZone(tz string) (*time.Location, error) {
	if tz == "" || tz == "Local" || len(tz) > 64 {
		return nil, &ValidationError{Fields: []FieldError{{Field: "timeZone", Code: "timeZone"}}}
	}
	return time.LoadLocation(tz)
}
