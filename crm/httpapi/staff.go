package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type staffOutput struct {
	// ETag is the staff user's version, to send back in If-Match when changing it.
	ETag string `header:"ETag"`
	Body *crm.StaffUser
}

func staffReply(u *crm.StaffUser, err error) (*staffOutput, error) {
	if err != nil {
		return nil, err
	}
	return &staffOutput{ETag: etag(u.Version), Body: u}, nil
}

type staffPath struct {
	ID string `path:"id" maxLength:"100" doc:"The staff user's id."`
}

type staffListInput struct {
	Department string `query:"department" doc:"Only members of this department (its id)."`
	Active     bool   `query:"active" doc:"Only active users."`
}

type staffListOutput struct {
	Body struct {
		Items []crm.StaffUser `json:"items"`
	}
}

type createStaffInput struct {
	Body crm.NewStaffUser
}

type updateStaffInput struct {
	ID      string `path:"id" maxLength:"100" doc:"The staff user's id."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version the change is based on (\"3\"), a list of them, or * for whatever version is current. A stale one gets 412."`
	Body    crm.StaffUserPatch
}

type departmentPath struct {
	ID string `path:"id" doc:"The department's id."`
}

type departmentOutput = bodyOutput[*crm.Department]

type departmentListOutput struct {
	Body struct {
		Items []crm.Department `json:"items"`
	}
}

type createDepartmentInput struct {
	Body crm.NewDepartment
}

type renameDepartmentInput struct {
	ID   string `path:"id" doc:"The department's id."`
	Body crm.NewDepartment
}

type permissionsOutput = bodyOutput[crm.Permissions]

type updatePermissionsInput struct {
	Body crm.PermissionsPatch
}

// staffRoleSchema is how crm.StaffRole appears in the OpenAPI document.
type staffRoleSchema struct{}

// Schema implements huma.SchemaProvider.
func (staffRoleSchema) Schema(huma.Registry) *huma.Schema {
	return enumSchema(crm.RoleAdministrator, crm.RoleStaff, crm.RoleReadOnly)
}

func (s *server) registerStaff() {
	tags := []string{"Staff"}
	staff := s.crm.Staff
	register(s, huma.Operation{
		OperationID: "listStaff", Method: http.MethodGet, Path: "/v1/staff", Tags: tags,
		Summary: "List the organisation's staff users, by name",
	}, func(ctx context.Context, in *staffListInput) (*staffListOutput, error) {
		us, err := staff.List(ctx, crm.StaffListParams{Department: in.Department, ActiveOnly: in.Active})
		if err != nil {
			return nil, err
		}
		out := &staffListOutput{}
		out.Body.Items = nonNil(us)
		return out, nil
	})
	register(s, huma.Operation{
		OperationID: "getMe", Method: http.MethodGet, Path: "/v1/staff/me", Tags: tags,
		Summary: "The staff user the API key acts as",
	}, func(ctx context.Context, _ *struct{}) (*staffOutput, error) {
		return staffReply(staff.Me(ctx))
	})
	create(s, huma.Operation{
		OperationID: "createStaff", Method: http.MethodPost, Path: "/v1/staff", Tags: tags,
		Summary:     "Add a staff user (administrators only)",
		Description: "Role is administrator, staff or read-only. Language defaults to the organisation's; time zone to the organisation's (empty).",
	}, func(o *staffOutput) string { return "/v1/staff/" + o.Body.ID },
		func(ctx context.Context, in *createStaffInput) (*staffOutput, error) {
			return staffReply(staff.Create(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getStaff", Method: http.MethodGet, Path: "/v1/staff/{id}", Tags: tags,
		Summary: "Get a staff user",
	}, func(ctx context.Context, in *staffPath) (*staffOutput, error) {
		return staffReply(staff.Get(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "updateStaff", Method: http.MethodPatch, Path: "/v1/staff/{id}", Tags: tags,
		Summary: "Change a staff user: name, e-mail, language, time zone, departments, role, active (administrators only)",
		Description: "Staff users are never deleted (timelines name them): set active to false, and the user's API keys stop working. " +
			"The last active administrator cannot be demoted or deactivated (409).",
	}, func(ctx context.Context, in *updateStaffInput) (*staffOutput, error) {
		version, err := ifMatchVersion(ctx, "the staff user's", func() (int, error) {
			u, err := staff.Get(ctx, in.ID)
			if err != nil {
				return 0, err
			}
			return u.Version, nil
		})
		if err != nil {
			return nil, err
		}
		return staffReply(staff.Update(ctx, in.ID, version, in.Body))
	})

	dtags := []string{"Staff"}
	register(s, huma.Operation{
		OperationID: "listDepartments", Method: http.MethodGet, Path: "/v1/departments", Tags: dtags,
		Summary: "List the organisation's departments, by name",
	}, func(ctx context.Context, _ *struct{}) (*departmentListOutput, error) {
		ds, err := staff.Departments(ctx)
		if err != nil {
			return nil, err
		}
		out := &departmentListOutput{}
		out.Body.Items = nonNil(ds)
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "createDepartment", Method: http.MethodPost, Path: "/v1/departments", Tags: dtags,
		Summary: "Add a department (administrators only)",
	}, func(o *departmentOutput) string { return "/v1/departments/" + o.Body.ID },
		func(ctx context.Context, in *createDepartmentInput) (*departmentOutput, error) {
			return reply(staff.CreateDepartment(ctx, in.Body))
		})
	register(s, huma.Operation{
		OperationID: "getDepartment", Method: http.MethodGet, Path: "/v1/departments/{id}", Tags: dtags,
		Summary: "Get a department",
	}, func(ctx context.Context, in *departmentPath) (*departmentOutput, error) {
		ds, err := staff.Departments(ctx)
		return reply(find(ds, err, func(d *crm.Department) bool { return d.ID == in.ID }))
	})
	register(s, huma.Operation{
		OperationID: "renameDepartment", Method: http.MethodPatch, Path: "/v1/departments/{id}", Tags: dtags,
		Summary: "Rename a department (administrators only)",
	}, func(ctx context.Context, in *renameDepartmentInput) (*departmentOutput, error) {
		return reply(staff.RenameDepartment(ctx, in.ID, in.Body))
	})
	register(s, huma.Operation{
		OperationID: "deleteDepartment", Method: http.MethodDelete, Path: "/v1/departments/{id}", Tags: dtags,
		Summary: "Delete a department; its members stay, without it (administrators only)",
	}, func(ctx context.Context, in *departmentPath) (*struct{}, error) {
		return nil, staff.DeleteDepartment(ctx, in.ID)
	})

	orgs := s.crm.Organisations
	register(s, huma.Operation{
		OperationID: "getPermissions", Method: http.MethodGet, Path: "/v1/organisation/permissions", Tags: []string{"Organisation"},
		Summary: "The organisation's permission switches for exports and anonymisation",
	}, func(ctx context.Context, _ *struct{}) (*permissionsOutput, error) {
		return reply(orgs.Permissions(ctx))
	})
	register(s, huma.Operation{
		OperationID: "updatePermissions", Method: http.MethodPatch, Path: "/v1/organisation/permissions", Tags: []string{"Organisation"},
		Summary: "Switch permissions on or off (administrators only)",
		Description: "staffMayExport, staffMayAnonymise: staff users' (and integrations') exports and anonymisations; " +
			"customersMayExport, customersMayAnonymise: the customer's own, from the portal. A refused action answers 403.",
	}, func(ctx context.Context, in *updatePermissionsInput) (*permissionsOutput, error) {
		return reply(orgs.SetPermissions(ctx, in.Body))
	})
}
