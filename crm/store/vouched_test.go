package store

import (
	"context"

	"github.com/dossiercrm/dossier/crm"
)

// vouched returns ctx scoped to org with the staff user id acting, a user
// the test makes itself and vouches for (crm.WithStaffUser), an
// administrator: no staff user is read or needs to be stored, as after the
// HTTP API's StaffService.Act. Benchmarks measure their calls, not a read
// of the acting user per call.
func vouched(ctx context.Context, org, id string) context.Context {
	return crm.WithStaffUser(crm.WithOrg(ctx, org),
		&crm.StaffUser{ID: id, OrgID: org, Name: id, Language: "en", Role: crm.RoleAdministrator, Active: true})
}
