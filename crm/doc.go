// Package crm is Dossier's customer relationship library: one service per
// area (c.Customers, c.Consents, c.Bookings, ...) on one Store, built by New.
//
// Every call is scoped to one organisation (WithOrg); every change also
// says who acts (WithActor): a staff user (Staff), the customer through
// the portal (CustomerActor), Dossier itself (System), a file import
// (Import) or a connected tool (Integration). The actor is recorded with
// the change's history event.
//
// A staff actor is a real staff user: a change is refused with
// ErrForbidden, and writes nothing, unless the actor is an active staff
// user of the context's organisation that may change things (not
// read-only). StaffService.Act reads and checks the user once and returns
// a context that carries it, which the services then trust (the HTTP API
// acts so per request); a context that only names an id (WithActor with
// Staff) has the user read by its key before each change; WithStaffUser
// passes a user the program made itself and vouches for.
package crm
