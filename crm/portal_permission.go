package crm

import "context"

// customerPermission reports whether the organisation's permission
// switches (Permissions) let the signed-in customer do what
// (permissionExport, permissionAnonymise) to themselves: nil or a
// *ForbiddenError. PrivacyService checks again in its transaction.
func customerPermission(ctx context.Context, c *core, sc scope, what string) error {
	org, err := c.organisation(ctx, c.store, sc)
	if err != nil {
		return err
	}
	action := ActionExport
	if what == permissionAnonymise {
		action = ActionAnonymise
	}
	return allowed(ctx, org, action, sc.actor.ID)
}
