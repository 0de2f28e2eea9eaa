package crm

import "context"

// customerPermission reports whether the organisation lets its customers
// do what (permissionExport, permissionAnonymise) themselves. Until the
// organisation's permission switches exist, nothing is permitted.
func customerPermission(ctx context.Context, c *core, sc scope, what string) error {
	return ErrFeatureOff
}
