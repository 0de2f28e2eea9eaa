package crm

import (
	"context"
	"time"
)

// localToday returns the day it is now where the reader works, with the
// name of that time zone: the staff user u's own zone when it has one,
// else the organisation's (UTC by default). Due dates of tasks, planned
// days of inquiries and the reminders' buckets are days there, so that a
// task due today in Warsaw is not overdue at 00:30 Warsaw time because it
// is still yesterday in UTC, or the other way round.
func (c *core) localToday(ctx context.Context, st OrganisationStore, sc scope, u *StaffUser) (Date, string, error) {
	tz := ""
	if u != nil {
		tz = u.TimeZone
	}
	if tz == "" {
		org, err := c.organisation(ctx, st, sc)
		if err != nil {
			return Date{}, "", err
		}
		tz = org.TimeZone
	}
	loc, err := loadZone(tz)
	if err != nil {
		loc, tz = time.UTC, "UTC"
	}
	return DateOf(c.cfg.Clock().In(loc)), tz, nil
}

// orgToday is localToday for the organisation as a whole (reports, jobs).
func (c *core) orgToday(ctx context.Context, st OrganisationStore, sc scope) (Date, error) {
	d, _, err := c.localToday(ctx, st, sc, nil)
	return d, err
}
